"""`manage.py compatibility_doc`: write the generated sections of docs/compatibility.md.

The parameters section is the table of tracking/param_table.py, the events section that of
tracking/event_table.py; edit a table, then run this. `--check` changes nothing and fails when the
file is out of date (a test runs it).
"""

import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tracking.engine.i18n import LANGUAGES
from tracking.event_table import DEFAULT_BUILDER, EVENTS, Event
from tracking.param_messages import message
from tracking.param_table import MAX_EXTERNAL_ID_CHARS, PARAMETERS, Parameter

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
    "external_id": "opaque id",
    "colour": "colour",
    "timer": "boolean or seconds",
    "workout": "UUID or steps",
    "set_position": "step.set",
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
    if parameter.kind == "external_id":
        return f"1 to {MAX_EXTERNAL_ID_CHARS} of A-Z a-z 0-9 . _ : -"
    if parameter.kind == "workout":
        return "a saved workout's UUID, or steps such as `squat:10x3,rest:30,plank:45s`"
    if parameter.kind == "set_position":
        return "a set of the workout, 1-based, such as `2.3`"
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


def _names(names) -> str:
    return ", ".join(f"`{name}`" for name in names) or "—"


def _event_notes(event: Event) -> str:
    notes = [f"**{event.status}**. {event.when}"]
    notes += [f"`{name}`: {why}." for name, why in event.conditional.items()]
    notes += [f"No `{name}`: {why}." for name, why in event.missing.items()]
    if event.differs:
        notes.append(f"Different: {event.differs}.")
    if event.built_by != DEFAULT_BUILDER:
        notes.append(f"Built by `{event.built_by}`.")
    return " ".join(notes)


def events_markdown() -> str:
    lines = [
        "| Event | § | Contract fields | FormTrack adds | FormTrack |",
        "|---|---|---|---|---|",
    ]
    for event in EVENTS:
        cells = [
            f"`{event.type}`",
            event.section,
            _names(event.contract),
            _names(event.added),
            _event_notes(event),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join([*lines, ""])


def _section(name: str) -> re.Pattern:
    return re.compile(
        rf"(<!-- BEGIN {name}: generated [^\n]*-->\n)(.*?)(<!-- END {name} -->)", re.DOTALL
    )


def updated(text: str) -> str:
    """The document with its generated sections rewritten from the tables."""
    for name, markdown in (("parameters", parameters_markdown), ("events", events_markdown)):
        pattern = _section(name)
        if not pattern.search(text):
            raise CommandError(f"{DOC} has lost its {name} markers")
        text = pattern.sub(lambda match, write=markdown: match[1] + write() + match[3], text)
    return text


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
                    f"{DOC} is out of date with tracking/param_table.py or "
                    "tracking/event_table.py: run `manage.py compatibility_doc`."
                )
            return
        DOC.write_text(fresh)
        self.stdout.write(f"wrote {DOC}")
