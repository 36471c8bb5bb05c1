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

// Photos are shrunk in the phone before they leave (a phone's 4 MB photo becomes a few hundred
// KB at the size the server keeps): five photos upload in seconds on mobile data and stay
// under the upload limit. The server still checks and re-encodes them (catalog/images.py).
// Where the browser cannot, or a file is no image it can read, the file goes as it is.
(function () {
  "use strict";
  var form = document.querySelector("form.quick-listing");
  var input = form && form.querySelector("#photos");
  if (!input || !window.DataTransfer || !window.createImageBitmap || !window.Promise) {
    return;
  }
  var maxSide = parseInt(form.getAttribute("data-max-side"), 10) || 1600;

  function shrink(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type)) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size < 1024 * 1024) {
        return file;
      }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          resolve(blob ? new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg",
                                  { type: "image/jpeg" }) : file);
        }, "image/jpeg", 0.88);
      });
    }).catch(function () {
      return file;
    });
  }

  var ready = false;
  form.addEventListener("submit", function (event) {
    if (ready || !input.files.length) {
      return;
    }
    event.preventDefault();
    var submitter = event.submitter;
    Promise.all(Array.prototype.map.call(input.files, shrink)).then(function (files) {
      var transfer = new DataTransfer();
      files.forEach(function (file) { transfer.items.add(file); });
      input.files = transfer.files;
    }).catch(function () { /* the files go as they are */ }).then(function () {
      ready = true;
      if (form.requestSubmit && submitter) {
        form.requestSubmit(submitter);
      } else {
        form.submit();
      }
    });
  });
})();
