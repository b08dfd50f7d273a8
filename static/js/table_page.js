// The table page's own behaviours: edit locks that follow the person's work,
// and a deploy status that keeps its list open across live refreshes. The
// lock keeper (#lock-keeper) and the live poller live in app.js.
(function () {
  "use strict";

  // ---- Edit locks that follow the person's work -----------------------------
  // An open inline form (form[data-edit-lock]) holds its optimistic lock only
  // while the person works: the keeper's beats say how long ago the last input
  // was, and the server renews the lock up to that input plus the idle time.
  // Once the idle time passes with no input, a beat ends the lock and every
  // open form says so, keeping what was typed; the next input takes the lock
  // again, or says who holds the table now. Other tabs on the same table hear
  // of the input, so none of them reports the person idle while they type.

  function keeper() {
    return document.getElementById("lock-keeper");
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Polls and heartbeats are not the person opening a form.
  function isBackground(elt) {
    return !elt || !elt.closest || !!elt.closest("[data-background], [data-live], #lock-panel");
  }

  // The tabs of the same person hear of each other's input.
  var tabs = typeof BroadcastChannel === "function" ? new BroadcastChannel("dmd-locks") : null;

  var lastInput = Date.now();
  var idleTimer = null;
  var idleBeat = false;
  var editLock = { state: "held", note: "", asking: false };
  var wasHolding = false;

  function setting(name) {
    var k = keeper();
    return k ? k.getAttribute(name) || "" : "";
  }

  function holdsEditLock() {
    var panel = document.getElementById("lock-panel");
    return !!panel && panel.hasAttribute("data-mine") &&
      panel.getAttribute("data-lock-type") === "optimistic";
  }

  function scheduleIdle() {
    clearTimeout(idleTimer);
    var wait = Number(setting("data-idle-ms"));
    if (!wait) return;
    idleTimer = setTimeout(function () {
      if (!holdsEditLock()) return;
      idleBeat = true;
      htmx.trigger(keeper(), "lock-keep");
    }, wait);
  }

  function worked() {
    lastInput = Date.now();
    scheduleIdle();
  }

  // Each open edit form shows the state of its lock (nothing while it is held).
  function showEditLock() {
    document.querySelectorAll("form[data-edit-lock]").forEach(function (form) {
      var note = form.querySelector(".edit-lock-note");
      if (editLock.state === "held") {
        if (note) note.remove();
        return;
      }
      if (!note) {
        note = document.createElement("p");
        note.className = "edit-lock-note notice";
        note.setAttribute("role", "status");
        var actions = form.querySelector(".actions");
        form.insertBefore(note, actions && actions.parentNode === form ? actions : null);
      }
      note.textContent = editLock.note;
    });
  }

  function lockEnded(note) {
    editLock.state = "idle";
    editLock.note = note;
    showEditLock();
  }

  function takeBack(form) {
    var panel = document.getElementById("lock-panel");
    if (editLock.asking) return;
    // Refused: ask again once the panel shows the holder gone.
    if (editLock.state === "refused" && panel && panel.hasAttribute("data-locked-by")) return;
    editLock.asking = true;
    var body = new FormData();
    body.append("reason", form.getAttribute("data-edit-lock"));
    fetch(setting("data-resume-url"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    }).then(function (response) {
      return response.text().then(function (text) {
        if (response.status === 204) {
          editLock.state = "held";
          editLock.note = "";
          wasHolding = true;
        } else {
          editLock.state = "refused";
          var said = response.status === 423 ? text : "Could not take the lock again (" + response.status + ").";
          editLock.note = said + " " + setting("data-refused-note");
        }
      });
    }).catch(function () {
      editLock.note = "Could not reach the server. " + setting("data-refused-note");
    }).then(function () {
      editLock.asking = false;
      showEditLock();
      htmx.trigger(document.body, "lock-changed");
    });
  }

  function onWork(event) {
    if (!event.isTrusted || !keeper()) return;
    worked();
    if (tabs) tabs.postMessage({ typed: setting("data-table-id") });
    var form = event.target.closest && event.target.closest("form[data-edit-lock]");
    if (form && editLock.state !== "held") takeBack(form);
  }
  document.addEventListener("input", onWork);
  document.addEventListener("change", onWork);
  // Moving through a form is work too, though only a change takes a lost lock back.
  document.addEventListener("keydown", function (event) {
    if (event.isTrusted && keeper() && event.target.closest && event.target.closest("form[data-edit-lock]")) {
      worked();
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.getElementById("lock-panel");
    wasHolding = !!panel && panel.hasAttribute("data-mine");
    scheduleIdle();
  });

  if (tabs) {
    tabs.addEventListener("message", function (event) {
      if (event.data && event.data.typed && event.data.typed === setting("data-table-id")) worked();
    });
  }

  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt !== keeper()) return;
    var idle = Date.now() - lastInput;
    if (idleBeat) idle = Math.max(idle, Number(setting("data-idle-ms")));
    idleBeat = false;
    event.detail.parameters.idle_ms = String(idle);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    if (event.detail.elt !== keeper() || !xhr) return;
    if (xhr.getResponseHeader("X-Edit-Lock") === "idle") {
      wasHolding = false;
      lockEnded(setting("data-idle-note"));
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var elt = event.detail.elt;
    var config = event.detail.requestConfig;
    if (elt && elt.id === "lock-panel") {
      // The lock went (released in the panel, forced, lapsed) under an open form.
      var holding = elt.hasAttribute("data-mine");
      var open = document.querySelector("form[data-edit-lock]");
      if (wasHolding && !holding && open && editLock.state === "held") {
        // Lapsed at the idle time (its lease ends there) before this page's idle beat.
        var idle = Date.now() - lastInput >= Number(setting("data-idle-ms"));
        lockEnded(setting(idle ? "data-idle-note" : "data-ended-note"));
      }
      wasHolding = holding;
      return;
    }
    var opened = elt && elt.matches && (elt.matches("form[data-edit-lock]") ||
      elt.querySelector("form[data-edit-lock]"));
    if (opened && config && config.verb === "get" && !isBackground(config.elt)) {
      // Opening a form took the lock (or was refused, and no form came).
      editLock.state = "held";
      editLock.note = "";
      worked();
    }
    showEditLock();
  });

  // A deployed table's status keeps its list of pending changes open across
  // the live refreshes that bring it new counts.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "deploy-status" || !target.querySelector("details[open]")) return;
    var incoming = event.detail.fragment.querySelector("details");
    if (incoming) incoming.setAttribute("open", "");
  });
})();
