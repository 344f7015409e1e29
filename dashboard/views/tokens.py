"""API keys: create (the secret is shown once), change their allowed origins, revoke; the
webhook signing secret."""

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import selectors, services, tenancy
from accounts.models import ApiToken
from accounts.origins import origin_of
from dashboard.forms import TokenForm, TokenOriginsForm
from dashboard.shell import org_view, render_dashboard

NEW_TOKEN_SESSION_KEY = "dashboard_new_token"  # noqa: S105 - a session key


@org_view(manage=True)
def tokens(request):
    form = TokenForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            token, raw = services.token_create(
                organization=request.org,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                created_by=request.user,
                expires_at=form.expires_at,
                allowed_origins=form.cleaned_data["allowed_origins"],
            )
            # Shown once on the next page (then only its prefix): post/redirect/get.
            request.session[NEW_TOKEN_SESSION_KEY] = {
                "id": token.pk,
                "raw": raw,
                "publishable": not token.is_secret,
                "origins": token.allowed_origins,
            }
            return redirect("tokens")
    new_token = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    tracking_base = request.build_absolute_uri(reverse("tracking"))
    if new_token is not None and new_token["publishable"]:
        query = urlencode({"token": new_token["raw"], "exercise": "squat"})
        new_token["try_url"] = f"{tracking_base}?{query}"
        # A key limited to other origins is refused on this site: say so next to the link.
        new_token["refused_here"] = bool(new_token.get("origins")) and (
            origin_of(tracking_base) not in new_token["origins"]
        )
    context = {
        "form": form,
        "tokens": selectors.tokens_with_month_calls(organization=request.org),
        "new_token": new_token,
    }
    status = 400 if request.method == "POST" else 200
    return render_dashboard(
        request, "dashboard/tokens.html", context, section="tokens", status=status
    )


@org_view(manage=True)
def token_origins(request, token_id):
    """Where a key may be used from, changed after it was made (e.g. a new site embeds it)."""
    token = tenancy.get_for_org(ApiToken, request.org, pk=token_id, revoked_at=None)
    initial = {"allowed_origins": "\n".join(token.allowed_origins)}
    form = TokenOriginsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.token_set_allowed_origins(
            token=token, allowed_origins=form.cleaned_data["allowed_origins"]
        )
        where = ", ".join(token.allowed_origins) or "any origin"
        messages.success(request, f"“{token.name}” ({token.prefix}…) may be used from {where}.")
        return redirect("tokens")
    status = 400 if request.method == "POST" else 200
    return render_dashboard(
        request,
        "dashboard/token_origins.html",
        {"token": token, "form": form},
        section="tokens",
        status=status,
    )


@org_view(manage=True)
@require_POST
def webhook_secret_roll(request):
    services.webhook_secret_roll(organization=request.org)
    messages.success(
        request, "New webhook signing secret: callbacks are signed with it from now on."
    )
    return redirect(reverse("tokens") + "#webhooks")


@org_view(manage=True)
@require_POST
def token_revoke(request, token_id):
    token = tenancy.get_for_org(ApiToken, request.org, pk=token_id)
    services.token_revoke(token=token)
    messages.success(
        request, f"Token “{token.name}” ({token.prefix}…) revoked. It stops working now."
    )
    return redirect("tokens")
