// Progressive enhancement only: every control works without JavaScript.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }

  var refresh = document.querySelector("[data-captcha-refresh]");
  if (!refresh) { return; }
  refresh.addEventListener("click", function (event) {
    event.preventDefault();
    fetch(refresh.dataset.refreshUrl, { headers: { "X-Requested-With": "XMLHttpRequest" }, credentials: "same-origin" })
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (data) {
        var image = document.querySelector("[data-captcha-image]");
        var hidden = document.querySelector("input[name$='captcha_0']");
        var answer = document.querySelector("input[name$='captcha_1']");
        image.src = data.image_url;
        hidden.value = data.key;
        var audio = document.querySelector("[data-captcha-audio]");
        if (audio && data.audio_url) { audio.href = data.audio_url; }
        answer.value = "";
        answer.focus();
      })
      .catch(function () { window.location.reload(); });
  });
})();
