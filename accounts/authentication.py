"""API token authentication and the per-token burst limit of the REST API."""

from rest_framework import permissions
from rest_framework.authentication import BaseAuthentication
from rest_framework.throttling import BaseThrottle

from accounts import errors, services
from accounts.errors import AccessError
from accounts.models import ApiToken
from accounts.origins import foreign_origin, request_origin
from config import ratelimit


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer ft_live_…`, or `?token=` as on the tracking pages. Either kind of key
    authenticates; the permissions below say what each kind may do."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, raw = header.partition(" ")
            if scheme != self.keyword or not raw.strip():
                raise AccessError(
                    "invalid_token", "Send the token as 'Authorization: Bearer <token>'.", 401
                )
            raw = raw.strip()
        else:
            raw = request.query_params.get("token", "")
        if not raw:
            return None
        token = services.token_authenticate(
            raw, origin=request_origin(request), origin_required=False
        )
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
        raise errors.secret_key_required()


class TokenBurstThrottle(BaseThrottle):
    """DRF throttle: API requests per token (an API token, or the token behind a page ticket)."""

    def allow_request(self, request, view):
        auth = request.auth
        token = auth if isinstance(auth, ApiToken) else getattr(auth, "token", None)
        if token is None:  # not authenticated: the per-IP limit still applies
            return True
        try:
            ratelimit.hit_token(token.pk, "api")
        except ratelimit.RateLimited as limited:
            self.retry_after = limited.retry_after
            return False
        return True

    def wait(self):
        return getattr(self, "retry_after", None)


def bearer_secret(request) -> str | None:
    """The raw token of an `Authorization: Bearer …` header, when the request sent one."""
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    return raw.strip() or None if scheme == ApiTokenAuthentication.keyword else None
