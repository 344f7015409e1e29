"""The dashboard: organisations, members and invitations, tokens, plan, usage and playground.

Every view reads the current organisation through `accounts.dashboard.org_view`, fetches
tenant-owned rows with `accounts.tenancy`, and leaves writes to `accounts.services`.
"""

import csv
import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts import charts, plans, selectors, services, tenancy
from accounts.adapter import PENDING_INVITATION_SESSION_KEY, site_link
from accounts.dashboard import org_view, render_dashboard, switch_organization
from accounts.forms import InviteForm, OrganizationForm, RoleForm, TokenForm
from accounts.models import ApiToken, Invitation, Membership, token_digest

NEW_TOKEN_SESSION_KEY = "dashboard_new_token"  # noqa: S105 - a session key
PLAYGROUND_SESSION_KEY = "dashboard_playground_tokens"


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "accounts/home.html")


# --- Overview and organisations ------------------------------------------------------------------


@org_view()
def dashboard(request):
    org = request.org
    quota = selectors.quota_status(organization=org)
    month = selectors.usage_query_parse({})
    tokens = ApiToken.objects.for_org(org)
    from references.models import ReferenceMovement
    from tracking.models import Upload

    context = {
        "quota": quota,
        "quota_bar": charts.quota_bar_svg(used=quota.used, limit=quota.limit),
        "totals": selectors.usage_totals(organization=org, query=month),
        "today": selectors.usage_totals(
            organization=org, query=selectors.UsageQuery(start=month.end, end=month.end)
        ),
        "active_tokens": sum(1 for t in tokens if t.is_active),
        "has_tokens": tokens.exists(),
        "reference_count": ReferenceMovement.objects.for_org(org).count(),
        "recent_uploads": Upload.objects.for_org(org)[:5],
        "member_count": selectors.members_of(organization=org).count(),
    }
    return render_dashboard(request, "dashboard/overview.html", context, section="overview")


@login_required
def organization_create(request):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        org = services.organization_create(name=form.cleaned_data["name"], owner=request.user)
        membership = Membership.objects.get(organization=org, user=request.user)
        switch_organization(request, membership)
        messages.success(request, f"Organisation “{org.name}” created. You are its owner.")
        return redirect("dashboard")
    return render(request, "dashboard/organization_create.html", {"form": form})


@login_required
@require_POST
def organization_switch(request):
    wanted = request.POST.get("organization", "")
    membership = None
    if wanted.isdigit():
        membership = selectors.memberships_of(request.user).filter(organization_id=wanted).first()
    if membership is None:
        raise Http404("No such organisation.")
    switch_organization(request, membership)
    messages.info(request, f"Switched to {membership.organization.name}.")
    target = request.POST.get("next") or ""
    # Only our own dashboard paths: never an open redirect.
    if not target.startswith("/dashboard/") or target.startswith("//"):
        target = reverse("dashboard")
    return redirect(target)


@org_view(manage=True)
@require_POST
def organization_rename(request):
    form = OrganizationForm(request.POST)
    if form.is_valid():
        services.organization_rename(organization=request.org, name=form.cleaned_data["name"])
        messages.success(request, "Organisation renamed.")
    else:
        messages.error(request, " ".join(form.errors["name"]))
    return redirect("members")


# --- Members and invitations ---------------------------------------------------------------------


def _accept_url(raw: str) -> str:
    return site_link(reverse("invitation-accept", args=[raw]))


@org_view(manage=True)
def members(request):
    is_owner = request.membership.role == Membership.Role.OWNER
    form = InviteForm(request.POST or None, can_grant_owner=is_owner)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                invitation, raw = services.invitation_create(
                    organization=request.org,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    invited_by=request.user,
                    actor=request.membership,
                )
            except services.MembershipRejected as rejected:
                form.add_error("email", rejected.message)
            else:
                services.invitation_send(invitation=invitation, accept_url=_accept_url(raw))
                messages.success(request, f"Invitation sent to {invitation.email}.")
                return redirect("members")
        status = 400
    context = {
        "form": form,
        "rename_form": OrganizationForm(initial={"name": request.org.name}),
        "members": selectors.members_of(organization=request.org),
        "invitations": selectors.open_invitations_of(organization=request.org),
        "roles": Membership.Role.choices,
        "is_owner": is_owner,
    }
    return render_dashboard(
        request, "dashboard/members.html", context, section="members", status=status
    )


