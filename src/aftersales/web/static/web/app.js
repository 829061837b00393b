// Refreshes SLA countdowns ("in 12 min" / "5 min overdue") every 30 s without reloading the page.
(function () {
  function label(el, seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60), amount;
    if (minutes >= 2880) amount = (el.dataset.fmtDays || "{n} d").replace("{n}", Math.floor(minutes / 1440));
    else if (minutes >= 120) amount = (el.dataset.fmtHours || "{n} h").replace("{n}", Math.floor(minutes / 60));
    else amount = (el.dataset.fmtMinutes || "{n} min").replace("{n}", minutes);
    return (seconds >= 0 ? (el.dataset.fmtIn || "in {t}") : (el.dataset.fmtOver || "{t} overdue")).replace("{t}", amount);
  }
  function refresh() {
    var root = document.getElementById("sla-formats");
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) return;
      if (root) Object.assign(el.dataset, root.dataset);
      var seconds = Math.round((due - Date.now()) / 1000);
      el.textContent = label(el, seconds);
      if (seconds < 0) { el.classList.remove("sla-on_track", "sla-warning"); el.classList.add("sla-breached"); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setInterval(refresh, 30000); });
  document.addEventListener("htmx:afterSwap", refresh);
})();
