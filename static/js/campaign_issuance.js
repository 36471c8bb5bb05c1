// The campaign page while its cards are being issued: every few seconds the figures are asked
// for (campaigns/issuance_views.py) and the bar and its sentence updated (the sentence is a
// status region: screen readers say it). When every card is issued, the page is reloaded once
// to show what comes next. Without JavaScript the page has a "Refresh" link.
(function () {
  "use strict";
  var section = document.getElementById("issuance");
  var url = section && section.getAttribute("data-progress-url");
  if (!url || !window.fetch) {
    return;
  }
  var bar = document.getElementById("issuance-bar");
  var text = document.getElementById("issuance-text");
  var refresh = document.getElementById("issuance-refresh");
  if (refresh) {
    refresh.hidden = true;
  }
  var DELAY = 2000;

  function show(figures) {
    bar.max = figures.total || 1;
    bar.value = figures.total ? figures.issued : 1;
    bar.textContent = figures.percent + " %";
    if (text.textContent !== figures.text) {
      text.textContent = figures.text;
    }
  }

  function ask() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (figures) {
        if (!figures) {
          if (refresh) { refresh.hidden = false; }
          return;
        }
        show(figures);
        if (figures.issuing) {
          window.setTimeout(ask, DELAY);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        if (refresh) { refresh.hidden = false; }
      });
  }

  window.setTimeout(ask, DELAY);
})();
