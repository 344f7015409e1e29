"""Origins (`scheme://host[:port]`): the one parser, and the origin each kind of request names.

Tokens' allowed origins are stored as `origin_of` writes them; `services.token_authorize` compares
them with what a request names, as these functions read it.
"""

from urllib.parse import urlsplit


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of a URL or Origin header, lower-cased; None when it has none."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def request_origin(request) -> str | None:
    """The origin a request names: its Origin header, else its Referer (page loads carry no
    Origin; the embedding page's address comes as the Referer)."""
    return request.headers.get("Origin") or request.headers.get("Referer")


def _own_origin(request) -> str | None:
    return origin_of(request.build_absolute_uri("/"))


def foreign_origin(request) -> str | None:
    """The request's Origin unless it is our own site: our own pages (checked against the token's
    origins when they loaded) call the API from our origin."""
    origin = request.headers.get("Origin")
    if origin and origin_of(origin) == _own_origin(request):
        return None
    return origin


def from_own_site(request) -> bool:
    """Whether a page was opened from one of our own pages (the dashboard), by the origin it names.
    One opened from another site names that site; one opened in an app's WebView names none."""
    origin = request_origin(request)
    return bool(origin) and origin_of(origin) == _own_origin(request)


def socket_origin(scope) -> tuple[str | None, bool]:
    """(a WebSocket's Origin unless it is our own site, whether it is our own site), from its ASGI
    scope: its Origin names the host it connected to (its Host header). Our own pages connect
    from our origin, and were checked against the token's origins when they loaded."""
    headers = dict(scope.get("headers", []))
    origin = headers.get(b"origin", b"").decode("latin1") or None
    host = headers.get(b"host", b"").decode("latin1")
    own = origin_of(origin or "")
    same_site = bool(own and host) and own.partition("://")[2] == host.lower()
    return (None if same_site else origin), same_site