@org_view(manage=True)
@require_POST
def member_role(request, membership_id):
    target = tenancy.get_for_org(Membership, request.org, pk=membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose owner, admin or member.")
        return redirect("members")
    try:
        services.membership_change_role(
            membership=target, role=form.cleaned_data["role"], actor=request.membership
        )
    except services.MembershipRejected as rejected:
        if rejected.status == 403:
            raise PermissionDenied(rejected.message) from rejected
        messages.error(request, rejected.message)
    else:
        messages.success(request, f"{target.user.email} is now {target.get_role_display()}.")
    return redirect("members")


@org_view()
@require_POST
def member_remove(request, membership_id):
    target = tenancy.get_for_org(Membership, request.org, pk=membership_id)
    leaving = target.pk == request.membership.pk
    try:
        services.membership_remove(membership=target, actor=request.membership)
    except services.MembershipRejected as rejected:
        if rejected.status == 403:
            raise PermissionDenied(rejected.message) from rejected
        messages.error(request, rejected.message)
        return redirect("dashboard" if leaving else "members")
    if leaving:
        messages.success(request, f"You left {request.org.name}.")
        return redirect("dashboard")
    messages.success(request, f"{target.user.email} was removed.")
    return redirect("members")


@org_view(manage=True)
@require_POST
def invitation_resend(request, invitation_id):
    invitation = tenancy.get_for_org(Invitation, request.org, pk=invitation_id, accepted_at=None)
    try:
        invitation, raw = services.invitation_create(
            organization=request.org,
            email=invitation.email,
            role=invitation.role,
            invited_by=request.user,
            actor=request.membership,
        )
    except services.MembershipRejected as rejected:
        if rejected.status == 403:
            raise PermissionDenied(rejected.message) from rejected
        messages.error(request, rejected.message)
        return redirect("members")
    services.invitation_send(invitation=invitation, accept_url=_accept_url(raw))
    messages.success(request, f"A new invitation link was sent to {invitation.email}.")
    return redirect("members")


@org_view(manage=True)
@require_POST
def invitation_cancel(request, invitation_id):
    invitation = tenancy.get_for_org(Invitation, request.org, pk=invitation_id, accepted_at=None)
    try:
        services.invitation_cancel(invitation=invitation, actor=request.membership)
    except services.MembershipRejected as rejected:
        raise PermissionDenied(rejected.message) from rejected
    messages.success(request, f"Invitation to {invitation.email} cancelled.")
    return redirect("members")


def invitation_accept(request, secret):
    """The link in the invitation e-mail. Signed out: log in or sign up with the invited address
    (the invitation is remembered in the session and accepted at sign-up)."""
    invitation = selectors.invitation_for_secret(secret)
    if invitation is None:
        raise Http404("This invitation link is not valid.")
    context = {"invitation": invitation, "secret": secret, "problem": None}
    if invitation.is_accepted:
        context["problem"] = "This invitation has already been accepted."
    elif invitation.is_expired:
        context["problem"] = "This invitation has expired: ask the organisation for a new one."
    if not request.user.is_authenticated:
        if context["problem"] is None:
            request.session[PENDING_INVITATION_SESSION_KEY] = secret
        here = reverse("invitation-accept", args=[secret])
        context["login_url"] = f"{reverse('account_login')}?{urlencode({'next': here})}"
        context["signup_url"] = f"{reverse('account_signup')}?{urlencode({'next': here})}"
        return render(request, "dashboard/invitation_accept.html", context)
    if request.method == "POST" and context["problem"] is None:
        try:
            membership = services.invitation_accept(invitation=invitation, user=request.user)
        except services.MembershipRejected as rejected:
            context["problem"] = rejected.message
            return render(
                request, "dashboard/invitation_accept.html", context, status=rejected.status
            )
        request.session.pop(PENDING_INVITATION_SESSION_KEY, None)
        switch_organization(request, membership)
        messages.success(request, f"Welcome to {invitation.organization.name}.")
        return redirect("dashboard")
    joined = Membership.objects.filter(
        organization=invitation.organization, user=request.user
    ).first()
    if invitation.accepted_by_id == request.user.pk and joined is not None:
        switch_organization(request, joined)
        return redirect("dashboard")
    return render(request, "dashboard/invitation_accept.html", context)


# --- Tokens --------------------------------------------------------------------------------------


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


# --- Plan ----------------------------------------------------------------------------------------

FEATURE_LABELS = {
    "keypoints": "Keypoints in events",
    "angles": "Joint angles",
    "recommendations": "Form recommendations",
    "progression": "Movement progression",
    "blazepose": "Full BlazePose landmarks",
    "export": "Annotated video export",
    "team_reports": "Team usage reports (by token, member, exercise, kind) and CSV",
}


@org_view()
@require_GET
def plan(request):
    org = request.org
    quota = selectors.quota_status(organization=org)
    current = org.plan_obj
    all_features = list(FEATURE_LABELS)
    rows = []
    for candidate in plans.PLANS.values():
        rows.append(
            {
                "plan": candidate,
                "calls": candidate.monthly_calls,
                "references": candidate.max_references,
                "features": [(FEATURE_LABELS[f], candidate.allows(f)) for f in all_features],
                "adds": [
                    FEATURE_LABELS.get(f, f) for f in sorted(candidate.features - current.features)
                ],
                "is_current": candidate.id == current.id,
            }
        )
    context = {
        "quota": quota,
        "quota_bar": charts.quota_bar_svg(used=quota.used, limit=quota.limit),
        "current": current,
        "current_features": [FEATURE_LABELS.get(f, f) for f in sorted(current.features)],
        "plans": rows,
        "feature_names": [FEATURE_LABELS[f] for f in all_features],
    }
    return render_dashboard(request, "dashboard/plan.html", context, section="plan")


# --- Usage ---------------------------------------------------------------------------------------

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
    days = selectors.usage_report(organization=org, query=query)
    chart = charts.usage_chart_svg(
        [charts.DayPoint(row.key, row.calls, row.minutes_tracked) for row in days]
    )
    tables = []
    if full:
        for group, title in DETAIL_GROUPS:
            grouped = selectors.usage_report(
                organization=org,
                query=selectors.UsageQuery(start=query.start, end=query.end, group_by=group),
            )
            tables.append({"group": group, "title": title, "rows": grouped})
    range_query = urlencode({"from": query.start.isoformat(), "to": query.end.isoformat()})
    context = {
        "query": query,
        "error": error,
        "form_from": request.GET.get("from", query.start.isoformat()),
        "form_to": request.GET.get("to", query.end.isoformat()),
        "full": full,
        "chart": chart,
        "days": days,
        "totals": selectors.usage_totals(organization=org, query=query),
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
    rows = selectors.usage_report(organization=org, query=query)
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
                _csv_safe(row.label),
                row.calls,
                f"{row.seconds_tracked:.3f}",
                f"{row.minutes_tracked:.2f}",
                query.start.isoformat(),
                query.end.isoformat(),
            ]
        )
    return response


def _csv_safe(value: str) -> str:
    """Token and member names come from users: keep spreadsheets from running them as formulas."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# --- Playground ----------------------------------------------------------------------------------

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
    token = ApiToken.objects.for_org(request.org).filter(digest=token_digest(raw)).first()
    if token is None or not token.is_active:
        stored.pop(str(request.org.pk), None)
        request.session[PLAYGROUND_SESSION_KEY] = stored
        return None, None
    return raw, token


@org_view()
@require_GET
def playground(request):
    from references.models import ReferenceMovement
    from tracking.engine.catalog import EXERCISES

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
