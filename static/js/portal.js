// The portal's own script. Everything essential works without it; it only polishes htmx.
(function () {
  "use strict";

  // A stale CSRF token on an htmx request: the server sends a fresh one in an event,
  // we put it everywhere a token lives, and the person presses the button again.
  document.addEventListener("portal:csrf", function (event) {
    var token = event.detail && event.detail.token;
    if (!token) { return; }
    document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRFToken": token }));
    document.querySelectorAll('input[name="csrf_token"]').forEach(function (input) {
      input.value = token;
    });
  });

  // After a swap that a person asked for (a button, a link, a form), keep their place:
  // focus the error summary when there is one, otherwise the swapped region if focus was
  // lost with the replaced button. Swaps nobody asked for (the dashboard's polling) never
  // move focus.
  document.addEventListener("htmx:afterSettle", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!source || !/^(FORM|BUTTON|A|INPUT|SELECT)$/.test(source.tagName)) { return; }
    var target = event.detail.target;
    if (target && target.id && !target.isConnected) {  // an outerHTML swap replaced it
      target = document.getElementById(target.id);
    }
    var summary = target && target.querySelector ? target.querySelector(".error-summary") : null;
    if (summary) { summary.focus(); return; }
    var lost = document.activeElement === document.body || !document.body.contains(document.activeElement);
    if (lost && target && target.isConnected && target !== document.body) {
      if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
      target.focus({ preventScroll: true });
    }
  });

  // A network failure (slow or dropped connection): say so instead of doing nothing.
  document.addEventListener("htmx:sendError", function () {
    var region = document.getElementById("messages");
    if (region) {
      region.innerHTML = "";
      var p = document.createElement("p");
      p.className = "flash flash-error";
      p.textContent = "We could not reach the portal. Check your connection and try again.";
      region.appendChild(p);
    }
  });

  // The answer to an action sits next to its control (a .place-message, see the
  // place_message macro). After a swap, or after a redirect to #<place>-message, focus it so
  // it is in view and read out.
  function focusFresh(root) {
    var fresh = (root || document).querySelector(".place-message[data-fresh]");
    if (fresh) {
      fresh.removeAttribute("data-fresh");
      fresh.focus();
      return true;
    }
    return false;
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (target && target.id && !target.isConnected) { target = document.getElementById(target.id); }
    if (target && target.isConnected && !target.querySelector(".error-summary")) { focusFresh(target); }
  });
  function each(root, selector, fn) {
    var found = Array.prototype.slice.call(root.querySelectorAll ? root.querySelectorAll(selector) : []);
    if (root.matches && root.matches(selector)) { found.unshift(root); }
    found.forEach(function (el) {
      if (el.hasAttribute("data-portal-ready")) { return; }
      el.setAttribute("data-portal-ready", "");
      fn(el);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (/-message$/.test(window.location.hash)) { focusFresh(document); }
    init(document);
  });
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });

  function init(root) {

    // Before sending a file: say at once when it is larger than the portal accepts,
    // next to the file field, instead of uploading it for nothing.
    each(root, "input[type=file][data-max-bytes]", function (input) {
      var limit = parseInt(input.getAttribute("data-max-bytes"), 10);
      var note = document.createElement("small");
      note.id = input.id + "-size";
      note.className = "error-text";
      note.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", note);
      function check() {
        var file = input.files && input.files[0];
        var tooBig = !!file && file.size > limit;
        note.textContent = tooBig ? "That file is larger than " + Math.round(limit / 1048576) +
          " MB. Choose a smaller file, or add a link to it instead." : "";
        if (tooBig) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
        var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (x) {
          return x && x !== note.id;
        });
        if (tooBig) { described.push(note.id); }
        if (described.length) { input.setAttribute("aria-describedby", described.join(" ")); }
        return !tooBig;
      }
      input.addEventListener("change", check);
      if (input.form) {
        input.form.addEventListener("submit", function (event) {
          if (!check()) { event.preventDefault(); input.focus(); }
        });
      }
    });

    // A time-zone field that the server could only guess: this device's zone, when listed.
    each(root, "select[data-browser-zone]", function (select) {
      var zone;
      try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
      if (zone && select.querySelector('option[value="' + zone.replace(/"/g, "") + '"]')) {
        select.value = zone;
        var note = document.getElementById(select.id + "-from-device");
        if (note) { note.hidden = false; }
      }
    });

    // Copy buttons: <button data-copy="#id-of-input">.
    each(root, "button[data-copy]", function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var source = document.querySelector(button.getAttribute("data-copy"));
        var status = document.getElementById(button.getAttribute("aria-controls") || "");
        if (!source) { return; }
        var done = function () { if (status) { status.textContent = "Copied."; } };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(source.value).then(done, function () { source.select(); });
        } else {
          source.select();
          try { document.execCommand("copy"); done(); } catch (e) { /* selected: the person copies */ }
        }
      });
    });
  }
})();

