// The portal's only script: the page works without it; with it, a few controls act at once.
// Loaded from a file because the Content-Security-Policy allows no inline script.
"use strict";
document.addEventListener("click", (event) => {
  const print = event.target.closest("[data-print]");
  if (print) {
    event.preventDefault();
    window.print();
  }
});
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-autosubmit]");
  if (select && select.form) select.form.submit();
});
