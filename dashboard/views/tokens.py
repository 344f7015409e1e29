"""API keys: create (the secret is shown once), revoke; the webhook signing secret."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import selectors, services, tenancy
from accounts.models import ApiToken
from dashboard.forms import TokenForm
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
            }
            return redirect("tokens")
    new_token = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    context = {
        "form": form,
        "tokens": selectors.tokens_with_month_calls(organization=request.org),
        "new_token": new_token,
        "tracking_base": request.build_absolute_uri(reverse("tracking")),
    }
    status = 400 if request.method == "POST" else 200
    return render_dashboard(
        request, "dashboard/tokens.html", context, section="tokens", status=status
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
