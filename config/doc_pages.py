"""The reading pages beside the API reference (Swagger): the integrator's documents of docs/,
rendered from their Markdown, so that the API docs can link to them (SPECTACULAR_SETTINGS)."""

import re

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe
from markdown_it import MarkdownIt

# /api/docs/<page>/ → docs/<file>, with its title in the page list.
DOC_PAGES = {
    "events": ("events.md", "Tracking page events"),
    "integration": ("integration.md", "Embedding the tracking page"),
    "protocol": ("protocol.md", "Live WebSocket protocol"),
    "compatibility": ("compatibility.md", "Parameters and compatibility"),
}
_DOC_LINK = re.compile(r"(?P<stem>[\w-]+)\.md(?P<anchor>#[\w-]*)?")
# Markdown's own HTML is not passed through: the pages show text, tables and code only.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def _slug(text: str) -> str:
    """A heading's anchor as GitHub writes it, so links like `#form-checks` keep working."""
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def render_doc(markdown: str) -> str:
    """HTML of a document: headings get anchors, links to the other pages point at them."""
    tokens = _MARKDOWN.parse(markdown)
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            token.attrSet("id", _slug(tokens[index + 1].content))
        for child in token.children or ():
            match = _DOC_LINK.fullmatch(child.attrGet("href") or "")
            if child.type == "link_open" and match and match["stem"] in DOC_PAGES:
                href = reverse("doc-page", args=[match["stem"]]) + (match["anchor"] or "")
                child.attrSet("href", href)
    return _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})


@require_safe
def doc_page(request, page: str):
    if page not in DOC_PAGES:
        raise Http404(f"No document {page}.")
    filename, title = DOC_PAGES[page]
    markdown = (settings.BASE_DIR / "docs" / filename).read_text(encoding="utf-8")
    context = {
        "title": title,
        "body": render_doc(markdown),
        "pages": [(name, label) for name, (_, label) in DOC_PAGES.items()],
        "page": page,
    }
    return render(request, "doc_page.html", context)
