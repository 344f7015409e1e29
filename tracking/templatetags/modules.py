"""{% module_script "formtrack/live/main.js" %}: a page's ES module, with a modulepreload link
for every module it imports, however deep. Without them the browser finds a module's imports
only once the module has arrived, one level of the graph per round trip; with them it fetches
the whole graph at once. The graph is read from the modules' own import statements, so the
links cannot drift from the code."""

import functools
import posixpath
import re

from django import template
from django.conf import settings
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
            path = posixpath.normpath(posixpath.join(posixpath.dirname(module), relative))
            if path != entry and path not in found:
                found.append(path)
                pending.append(path)
    return found


# Read once per process: the modules only change with a release. In development (DEBUG) they are
# read for every page, so an edited import shows at once.
_imported_once = functools.cache(imported_modules)


@register.simple_tag
def module_script(entry: str):
    modules = imported_modules(entry) if settings.DEBUG else _imported_once(entry)
    links = ((static(module),) for module in modules)
    preloads = format_html_join("", '\n<link rel="modulepreload" href="{}">', links)
    return format_html('<script type="module" src="{}"></script>{}', static(entry), preloads)
