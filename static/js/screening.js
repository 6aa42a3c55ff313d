// Fast entry on a screening roster: after htmx swaps a child's line back in, put the cursor
// where typing continues. The server marks the swapped line with data-after: "next" (saved:
// go to the next child still to enter) or "self" (errors: fix this line).
(function () {
  "use strict";

  function entryOf(row) {
    return row ? row.querySelector("input[data-entry]") : null;
  }

  function nextEntry(row) {
    var next = row.nextElementSibling;
    while (next) {
      var input = entryOf(next);
      if (input && next.dataset.status !== "done") { return input; }
      next = next.nextElementSibling;
    }
    return null;
  }

  document.addEventListener("htmx:afterSettle", function () {
    var row = document.querySelector("[data-screening-row][data-after]");
    if (!row) { return; }
    var after = row.dataset.after;
    row.removeAttribute("data-after");
    var input = after === "next" ? nextEntry(row) : entryOf(row);
    if (input) {
      input.focus();
      if (after === "self") { input.select(); }
      input.scrollIntoView({ block: "nearest" });
    }
  });
}());
