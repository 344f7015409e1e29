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


def foreign_origin(request) -> str | None:
    """The request's Origin unless it is our own site: our own pages (checked against the token's
    origins when they loaded) call the API from our origin."""
    origin = request.headers.get("Origin")
    if origin and origin_of(origin) == origin_of(request.build_absolute_uri("/")):
        return None
    return origin


def is_own_host(origin: str | None, host: str) -> bool:
    """Whether a WebSocket's Origin is the host it connected to (its Host header): our own page."""
    own = origin_of(origin or "")
    return bool(own and host) and own.partition("://")[2] == host.lower()
