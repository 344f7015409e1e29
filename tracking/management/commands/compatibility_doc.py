"""`manage.py compatibility_doc`: write the generated sections of docs/compatibility.md.

The parameters section is the table of tracking/param_table.py; edit the table, then run this.
`--check` changes nothing and fails when the file is out of date (a test runs it).
"""

import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tracking.param_messages import message
from tracking.param_table import LANGUAGES, PARAMETERS, Parameter

DOC = Path(settings.BASE_DIR) / "docs" / "compatibility.md"
SECTIONS = {
    "2.1": "Core, authentication and platform",
    "2.2": "What to track",
    "2.3": "Scoring and streams",
    "2.4": "Pose model",
    "2.5": "Placement overlay and timer",
    "2.6": "Upload page",
    "2.7": "Not in the contract",
}
_TYPES = {
    "token": "text",
    "exercise": "exercise id",
    "uuid": "UUID",
    "boolean": "boolean",
    "integer": "integer",
    "number": "number",
    "choice": "choice",
    "skeleton": "boolean or style",
    "language": "language tag",
    "text": "text",
    "url": "http(s) URL",
    "colour": "colour",
    "timer": "boolean or seconds",
}
_PAGES = {("tracking", "upload"): "both", ("tracking",): "live", ("upload",): "upload"}


def _values(parameter: Parameter) -> str:
    if parameter.kind == "exercise":
        return "catalog ids and their aliases"
    if parameter.kind in ("boolean", "skeleton"):
        return "true, false (also 1/0, yes/no)" + (
            ", a style" if parameter.kind == "skeleton" else ""
        )
    if parameter.kind in ("integer", "number") and parameter.low is not None:
        span = f"{parameter.low:g} to {parameter.high:g}"
        return span + (", fractions rounded" if parameter.kind == "integer" else "")
    if parameter.kind == "choice":
        shown = ", ".join(parameter.values)
        if parameter.legacy_spellings:
            shown += "; also " + ", ".join(parameter.legacy_spellings)
        return shown
    if parameter.kind == "language":
        return ", ".join(LANGUAGES)
    return "—"


def _default(parameter: Parameter) -> str:
    if parameter.name == "token":
        return "required"
    if parameter.default is None:
        return "—"
    if isinstance(parameter.default, bool):
        return f"`{str(parameter.default).lower()}`"
    return f"`{parameter.default}`"


def _formtrack(parameter: Parameter) -> str:
    if parameter.status == "ignored":
        reason = message(f"reason_{parameter.reason}", "en")
        return f"**ignored**: {reason}. (PoseTracker: {parameter.doc})"
    if parameter.status == "pending":
        return f"**pending**: parsed, page behaviour pending. {parameter.doc}"
    return f"**{parameter.status}**. {parameter.doc}"


def parameters_markdown() -> str:
    lines = []
    for section, title in SECTIONS.items():
        lines += [
            f"### §{section} {title}",
            "",
            "| Parameter | Type | Values | Default | Pages | Plan | FormTrack |",
            "|---|---|---|---|---|---|---|",
        ]
        for parameter in PARAMETERS:
            if parameter.section != section:
                continue
            names = ", ".join(f"`{name}`" for name in (parameter.name, *parameter.aliases))
            plan = f"developer (`{parameter.feature}`)" if parameter.feature else "all"
            cells = [
                names,
                _TYPES[parameter.kind],
                _values(parameter),
                _default(parameter),
                _PAGES[parameter.endpoints],
                plan,
                _formtrack(parameter),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _section(name: str) -> re.Pattern:
    return re.compile(
        rf"(<!-- BEGIN {name}: generated [^\n]*-->\n)(.*?)(<!-- END {name} -->)", re.DOTALL
    )


def updated(text: str) -> str:
    """The document with its generated sections rewritten from the tables."""
    pattern = _section("parameters")
    if not pattern.search(text):
        raise CommandError(f"{DOC} has lost its parameters markers")
    return pattern.sub(lambda match: match[1] + parameters_markdown() + match[3], text)


class Command(BaseCommand):
    help = "Write the generated sections of docs/compatibility.md (--check: fail if stale)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="change nothing; fail if the file is stale"
        )

    def handle(self, *args, **options):
        text = DOC.read_text()
        fresh = updated(text)
        if options["check"]:
            if fresh != text:
                raise CommandError(
                    f"{DOC} is out of date with tracking/param_table.py: "
                    "run `manage.py compatibility_doc`."
                )
            return
        DOC.write_text(fresh)
        self.stdout.write(f"wrote {DOC}")
