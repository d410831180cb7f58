// Follows the enrollment's progress on the step-7 page without a reload.
(function () {
  "use strict";
  var section = document.querySelector("[data-status-url]");
  if (!section) { return; }
  var url = section.dataset.statusUrl;
  var finished = { installed: true, expired: true };
  var delay = 2000;

  function render(data) {
    section.querySelector("[data-status-label]").textContent = data.label;
    section.querySelector("[data-status-text]").textContent = data.message;
    section.querySelector("[data-status-error]").textContent =
      data.error_message ? data.error_message + " (" + data.error_code + ")" : "";
    var box = section.querySelector("[data-status-message]");
    box.className = "notice " + (data.status === "installed" ? "notice-success"
      : (data.status === "failed" || data.status === "expired") ? "notice-error" : "notice-info");
    data.stages.forEach(function (stage) {
      var item = section.querySelector("[data-stage='" + stage.key + "']");
      if (!item) { return; }
      item.className = stage.current ? "current" : (stage.done ? "done" : "");
      if (stage.current) { item.setAttribute("aria-current", "step"); } else { item.removeAttribute("aria-current"); }
    });
    section.dataset.status = data.status;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (data) {
        render(data);
        delay = 2000;
        if (!finished[data.status]) { window.setTimeout(poll, delay); }
      })
      .catch(function () { delay = Math.min(delay * 2, 30000); window.setTimeout(poll, delay); });
  }
  window.setTimeout(poll, delay);
})();
