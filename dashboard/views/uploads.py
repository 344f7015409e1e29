"""Dashboard pages for the organisation's uploads and their results, and their CSV export.

Results (count, scores, per-rep history) are read through Upload.results, as the API reads them.
"""

import csv
import json

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from accounts import tenancy
from dashboard.shell import csv_safe, media_path, org_view, render_dashboard
from tracking import charts
from tracking.engine.catalog import exercise_label
from tracking.models import Upload
from tracking.page_text import page_text

UPLOADS_PER_PAGE = 25
EVENTS_PER_PAGE = 50
COUNT_LABELS = {"reps": "Repetitions", "seconds": "Seconds held"}
# Further exercise_summary fields shown on the detail page, in this order, when present.
SUMMARY_FIELDS = [
    ("average_score", "Average score"),
    ("grade", "Grade"),
    ("attempts", "Attempts"),
    ("rejected_reps", "Rejected repetitions"),
    ("time_under_tension_ms", "Time under tension (ms)"),
    ("held_ms", "Held (ms)"),
    ("longest_hold_ms", "Longest hold (ms)"),
]


@org_view()
@require_GET
def upload_list(request):
    uploads = tenancy.list_for_org(Upload, request.org).select_related("token")
    page = Paginator(uploads, UPLOADS_PER_PAGE).get_page(request.GET.get("page"))
    for upload in page.object_list:
        upload.exercise_label = _exercise_label(upload.exercise)
    context = {"page": page}
    return render_dashboard(request, "dashboard/uploads.html", context, section="uploads")


@org_view()
@require_GET
def upload_detail(request, upload_id):
    upload = tenancy.get_for_org(Upload.objects.select_related("token"), request.org, pk=upload_id)
    results = upload.results
    history = results.history if results else []
    events = Paginator(upload.events.all(), EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "upload": upload,
        "exercise_label": _exercise_label(upload.exercise),
        "annotated_url": media_path(upload.annotated_file.name) if upload.annotated_file else None,
        "timeline_url": media_path(upload.timeline_file.name) if upload.timeline_file else None,
        "video_url": media_path(upload.file.name) if upload.file else None,
        # The copy every browser plays, when the analysis made one (older uploads: the original).
        "replay_url": media_path((upload.preview_file or upload.file).name)
        if upload.file
        else None,
        "summary_rows": _summary_rows(results),
        "history": history,
        "score_chart": charts.score_chart_svg(history) if history else None,
        "replay_text": page_text("replay"),
        "events": events,
        # As written, not \u-escaped: "Hold still…", "Répétition".
        "event_rows": [
            (e.seq, e.type, json.dumps(e.payload, ensure_ascii=False)) for e in events.object_list
        ],
        "summary_json": json.dumps(upload.summary, indent=2, ensure_ascii=False)
        if upload.summary
        else "",
    }
    return render_dashboard(request, "dashboard/upload_detail.html", context, section="uploads")


@org_view()
@require_GET
def upload_csv(request):
    """Every upload of the organisation with its results, newest first."""
    uploads = tenancy.list_for_org(Upload, request.org)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="formtrack-uploads.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "id",
            "created_at",
            "file",
            "exercise",
            "status",
            "count",
            "unit",
            "average_score",
            "grade",
            "rejected_reps",
            "duration_s",
        ]
    )
    for upload in uploads.iterator():
        results = upload.results
        counted = (
            (
                results.counter,
                results.unit,
                results.average_score,
                results.grade,
                results.rejected_reps,
            )
            if results
            else (None,) * 5
        )
        writer.writerow(
            [
                upload.pk,
                upload.created_at.isoformat(),
                csv_safe(upload.original_name),
                upload.exercise,
                upload.status,
                *("" if value is None else value for value in (*counted, upload.duration_s)),
            ]
        )
    return response


def _summary_rows(results) -> list[tuple[str, object]]:
    if results is None:
        return []
    rows = []
    if results.counter is not None:
        rows.append((COUNT_LABELS.get(results.unit, "Count"), results.counter))
    summary = results.exercise_summary
    return rows + [(label, summary[key]) for key, label in SUMMARY_FIELDS if key in summary]


def _exercise_label(exercise: str) -> str:
    return exercise_label(exercise) if exercise else "Reference movement"
