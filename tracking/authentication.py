"""The API credential of an upload page opened from a single-use link: its ticket (`?ticket=`).

A ticket may upload with the link's parameters and read back its own uploads, nothing else; the
token behind the link must still be active. See tracking/links.py.
"""

from dataclasses import dataclass

from rest_framework import permissions
from rest_framework.authentication import BaseAuthentication

from accounts import services
from accounts.authentication import ApiAccessFailed
from accounts.errors import AccessError
from accounts.models import ApiToken, origin_of
from tracking import links
from tracking.models import TrackingLink


@dataclass(frozen=True)
class PageTicket:
    """`request.auth` of a request made with a page ticket."""

    ticket: str
    link: TrackingLink

    @property
    def token(self) -> ApiToken:
        return self.link.token

    @property
    def organization(self):
        return self.link.organization


def foreign_origin(request) -> str | None:
    """The request's Origin unless it is our own site: our own pages (checked against the token's
    origins when they loaded) call the API from our origin."""
    origin = request.headers.get("Origin")
    if origin and origin_of(origin) == origin_of(request.build_absolute_uri("/")):
        return None
    return origin


class PageTicketAuthentication(BaseAuthentication):
    def authenticate(self, request):
        ticket = request.query_params.get("ticket")
        if not ticket:
            return None
        try:
            link = links.ticket_link(ticket, endpoint=TrackingLink.Endpoint.UPLOAD)
            services.token_authorize(link.token, origin=foreign_origin(request), browser=False)
        except AccessError as error:
            raise ApiAccessFailed(error) from error
        return (None, PageTicket(ticket=ticket, link=link))

    def authenticate_header(self, request):
        return "Bearer"


class HasApiTokenOrPageTicket(permissions.BasePermission):
    """An API token may do anything; a page ticket only what the view lists in
    `page_ticket_methods`."""

    message = "Missing API token: send 'Authorization: Bearer <token>' or ?token=."

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiToken):
            return True
        allowed = getattr(view, "page_ticket_methods", ())
        return isinstance(request.auth, PageTicket) and request.method in allowed
