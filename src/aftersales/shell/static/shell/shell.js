// The shell's behaviour (no inline script: the Content-Security-Policy forbids it).
(function () {
  // The top bar's menu is a <details>: open on wide screens, a button that folds it on narrow ones.
  var wide = window.matchMedia("(min-width: 1101px)");
  function fit() {
    document.querySelectorAll("details[data-navmenu]").forEach(function (menu) {
      if (wide.matches) menu.open = true;
      else if (!menu.dataset.touched) menu.open = false;
    });
  }
  document.addEventListener("DOMContentLoaded", fit);
  wide.addEventListener("change", function () {
    document.querySelectorAll("details[data-navmenu]").forEach(function (menu) { delete menu.dataset.touched; });
    fit();
  });
  document.addEventListener("click", function (event) {
    var summary = event.target.closest && event.target.closest("details[data-navmenu] > summary");
    if (summary) summary.parentElement.dataset.touched = "1";
  });
  // Escape, or a tap outside it, folds an open narrow menu.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || wide.matches) return;
    document.querySelectorAll("details[data-navmenu][open]").forEach(function (menu) { menu.open = false; });
  });
  document.addEventListener("click", function (event) {
    if (wide.matches) return;
    document.querySelectorAll("details[data-navmenu][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });
})();

// Tables that become cards on narrow screens (<table class="table-cards">): each cell is labelled
// with its column's heading, unless the template gave it a data-label already.
(function () {
  function label(root) {
    (root || document).querySelectorAll("table.table-cards").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.replace(/\s+/g, " ").trim();
      });
      if (!heads.length) return;
      table.querySelectorAll("tbody > tr").forEach(function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.children, function (cell) {
          var span = parseInt(cell.getAttribute("colspan") || "1", 10);
          if (span === 1 && !cell.hasAttribute("data-label") && heads[column]) cell.setAttribute("data-label", heads[column]);
          column += span;
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { label(document); });
  document.addEventListener("htmx:afterSwap", function (event) { label(event.target); });
})();
