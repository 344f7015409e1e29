"""The organisation: create, switch, rename; its members and their invitations.

Reads go through `accounts.selectors` and `accounts.tenancy`, writes through `accounts.services`.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import selectors, services, tenancy
from accounts.adapter import PENDING_INVITATION_SESSION_KEY, site_link
from accounts.current import switch_organization
from accounts.models import Invitation, Membership
from dashboard.forms import InviteForm, OrganizationForm, RoleForm
from dashboard.shell import org_view, render_dashboard


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
        "sole_owner": selectors.is_sole_owner(request.membership),
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
        # The sign-up form starts with the invited address (allauth reads `email`).
        signup_query = urlencode({"next": here, "email": invitation.email})
        context["signup_url"] = f"{reverse('account_signup')}?{signup_query}"
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
