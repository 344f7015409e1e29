"""What every dashboard page needs: the signed-in user's current organisation and role.

The current organisation is kept in the session and always re-checked against the user's
memberships, so a stale or forged id can never reach another organisation: it falls back to the
user's first organisation. Pages that manage members or tokens answer 403 to plain members.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from accounts import selectors
from accounts.models import Membership

SESSION_ORG_KEY = "dashboard_org_id"


def current_membership(request) -> Membership | None:
    memberships = list(selectors.memberships_of(request.user).order_by("organization__name"))
    if not memberships:
        return None
    wanted = request.session.get(SESSION_ORG_KEY)
    for membership in memberships:
        if membership.organization_id == wanted:
            return membership
    membership = memberships[0]
    request.session[SESSION_ORG_KEY] = membership.organization_id
    return membership


def switch_organization(request, membership: Membership) -> None:
    request.session[SESSION_ORG_KEY] = membership.organization_id


def org_view(*, manage: bool = False):
    """A dashboard view: signed in, with `request.org` and `request.membership` set.

    `manage=True`: owners and admins only (members get 403).
    """

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            membership = current_membership(request)
            if membership is None:
                return redirect("organization-create")
            if manage and not membership.can_manage:
                raise PermissionDenied("Only owners and admins can manage members and tokens.")
            request.membership = membership
            request.org = membership.organization
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


NAV = [
    ("overview", "Overview", "dashboard"),
    ("playground", "Playground", "playground"),
    ("usage", "Usage", "usage"),
    ("uploads", "Uploads", "uploads"),
    ("references", "References", "references"),
    ("tokens", "API keys", "tokens"),
    ("members", "Members", "members"),
    ("plan", "Plan", "plan"),
]


def render_dashboard(request, template: str, context: dict | None = None, *, section: str, **kw):
    """Render a page inside the dashboard shell (navigation, organisation switcher)."""
    context = dict(context or {})
    context.update(
        {
            "org": request.org,
            "membership": request.membership,
            "can_manage": request.membership.can_manage,
            "memberships": selectors.memberships_of(request.user).order_by("organization__name"),
            "nav": NAV,
            "section": section,
        }
    )
    return render(request, template, context, **kw)
