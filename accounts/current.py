"""The organisation a signed-in user is acting for, kept in their Django session.

It is always re-checked against the user's memberships, so a stale or forged id can never reach
another organisation: it falls back to the user's first organisation. The dashboard reads it on
every page; sign-up and accepting an invitation switch to the organisation joined.
"""

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
