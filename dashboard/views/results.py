"""End users: the people a host names with externalUserId, their results over time as charts,
erasing one's data, and where results go (webhook endpoint) and how long they stay.

Reads through tracking.selectors (each scoped to the organisation by accounts.tenancy), writes
through tracking.privacy and accounts.services.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts import services
from dashboard.forms import ResultsSettingsForm
from dashboard.shell import org_view, render_dashboard
from tracking import charts, privacy, selectors
from tracking.engine.catalog import exercise_label
from tracking.params import ParamsError, parse_filter

END_USERS_PER_PAGE = 25
RESULTS_PER_PAGE = 25
CHART_SESSIONS = 60  # the charts show an end user's latest sessions of a movement, at most
COUNT_TITLES = {
    "reps": "Repetitions per session",
    "seconds": "Seconds held per session",
    "jumps": "Jumps per session",
}


@org_view()
@require_GET
def end_user_list(request):
    return _end_user_list(request, ResultsSettingsForm(initial=_settings_of(request.org)))


def _end_user_list(request, form, *, status=200):
    prefix = request.GET.get("q", "").strip()[:128]
    users = selectors.end_users(organization=request.org, prefix=prefix)
    context = {
        "page": Paginator(users, END_USERS_PER_PAGE).get_page(request.GET.get("page")),
        "q": prefix,
        "anchor": "&" + urlencode({"q": prefix}) if prefix else "",
        "form": form,
    }
    return render_dashboard(
        request, "dashboard/end_users.html", context, section="end-users", status=status
    )


def _settings_of(org) -> dict:
    return {"webhook_url": org.webhook_url, "retention_days": org.result_retention_days}


@org_view(manage=True)
@require_POST
def results_settings(request):
    form = ResultsSettingsForm(request.POST)
    if not form.is_valid():
        return _end_user_list(request, form, status=400)
    services.organization_results_settings_set(
        organization=request.org,
        webhook_url=form.cleaned_data["webhook_url"],
        retention_days=form.cleaned_data["retention_days"],
    )
    messages.success(request, "Results settings saved.")
    return redirect(reverse("end-users") + "#settings")


def _external_user_id(value: str) -> str:
    """The id in the URL, read as the API reads it; any other is no end user (404)."""
    try:
        return parse_filter("externalUserId", value)
    except ParamsError as error:
        raise Http404("No such end user.") from error


@org_view()
@require_GET
def end_user_detail(request, external_user_id):
    external_user_id = _external_user_id(external_user_id)
    query = selectors.ResultsQuery(external_user_id=external_user_id)
    results = selectors.results_of(organization=request.org, query=query)
    movements = selectors.movements_of(results)
    if not movements:  # none here: another organisation's end user looks the same
        raise Http404("No such end user.")
    for movement in movements:
        movement["key"] = movement["exercise"] or str(movement["reference"])
        movement["label"] = (
            exercise_label(movement["exercise"])
            if movement["exercise"]
            else f"Reference movement {str(movement['reference'])[:8]}"
        )
    chosen = next((m for m in movements if m["key"] == request.GET.get("movement")), movements[0])
    of_movement = results.filter(exercise=chosen["exercise"], reference=chosen["reference"])
    latest = list(of_movement[:CHART_SESSIONS])[::-1]  # oldest first
    context = {
        "external_user_id": external_user_id,
        "total": sum(m["sessions"] for m in movements),
        "movements": movements,
        "chosen": chosen,
        "charts": _progress_charts(latest),
        "charted": len(latest),
        "page": Paginator(of_movement, RESULTS_PER_PAGE).get_page(request.GET.get("page")),
        "anchor": "&" + urlencode({"movement": chosen["key"]}) + "#sessions",
    }
    return render_dashboard(request, "dashboard/end_user.html", context, section="end-users")


def _progress_charts(results) -> list[dict]:
    """Count, score and range of motion over the sessions, each where any session has one:
    a wide chart and a phone's (the page shows the one that fits)."""

    def points(field: str, *, graded: bool = False) -> list[charts.ProgressPoint]:
        return [
            charts.ProgressPoint(
                r.completed_at.date().isoformat(), getattr(r, field), r.grade if graded else ""
            )
            for r in results
            if getattr(r, field) is not None
        ]

    counted = [r for r in results if r.counter is not None]
    unit = counted[-1].unit if counted else ""
    series = [
        ("count", COUNT_TITLES.get(unit, "Count per session"), unit, points("counter"), None),
        (
            "score",
            "Average form score per session",
            "points",
            points("average_score", graded=True),
            100,
        ),
        ("rom", "Range of motion per session (degrees)", "degrees", points("degrees"), None),
    ]
    drawn = []
    for key, title, unit_name, values, top in series:
        if not values:
            continue
        options = {"title": title, "unit": unit_name, "top": top}
        drawn.append(
            {
                "key": key,
                "title": title,
                "wide": charts.progress_chart_svg(values, chart_id=f"{key}-chart", **options),
                "phone": charts.progress_chart_svg(
                    values, chart_id=f"{key}-chart-phone", width=380, **options
                ),
            }
        )
    return drawn


@org_view(manage=True)
@require_POST
def end_user_erase(request, external_user_id):
    external_user_id = _external_user_id(external_user_id)
    erased = privacy.end_user_erase(organization=request.org, external_user_id=external_user_id)
    messages.success(
        request,
        f"Erased {external_user_id}: {erased.results} result(s), {erased.uploads} upload(s) "
        f"and {erased.links} tracking link(s).",
    )
    return redirect("end-users")
