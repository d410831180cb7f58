// Progressive enhancement of the captcha's "Listen to the digits": the sound plays on the
// page instead of in a new tab. The link's address is read at each click, because "Show
// other digits" (wizard.js) puts the new captcha's address there.
(function () {
  "use strict";
  var link = document.querySelector("[data-captcha-audio]");
  if (!link || typeof window.Audio !== "function") { return; }
  var playing = null;
  link.addEventListener("click", function (event) {
    event.preventDefault();
    if (playing) { playing.pause(); }
    playing = new window.Audio(link.href);
    playing.play().catch(function () { window.open(link.href, "_blank", "noopener"); });
    var answer = document.querySelector("input[name$='captcha_1']");
    if (answer) { answer.focus(); }
  });
})();
