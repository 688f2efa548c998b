// The little JavaScript of the pages; everything works without it.
// - "Copy URL" buttons (Clipboard API); where the clipboard is not available (plain http on
//   another host than localhost) the URL is shown and selected for a manual copy.
// - The index's search narrows the lists as you type, matching as feeds/pages.py does for ?q=:
//   every word of the query must occur in a row's data-search text; the listed ancestors of
//   a matching agency stay, marked as context.
"use strict";

(() => {
  document.documentElement.classList.add("js");

  const announce = (text) => {
    const region = document.getElementById("announce");
    if (region) {
      region.textContent = "";
      window.setTimeout(() => { region.textContent = text; }, 50);
    }
  };

  const selectText = (element) => {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  };

  const copy = async (button) => {
    const url = button.dataset.copy;
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard");
      await navigator.clipboard.writeText(url);
      const label = button.textContent;
      button.textContent = "Copied";
      window.setTimeout(() => { button.textContent = label; }, 2000);
      announce(`Copied ${url}`);
    } catch (error) {
      const box = button.parentElement.querySelector(".feed-url");
      if (box) {
        box.classList.add("shown");
        selectText(box.querySelector("code") || box);
      }
      announce("Press Control+C (or Command+C) to copy the selected URL");
    }
  };

  const setUpCopy = (root) => {
    for (const button of root.querySelectorAll("button[data-copy]")) {
      button.hidden = false;
      button.addEventListener("click", () => copy(button));
    }
  };

  const terms = (text) => text.toLowerCase().split(/\s+/).filter(Boolean);

  const setUpSearch = () => {
    const form = document.querySelector("form[data-server-query]");
    const input = form && form.querySelector("input[name=q]");
    const status = document.getElementById("search-status");
    if (!input || !status) return;
    let complete = form.dataset.serverQuery === ""; // all rows are on the page
    let loading = null;

    const filter = () => {
      const wanted = terms(input.value);
      let matched = 0;
      for (const section of document.querySelectorAll("[data-filter-section]")) {
        const table = section.querySelector("table[data-filter]");
        const rows = Array.from(table.querySelectorAll("tbody tr")).reverse();
        const ancestors = new Set();
        let shown = 0;
        for (const row of rows) { // children come after their parents
          const match = wanted.every((term) => row.dataset.search.includes(term));
          const show = match || ancestors.has(row.dataset.slug);
          row.hidden = !show;
          row.classList.toggle("context", show && !match);
          if (show && row.dataset.parent) ancestors.add(row.dataset.parent);
          matched += match ? 1 : 0;
          shown += show ? 1 : 0;
        }
        table.hidden = shown === 0;
        const empty = section.querySelector(".empty");
        if (empty) {
          empty.textContent = empty.textContent.replace(/ “.*”\.$|\.$/, "") +
            (wanted.length ? ` “${input.value.trim()}”.` : ".");
          empty.hidden = shown !== 0;
        }
      }
      status.textContent = wanted.length
        ? `${matched} of ${status.dataset.total} feeds match “${input.value.trim()}”.`
        : "";
      const url = new URL(window.location.href);
      if (wanted.length) url.searchParams.set("q", input.value.trim());
      else url.searchParams.delete("q");
      window.history.replaceState(null, "", url);
    };

    // A page narrowed by the server (?q=) lacks the other rows: fetch them once, then filter.
    const loadAll = () => {
      if (!loading) {
        loading = fetch(form.action, { headers: { Accept: "text/html" } })
          .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
          .then((html) => {
            const page = new DOMParser().parseFromString(html, "text/html");
            for (const table of document.querySelectorAll("table[data-filter]")) {
              const full = page.getElementById(table.id);
              if (!full) continue;
              for (const body of table.querySelectorAll("tbody")) body.remove();
              for (const body of full.querySelectorAll("tbody")) {
                table.append(document.importNode(body, true));
              }
              setUpCopy(table);
            }
            complete = true;
          })
          .catch(() => { complete = true; }); // filter what is there
      }
      return loading;
    };

    input.addEventListener("input", () => {
      if (complete) filter();
      else loadAll().then(filter);
    });
  };

  const start = () => {
    setUpCopy(document);
    setUpSearch();
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
