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
    if (!cancel || cancel.hasAttribute("hx-get") || cancel.hasAttribute("hx-post")) return;
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

  // A change that succeeded clears stale error notices (polling does not).
  document.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail;
    var changed = detail.requestConfig && detail.requestConfig.verb !== "get" &&
      !(detail.elt && detail.elt.closest && detail.elt.closest("[data-background]"));
    if (changed && detail.xhr && detail.xhr.status < 400) {
      var area = document.getElementById("flash");
      if (area && area.querySelector(".flash-error")) area.replaceChildren();
    }
  });

  // Once the user types a suggested identifier themselves, stop suggesting it.
  document.addEventListener("input", function (event) {
    var marker = event.target.getAttribute && event.target.getAttribute("data-marks-edited");
    if (!marker || !event.isTrusted) return;
    var form = event.target.closest("form");
    var flag = form && form.querySelector('input[name="' + marker + '"]');
    if (flag) flag.value = event.target.value ? "1" : "";
  });

  // Lock expiry counts down every second between server refreshes.
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.round((Date.parse(el.getAttribute("data-countdown")) - Date.now()) / 1000);
      if (left <= 0) {
        el.textContent = "now";
        return;
      }
      var minutes = Math.floor(left / 60);
      var seconds = String(left % 60).padStart(2, "0");
      el.textContent = minutes + ":" + seconds;
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSettle", tick);
  document.addEventListener("DOMContentLoaded", tick);

  // Drag to reorder the fields grid (SortableJS); the Move up/down buttons
  // do the same from the keyboard.
  function makeSortable(root) {
    if (typeof Sortable === "undefined") return;
    var rows = (root || document).querySelector ? (root || document).querySelector("#field-rows") : null;
    if (!rows || rows.dataset.sortable) return;
    var table = rows.closest("table");
    rows.dataset.sortable = "1";
    Sortable.create(rows, {
      handle: ".drag-handle",
      draggable: "tr.movable",
      animation: 120,
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) return;
        var ids = Array.prototype.map.call(rows.querySelectorAll("tr.movable"), function (tr) {
          return tr.getAttribute("data-field-id");
        });
        htmx.ajax("POST", table.getAttribute("data-order-url"), {
          target: "#field-rows",
          swap: "outerHTML",
          values: { field_ids: ids },
        });
      },
    });
  }
  document.addEventListener("DOMContentLoaded", function () { makeSortable(document); });
  document.addEventListener("htmx:afterSettle", function () { makeSortable(document); });

  // htmx has processed the page by now (its script runs first): controls that
  // need it become clickable (see app.css).
  document.addEventListener("DOMContentLoaded", function () {
    document.documentElement.setAttribute("data-ready", "");
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
