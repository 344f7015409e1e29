"""API token authentication for the REST API."""

from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication

from accounts import errors, services
from accounts.errors import AccessError
from accounts.models import ApiToken, origin_of


def foreign_origin(request) -> str | None:
    """The request's Origin unless it is our own site: our own pages (checked against the token's
    origins when they loaded) call the API from our origin."""
    origin = request.headers.get("Origin")
    if origin and origin_of(origin) == origin_of(request.build_absolute_uri("/")):
        return None
    return origin


class ApiAccessFailed(exceptions.APIException):
    def __init__(self, error: AccessError):
        super().__init__(detail=error.message, code=error.code)
        self.status_code = error.status
        self.error_code = error.code


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer ft_live_…`, or `?token=` as on the tracking pages. Either kind of key
    authenticates; the permissions below say what each kind may do."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, raw = header.partition(" ")
            if scheme != self.keyword or not raw.strip():
                raise ApiAccessFailed(
                    AccessError(
                        "invalid_token", "Send the token as 'Authorization: Bearer <token>'.", 401
                    )
                )
            raw = raw.strip()
        else:
            raw = request.query_params.get("token", "")
        if not raw:
            return None
        origin = request.headers.get("Origin") or request.headers.get("Referer")
        try:
            token = services.token_authenticate(raw, origin=origin, browser=False)
        except AccessError as error:
            raise ApiAccessFailed(error) from error
        if foreign_origin(request):
            # A browser on another site sent it: a secret key sits in a page (the dashboard warns).
            services.token_note_page_use(token)
        return (token.created_by, token)

    def authenticate_header(self, request):
        return self.keyword


class HasApiToken(permissions.BasePermission):
    """A secret key, or a publishable key where the view lists the method in `publishable_methods`
    (the upload page's own upload)."""

    message = "Missing API token: send 'Authorization: Bearer <token>' or ?token=."

    def has_permission(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return False
        if request.auth.is_secret or request.method in getattr(view, "publishable_methods", ()):
            return True
        raise ApiAccessFailed(errors.secret_key_required())


def bearer_secret(request) -> str | None:
    """The raw token of an `Authorization: Bearer …` header, when the request sent one."""
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    return raw.strip() or None if scheme == ApiTokenAuthentication.keyword else None
