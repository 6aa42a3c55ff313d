// The search box of a long select (core.widgets.SearchSelect) only finds options: what is typed
// there is not a choice of the form, so its change never reaches the form (a list whose filters
// apply on change would reload for nothing) and Enter searches instead of submitting.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-option-search]")) {
      event.stopPropagation();
    }
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("[data-option-search]")) {
      event.preventDefault();
      event.target.dispatchEvent(new Event("search"));
    }
  }, true);
})();
