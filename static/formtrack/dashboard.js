// Small enhancements shared by every dashboard page; each page works without them.
(function () {
  "use strict";

  // One polite live region announces copies and other small changes to screen readers.
  let live;
  function announce(text) {
    if (!live) {
      live = document.createElement("div");
      live.className = "sr-only";
      live.setAttribute("aria-live", "polite");
      document.body.appendChild(live);
    }
    live.textContent = "";
    setTimeout(() => { live.textContent = text; }, 30);
  }

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try { await navigator.clipboard.writeText(text); return true; } catch (e) { /* fall back */ }
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    area.remove();
    return ok;
  }

  // <button data-copy="#element-id"> copies that element's text (or value);
  // <button data-copy-text="…"> copies the given text.
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy], [data-copy-text]");
    if (!button) return;
    event.preventDefault();
    let text = button.getAttribute("data-copy-text");
    if (text === null) {
      const source = document.querySelector(button.getAttribute("data-copy"));
      if (!source) return;
      text = "value" in source && source.value !== undefined && source.tagName !== "CODE" && source.tagName !== "PRE"
        ? source.value : source.textContent;
    }
    const ok = await copyText(text.trim());
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.textContent = ok ? "Copied ✓" : "Press Ctrl+C";
    announce(ok ? "Copied to the clipboard" : "Copy failed: select the text and copy it");
    window.dispatchEvent(new CustomEvent("formtrack:copied", { detail: { text, ok } }));
    setTimeout(() => { button.textContent = label; }, 1800);
  });

  // Forms that destroy something ask first.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    const question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // Phones: the Menu button shows and hides the sections (dashboard.css hides them until then).
  const toggle = document.querySelector(".menu-toggle");
  const menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (menu) {
    const setOpen = (open) => {
      menu.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", String(open));
    };
    toggle.addEventListener("click", () => setOpen(!menu.classList.contains("open")));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && menu.classList.contains("open")) {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  // Every cell knows its column's name: phones show each row as a card, a cell under its name.
  for (const table of document.querySelectorAll("table.table")) {
    const names = Array.from(table.querySelectorAll("thead th"), (th) => th.textContent.trim());
    for (const row of table.querySelectorAll("tbody tr, tfoot tr")) {
      let column = 0;
      for (const cell of row.cells) {
        if (!cell.hasAttribute("data-label")) cell.dataset.label = names[column] || "";
        column += cell.colSpan;
      }
    }
  }

  // The organisation switcher submits itself.
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    const select = form.querySelector("select");
    if (select) select.addEventListener("change", () => form.requestSubmit ? form.requestSubmit() : form.submit());
  }
})();
