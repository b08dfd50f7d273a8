// SQL shown on deploy pages, highlighted by highlight.js, also after htmx swaps it in.
(function () {
  "use strict";

  function highlight(root) {
    if (!window.hljs || !root.querySelectorAll) return;
    root.querySelectorAll("code.language-sql:not([data-highlighted])").forEach(function (code) {
      window.hljs.highlightElement(code);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { highlight(document); });
  document.addEventListener("htmx:load", function (event) { highlight(event.target); });
})();
