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
})();
