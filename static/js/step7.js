// Progressive enhancement of the step-7 page; without it, every control still works.
(function () {
  "use strict";
  // iPadOS Safari presents itself as a Mac: a "Mac" with a touch screen is an iPad. Show the
  // way to the computer first and make the installer a secondary action, as the server does
  // for phones and tablets it recognises (enrollment/handoff.py).
  var handoff = document.querySelector("[data-handoff]");
  var looksLikeMac = /Macintosh/.test(navigator.userAgent);
  if (handoff && handoff.hidden && looksLikeMac && navigator.maxTouchPoints > 0) {
    handoff.hidden = false;
    var swap = function (selector, from, to) {
      var button = document.querySelector(selector);
      if (button) { button.classList.remove(from); button.classList.add(to); }
    };
    swap("[data-desktop-install]", "button-primary", "button-secondary");
    swap("[data-handoff-primary]", "button-secondary", "button-primary");
  }

  // "Copy the commands" (system certificates): the button exists only where copying works.
  var copy = document.querySelector("[data-copy]");
  if (copy && navigator.clipboard && window.isSecureContext) {
    copy.hidden = false;
    var status = document.querySelector("[data-copy-status]");
    copy.addEventListener("click", function () {
      var source = document.getElementById(copy.dataset.copy);
      navigator.clipboard.writeText(source.textContent).then(function () {
        if (status) { status.textContent = copy.dataset.copied; }
      });
    });
  }
})();
