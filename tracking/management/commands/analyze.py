"""`manage.py analyze FILE --exercise squat`: the upload pipeline, in-process, on a local file."""

import json
from pathlib import Path
from urllib.parse import urlencode

from django.core.management.base import BaseCommand, CommandError

from accounts.plans import BUSINESS
from references.models import ReferenceMovement
from tracking.params import ParamsError, parse_tracking_params
from tracking.pose import media, pipeline


class Command(BaseCommand):
    help = "Analyse a video or photo like an upload and print the summary (or every event)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--exercise", help="a catalog exercise id, e.g. squat")
        target.add_argument("--reference", help="a ready reference movement's UUID")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="any other tracking parameter, e.g. --param minGrade=B (repeatable)",
        )
        parser.add_argument("--json", action="store_true", help="print every event as JSON lines")
        parser.add_argument("--export", type=Path, help="write the annotated video here")

    def handle(self, *args, **options):
        path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        query = [("token", "cli")]
        if options["exercise"]:
            query.append(("exercise", options["exercise"]))
        if options["reference"]:
            query.append(("reference", options["reference"]))
        for item in options["param"]:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--param takes NAME=VALUE, got {item!r}")
            query.append((name, value))
        kind = _kind_of(path)
        if kind == "image":
            query.append(("source", "image"))
        try:
            # A local run is not metered or plan-limited: it has every output a plan can have.
            params = parse_tracking_params(urlencode(query), endpoint="upload").gated_for(BUSINESS)
        except ParamsError as error:
            raise CommandError(error.message) from error
        signature = _signature(params.reference)
        emit = (lambda event: self.stdout.write(json.dumps(event))) if options["json"] else None
        try:
            result = pipeline.analyze_file(
                path,
                params=params,
                on_event=emit,
                export_path=options["export"] if kind == "video" else None,
                overlay_path=options["export"] if kind == "image" else None,
                reference_signature=signature,
            )
        except media.MediaError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        if not options["json"]:
            self.stdout.write(_readable_summary(result))


def _kind_of(path: Path) -> str:
    try:
        return media.sniff_media_kind(path)
    except media.MediaError as error:
        raise CommandError(f"{error.code}: {error.message}") from error


def _signature(reference_id):
    if reference_id is None:
        return None
    reference = ReferenceMovement.objects.filter(pk=reference_id, status="ready").first()
    if reference is None:
        raise CommandError(f"No ready reference movement {reference_id}")
    return reference.signature


def _readable_summary(result) -> str:
    lines = []
    summary = next((e for e in result.events if e["type"] == "exercise_summary"), None)
    if summary is not None:
        lines.append(
            f"{summary.get('exercise') or 'reference'}: {summary.get('counter')} reps, "
            f"grade {summary.get('grade')}, average score {summary.get('avg_rep_score')}"
        )
        for rep in summary.get("history", []):
            faults = ", ".join(rep.get("faults") or []) or "no faults"
            lines.append(
                f"  rep {rep['index']}: {rep.get('formScore')} ({rep.get('grade')}), "
                f"{rep.get('durationMs', 0) / 1000:.1f} s, {faults}"
            )
    else:
        lines.append(json.dumps(result.summary, indent=2))
    stats = result.stats
    lines.append(
        f"{stats.get('frames_analyzed', 1)} frames analysed in {stats['wall_s']} s"
        + (f" ({stats['realtime_factor']}x real time)" if "realtime_factor" in stats else "")
    )
    return "\n".join(lines)
