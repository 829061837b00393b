// Knowledge base: suggestions follow what is typed; "Insert" puts an article's extract into the reply.
(function () {
  function panels() { return document.querySelectorAll("[data-kb-watch]"); }
  document.addEventListener("input", function (event) {
    panels().forEach(function (panel) {
      var selector = panel.getAttribute("data-kb-watch");
      if (event.target.matches && event.target.matches(selector) && window.htmx) {
        window.htmx.trigger(panel, "kb-draft");
      }
    });
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".kb-insert");
    if (!button) return;
    var textarea = document.querySelector("#conversation textarea[name=body]");
    if (!textarea) return;
    var text = button.getAttribute("data-extract") || "";
    var url = button.getAttribute("data-url");
    if (url) text += "\n" + url;
    var current = textarea.value.replace(/\s+$/, "");
    textarea.value = (current ? current + "\n\n" : "") + text + "\n";
    textarea.focus();
    textarea.dispatchEvent(new Event("change", { bubbles: true }));
  });
  // The ask box keeps the newest turn in view.
  document.addEventListener("htmx:afterSwap", function (event) {
    var list = document.querySelector(".kb-transcript");
    if (list && event.detail && event.detail.target && event.detail.target.id === "ask") {
      var last = list.lastElementChild;
      if (last && last.scrollIntoView) last.scrollIntoView({ block: "nearest" });
      var input = document.getElementById("kb-question");
      if (input) input.focus();
    }
  });
})();
