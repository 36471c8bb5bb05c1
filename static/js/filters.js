// The product filters are folded behind "Filter" so that a phone shows the products first;
// where the screen is wide enough, they are open from the start. Without JavaScript they stay
// folded everywhere (one click opens them). Loaded right after the filters, before the first
// paint, so that nothing moves on a wide screen.
(function () {
  "use strict";
  var filters = document.getElementById("filters");
  if (!filters || !window.matchMedia) {
    return;
  }
  var wide = window.matchMedia("(min-width: 48rem)");
  function openWhenWide() {
    if (wide.matches) {
      filters.open = true;
    }
  }
  openWhenWide();
  wide.addEventListener("change", openWhenWide);
})();
