"""The playground: try the tracking page with a short-lived publishable key of one's own."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts import services
from accounts.models import ApiToken, secret_digest
from dashboard.shell import org_view, render_dashboard
from references.models import ReferenceMovement
from tracking.engine.catalog import EXERCISES
from tracking.param_table import BY_NAME

PLAYGROUND_SESSION_KEY = "dashboard_playground_tokens"

# The outputs one can switch on, each explained by its parameter's doc line.
PLAYGROUND_OPTIONS = [
    (name, label, BY_NAME[name].doc)
    for name, label in (
        ("keypoints", "Keypoints"),
        ("angles", "Angles"),
        ("progression", "Progression"),
        ("recommendations", "Recommendations"),
    )
]
# The choices the page offers are the parameters' own values; only their labels live here.
_LABELS = {"browser": "In the browser", "server": "On the server"}


def _choice(name: str) -> dict:
    parameter = BY_NAME[name]
    return {
        "values": [(value, _LABELS.get(value, value.capitalize())) for value in parameter.values],
        "default": parameter.default,
    }


def _playground_secret(request) -> tuple[str | None, ApiToken | None]:
    stored = request.session.get(PLAYGROUND_SESSION_KEY, {})
    raw = stored.get(str(request.org.pk))
    if not raw:
        return None, None
    token = ApiToken.objects.for_org(request.org).filter(digest=secret_digest(raw)).first()
    if token is None or not token.is_active:
        stored.pop(str(request.org.pk), None)
        request.session[PLAYGROUND_SESSION_KEY] = stored
        return None, None
    return raw, token


@org_view()
@require_GET
def playground(request):
    raw, token = _playground_secret(request)
    references = ReferenceMovement.objects.for_org(request.org).filter(
        status=ReferenceMovement.Status.READY
    )
    context = {
        "exercises": sorted(EXERCISES.values(), key=lambda e: e.label),
        "references": references,
        "options": PLAYGROUND_OPTIONS,
        "min_grade": _choice("minGrade"),
        "difficulty": _choice("difficulty"),
        "inference": _choice("inference"),
        "height": BY_NAME["userHeightCm"],
        "playground_secret": raw,
        "playground_token": token,
        "tracking_base": request.build_absolute_uri(reverse("tracking")),
        "plan_has_outputs": request.org.plan_obj.allows("keypoints"),
        "config": {
            "trackingBase": request.build_absolute_uri(reverse("tracking")),
            "token": raw or "",
        },
    }
    return render_dashboard(request, "dashboard/playground.html", context, section="playground")


@org_view()
@require_POST
def playground_token(request):
    """A fresh short-lived token for this user's playground; any earlier one is revoked."""
    token, raw = services.playground_token_issue(organization=request.org, user=request.user)
    stored = request.session.get(PLAYGROUND_SESSION_KEY, {})
    stored[str(request.org.pk)] = raw
    request.session[PLAYGROUND_SESSION_KEY] = stored
    expires = timezone.localtime(token.expires_at).strftime("%H:%M %Z")
    messages.success(request, f"Playground token ready ({token.prefix}…), valid until {expires}.")
    return redirect("playground")
