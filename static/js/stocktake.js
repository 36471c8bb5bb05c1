// Stock-take page: each count typed is saved as soon as it is typed (on change), so that an
// interrupted stock-take loses nothing; without this script each line has its own save button.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form.count-form");
  Array.prototype.forEach.call(forms, function (form) {
    var input = form.querySelector("input[name=counted]");
    var status = form.querySelector(".count-status");
    var button = form.querySelector("button");
    if (button) { button.classList.add("visually-hidden"); }
    function save() {
      if (input.value.trim() === "") { return; }
      var body = new FormData(form);
      status.textContent = "…";
      fetch(form.action, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.json();
      }).then(function (data) {
        status.textContent = data.message;
        status.className = "count-status " + (data.ok ? "meta" : "error");
        input.setAttribute("aria-invalid", data.ok ? "false" : "true");
      }).catch(function () {
        status.textContent = form.dataset.networkError;
        status.className = "count-status error";
      });
    }
    input.addEventListener("change", save);
    form.addEventListener("submit", function (event) { event.preventDefault(); save(); });
  });
})();
