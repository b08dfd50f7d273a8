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

  // The branch switcher switches as soon as another branch is chosen (like a tab).
  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest("select[data-switch]");
    if (select) select.form.submit();
  });

  document.addEventListener("htmx:sendError", function () {
    flash(escapeText("Could not reach the server. Your input is kept; try again."));
  });

  // A new error replaces the good news of a previous action.
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status < 400 || isBackground(event.detail.elt)) return;
    document.querySelectorAll("#flash .flash-success, #flash .flash-info").forEach(function (note) {
      note.remove();
    });
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

  // Times come from the server in UTC (kept in the tooltip); show them in the reader's zone.
  function pad(n) {
    return String(n).padStart(2, "0");
  }
  function localTimes(root) {
    (root || document).querySelectorAll("time[data-local]").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (isNaN(moment)) return;
      var clock = pad(moment.getHours()) + ":" + pad(moment.getMinutes());
      var shape = el.getAttribute("data-local");
      var day = moment.getFullYear() + "-" + pad(moment.getMonth() + 1) + "-" + pad(moment.getDate());
      if (shape !== "minute") clock += ":" + pad(moment.getSeconds());
      el.textContent = shape === "clock" ? clock : day + " " + clock;
      el.removeAttribute("data-local");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localTimes(document); });
  document.addEventListener("htmx:afterSettle", function () { localTimes(document); });

  // Lock expiry counts down every second between server refreshes.
  function tick() {
    // Offers that last a short while (Undo) go when their time is up.
    document.querySelectorAll("[data-dismiss-at]").forEach(function (el) {
      if (Date.now() > Number(el.getAttribute("data-dismiss-at"))) el.remove();
    });
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.round((Date.parse(el.getAttribute("data-countdown")) - Date.now()) / 1000);
      if (left <= 0) {
        el.textContent = "renewing…";
        return;
      }
      var minutes = Math.floor(left / 60);
      var seconds = String(left % 60).padStart(2, "0");
      el.textContent = minutes + ":" + seconds;
    });
  }
  // A long request's indicator counts the seconds it has been running (data-elapsed).
  function elapsed() {
    document.querySelectorAll(".htmx-request [data-elapsed], .htmx-request[data-elapsed]").forEach(function (el) {
      var started = Number(el.getAttribute("data-started") || 0);
      if (!started) {
        started = Date.now();
        el.setAttribute("data-started", String(started));
      }
      el.textContent = Math.floor((Date.now() - started) / 1000) + " s";
    });
  }
  setInterval(elapsed, 500);
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSettle", tick);
  document.addEventListener("DOMContentLoaded", tick);

  // ---- Locks that live as long as the page -------------------------------
  // #lock-keeper (outside every swapped region) renews the user's lock every
  // heartbeat. Leaving the page tells the server at once (a beacon cuts the
  // lease to a short grace, so a reload takes the lock back), and tells the
  // user's other tabs on the same table, which renew it before the grace ends.

  function keeper() {
    return document.getElementById("lock-keeper");
  }

  function holdsLock() {
    return !!document.querySelector("#lock-panel[data-mine]");
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  var tabs = typeof BroadcastChannel === "function" ? new BroadcastChannel("dmd-locks") : null;

  function keepNow(delay) {
    setTimeout(function () {
      var k = keeper();
      if (k && holdsLock()) htmx.trigger(k, "lock-keep");
    }, delay || 0);
  }

  // The user's other open tabs on the same table, as they announce themselves: a tab that
  // leaves while another still shows the table sends no beacon at all, so the lock keeps
  // its lease instead of depending on the other tab's renewal landing within the grace (a
  // background tab's timers, or a slow network, can miss it).
  function newTabId() {
    return Math.random().toString(36).slice(2) + Date.now().toString(36);
  }
  var myTab = newTabId();
  var peers = {};

  function tableId() {
    var k = keeper();
    return k ? k.getAttribute("data-table-id") : null;
  }

  function announce(kind) {
    var table = tableId();
    if (tabs && table) tabs.postMessage({ kind: kind, table: table, tab: myTab });
  }

  function peerOpen() {
    var fresh = Date.now() - 3 * Number(keeper().getAttribute("data-heartbeat-ms") || 20000);
    return Object.keys(peers).some(function (tab) { return peers[tab] > fresh; });
  }

  window.addEventListener("pagehide", function () {
    var k = keeper();
    if (!k || !holdsLock()) return;
    if (navigator.sendBeacon && !peerOpen()) {
      var data = new FormData();
      data.append("csrf_token", csrfToken());
      data.append("page", myTab);
      navigator.sendBeacon(k.getAttribute("data-leave-url"), data);
    }
    announce("left");
  });

  if (tabs) {
    tabs.onmessage = function (event) {
      var said = event.data || {};
      if (!keeper() || said.table !== tableId() || said.tab === myTab) return;
      if (said.kind === "left") {
        delete peers[said.tab];
        keepNow(0);  // its beacon (if it sent one) cut the lease: renew it at once
        return;
      }
      peers[said.tab] = Date.now();
      if (said.kind === "hello") announce("here");
    };
    document.addEventListener("DOMContentLoaded", function () { announce("hello"); });
    // Each beat says this tab is still here, so a tab that died without leaving is forgotten.
    document.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.elt === keeper()) announce("here");
    });
  }

  // Each beat names its page: one sent just before the page's leave beacon that reaches
  // the server after it renews nothing (it would keep the lock a whole lease).
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt === keeper()) event.detail.parameters.page = myTab;
  });

  // A tab coming back to the front, or out of the back-forward cache, renews
  // at once and asks who holds the lock now.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") keepNow(0);
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    // Back from the cache, after a leave beacon: a page of its own again, whose beats renew.
    myTab = newTabId();
    keepNow(0);
    if (window.htmx) htmx.trigger(document.body, "lock-changed");
  });

  // While someone else holds the table its edit controls are disabled, with
  // the holder's hint; refusals shown before go once the lock is gone. A
  // control of another table's row (a relationship) names the table whose
  // lock it must pass in data-edit-of.
  function applyLockState() {
    var panel = document.getElementById("lock-panel");
    if (!panel) return;
    var hint = panel.getAttribute("data-locked-by") ? panel.getAttribute("data-lock-hint") : "";
    var ofTable = '[data-edit-of="' + CSS.escape(panel.getAttribute("data-table-id") || "") + '"]';
    document.querySelectorAll("[data-edit], " + ofTable).forEach(function (control) {
      control.disabled = !!hint;
      if (hint) control.setAttribute("title", hint);
      else control.removeAttribute("title");
    });
    if (!hint) {
      document.querySelectorAll("#flash [data-lock-refusal]").forEach(function (note) {
        note.remove();
      });
    }
  }
  document.addEventListener("DOMContentLoaded", applyLockState);
  document.addEventListener("htmx:afterSettle", applyLockState);

  // Ctrl+Z (⌘Z) in the fields table takes back the last change, as the toast's Undo does;
  // inside an input it stays the input's own undo.
  document.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey) || event.shiftKey || event.altKey) return;
    if (event.key !== "z" && event.key !== "Z") return;
    var from = event.target;
    if (from.closest && from.closest("input, textarea, select, [contenteditable]")) return;
    var inTable = from === document.body ||
      (from.closest && from.closest(".fields-section, #undo-toast"));
    var undo = document.querySelector("#undo-toast [data-undo]");
    if (!inTable || !undo) return;
    event.preventDefault();
    undo.click();
  });

  // Notices that stay until the user dismisses them.
  document.addEventListener("click", function (event) {
    var dismiss = event.target.closest && event.target.closest("[data-dismiss]");
    if (dismiss) dismiss.closest(".notice").remove();
  });

  // ---- Live pages ----------------------------------------------------------
  // A [data-live] poller sends the version of the page it has; the server
  // answers 204 while nothing changed, or the changed blocks out of band and
  // the new version in X-Live-Version. Open inline forms are never replaced:
  // the user's input always survives a teammate's change.

  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.hasAttribute && elt.hasAttribute("data-live")) {
      event.detail.parameters.v = elt.getAttribute("data-version") || "";
    }
  });

  // A form on its way in counts as open from the moment it is asked for: a poll's answer
  // landing before it would otherwise replace the row (or header) it is about to fill,
  // and the form would arrive into an element no longer on the page.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var detail = event.detail;
    var opens = detail.requestConfig && detail.requestConfig.verb === "get" &&
      detail.elt.closest && detail.elt.closest("[data-edit]");
    var target = detail.target;
    if (opens && target && target.id && !target.hasAttribute("data-editing")) {
      target.setAttribute("data-editing", "opening");
    }
  });

  // A form that did not come (refused, unreachable) leaves its row to the live refresh again.
  document.addEventListener("htmx:afterRequest", function (event) {
    var target = event.detail.target;
    if (target && target.getAttribute && target.getAttribute("data-editing") === "opening") {
      target.removeAttribute("data-editing");
    }
  });

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var fragment = event.detail.fragment;
    var target = event.detail.target;
    document.querySelectorAll("[data-editing][id]").forEach(function (open) {
      if (open !== target && !target.contains(open)) return;
      if (open === target) {
        // The block itself is being edited (the table's header): it stays as it is; the
        // form's Save or Cancel shows the block anew.
        event.detail.shouldSwap = false;
        return;
      }
      var incoming = fragment.querySelector("#" + CSS.escape(open.id));
      if (incoming) {
        incoming.setAttribute("hx-preserve", "");
      } else {
        // The edited row is gone from the new content: keep the old content
        // for now, and have the next poll send everything again.
        event.detail.shouldSwap = false;
        var poller = document.querySelector("[data-live]");
        if (poller) poller.setAttribute("data-deferred", "");
      }
    });
  });

  // What a person types into a form while a part of it is being refreshed (its type's
  // settings, asked for when Type changed) is not lost when the part arrives: the answer
  // was rendered from the values sent with the request, so every input changed since then
  // gets its newer value back in the new part.
  var sentValues = {};
  function valuesOf(root) {
    var values = {};
    root.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      values[keyOf(el)] = el.type === "checkbox" || el.type === "radio" ? el.checked : el.value;
    });
    return values;
  }
  function keyOf(el) {
    return el.type === "radio" ? el.name + "=" + el.value : el.name;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (isBackground(event.detail.elt) || !target || !target.id || !target.closest("form")) return;
    sentValues[target.id] = valuesOf(target);
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var sent = target && target.id && sentValues[target.id];
    if (!sent) return;
    delete sentValues[target.id];
    var now = valuesOf(target);
    var typed = {};
    Object.keys(now).forEach(function (name) {
      if (name in sent && now[name] !== sent[name]) typed[name] = now[name];
    });
    if (!Object.keys(typed).length) return;
    var id = target.id;
    // The input still being typed into keeps the focus and the caret in the new part, and
    // when it is left its change is sent as it would have been (the swap replaced the input
    // whose change event would have fired, so no refresh would follow what was typed).
    var active = document.activeElement;
    var typing = active && target.contains(active) && active.name ? keyOf(active) : null;
    var caret = typing && typeof active.selectionStart === "number" ? active.selectionStart : null;
    document.addEventListener("htmx:afterSwap", function restore() {
      document.removeEventListener("htmx:afterSwap", restore);
      var part = document.getElementById(id);
      if (!part) return;
      part.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
        var name = keyOf(el);
        if (!(name in typed) || el.disabled) return;
        var rendered = el.type === "checkbox" || el.type === "radio" ? el.checked : el.value;
        if (el.type === "checkbox" || el.type === "radio") el.checked = typed[name];
        else el.value = typed[name];
        if (name !== typing) return;
        el.focus();
        if (caret !== null && typeof el.setSelectionRange === "function") {
          try { el.setSelectionRange(caret, caret); } catch (e) { /* not a text input */ }
        }
        el.addEventListener("blur", function left() {
          el.removeEventListener("blur", left);
          var now = el.type === "checkbox" || el.type === "radio" ? el.checked : el.value;
          if (now !== rendered) el.dispatchEvent(new Event("change", { bubbles: true }));
        });
      });
    });
  });

  // Draft tables ticked to activate stay ticked when a teammate's change refreshes the list.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var boxes = 'input[form="activate-selected"]';
    var ticked = {};
    event.detail.target.querySelectorAll(boxes + ":checked").forEach(function (box) {
      ticked[box.value] = true;
    });
    event.detail.fragment.querySelectorAll(boxes).forEach(function (box) {
      if (ticked[box.value]) box.setAttribute("checked", "");
    });
  });

  // A teammate's change swapped in by the poll never takes the focus away: the control
  // that had it (found again by its id or accessible name) gets it back.
  var heldFocus = null;
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var active = document.activeElement;
    if (active && active !== document.body && event.detail.target.contains(active)) {
      heldFocus = { id: active.id, label: active.getAttribute("aria-label") };
    }
  });
  document.addEventListener("htmx:oobAfterSwap", function () {
    var wanted = heldFocus;
    var active = document.activeElement;
    heldFocus = null;
    if (!wanted || (active && active !== document.body && document.body.contains(active))) return;
    var again = (wanted.id && document.getElementById(wanted.id)) ||
      (wanted.label && document.querySelector('[aria-label="' + CSS.escape(wanted.label) + '"]'));
    if (again && !again.disabled) again.focus();
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt.hasAttribute || !elt.hasAttribute("data-live")) return;
    var version = event.detail.xhr && event.detail.xhr.getResponseHeader("X-Live-Version");
    if (version && !elt.hasAttribute("data-deferred")) elt.setAttribute("data-version", version);
    elt.removeAttribute("data-deferred");
  });

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

  // Keyboard focus follows the work. A form swapped in focuses its first
  // input in error, else its autofocus field. After Save, Cancel, Escape or a
  // move, focus returns to the control that was used (found again by its
  // accessible name) or to the row's Edit button, never to the page body.
  var returnTo = null;
  function isBackground(elt) {
    return !elt || !elt.closest || !!elt.closest("[data-background], [data-live], #lock-panel");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (isBackground(elt)) return;
    var used = document.activeElement && document.activeElement !== document.body
      ? document.activeElement : elt;
    var row = used.closest && used.closest("tr[id], section[id], form[id]");
    returnTo = { label: used.getAttribute && used.getAttribute("aria-label"), row: row && row.id };
  });

  function focusAfterSwap(root) {
    var invalid = root.querySelector && root.querySelector('[aria-invalid="true"]');
    var own = root.matches && root.matches("[autofocus]") ? root : null;
    var field = invalid || own || (root.querySelector && root.querySelector("[autofocus]"));
    if (field) {
      field.focus();
      if (field.select && !invalid) field.select();
      return true;
    }
    return false;
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    // Polls and heartbeats never move the user's focus.
    var config = event.detail.requestConfig;
    if (!config || isBackground(config.elt)) return;
    var target = event.detail.elt;
    // A form refreshed by a change (not a submit) while the user already types in another
    // of its inputs keeps the focus there: htmx put it back, and moving it to a field in
    // error would send their next keys into the wrong input.
    var trigger = config.triggeringEvent;
    var active = document.activeElement;
    if (trigger && trigger.type !== "submit" && target && active && target.contains(active) &&
        active.matches("input, select, textarea") && active !== trigger.target) return;
    if (target && focusAfterSwap(target)) return;
    if (!returnTo || (document.activeElement && document.activeElement !== document.body &&
        document.body.contains(document.activeElement))) return;
    var wanted = returnTo;
    returnTo = null;
    var same = wanted.label && document.querySelector('[aria-label="' + CSS.escape(wanted.label) + '"]');
    var row = wanted.row && document.getElementById(wanted.row);
    var edit = row && (row.querySelector('button[aria-label^="Edit"]') ||
      row.querySelector("button[data-edit]"));
    var next = (same && !same.disabled && same) || edit;
    if (next) next.focus();
  });
})();
