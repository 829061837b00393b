// The working queue (console ticket list): row selection for bulk actions, keyboard shortcuts and
// their help overlay (press ?). A static file: the Content-Security-Policy forbids inline script.
(function () {
  "use strict";
  var current = -1;
  var pendingG = false;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-queue-table] tr[data-row]")); }
  function picks() { return Array.prototype.slice.call(document.querySelectorAll("input[data-pick]")); }
  function dialog() { return document.getElementById("shortcuts-help"); }

  function updateSelection() {
    var checked = picks().filter(function (box) { return box.checked; });
    document.querySelectorAll("[data-selected-count]").forEach(function (el) { el.textContent = String(checked.length); });
    var bar = document.getElementById("bulk-form");
    if (bar) bar.classList.toggle("has-selection", checked.length > 0);
    picks().forEach(function (box) {
      var row = box.closest("tr");
      if (row) row.classList.toggle("is-picked", box.checked);
    });
    var all = document.querySelector("[data-select-all]");
    if (all) {
      var boxes = picks();
      all.checked = boxes.length > 0 && checked.length === boxes.length;
      all.indeterminate = checked.length > 0 && checked.length < boxes.length;
    }
  }

  function showFieldFor(action) {
    document.querySelectorAll("[data-bulk-field]").forEach(function (field) {
      var on = field.getAttribute("data-bulk-field") === action;
      field.hidden = !on;
      field.querySelectorAll("input, select").forEach(function (input) { input.disabled = !on; });
    });
  }

  function focusRow(index) {
    var list = rows();
    if (!list.length) return;
    index = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (row) { row.classList.remove("kb-current"); });
    current = index;
    var row = list[index];
    row.classList.add("kb-current");
    row.scrollIntoView({ block: "nearest" });
  }

  function openRow() {
    var row = rows()[current];
    if (row && row.dataset.href) window.location.assign(row.dataset.href);
  }

  function toggleRow() {
    var row = rows()[current];
    var box = row && row.querySelector("input[data-pick]");
    if (box) { box.checked = !box.checked; updateSelection(); }
  }

  function toggleHelp(force) {
    var box = dialog();
    if (!box) return;
    var open = force === undefined ? !box.open : force;
    if (open && !box.open) box.showModal(); else if (!open && box.open) box.close();
  }

  function startAssign() {
    var action = document.querySelector("[data-bulk-action]");
    if (!action) return;
    if (current >= 0 && !picks().some(function (box) { return box.checked; })) toggleRow();
    action.value = "assign";
    showFieldFor("assign");
    var assignee = document.getElementById("bulk-assignee");
    (assignee || action).focus();
  }

  function typing(target) {
    if (!target) return false;
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (!document.querySelector("[data-queue-table]")) return;
    var key = event.key;
    if (key === "Escape") { toggleHelp(false); return; }
    if (typing(event.target)) return;
    if (dialog() && dialog().open && key !== "?") return;
    if (pendingG) {
      pendingG = false;
      var link = key === "n" ? document.querySelector(".pager a.next") : key === "p" ? document.querySelector(".pager a:not(.next)") : null;
      if (link) { event.preventDefault(); link.click(); }
      return;
    }
    switch (key) {
      case "j": event.preventDefault(); focusRow(current + 1); break;
      case "k": event.preventDefault(); focusRow(current < 0 ? 0 : current - 1); break;
      case "o": case "Enter":
        if (current >= 0) { event.preventDefault(); openRow(); }
        break;
      case "x": if (current < 0) focusRow(0); event.preventDefault(); toggleRow(); break;
      case "a": event.preventDefault(); startAssign(); break;
      case "/":
        var search = document.getElementById("id_q");
        if (search) { event.preventDefault(); search.focus(); search.select(); }
        break;
      case "?": event.preventDefault(); toggleHelp(); break;
      case "g": pendingG = true; window.setTimeout(function () { pendingG = false; }, 1000); break;
      default: break;
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.matches) return;
    if (target.matches("[data-select-all]")) {
      picks().forEach(function (box) { box.checked = target.checked; });
      updateSelection();
    } else if (target.matches("input[data-pick]")) {
      updateSelection();
    } else if (target.matches("[data-bulk-action]")) {
      showFieldFor(target.value);
    }
  });

  function currentFilters() {
    var params = new URLSearchParams();
    var filters = document.getElementById("queue-filters");
    if (filters) new FormData(filters).forEach(function (value, name) { if (value) params.append(name, value); });
    return params;
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest) return;
    var exportLink = target.closest("a[data-export]");
    if (exportLink) {  // the filters may have changed in place since the page was drawn
      var params = currentFilters();
      params.set("as", exportLink.getAttribute("data-export"));
      exportLink.href = exportLink.href.split("?")[0] + "?" + params.toString();
      return;
    }
    if (target.closest("[data-shortcuts-open]")) { toggleHelp(true); return; }
    if (target.closest("[data-shortcuts-close]")) { toggleHelp(false); return; }
    var row = target.closest("[data-queue-table] tr[data-row]");
    if (row && !target.closest("a, input, button, label")) {
      var index = rows().indexOf(row);
      if (index >= 0) focusRow(index);
    }
  });

  // The filters may have changed in place (htmx): a view is saved, and a form returns, as shown now.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches) return;
    var filters = document.getElementById("queue-filters");
    if (form.matches(".save-view-form") && filters && form.elements.query) {
      form.elements.query.value = currentFilters().toString();
    }
    if (form.elements && form.elements.next) form.elements.next.value = window.location.pathname + window.location.search;
  }, true);

  // A bulk action done: refresh the list (with the filters as they are now) and the tab counts.
  document.addEventListener("DOMContentLoaded", function () {
    document.body.addEventListener("queue-refresh", refreshQueue);
    var action = document.querySelector("[data-bulk-action]");
    if (action) showFieldFor(action.value);
    updateSelection();
  });
  function refreshQueue() {
    var filters = document.getElementById("queue-filters");
    if (filters && window.htmx) window.htmx.trigger(filters, "submit");
  }
  // The list was swapped (filters, paging, refresh): nothing is selected or focused any more.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail && event.detail.target && event.detail.target.id === "queue-results") {
      current = -1;
      updateSelection();
    }
  });
})();
