// The desk menu: on a phone the "Menu" button shows it; one group is open at a time, and a click
// elsewhere closes it. A file, not inline script, so a strict Content-Security-Policy allows it.
document.addEventListener("DOMContentLoaded", function () {
  var nav = document.getElementById("mainnav");
  var toggle = document.getElementById("nav-toggle");
  if (!nav) return;
  if (toggle) {
    toggle.addEventListener("click", function () {
      toggle.setAttribute("aria-expanded", nav.classList.toggle("open"));
    });
  }
  document.addEventListener("click", function (event) {
    nav.querySelectorAll("details[open]").forEach(function (group) {
      if (!group.contains(event.target)) group.removeAttribute("open");
    });
  });
});
