// The test page: save each answer as it is chosen, keep it when the connection drops and
// save it when it returns, count down to the deadline and announce it at sensible moments.
// Without this script the page still works: the buttons save every answer on the page.
(function () {
  "use strict";
  var root = document.getElementById("exam");
  var form = document.getElementById("answers");
  if (!root || !form) { return; }
  var url = root.getAttribute("data-save-url");
  var token = form.querySelector('input[name="csrf_token"]');
  var connection = document.getElementById("connection");
  var pending = {};          // item id -> true: changed and not yet saved
  var sending = false;
  var storeKey = "exam-pending:" + url;

  function say(region, text) { if (region) { region.textContent = text; } }

  function savedNote(item, text) {
    var note = form.querySelector('[data-saved-for="' + item + '"]');
    say(note, text);
  }

  function remember() {
    try { window.localStorage.setItem(storeKey, JSON.stringify(Object.keys(pending))); } catch (e) { /* private mode */ }
  }

  function body(item) {
    var data = new FormData();
    data.append("csrf_token", token ? token.value : "");
    data.append("items", item);
    var chosen = form.querySelector('input[name="a-' + item + '"]:checked');
    if (chosen) { data.append("a-" + item, chosen.value); }
    var flag = form.querySelector('input[name="f-' + item + '"]');
    if (flag && flag.checked) { data.append("f-" + item, "1"); }
    return data;
  }

  function offline() {
    root.classList.add("is-offline");
    say(connection, "You are offline. Your choices are kept on this page and will be saved when the connection returns.");
  }

  function online() {
    if (root.classList.contains("is-offline")) {
      root.classList.remove("is-offline");
      say(connection, "Back online.");
    }
  }

  function send() {
    var items = Object.keys(pending);
    if (sending || !items.length) { return; }
    var item = items[0];
    sending = true;
    savedNote(item, "Saving…");
    fetch(url, {
      method: "POST", body: body(item), credentials: "same-origin",
      headers: { "X-Autosave": "1", "X-CSRFToken": token ? token.value : "" }
    }).then(function (response) {
      return response.text().then(function (text) { return { status: response.status, text: text }; });
    }).then(function (result) {
      sending = false;
      var holder = document.createElement("div");
      holder.innerHTML = result.text;
      var span = holder.querySelector("span[data-status]");
      var message = span ? span.textContent : "";
      if (result.status === 200) {
        delete pending[item];
        remember();
        online();
        savedNote(item, message || "Saved.");
        var answered = root.querySelector("[data-answered]");
        var flagged = root.querySelector("[data-flagged]");
        if (span && answered) { answered.textContent = span.getAttribute("data-answered"); }
        if (span && flagged) { flagged.textContent = span.getAttribute("data-flagged"); }
        send();
      } else if (result.status === 409 || result.status === 404 || result.status === 403) {
        // Submitted, or time is up: reloading shows the result.
        delete pending[item];
        remember();
        savedNote(item, message || "Not saved.");
        say(connection, message || "This attempt can no longer change.");
      } else if (result.status === 400) {
        // An expired form token: reload to get a fresh one (answers already saved stay).
        say(connection, "Your session needs a refresh: reloading the page.");
        window.location.reload();
      } else {
        offline();
        window.setTimeout(send, 3000);
      }
    }).catch(function () {
      sending = false;
      offline();
      savedNote(item, "Not saved yet (offline): it will be saved when you are back online.");
      window.setTimeout(send, 3000);
    });
  }

  form.addEventListener("change", function (event) {
    var fieldset = event.target.closest("fieldset[data-item]");
    if (!fieldset) { return; }
    pending[fieldset.getAttribute("data-item")] = true;
    remember();
    send();
  });
  window.addEventListener("online", function () { send(); });
  window.addEventListener("offline", offline);

  // Choices kept from before a reload while offline: they are still checked by the browser
  // only if it restored the form, so send what the page shows for those items.
  try {
    JSON.parse(window.localStorage.getItem(storeKey) || "[]").forEach(function (item) {
      if (form.querySelector('fieldset[data-item="' + item + '"]')) { pending[item] = true; }
    });
    send();
  } catch (e) { /* nothing kept */ }

  // The countdown: the server's deadline, corrected for this device's clock.
  var deadline = root.getAttribute("data-deadline");
  if (deadline) {
    var skew = Date.parse(root.getAttribute("data-now")) - Date.now();
    var shown = root.querySelector("[data-countdown]");
    var announcer = document.getElementById("time-announcer");
    var announced = {};
    var marks = [30, 10, 5, 1];
    var tick = function () {
      var left = Math.max(0, Date.parse(deadline) - (Date.now() + skew));
      var minutes = Math.floor(left / 60000);
      var seconds = Math.floor((left % 60000) / 1000);
      say(shown, minutes + " min " + (seconds < 10 ? "0" : "") + seconds + " s");
      marks.forEach(function (mark) {
        if (minutes < mark && minutes >= mark - 1 && !announced[mark] && left > 0) {
          announced[mark] = true;
          say(announcer, mark + (mark === 1 ? " minute" : " minutes") + " left.");
        }
      });
      if (left <= 0) {
        say(announcer, "Time is up. Your saved answers are being submitted.");
        window.clearInterval(timer);
        window.setTimeout(function () { window.location.reload(); }, 3000);
      }
    };
    var timer = window.setInterval(tick, 1000);
    tick();
  }
})();
