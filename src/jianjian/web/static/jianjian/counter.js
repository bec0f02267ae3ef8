// The counter keeps one field focused, so a USB scanner's keystrokes always land in it.
(function () {
  "use strict";
  function scanField() { return document.querySelector("[data-scan]"); }

  // After each htmx answer: focus what the answer asks for (autofocus), else the scan field.
  function refocus() {
    var wanted = document.querySelector("#result [autofocus], #returns-panel [autofocus]");
    var target = wanted || scanField();
    if (target && document.activeElement !== target) target.focus();
  }
  document.addEventListener("htmx:afterSettle", refocus);

  document.addEventListener("keydown", function (event) {
    // Esc leaves a follow-up form and goes back to scanning.
    if (event.key === "Escape") {
      var cancel = document.querySelector("#result [data-cancel]");
      if (cancel) { event.preventDefault(); document.getElementById("result").innerHTML = ""; }
      var field = scanField();
      if (field) field.focus();
      return;
    }
    // A keystroke with nothing focused (after a click on blank space) goes to the scan field.
    var active = document.activeElement;
    if ((!active || active === document.body) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      var f = scanField();
      if (f) f.focus();
    }
  });
})();
