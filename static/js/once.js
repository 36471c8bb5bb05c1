// A form is posted once: a second click on its button while the page is being answered (a
// double-click, an impatient tap on a slow phone network) does not post it again, which would
// put a second gift card in the cart or add the units twice. Forms that a script of their own
// sends (the counter's express scans, the stock-take's counts) have had their sending
// prevented by that script and are left to it. A form that does not leave the page (a file
// downloaded) can be posted again after a few seconds, and so can a page come back to with the
// browser's Back button.
(function () {
  "use strict";
  var AGAIN_AFTER_MS = 4000;

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.getAttribute("method") || "").toLowerCase() !== "post") {
      return;
    }
    var now = Date.now();
    var sentAt = Number(form.dataset.sentAt || 0);
    if (now - sentAt < AGAIN_AFTER_MS) {
      event.preventDefault();
      return;
    }
    form.dataset.sentAt = String(now);
  });

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      Array.prototype.forEach.call(document.querySelectorAll("form[data-sent-at]"), function (form) {
        delete form.dataset.sentAt;
      });
    }
  });
})();
