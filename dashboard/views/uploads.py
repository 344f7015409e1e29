"""Dashboard pages for the organisation's uploads and their results."""

import json

from django.core.paginator import Paginator
from django.views.decorators.http import require_GET

from accounts import tenancy
from dashboard import charts
from dashboard.shell import media_path, org_view, render_dashboard
from tracking.engine.catalog import exercise_label
from tracking.models import Upload

UPLOADS_PER_PAGE = 25
EVENTS_PER_PAGE = 50
# Summary fields shown as a table on the detail page, in this order, when present.
SUMMARY_FIELDS = [
    ("reps", "Repetitions"),
    ("counter", "Counter"),
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
    summary = upload.summary if isinstance(upload.summary, dict) else {}
    history = summary.get("history") if isinstance(summary.get("history"), list) else []
    events = Paginator(upload.events.all(), EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "upload": upload,
        "exercise_label": _exercise_label(upload.exercise),
        "annotated_url": media_path(upload.annotated_file.name) if upload.annotated_file else None,
        "timeline_url": media_path(upload.timeline_file.name) if upload.timeline_file else None,
        "video_url": media_path(upload.file.name) if upload.file else None,
        "summary_rows": [(label, summary[key]) for key, label in SUMMARY_FIELDS if key in summary],
        "history": history,
        "score_chart": charts.score_chart_svg(history) if history else None,
        "events": events,
        "event_rows": [(e.seq, e.type, json.dumps(e.payload)) for e in events.object_list],
        "summary_json": json.dumps(upload.summary, indent=2) if upload.summary else "",
    }
    return render_dashboard(request, "dashboard/upload_detail.html", context, section="uploads")


def _exercise_label(exercise: str) -> str:
    return exercise_label(exercise) if exercise else "Reference movement"
