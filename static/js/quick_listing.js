// Quick listing: the category follows the title as it is typed (the server guesses it from the
// title's words and the seller's latest products), until the volunteer picks one by hand.
// Without JavaScript the select keeps the first guess, and the server guesses again when it
// is left empty.
(function () {
  "use strict";
  var form = document.querySelector("form.quick-listing");
  if (!form || !window.fetch) {
    return;
  }
  var title = form.querySelector("#title");
  var select = form.querySelector("#category_id");
  var chosenByHand = false;
  var timer = null;
  var asked = 0;
  select.addEventListener("change", function () {
    chosenByHand = true;
  });
  function guess() {
    var ask = ++asked;
    var url = form.getAttribute("data-suggest-url") + "?title=" + encodeURIComponent(title.value);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body || ask !== asked || chosenByHand || body.category_id === null) {
          return;
        }
        select.value = String(body.category_id);
      })
      .catch(function () { /* the select keeps its value */ });
  }
  title.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(guess, 250);
  });
})();
