/* The supervision dashboards' charts (Apache ECharts, served from static/vendor/echarts).
   The figures come from the page's json_script (#dashboard-data); every chart has the
   same figures as a table beside it, so the page reads without JavaScript too. */
(function () {
  "use strict";

  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var BLUE = "#1f5fa8", RED = "#c0392b", GREY = "#667085";
  var FONT = '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif';
  var charts = [];

  function percent(value) { return value === null || value === undefined ? "—" : value + "%"; }

  function standingOption() {
    var rows = data.standing.slice().reverse();  // the first place on top
    return {
      title: { text: data.stage.title, left: 0, textStyle: { fontSize: 13, fontWeight: "normal" } },
      legend: { top: 22, left: 0, data: ["完成率", "今天应达"] },
      grid: { top: 56, left: 4, right: 24, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        valueFormatter: percent
      },
      xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: rows.map(function (r) { return r.behind ? r.name + "（滞后）" : r.name; }) },
      series: [
        {
          name: "完成率",
          type: "bar",
          barMaxWidth: 18,
          data: rows.map(function (r) {
            return { value: r.share, itemStyle: { color: r.behind ? RED : BLUE } };
          }),
          label: { show: true, position: "right", formatter: function (p) { return percent(p.value); } },
          markLine: {
            symbol: "none",
            lineStyle: { color: GREY, type: "dashed" },
            label: { formatter: "目标 {c}%", position: "insideEndTop" },
            data: [{ xAxis: data.stage.target }]
          }
        },
        {
          name: "今天应达",
          type: "scatter",
          symbol: "rect",
          symbolSize: [3, 20],
          itemStyle: { color: "#111" },
          data: rows.map(function (r) { return r.expected; })
        }
      ]
    };
  }

  function funnelOption() {
    return {
      tooltip: { trigger: "item", formatter: "{b}：{c} 人" },
      series: [{
        name: "进度漏斗",
        type: "funnel",
        sort: "none",  // the stages in their own order, not by size
        left: "5%", right: "5%", top: 8, bottom: 8,
        min: 0,
        // ECharts' default scale ends at 100: a county's thousands would all be full width.
        max: Math.max.apply(null, data.funnel.map(function (f) { return f.value; }).concat([1])),
        minSize: "8%",
        gap: 2,
        label: { show: true, position: "inside", formatter: "{b} {c}", color: "#fff" },
        itemStyle: { borderColor: "#fff", borderWidth: 1 },
        color: ["#17467c", "#1f5fa8", "#2f78c4", "#4a90d9", "#6aa7e6", "#1e8449", "#27ae60"],
        data: data.funnel
      }]
    };
  }

  function trendOption() {
    return {
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { top: 36, left: 4, right: 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", boundaryGap: false, data: data.trend.dates },
      yAxis: { type: "value", name: "人数", minInterval: 1 },
      series: data.trend.series.map(function (s) {
        return { name: s.name, type: "line", data: s.data, symbolSize: 5 };
      })
    };
  }

  var OPTIONS = { standing: standingOption, funnel: funnelOption, trend: trendOption };

  // For print: each chart also as a picture from ECharts' own renderer, shown instead of
  // the live chart (a canvas may print blank or cut across pages).
  function refreshImage(chart, element) {
    var img = element.nextElementSibling;
    if (!img || !img.classList.contains("chart-image")) {
      img = document.createElement("img");
      img.className = "chart-image";
      img.alt = element.getAttribute("aria-label") || "";
      element.parentNode.insertBefore(img, element.nextSibling);
    }
    img.src = chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" });
  }

  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var kind = element.dataset.chart;
    if (!OPTIONS[kind] || (kind === "standing" && !data.stage)) { return; }
    if (kind === "standing") {
      element.style.height = Math.max(240, 70 + 30 * data.standing.length) + "px";
    }
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    var option = OPTIONS[kind]();
    option.animation = false;
    // The tooltip drawn on the canvas: ECharts' HTML tooltip writes style attributes,
    // which the Content-Security-Policy refuses.
    option.tooltip.renderMode = "richText";
    option.textStyle = { fontFamily: FONT };
    chart.on("finished", function () { refreshImage(chart, element); });
    chart.setOption(option);
    element.dataset.drawn = "1";
    charts.push({ chart: chart, element: element });
  });

  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      charts.forEach(function (c) { c.chart.resize(); });
    }, 100);
  });
  window.addEventListener("beforeprint", function () {
    charts.forEach(function (c) { refreshImage(c.chart, c.element); });
  });
})();
