/* Small progressive enhancements; every page also works without JavaScript. */
(function () {
  "use strict";

  // A double click must not submit a form twice (two uploads, two handovers).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitted) { event.preventDefault(); return; }
    form.dataset.submitted = "1";
    // Disable only after the browser has built the form data: a disabled button would
    // drop the clicked button's own name (e.g. "save and next") from the submission.
    setTimeout(function () {
      form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) {
        b.disabled = true;
      });
    }, 0);
  });

  // On a phone the menu folds into the header's button.
  var menuButton = document.querySelector(".menu-button[aria-controls]");
  if (menuButton) {
    var menu = document.getElementById(menuButton.getAttribute("aria-controls"));
    menuButton.addEventListener("click", function () {
      var open = menu.classList.toggle("open");
      menuButton.setAttribute("aria-expanded", open ? "true" : "false");
      menuButton.textContent = open ? "收起" : "菜单";
    });
  }

  // Show a chosen or freshly taken photo before it is uploaded.
  document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
    input.addEventListener("change", function () {
      var img = document.getElementById(input.dataset.preview);
      var file = input.files && input.files[0];
      if (!img || !file) { return; }
      if (img.dataset.objectUrl) { URL.revokeObjectURL(img.dataset.objectUrl); }
      img.dataset.objectUrl = URL.createObjectURL(file);
      img.src = img.dataset.objectUrl;
      img.alt = "新照片预览";
      img.hidden = false;
      var panel = input.closest("form") || document;
      var empty = panel.querySelector("[data-photo-empty]");
      if (empty) { empty.hidden = true; }
      var state = panel.querySelector("[data-photo-state]");
      if (state) { state.textContent = "已选择新照片，点“保存”后上传。"; }
    });
  });

  // A filter that applies as soon as it changes (the button stays for keyboards).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // An issue form shows the fields of the chosen method only (代领: the proxy; 邮寄: the
  // tracking number); without JavaScript every field shows and the server ignores the rest.
  document.querySelectorAll("select[data-method-switch]").forEach(function (select) {
    var show = function () {
      select.form.querySelectorAll("[data-method-only]").forEach(function (el) {
        el.hidden = el.dataset.methodOnly !== select.value;
      });
      select.form.querySelectorAll("[data-method-not]").forEach(function (el) {
        el.hidden = el.dataset.methodNot === select.value;
      });
    };
    select.addEventListener("change", show);
    show();
  });

  // "Select all on this page" ticks every checkbox of that name in its form.
  document.querySelectorAll("input[type=checkbox][data-select-all]").forEach(function (all) {
    all.addEventListener("change", function () {
      var boxes = all.form.querySelectorAll("input[type=checkbox][name='" + all.dataset.selectAll + "']");
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
  });

  // Reveal a full ID number in place (the server records who looked).
  document.querySelectorAll("form[data-reveal]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
        .then(function (html) { document.getElementById(form.dataset.reveal).innerHTML = html; form.remove(); })
        .catch(function () { alert("无法显示完整号码，请刷新页面后重试。"); });
    });
  });

  // Follow a background job until it ends.
  var job = document.getElementById("job-progress");
  if (job) {
    var bar = job.querySelector(".progress > div");
    var text = document.getElementById("job-message");
    // The bar's width is set here, not in the page: the Content-Security-Policy allows no
    // style attribute.
    bar.style.width = job.querySelector(".progress").getAttribute("aria-valuenow") + "%";
    var poll = function () {
      fetch(job.dataset.statusUrl, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          bar.style.width = s.progress + "%";
          job.querySelector(".progress").setAttribute("aria-valuenow", s.progress);
          text.textContent = s.status_label + (s.message ? "：" + s.message : "") + "（" + s.progress + "%）";
          document.getElementById("job-waiting").hidden = !s.waiting_long;
          document.getElementById("job-broker").hidden = !s.waits_for_broker;
          if (s.finished) { window.location.reload(); } else { setTimeout(poll, 1000); }
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 500);
  }
  // A barcode reader types a card number and Enter into the scan field: the number goes
  // onto the list (a textarea, which also works by hand without JavaScript) instead of
  // submitting the form. On a receipt page the expected card's row is ticked, and a
  // number not on the sheet becomes a row of extras asking for its reason.
  document.querySelectorAll("[data-scanner]").forEach(function (box) {
    var list = document.getElementById(box.dataset.scanner);
    var input = box.querySelector("input");
    var count = box.querySelector("[data-scan-count]");
    var expected = box.dataset.expected ? document.getElementById(box.dataset.expected) : null;
    var extras = box.dataset.extras ? document.getElementById(box.dataset.extras) : null;
    if (!list || !input) { return; }
    box.hidden = false;
    var clean = function (text) {
      return text.normalize("NFKC").replace(/[\s\u200b\u200c\u200d\u2060\ufeff]/g, "").replace(/^'/, "").toUpperCase();
    };
    var numbers = function () {
      return list.value.split("\n").map(clean).filter(function (n) { return n; });
    };
    var rowOf = function (number) {
      if (!expected) { return null; }
      var rows = expected.querySelectorAll("tr[data-card-number]");
      for (var i = 0; i < rows.length; i++) {
        if (rows[i].dataset.cardNumber === number) { return rows[i]; }
      }
      return null;
    };
    var addExtra = function (number) {
      if (!extras || extras.querySelector("tr[data-extra='" + number + "']")) { return; }
      var row = document.createElement("tr");
      row.dataset.extra = number;
      var cell = document.createElement("td");
      cell.textContent = number;
      var hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = "extra_number"; hidden.value = number;
      cell.appendChild(hidden);
      var reasonCell = document.createElement("td");
      var reason = document.createElement("input");
      reason.type = "text"; reason.name = "extra_reason"; reason.maxLength = 200;
      reason.setAttribute("aria-label", "卡号" + number + "多出的原因");
      reasonCell.appendChild(reason);
      row.appendChild(cell); row.appendChild(reasonCell);
      extras.appendChild(row);
    };
    var refresh = function (scannedNow) {
      var seen = numbers();
      var onSheet = 0;
      if (expected) {
        expected.querySelectorAll("tr[data-card-number]").forEach(function (row) {
          var scanned = seen.indexOf(row.dataset.cardNumber) !== -1;
          row.classList.toggle("scanned", scanned);
          row.querySelector("[data-scan-state]").textContent = scanned ? "✔ 已扫描" : "未扫描";
          if (scanned) { onSheet += 1; }
        });
        var total = expected.querySelectorAll("tr[data-card-number]").length;
        // Only a finished scan asks for an extra's reason: typing by hand passes through
        // partial numbers, and the server asks for the reasons of what remains.
        if (scannedNow && !rowOf(scannedNow)) { addExtra(scannedNow); }
        count.textContent = "应到 " + total + " 张，已扫描到 " + onSheet + " 张，未扫描 " +
          (total - onSheet) + " 张，多出 " + (seen.length - onSheet) + " 张";
      } else {
        count.textContent = "已录入 " + seen.length + " 张";
      }
    };
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault();
      var number = clean(input.value);
      input.value = "";
      if (!number) { return; }
      if (numbers().indexOf(number) !== -1) {
        count.textContent = "卡号 " + number + " 已扫描过。";
        return;
      }
      list.value = (list.value.replace(/\s+$/, "") + "\n" + number).replace(/^\n/, "");
      refresh(number);
    });
    list.addEventListener("input", function () { refresh(null); });
    refresh(null);
  });

  // 进度通报: the line under the date tells where the chosen day's figures come from
  // (the server wrote it for the day the page opened with).
  document.querySelectorAll("[data-source-for]").forEach(function (line) {
    var input = document.getElementById(line.dataset.sourceFor);
    if (!input) { return; }
    function show() {
      var day = input.value, today = line.dataset.today;
      if (!day) { return; }
      // A later day is refused on submit, with its reason.
      line.textContent = day === today ? line.dataset.live : day < today ? line.dataset.past : "";
    }
    input.addEventListener("input", show);
    input.addEventListener("change", show);
  });
})();
