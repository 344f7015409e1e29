// What a tracking page writes itself, in the page's language: the server translates it from the
// catalogs (tracking/page_text.py). The engine's own messages come in its events.
export const text = JSON.parse(document.getElementById("formtrack-text")?.textContent || "{}");
