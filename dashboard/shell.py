"""What every dashboard page shares: the signed-in user's current organisation and role, the
navigation, and the shell around the page (navigation, organisation switcher).

The current organisation comes from `accounts.current`. Pages that manage members or tokens
answer 403 to plain members.
"""

from functools import wraps
from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from accounts import selectors
from accounts.current import current_membership
from tracking.media_links import media_link


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


# (section, label, URL name), in the order of the sidebar.
NAV = [
    ("overview", "Overview", "dashboard"),
    ("playground", "Playground", "playground"),
    ("usage", "Usage", "usage"),
    ("uploads", "Uploads", "uploads"),
    ("end-users", "End users", "end-users"),
    ("references", "References", "references"),
    ("workouts", "Workouts", "workouts"),
    ("tokens", "API keys", "tokens"),
    ("members", "Members", "members"),
    ("plan", "Plan", "plan"),
]
# Sections only owners and admins see (their pages answer 403 to members).
MANAGE_SECTIONS = {"tokens", "members"}


def render_dashboard(request, template: str, context: dict | None = None, *, section: str, **kw):
    """Render a page inside the dashboard shell (navigation, organisation switcher)."""
    can_manage = request.membership.can_manage
    context = dict(context or {})
    context.update(
        {
            "org": request.org,
            "membership": request.membership,
            "can_manage": can_manage,
            "memberships": selectors.memberships_of(request.user).order_by("organization__name"),
            "nav": [item for item in NAV if can_manage or item[0] not in MANAGE_SECTIONS],
            "section": section,
            # Shown beside the phone's menu button: where the person is.
            "section_label": next(label for key, label, _ in NAV if key == section),
        }
    )
    return render(request, template, context, **kw)


def media_path(storage_name: str) -> str:
    """The path of a stored file's signed link: dashboard pages ask their own host, which sends
    the browser on to the media host when there is one."""
    return urlsplit(media_link(storage_name)).path


def csv_safe(value: str) -> str:
    """Names come from users (tokens, members, uploaded files): keep spreadsheets from running
    them as formulas."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
