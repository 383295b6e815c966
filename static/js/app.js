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
    var poll = function () {
      fetch(job.dataset.statusUrl, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          bar.style.width = s.progress + "%";
          job.querySelector(".progress").setAttribute("aria-valuenow", s.progress);
          text.textContent = s.status_label + (s.message ? "：" + s.message : "") + "（" + s.progress + "%）";
          if (s.waiting_long) { document.getElementById("job-waiting").hidden = false; }
          if (s.finished) { window.location.reload(); } else { setTimeout(poll, 1000); }
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 500);
  }
})();
