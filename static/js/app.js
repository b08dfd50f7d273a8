// Small behaviours htmx does not cover: keyboard shortcuts for inline forms,
// feedback for failed requests, and cancel buttons that need no round trip.
(function () {
  "use strict";

  function flash(html, kind) {
    var area = document.getElementById("flash");
    if (!area) return;
    var note = document.createElement("div");
    note.className = "flash flash-" + (kind || "error");
    note.setAttribute("role", "alert");
    note.innerHTML = html;
    area.replaceChildren(note);
  }

  function escapeText(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  // Escape cancels the inline form being edited.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var form = event.target.closest && event.target.closest("[data-cancelable]");
    if (!form) return;
    var cancel = form.querySelector("[data-cancel]");
    if (cancel) {
      event.preventDefault();
      cancel.click();
    }
  });

  // A Cancel without an htmx request simply removes its form.
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest && event.target.closest("[data-cancel]");
    if (!cancel || cancel.hasAttribute("hx-get")) return;
    var form = cancel.closest("[data-cancelable]");
    if (form) {
      event.preventDefault();
      form.remove();
    }
  });

  // Server errors that htmx does not swap are shown in the flash area; the
  // user's input stays where it was.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("text/html") === 0 && xhr.responseText.length < 4000 && xhr.responseText.indexOf("<html") === -1) {
      flash(xhr.responseText);
    } else {
      flash(escapeText("The server refused this request (" + xhr.status + "). Nothing was changed."));
    }
  });

  document.addEventListener("htmx:sendError", function () {
    flash(escapeText("Could not reach the server. Your input is kept; try again."));
  });

  // Successful actions clear stale error notices.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) {
      var area = document.getElementById("flash");
      if (area && area.querySelector(".flash-error")) area.replaceChildren();
    }
  });

  // Focus the first autofocus field of a freshly swapped-in form.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.elt;
    var field = target && target.querySelector && target.querySelector("[autofocus]");
    if (field) {
      field.focus();
      if (field.select) field.select();
    }
  });
})();
