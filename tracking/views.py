"""The two tracking pages that host apps embed."""

from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from accounts.models import origin_of
from tracking.engine.catalog import EXERCISES
from tracking.services import TrackingRefused, tracking_open


@xframe_options_exempt
@require_GET
def tracking_page(request):
    return _tracking_page(request, endpoint="tracking")


@xframe_options_exempt
@require_GET
def upload_tracking_page(request):
    return _tracking_page(request, endpoint="upload")


def _request_origin(request) -> str | None:
    # Page loads carry no Origin header; the embedding page's address comes as the Referer.
    return request.headers.get("Origin") or request.headers.get("Referer")


def _tracking_page(request, *, endpoint):
    lang = "fr" if request.GET.get("language", "").lower().startswith("fr") else "en"
    try:
        access = tracking_open(request.GET, endpoint=endpoint, origin=_request_origin(request))
    except TrackingRefused as refused:
        context = {
            "status": refused.status,
            "problems": refused.problems,
            "lang": lang,
            "bridge_config": {"initialEvents": [refused.event]},
        }
        return render(request, "tracking/refused.html", context, status=refused.status)

    params = access.params
    initial_events = [params.blocked_event()] if params.blocked else []
    origin = origin_of(_request_origin(request) or "")
    context = {
        "params": params,
        "blocked": params.blocked,
        "lang": params.language,
        "exercise_label": EXERCISES[params.exercise].label if params.exercise else "",
        "bridge_config": {
            "params": params.to_config(),
            "initialEvents": initial_events,
            # With an allow-list, events go only to the (checked) embedding origin, never to "*".
            "parentOrigin": origin if access.token.allowed_origins else "*",
            "callsLeft": access.calls_left,
        },
    }
    return render(request, "tracking/page.html", context)
