// The printable sheet's "Print" button. A file, not an onclick attribute: the
// Content-Security-Policy allows scripts from the portal's own files only.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
