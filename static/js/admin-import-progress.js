// Follows a running import without a timed refresh of the whole page (WCAG 2.2.1, axe's
// meta-refresh): the progress is fetched and put in place every 2 s; once the import has
// ended (no progress on the page any more), the page is loaded once to show the result.
(function () {
  "use strict";
  var region = document.querySelector("[data-import-progress]");
  if (!region) { return; }
  function poll() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-import-progress]");
        if (!fresh) { window.location.reload(); return; }
        region.innerHTML = fresh.innerHTML;
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
