// The counter keeps one field focused, so a USB scanner's keystrokes always land in it.
(function () {
  "use strict";
  function scanField() { return document.querySelector("[data-scan]"); }

  // After each htmx answer: focus what the answer asks for (autofocus), else the scan field.
  function refocus(event) {
    // Only a new answer moves the focus; a suggestion list filling in must not.
    var target0 = event && event.detail && event.detail.target;
    if (target0 && target0.id !== "result" && target0.id !== "returns-panel") return;
    var wanted = document.querySelector("#result [autofocus], #returns-panel [autofocus]");
    var target = wanted || scanField();
    if (target && document.activeElement !== target) target.focus();
  }
  document.addEventListener("htmx:afterSettle", refocus);

  // Once a scan is on its way (its value already sent), empty the field for the next one.
  document.addEventListener("htmx:beforeSend", function (event) {
    var form = event.detail.elt;
    var field = form && form.querySelector ? form.querySelector("[data-scan]") : null;
    if (field) field.value = "";
  });

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
