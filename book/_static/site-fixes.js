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

// The search page (Sphinx 7.4's searchtools.js, loaded before this deferred file):
// - a hit's snippet was cut from the page's whole <main>, whose text starts with the header's
//   download menu, and searched for the *stemmed* word ("anomali"), which is often not in the
//   text: the snippet fell back to the first 240 characters, ".ipynb" or ".md". The snippet is
//   now taken from the article and placed at the first of the words as typed or stemmed.
// - a page whose glossary term (an index entry) and text both match was listed twice: one hit
//   per page is kept, the best-scoring one.
if (typeof Search !== "undefined") {
  let typedWords = [];
  const performSearch = Search._performSearch;
  Search._performSearch = (query, searchTerms, excludedTerms, highlightTerms, objectTerms) => {
    typedWords = [...highlightTerms];
    const results = performSearch(query, searchTerms, excludedTerms, highlightTerms, objectTerms);
    // results are shown from the end: keep the last (best) hit of each page
    const seen = new Set();
    const kept = [];
    for (const result of results.slice().reverse()) {
      if (!seen.has(result[0])) {
        seen.add(result[0]);
        kept.push(result);
      }
    }
    return kept.reverse();
  };
  Search.htmlToText = (htmlString, anchor) => {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    for (const junk of [".headerlink", "script", "style", ".cell_input", ".prev-next-area"]) {
      doc.querySelectorAll(junk).forEach((el) => el.remove());
    }
    const article = doc.querySelector("article.bd-article") || doc.querySelector('[role="main"]');
    if (!article) return "";
    const block = anchor ? article.querySelector(anchor) : null;
    let text = (block || article).textContent;
    // a glossary term's anchor is its <dt>: add the definition that follows it
    const definition = block && block.tagName === "DT" ? block.nextElementSibling : null;
    if (definition && definition.tagName === "DD") text += ": " + definition.textContent;
    return text.replace(/\s+/g, " ").trim();
  };
  Search.makeSearchSummary = (htmlText, keywords, anchor) => {
    const text = Search.htmlToText(htmlText, anchor);
    if (text === "") return null;
    const lower = text.toLowerCase();
    const found = [...typedWords, ...keywords]
      .map((k) => lower.indexOf(k.toLowerCase()))
      .filter((i) => i > -1);
    const at = found.length ? Math.min(...found) : 0;
    const start = Math.max(at - 120, 0);
    const summary = document.createElement("p");
    summary.classList.add("context");
    summary.textContent =
      (start > 0 ? "..." : "") +
      text.substr(start, 240).trim() +
      (start + 240 < text.length ? "..." : "");
    return summary;
  };
}
