"""Burst rate limits per API token and per client IP, apart from the monthly quota.

One mechanism for the API, the tracking pages and the live WebSocket: a fixed one-minute window per
key, counted with the cache's `incr` (atomic on Redis, which production uses, so every process
shares the counts; under a lock in the local-memory cache). A window may let a burst of up to twice
the limit through across its edge: good enough to stop a runaway client, not a billing meter.

- `hit()` counts one request against a limit and raises `RateLimited` past it;
- `ApiIpRateLimitMiddleware` limits `/api/` per IP before anything else (even bad tokens count);
- `accounts.authentication.TokenBurstThrottle` limits the API per token (DRF, after
  authentication);
- `tracking.access.tracking_open` limits page loads and socket connects per IP and per token;
- `admin_login_rate_limit` limits admin sign-in attempts per IP and per account.

Refusals are 429 with the error envelope (`code: rate_limited`) and a `Retry-After` header, or on
the WebSocket an `error` event carrying `retryAfter`, then close 4429.
"""

import hashlib
import logging
import math
import time
from functools import wraps

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Q

from config.error_pages import error_response
from config.errors import FormTrackError

logger = logging.getLogger(__name__)

WINDOW_S = 60
CODE = "rate_limited"

# What each per-token limit counts, and the setting that holds it.
TOKEN_LIMITS = {
    "api": "RATE_LIMIT_TOKEN_API_PER_MIN",
    "page": "RATE_LIMIT_TOKEN_PAGE_PER_MIN",
    "websocket": "RATE_LIMIT_TOKEN_WEBSOCKET_PER_MIN",
}
_WHAT = {"api": "API requests", "page": "page loads", "websocket": "WebSocket connections"}


class RateLimited(FormTrackError):
    """Too many requests in this minute: try again in `retry_after` seconds."""

    def __init__(self, retry_after: int, message: str):
        super().__init__(CODE, message, 429, retry_after=retry_after)


def hit(bucket: str, key: object, *, limit: int, what: str) -> None:
    """Count one request of `key` in `bucket`; raise RateLimited once it passes `limit` this
    minute. A limit of 0 or less counts nothing. A cache that cannot be reached lets everything
    through (logged): burst limits must never take the service down with them."""
    if limit <= 0:
        return
    now = time.time()
    window_start = int(now // WINDOW_S) * WINDOW_S
    cache_key = f"{settings.RATE_LIMIT_CACHE_PREFIX}:{bucket}:{key}:{window_start}"
    try:
        cache.add(cache_key, 0, timeout=WINDOW_S + 5)
        try:
            count = cache.incr(cache_key)
        except ValueError:  # the key expired between add and incr: a new window
            cache.set(cache_key, 1, timeout=WINDOW_S + 5)
            count = 1
    except Exception as error:  # e.g. Redis restarting
        logger.warning("Rate limit not checked, cache unavailable: %s", error)
        return
    if count > limit:
        retry_after = max(1, math.ceil(window_start + WINDOW_S - now))
        raise RateLimited(
            retry_after,
            f"Too many {what}: at most {limit} a minute. Try again in {retry_after} s.",
        )


def hit_token(token_id: object, kind: str) -> None:
    """One API request, page load or WebSocket connection (`kind`) of a token."""
    limit = getattr(settings, TOKEN_LIMITS[kind])
    hit(f"token-{kind}", token_id, limit=limit, what=f"{_WHAT[kind]} with this token")


def hit_ip(ip: str | None) -> None:
    """One request (API, page or WebSocket) from a client address."""
    if ip:
        hit("ip", ip, limit=settings.RATE_LIMIT_IP_PER_MIN, what="requests from your address")


def client_ip(request) -> str | None:
    """The client's address of an HTTP request."""
    return _client_ip(request.META.get("REMOTE_ADDR"), request.headers.get("X-Forwarded-For"))


def scope_client_ip(scope) -> str | None:
    """The client's address of an ASGI (WebSocket) scope."""
    headers = dict(scope.get("headers") or [])
    forwarded = headers.get(b"x-forwarded-for", b"").decode("latin1") or None
    client = scope.get("client")
    return _client_ip(client[0] if client else None, forwarded)


def _client_ip(remote_addr: str | None, forwarded_for: str | None) -> str | None:
    # Behind our reverse proxy every connection comes from the proxy: the client is the last
    # address it appended to X-Forwarded-For (earlier entries are whatever the client sent).
    if settings.RATE_LIMIT_TRUST_FORWARDED_FOR and forwarded_for:
        return forwarded_for.split(",")[-1].strip() or remote_addr
    return remote_addr


class ApiIpRateLimitMiddleware:
    """Limits every `/api/` request per client address, before authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            try:
                hit_ip(client_ip(request))
            except RateLimited as limited:
                return error_response(limited)
        return self.get_response(request)


def admin_login_rate_limit(login_view):
    """Wraps the admin's login view: sign-in attempts (POSTs) per client address and per
    account, so a password cannot be guessed at full speed from one machine or many."""

    @wraps(login_view)
    def limited_login(request, *args, **kwargs):
        if request.method == "POST":
            limit = settings.RATE_LIMIT_ADMIN_LOGIN_PER_MIN
            try:
                hit("admin-login-ip", client_ip(request), limit=limit, what="sign-in attempts")
                for account_key in _admin_login_accounts(request.POST.get("username", "")):
                    hit("admin-login-user", account_key, limit=limit, what="sign-in attempts")
            except RateLimited as limited:
                return error_response(limited)
        return login_view(request, *args, **kwargs)

    return limited_login


def _admin_login_accounts(typed: str) -> list[str]:
    """The keys that count sign-in attempts made with `typed`: one per account it names. The
    admin signs in by username (ModelBackend) or by any of the account's e-mail addresses
    (allauth's backend, its EmailAddress rows), so keying on the typed text would give each
    account one budget per name. Text that names no account counts on its own."""
    name = typed.strip()
    accounts = []
    if name:  # a blank name would match every account without an e-mail address
        user_model = get_user_model()
        users = user_model.objects.filter(
            Q(**{f"{user_model.USERNAME_FIELD}__iexact": name})
            | Q(**{f"{user_model.get_email_field_name()}__iexact": name})
            | Q(emailaddress__email__iexact=name)
        )
        accounts = sorted(set(users.values_list("pk", flat=True)))
    if accounts:
        return [f"account:{pk}" for pk in accounts]
    # A digest: any text fits a cache key.
    return ["name:" + hashlib.sha256(name.lower().encode()).hexdigest()]
