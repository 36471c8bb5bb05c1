// Counter pages (pickup vouchers, gift cards): camera scanning. The text field works without
// this script (a handheld scanner types the voucher or card URL and Enter; a volunteer types the
// code). With a camera: the browser's BarcodeDetector where it exists, otherwise a frame every
// moment is sent to the server, which decodes it (zxing-cpp). What is read goes into the field
// and the form is sent, as if typed. The stock-take page uses it too: its form says which codes
// to read (data-formats: QR codes and EAN barcodes) and, with data-continuous, each code read is
// sent at once (JSON) and the camera stays on for the next product.
(function () {
  "use strict";
  var form = document.getElementById("counter-scan");
  if (!form) {
    return;
  }
  var input = document.getElementById("q");
  var express = document.getElementById("express");  // the voucher page only
  var expressBox = document.getElementById("express-result");

  function nonce() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function showExpress(ok, message) {
    expressBox.hidden = false;
    expressBox.className = "express-result " + (ok ? "notice-success" : "form-errors");
    expressBox.textContent = message;
  }

  function redeem(text) {
    fetch(form.dataset.redeemUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": form.dataset.csrf },
      body: JSON.stringify({ q: text, nonce: nonce() })
    }).then(function (response) {
      return response.json();
    }).then(function (data) {
      var ok = data.result === "collected";
      var lines = ok ? data.lines.map(function (l) { return l.quantity + " × " + l.title; }).join(", ") : "";
      showExpress(ok, data.message + (lines ? " " + lines : ""));
    }).catch(function () {
      showExpress(false, form.dataset.networkError);
    });
    input.value = "";
    input.focus();
  }

  function expressOn() {
    return Boolean(express && express.checked) || Boolean(form.dataset.continuous);
  }

  // Continuous scanning (the stock-take): the form is sent as JSON and its answer shown. A
  // handheld scanner types faster than the server answers: the scans are sent one after the
  // other, in the order they were read, so the count shown is always the last one saved.
  var scans = Promise.resolve();
  function sendForm(text) {
    var body = new FormData(form);
    body.set("q", text);
    scans = scans.then(function () {
      return fetch(form.action, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": form.dataset.csrf }
      }).then(function (response) {
        return response.json();
      }).then(function (data) {
        showExpress(data.ok, data.message);
        if (data.ok && data.product_id) {
          var cell = document.getElementById("counted-" + data.product_id);
          if (cell) { cell.value = data.counted; }
        }
      }).catch(function () {
        showExpress(false, form.dataset.networkError);
      });
    });
    input.value = "";
    input.focus();
  }

  // Express mode: each scan is redeemed at once through the JSON endpoint, and the field is
  // ready for the next one. The choice is remembered on this device.
  if (express) {
    document.getElementById("express-toggle").hidden = false;
    express.checked = window.localStorage.getItem("counter-express") === "1";
    express.addEventListener("change", function () {
      window.localStorage.setItem("counter-express", express.checked ? "1" : "0");
      input.focus();
    });
    form.addEventListener("submit", function (event) {
      if (express.checked && input.value.trim()) {
        event.preventDefault();
        redeem(input.value.trim());
      }
    });
  }

  if (form.dataset.continuous) {
    form.addEventListener("submit", function (event) {
      if (input.value.trim()) {
        event.preventDefault();
        sendForm(input.value.trim());
      }
    });
  }

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var startButton = document.getElementById("camera-start");
  var stopButton = document.getElementById("camera-stop");
  var box = document.getElementById("camera");
  var video = document.getElementById("camera-video");
  var statusLine = document.getElementById("camera-status");
  var stream = null;
  var timer = null;
  var busy = false;
  var lastText = null;
  var lastAt = 0;
  var canvas = document.createElement("canvas");
  var detector = null;
  if ("BarcodeDetector" in window) {
    try {
      detector = new window.BarcodeDetector({ formats: (form.dataset.formats || "qr_code").split(",") });
    } catch (e) {
      detector = null;
    }
  }

  startButton.hidden = false;

  function stop() {
    if (timer) { window.clearInterval(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    box.hidden = true;
    stopButton.hidden = true;
    startButton.hidden = false;
    input.focus();
  }

  function found(text) {
    if (!text) { return; }
    if (expressOn()) {  // keep the camera on for the next shopper
      var now = Date.now();
      if (text === lastText && now - lastAt < 4000) { return; }  // the same code still in view
      lastText = text;
      lastAt = now;
      if (form.dataset.continuous) { sendForm(text); } else { redeem(text); }
      return;
    }
    stop();
    input.value = text;
    form.submit();
  }

  function frameBlob(callback) {
    var width = video.videoWidth, height = video.videoHeight;
    if (!width || !height) { callback(null); return; }
    var scale = Math.min(1, 960 / Math.max(width, height));
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(callback, "image/jpeg", 0.85);
  }

  function askServer() {
    frameBlob(function (blob) {
      if (!blob) { busy = false; return; }
      var body = new FormData();
      body.append("frame", blob, "frame.jpg");
      fetch(form.dataset.decodeUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": form.dataset.csrf }
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (data) {
        busy = false;
        if (data && data.text) { found(data.text); }
      }).catch(function () { busy = false; });
    });
  }

  function tick() {
    if (busy || !stream) { return; }
    busy = true;
    if (detector) {
      detector.detect(video).then(function (codes) {
        busy = false;
        if (codes.length) { found(codes[0].rawValue); }
      }).catch(function () { busy = false; });
    } else {
      askServer();
    }
  }

  startButton.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.play();
        box.hidden = false;
        startButton.hidden = true;
        stopButton.hidden = false;
        timer = window.setInterval(tick, detector ? 200 : 700);
      })
      .catch(function () {
        box.hidden = false;
        statusLine.textContent = statusLine.dataset.noCamera;
      });
  });
  stopButton.addEventListener("click", stop);
})();
