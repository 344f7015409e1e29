"""Usage reports: calls and minutes tracked per day, the team report and their CSV export.

Rows come from the same selector as the REST API (`/api/v1/usage`), labelled the same way.
"""

import csv
import datetime
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts import selectors
from dashboard.shell import csv_safe, org_view, render_dashboard
from tracking import charts
from tracking.engine.catalog import exercise_label

DETAIL_GROUPS = [
    ("token", "By token"),
    ("member", "By member"),
    ("exercise", "By exercise"),
    ("kind", "By kind"),
]


@org_view()
@require_GET
def usage(request):
    org = request.org
    error = None
    try:
        query = selectors.usage_query_parse(request.GET)
    except selectors.UsageQueryError as problem:
        error = problem
        query = selectors.usage_query_parse({})
    full = org.plan_obj.allows("team_reports")
    days = selectors.usage_report(organization=org, query=query, exercise_label=exercise_label)
    points = [charts.DayPoint(row.key, row.calls, row.minutes_tracked) for row in days]
    tables = []
    if full:
        for group, title in DETAIL_GROUPS:
            grouped = selectors.usage_report(
                organization=org,
                query=selectors.UsageQuery(start=query.start, end=query.end, group_by=group),
                exercise_label=exercise_label,
            )
            tables.append({"group": group, "title": title, "rows": grouped})
    totals = selectors.usage_totals(organization=org, query=query)
    range_query = urlencode({"from": query.start.isoformat(), "to": query.end.isoformat()})
    context = {
        "query": query,
        "error": error,
        "form_from": request.GET.get("from", query.start.isoformat()),
        "form_to": request.GET.get("to", query.end.isoformat()),
        "full": full,
        "chart": charts.usage_chart_svg(points),
        "phone_chart": charts.usage_chart_svg(points, chart_id="usage-chart-phone", width=380),
        "days": days,
        "totals": totals,
        "has_usage": bool(totals.calls or totals.seconds_tracked),
        "tables": tables,
        "range_query": range_query,
        "csv_groups": [("day", "By day")] + (DETAIL_GROUPS if full else []),
        "max_days": selectors.MAX_RANGE_DAYS,
        "presets": _range_presets(),
    }
    return render_dashboard(
        request, "dashboard/usage.html", context, section="usage", status=400 if error else 200
    )


def _range_presets() -> list[tuple[str, str]]:
    today = timezone.localdate()
    last_month_end = today.replace(day=1) - datetime.timedelta(days=1)
    spans = [
        ("This month", today.replace(day=1), today),
        ("Last month", last_month_end.replace(day=1), last_month_end),
        ("Last 30 days", today - datetime.timedelta(days=29), today),
        ("Last 90 days", today - datetime.timedelta(days=89), today),
        ("Last 12 months", today - datetime.timedelta(days=365), today),
    ]
    return [
        (label, urlencode({"from": start.isoformat(), "to": end.isoformat()}))
        for label, start, end in spans
    ]


@org_view()
@require_GET
def usage_csv(request):
    org = request.org
    try:
        query = selectors.usage_query_parse(request.GET)
    except selectors.UsageQueryError as problem:
        return HttpResponse(problem.message, status=400, content_type="text/plain")
    if not selectors.usage_group_allowed(organization=org, group_by=query.group_by):
        raise PermissionDenied("Detailed team reports need the Business plan.")
    rows = selectors.usage_report(organization=org, query=query, exercise_label=exercise_label)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"formtrack-usage-{query.group_by}-{query.start}-{query.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(
        ["group_by", "key", "label", "calls", "seconds_tracked", "minutes_tracked", "from", "to"]
    )
    for row in rows:
        writer.writerow(
            [
                query.group_by,
                row.key,
                csv_safe(row.label),
                row.calls,
                f"{row.seconds_tracked:.3f}",
                f"{row.minutes_tracked:.2f}",
                query.start.isoformat(),
                query.end.isoformat(),
            ]
        )
    return response
