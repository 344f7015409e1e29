"""{% module_script "formtrack/live/main.js" %}: a page's ES module, with a modulepreload link
for every module it imports, however deep. Without them the browser finds a module's imports
only once the module has arrived, one level of the graph per round trip; with them it fetches
the whole graph at once. The graph is read from the modules' own import statements, so the
links cannot drift from the code."""

import re
from pathlib import PurePosixPath

from django import template
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join

register = template.Library()

# The static imports our modules write: `import { a } from "./b.js";` or `import "./c.js";`.
IMPORT = re.compile(r'^import\s+(?:[^"\']*?\bfrom\s+)?["\'](\.{1,2}/[^"\']+)["\']', re.MULTILINE)


def imported_modules(entry: str) -> list[str]:
    """The static paths of the modules `entry` imports, directly or not, in the order found."""
    found: list[str] = []
    pending = [entry]
    while pending:
        module = pending.pop(0)
        source = finders.find(module)
        if source is None:
            raise template.TemplateSyntaxError(f"no static file {module}")
        with open(source, encoding="utf-8") as file:
            code = file.read()
        for relative in IMPORT.findall(code):
            path = _normalise(PurePosixPath(module).parent / relative)
            if path != entry and path not in found:
                found.append(path)
                pending.append(path)
    return found


def _normalise(path: PurePosixPath) -> str:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


@register.simple_tag
def module_script(entry: str):
    links = ((static(module),) for module in imported_modules(entry))
    preloads = format_html_join("", '\n<link rel="modulepreload" href="{}">', links)
    return format_html('<script type="module" src="{}"></script>{}', static(entry), preloads)
