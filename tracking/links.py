"""Single-use tracking links (POST /api/v1/sessions) and the tickets of the pages opened from them.

The app's server, which holds the API token, asks for a link; the app (a WebView, an iframe) only
ever sees the link, never the token. A link:
- carries exactly the parameters it was issued for, stored server-side without the token, so any
  other parameter on its URL is refused;
- must be opened within TRACKING_LINK_MAX_AGE_S, and opens once (a conditional UPDATE);
- is a random secret of which only the SHA-256 is stored.

The page opened from a link does not get the token either: its WebSocket and its uploads present
a signed ticket bound to the link, valid TRACKING_TICKET_MAX_AGE_S. The token behind the link must
still be active, and its allowed origins still apply, at every use.

Everything here is called from `tracking.access.tracking_open`, the one way a page, socket or
upload starts.
"""

import dataclasses
import datetime
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from accounts.errors import AccessError
from accounts.models import ApiToken, secret_digest
from tracking.models import TrackingLink
from tracking.params import TrackingParams, parse_tracking_params

TICKET_SALT = "formtrack.tracking-ticket"
# A single-use id opens a page (or a native app's socket); a ticket serves the opened page.
CREDENTIALS = ("session", "ticket")
# What a page opened from a link still chooses itself when it (re)connects its socket: the live
# page falls back to server-side inference on slow devices, and continues a workout where it was.
TICKET_CHOICES = {"tracking": frozenset({"inference", "workoutFrom"}), "upload": frozenset()}
# The parser wants a token; a link's token is known from its row, so this stands in for it and is
# blanked again: nothing secret ever reaches a page opened from a link.
_TOKEN_STAND_IN = "link"  # noqa: S105 - not a secret
# Used or expired links are deleted this long after their expiry, once no ticket can use them.
_RETENTION = datetime.timedelta(days=1)


@dataclass(frozen=True)
class LinkCredential:
    """The link a query presents, and the parameters it was issued for (with a blank token)."""

    link: TrackingLink
    params: TrackingParams
    opens_link: bool  # `session=`: this request opens the link; `ticket=`: it was opened before


# The public names (POST /api/v1/sessions, `session=`, these error codes) say "session"; they
# are the API's and stay. In the code, a single-use link is a link.
def invalid_link(message: str = "") -> AccessError:
    return AccessError(
        "invalid_session",
        message
        or "This tracking link is unknown or not for this page: ask your app for a new one.",
        401,
    )


def link_expired(message: str = "") -> AccessError:
    return AccessError(
        "session_expired",
        message or "This tracking link has expired: ask your app for a new one.",
        401,
    )


def link_used() -> AccessError:
    return AccessError(
        "session_used",
        "This tracking link has already been opened: each link opens once. "
        "Ask your app for a new one.",
        401,
    )


def parameters_fixed(names) -> AccessError:
    listed = ", ".join(sorted(names))
    return AccessError(
        "session_parameters_fixed",
        f"A tracking link carries the parameters it was issued for: remove {listed} "
        "(ask for a link with different parameters instead).",
        400,
    )


def query_pairs(query) -> list[tuple[str, str]]:
    """The (name, value) pairs of a query string, QueryDict or mapping of values or lists."""
    if isinstance(query, bytes):
        query = query.decode("utf-8", "replace")
    if isinstance(query, str):
        return parse_qsl(query.removeprefix("?"), keep_blank_values=True)
    if hasattr(query, "lists"):  # Django QueryDict
        return [(name, value) for name, values in query.lists() for value in values]
    if isinstance(query, Mapping):
        pairs = []
        for name, value in query.items():
            values = value if isinstance(value, list | tuple) else [value]
            pairs += [(str(name), str(item)) for item in values]
        return pairs
    return []


def credential_name(query) -> str | None:
    """The credential the query presents instead of a token: "session" or "ticket"."""
    names = {name for name, _ in query_pairs(query)}
    return next((name for name in CREDENTIALS if name in names), None)


def link_credential(query, *, endpoint: str, via: str) -> LinkCredential:
    """Resolve the `session=` or `ticket=` a query presents; AccessError when it cannot be used.

    `via` is where the request comes from: "page", "websocket" or "api".
    """
    pairs = query_pairs(query)
    names = [name for name, _ in pairs]
    if "session" in names:
        extra = set(names) - {"session"}
        if extra:
            raise parameters_fixed(extra)
        if names.count("session") > 1:
            raise invalid_link("Send one tracking link id, once.")
        if via == "api":
            raise invalid_link("A tracking link opens a page or a WebSocket, not the API.")
        link = _open_link(dict(pairs)["session"], endpoint=endpoint)
        return LinkCredential(link, link_params(link), opens_link=True)
    choices = TICKET_CHOICES.get(endpoint, frozenset())
    extra = set(names) - {"ticket"} - choices
    repeated = {name for name, count in Counter(names).items() if count > 1}
    if extra or repeated:
        raise parameters_fixed(extra | repeated)
    if via == "page":
        raise invalid_link("Open the page with its tracking link, not with a ticket.")
    link = ticket_link(dict(pairs)["ticket"], endpoint=endpoint)
    chosen = {name: value for name, value in pairs if name in choices}
    return LinkCredential(link, link_params(link, chosen), opens_link=False)


