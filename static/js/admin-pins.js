// The PIN page's copy buttons: shown only where the clipboard can be written, and
// announced to screen readers through the page's status line.
(function () {
  "use strict";
  if (!navigator.clipboard || !window.isSecureContext) {
    return; // without a secure context there is no clipboard; the numbers can be selected
  }
  var status = document.querySelector(".pin-copied");
  document.querySelectorAll(".pin-copy").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) {
        return;
      }
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        if (status) {
          status.textContent = status.getAttribute("data-copied");
        }
      });
    });
  });
})();
