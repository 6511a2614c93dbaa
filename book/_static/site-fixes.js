// The pinned themes bind the sidebar toggles' click handlers to the first .primary-toggle /
// .secondary-toggle on the page (the navbar's, hidden in this book); forward clicks on the
// visible ones to it. See book/_ext/site_fixes.py.
document.addEventListener("DOMContentLoaded", () => {
  for (const kind of ["primary", "secondary"]) {
    const toggles = Array.from(document.querySelectorAll(`.${kind}-toggle`));
    const bound = toggles[0];
    for (const other of toggles.slice(1)) {
      other.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        bound.click();
      });
    }
  }
});