// --- attendance ---
// The roll: its polling never replaces the list while someone works in it (typing, or on a
// button by keyboard): focus would be lost. It catches up once focus leaves the list.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-roll-poll")) { return; }
    var active = document.activeElement;
    if (active && active !== elt && elt.contains(active) && active.closest("form")) {
      event.preventDefault();
    }
  });
})();

// --- boards ---
// A post being written is not lost on a slow or dropped connection: the form
// (form[data-keep-draft]) keeps its text on this device as it is typed, with its
// idempotency key; when sending fails (no connection, or no answer in 20 s) the text stays
// in the box, the form says so beside the button and sends it again when the connection is
// back, with the same key, so the server never makes the post twice. A successful answer
// clears the kept draft.
(function () {
  "use strict";
  var FIELDS = 'textarea[name="body"], input[name="title"], input[name="key"]';
  var retries = {};

  function storeKey(form) { return "portal-draft:" + form.getAttribute("data-keep-draft"); }
  function save(form) {
    var draft = {};
    form.querySelectorAll(FIELDS).forEach(function (el) { draft[el.name] = el.value; });
    try {
      if (draft.body || draft.title) { localStorage.setItem(storeKey(form), JSON.stringify(draft)); }
      else { localStorage.removeItem(storeKey(form)); }
    } catch (e) { /* private mode: the text stays in the box anyway */ }
  }
  function restore(form) {
    var draft;
    try { draft = JSON.parse(localStorage.getItem(storeKey(form)) || "null"); } catch (e) { return; }
    if (!draft) { return; }
    var body = form.querySelector('textarea[name="body"]');
    if (!body || body.value) { return; }  // the server's own (an error shown) comes first
    form.querySelectorAll(FIELDS).forEach(function (el) {
      if (draft[el.name]) { el.value = draft[el.name]; }
    });
    say(form, "Your unsent text is back in the box. Send it when you are ready.");
  }
  function say(form, text) {
    var state = form.querySelector(".send-state");
    if (!state) { return; }
    state.hidden = !text;
    state.textContent = text || "";
  }
  function forms(root) {
    var found = Array.prototype.slice.call(root.querySelectorAll ? root.querySelectorAll("form[data-keep-draft]") : []);
    if (root.matches && root.matches("form[data-keep-draft]")) { found.unshift(root); }
    return found;
  }
  function ready(root) {
    forms(root).forEach(function (form) {
      if (form.hasAttribute("data-draft-ready")) { return; }
      form.setAttribute("data-draft-ready", "");
      form.setAttribute("hx-request", '{"timeout": 20000}');
      restore(form);
      form.addEventListener("input", function () { save(form); });
    });
  }
  function retry(form) {
    var id = form.getAttribute("data-keep-draft");
    var wait = Math.min(30000, (retries[id] || 2500) * 2);
    retries[id] = wait;
    say(form, navigator.onLine === false
      ? "No connection. Your text is kept here and is sent as soon as the connection is back."
      : "Not sent yet: the connection is slow or dropped. Your text is kept here; trying again in " +
        Math.round(wait / 1000) + " seconds.");
    clearTimeout(form._draftTimer);
    form._draftTimer = setTimeout(function () { send(form); }, wait);
  }
  function send(form) {
    if (!form.isConnected) { return; }
    clearTimeout(form._draftTimer);
    say(form, "Sending again…");
    if (window.htmx) { window.htmx.trigger(form, "submit"); } else { form.requestSubmit(); }
  }
  function failed(event) {
    var form = event.detail && event.detail.elt;
    if (form && form.matches && form.matches("form[data-keep-draft]")) { save(form); retry(form); }
  }
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:timeout", failed);
  // Cleared before the answer is swapped in, so the fresh form (with its new key) never gets
  // the old text and key back.
  function done(event) {
    var detail = event.detail || {};
    var form = (detail.requestConfig && detail.requestConfig.elt) || detail.elt;
    if (!form || !form.matches || !form.matches("form[data-keep-draft]")) { return; }
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status >= 200 && status < 400) {  // posted (or had been already): nothing left to keep
      delete retries[form.getAttribute("data-keep-draft")];
      clearTimeout(form._draftTimer);
      try { localStorage.removeItem(storeKey(form)); } catch (e) { /* nothing kept */ }
    }
  }
  document.addEventListener("htmx:beforeSwap", done);
  document.addEventListener("htmx:afterRequest", done);
  window.addEventListener("online", function () {
    document.querySelectorAll("form[data-keep-draft]").forEach(function (form) {
      if (form._draftTimer) { send(form); }
    });
  });
  document.addEventListener("DOMContentLoaded", function () { ready(document); });
  document.addEventListener("htmx:load", function (event) { ready(event.detail.elt); });
})();
