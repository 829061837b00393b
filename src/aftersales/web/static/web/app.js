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

// Behaviour that templates ask for with data attributes instead of inline handlers, so the
// Content-Security-Policy can forbid inline script (docs/deploy.md, Security).
(function () {
  // <select data-autosubmit>: choosing an option submits its form.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-autosubmit]") && target.form) target.form.submit();
  });
  // data-confirm="question" on a form or a submit button: ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target, submitter = event.submitter;
    var question = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);
  // Log a phone call: recording the call on an existing ticket needs no subject for a new one.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-phone-attach]")) return;
    var subject = document.getElementById("id_subject");
    if (subject) { subject.required = !input.value; subject.closest("label").hidden = !!input.value; }
    var button = document.querySelector("form.callform button[type=submit]");
    var fieldset = input.closest("[data-record-label]");
    if (button && fieldset) {
      if (!button.dataset.newLabel) button.dataset.newLabel = button.textContent;
      button.textContent = input.value ? fieldset.getAttribute("data-record-label") : button.dataset.newLabel;
    }
  });
  // A number already typed (the form came back with an error): look the caller up at once.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-lookup-on-load]").forEach(function (input) {
      if (input.value && window.htmx) window.htmx.trigger(input, "lookup");
    });
  });
})();
