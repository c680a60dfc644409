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

  // After a swap that shows form errors, move focus to the summary so it is announced.
  document.addEventListener("htmx:afterSettle", function (event) {
    var summary = event.detail.elt && event.detail.elt.querySelector
      ? event.detail.elt.querySelector(".error-summary")
      : null;
    if (summary) { summary.focus(); }
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
