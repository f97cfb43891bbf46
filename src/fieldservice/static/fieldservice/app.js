// Small behaviours of the pages, here rather than in inline handlers, so the Content-Security-Policy
// can forbid inline script.
(function () {
  "use strict";
  // <form data-confirm="question">: ask before sending (capture phase: before htmx sees the submit).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  // <select data-autosubmit>: send its form as soon as a choice is made.
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) {
      field.form.submit();
    }
  });
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest) return;
    // <input data-select-on-click>: select the whole text, ready to copy.
    if (target.hasAttribute("data-select-on-click")) target.select();
    // <button data-print>: print the page.
    if (target.closest("[data-print]")) window.print();
  });
})();
