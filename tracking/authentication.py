"""The API credentials of the upload page that are not keys.

- A page opened from a single-use link has the link's ticket (`?ticket=`): it may upload with the
  link's parameters and read back its own uploads, nothing else (tracking/links.py).
- Every upload has its own ticket (`?upload_ticket=`, in the upload's JSON): it reads that one
  upload and its events, so a page that uploaded with a publishable key can show the result.

The key behind either must still be active.
"""

from dataclasses import dataclass

from rest_framework.authentication import BaseAuthentication

from accounts import services
from accounts.authentication import HasApiToken
from accounts.models import ApiToken
from accounts.origins import foreign_origin
from tracking import links, uploads
from tracking.models import TrackingLink, Upload


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


@dataclass(frozen=True)
class UploadTicket:
    """`request.auth` of a request made with one upload's ticket."""

    upload: Upload

    @property
    def token(self) -> ApiToken:
        return self.upload.token

    @property
    def organization(self):
        return self.upload.organization


class PageTicketAuthentication(BaseAuthentication):
    def authenticate(self, request):
        ticket = request.query_params.get("ticket")
        if not ticket:
            return None
        link = links.ticket_link(ticket, endpoint=TrackingLink.Endpoint.UPLOAD)
        services.token_authorize(link.token, origin=foreign_origin(request), origin_required=False)
        return (None, PageTicket(ticket=ticket, link=link))

    def authenticate_header(self, request):
        return "Bearer"


class UploadTicketAuthentication(BaseAuthentication):
    def authenticate(self, request):
        ticket = request.query_params.get("upload_ticket")
        if not ticket:
            return None
        upload_id = request.parser_context["kwargs"].get("upload_id")
        upload = uploads.upload_for_ticket(ticket, upload_id, origin=foreign_origin(request))
        return (None, UploadTicket(upload=upload))

    def authenticate_header(self, request):
        return "Bearer"


class HasApiTokenOrPageTicket(HasApiToken):
    """An API key as HasApiToken says; a page or upload ticket only what the view lists in
    `page_ticket_methods`."""

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiToken):
            return super().has_permission(request, view)
        allowed = getattr(view, "page_ticket_methods", ())
        return isinstance(request.auth, PageTicket | UploadTicket) and request.method in allowed
