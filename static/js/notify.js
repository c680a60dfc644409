// @mention suggestions (notify, issue 13): a click on a suggested name completes the @word
// being typed in the body field. Without this script people type the name themselves.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var pick = event.target.closest ? event.target.closest(".mention-pick") : null;
    if (!pick) { return; }
    var field = document.getElementById("body");
    if (!field) { return; }
    field.value = field.value.replace(/@[^@\n]*$/, "@" + pick.dataset.name + " ");
    field.focus();
    var box = document.getElementById("mention-suggestions");
    if (box) { box.innerHTML = ""; }
  });
}());
