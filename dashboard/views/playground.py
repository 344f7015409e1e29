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

PLAYGROUND_SESSION_KEY = "dashboard_playground_tokens"

PLAYGROUND_OPTIONS = [
    ("keypoints", "Keypoints", "Send every landmark in pixels with each frame."),
    ("angles", "Angles", "Joint angles the exercise uses."),
    ("progression", "Progression", "How far through the current repetition (0–1)."),
    ("recommendations", "Recommendations", "Form cues while you move."),
]


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
