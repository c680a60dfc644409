// The oral exam grid: after a cell is swapped, keep the keyboard on its button so the person
// can press again (Enter or Space cycles met / not yet / not observed).
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || !target.id || target.id.indexOf("cell-") !== 0) { return; }
    var cell = document.getElementById(target.id);
    var button = cell && cell.querySelector(".cell-button");
    if (button) { button.focus({ preventScroll: true }); }
  });
})();
