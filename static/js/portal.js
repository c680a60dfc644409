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
