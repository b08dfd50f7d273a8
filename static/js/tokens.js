// The tokens page: "Copy" puts a new token's secret on the clipboard and says so.
(function () {
  "use strict";

  function say(id, text) {
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (status) status.textContent = text;
  }

  // Without the Clipboard API (an insecure origin), the browser's own copy of a selection.
  function copySelected(input) {
    input.focus();
    input.select();
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var id = button.getAttribute("data-copy");
    var input = document.getElementById(id);
    if (!input) return;
    var copying = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(input.value)
      : copySelected(input);
    copying.then(
      function () { say(id, "Copied to the clipboard."); },
      function () { input.select(); say(id, "Could not copy: the token is selected, press Ctrl+C."); }
    );
  });
})();