def _open_link(secret: str, *, endpoint: str) -> TrackingLink:
    link = (
        TrackingLink.objects.select_related("token__organization")
        .filter(digest=secret_digest(secret))
        .first()
    )
    if link is None or link.endpoint != endpoint:
        raise invalid_link()
    if link.used_at is not None:
        raise link_used()
    if link.expires_at <= timezone.now():
        raise link_expired()
    return link


def link_params(link: TrackingLink, chosen: dict[str, str] | None = None) -> TrackingParams:
    """The parameters a link was issued for, with the page's own `chosen` ones (a ticket's)."""
    chosen = chosen or {}
    pairs = [
        (name, value)
        for name, value in parse_qsl(link.query, keep_blank_values=True)
        if name not in chosen
    ]
    query = urlencode([("token", _TOKEN_STAND_IN), *pairs, *chosen.items()])
    # The link's own query was parsed when issued; a loose `chosen` value gets a warning.
    return dataclasses.replace(parse_tracking_params(query, endpoint=link.endpoint), token="")


def link_consume(link: TrackingLink) -> None:
    """Mark the link opened; exactly one of any number of concurrent openings gets through."""
    now = timezone.now()
    opened = TrackingLink.objects.filter(pk=link.pk, used_at=None, expires_at__gt=now).update(
        used_at=now
    )
    if not opened:
        raise link_expired() if link.expires_at <= now else link_used()
    link.used_at = now


def ticket_issue(link: TrackingLink) -> str:
    """The credential of the page opened from `link`, for its own socket and uploads."""
    return signing.dumps(str(link.pk), salt=TICKET_SALT)


def ticket_link(ticket: str, *, endpoint: str) -> TrackingLink:
    """The opened link a ticket belongs to; AccessError when it is forged, expired or unknown."""
    try:
        max_age = settings.TRACKING_TICKET_MAX_AGE_S
        link_id = signing.loads(ticket, salt=TICKET_SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise link_expired(
            "This page's session has expired: ask your app for a new tracking link."
        ) from error
    except signing.BadSignature as error:
        raise invalid_link("This ticket is not valid.") from error
    link = (
        TrackingLink.objects.select_related("token__organization")
        .filter(pk=link_id, endpoint=endpoint, used_at__isnull=False)
        .first()
    )
    if link is None:
        raise invalid_link("This ticket is not valid.")
    return link


def tracking_link_create(*, token: ApiToken, query, endpoint: str) -> tuple[TrackingLink, str]:
    """A single-use link for parameters `tracking_open` accepted with `token`; returns it and its
    secret id, which is never stored."""
    # The parameters as asked (not as gated by the plan), so the page can say what the plan
    # switched off; the token is dropped: the link stands for it.
    requested = parse_tracking_params(query, endpoint=endpoint)
    stored = parse_qsl(requested.to_query(), keep_blank_values=True)
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    TrackingLink.objects.for_org(token.organization).filter(
        expires_at__lt=now - _retention()
    ).delete()
    link = TrackingLink.objects.create(
        organization=token.organization,
        token=token,
        endpoint=endpoint,
        query=urlencode([(name, value) for name, value in stored if name != "token"]),
        digest=secret_digest(secret),
        created_at=now,
        expires_at=now + datetime.timedelta(seconds=settings.TRACKING_LINK_MAX_AGE_S),
    )
    return link, secret


def _retention() -> datetime.timedelta:
    return _RETENTION + datetime.timedelta(seconds=settings.TRACKING_TICKET_MAX_AGE_S)


def link_urls(link: TrackingLink, secret: str) -> dict:
    """Where the link opens: the page, and (live tracking) the socket a native app may use."""
    base = settings.SITE_URL.rstrip("/")
    query = urlencode({"session": secret})
    page = reverse("tracking" if link.endpoint == link.Endpoint.TRACKING else "upload-tracking")
    ws_url = None
    if link.endpoint == link.Endpoint.TRACKING:
        scheme, _, rest = base.partition("://")
        ws_url = f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ws/pose_tracker/tracking?{query}"
    return {"url": f"{base}{page}?{query}", "ws_url": ws_url}
