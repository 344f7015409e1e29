"""HTTP requests to addresses our clients name (upload callbacks, remote media): the one set of
rules that keeps them out of our own network.

Each request resolves the host once, refuses it unless every address is public (unless
CALLBACK_ALLOW_PRIVATE_HOSTS, for development), and connects to that exact address, so a DNS
answer that changes between the check and the connection cannot point it inside our network. The
host's name goes in the Host header and, over https, in SNI and the certificate check. A deadline
cuts the whole exchange off, however slowly the other side trickles. A redirect is a new request:
its target is checked the same way before anything is sent to it.
"""

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from config.errors import FormTrackError

# IPv6 forms whose last 32 bits are an IPv4 address they reach: IPv4-compatible (deprecated),
# IPv4-mapped, SIIT's IPv4-translated and the well-known NAT64 prefix.
_IPV4_IN_LAST_32_BITS = tuple(
    ipaddress.IPv6Network(network)
    for network in ("::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96")
)
# The only IPv6 unicast routed on the internet.
_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
# Not globally reachable (IANA's special-purpose registries) though Python 3.11 says global: IETF
# protocol assignments, NAT64's local-use prefix (which may carry an IPv4 address anywhere in its
# low bits, so it is refused whole) and the 2024 documentation prefix.
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(network) for network in ("192.0.0.0/24", "64:ff9b:1::/48", "3fff::/20")
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK_BYTES = 64 * 1024


class AddressRefused(FormTrackError):
    """The URL may never be requested: not http(s), or not a public address. Callers name the
    code their client knows (invalid_callback_url, video_load_error...)."""

    def __init__(self, message: str, address: str = ""):
        super().__init__("address_refused", message)
        self.address = address  # recorded, never told to the client (no map of our network)


def target(url: str, *, name: str) -> tuple[str, int]:
    """The host and port of an http(s) URL; `name` is what the client called it (callback_url,
    videoSrc...), for the message."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port out of range
        port = None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
        raise AddressRefused(f"{name} must be an http(s) URL.")
    try:
        parts.hostname.encode("idna")  # as name resolution encodes it (a zero-width space fails)
    except UnicodeError:
        raise AddressRefused(f"{name}'s host name is not valid.") from None
    return parts.hostname, port


def public_addresses(url: str, *, name: str) -> list[str]:
    """The addresses `url`'s host resolves to now, once. Raises AddressRefused unless every one
    is public (or CALLBACK_ALLOW_PRIVATE_HOSTS is set), OSError when the host does not resolve."""
    host, port = target(url, name=name)
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not settings.CALLBACK_ALLOW_PRIVATE_HOSTS:
        for address in addresses:
            if not is_public_address(ipaddress.ip_address(address.split("%")[0])):
                raise AddressRefused(f"{name} must point at a public address.", address=address)
    return addresses


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for (a connection to it reaches them), or none."""
    for network in _IPV4_IN_LAST_32_BITS:
        if ip in network:
            return [ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)]
    if ip.sixtofour:
        return [ip.sixtofour]
    if ip.teredo:
        return list(ip.teredo)  # its server and its client
    return []


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Reachable on the internet, never inside our network: for an IPv6 form that embeds an
    IPv4 address (::7f00:1, 64:ff9b::a00:1, 2002:7f00:1::1...), the IPv4 address decides.
    Python's is_global alone is not enough: it passes those forms, multicast, and ranges its lists
    gained only in 2024 (CVE-2024-4032)."""
    if ip.version == 6:
        embedded = _embedded_ipv4(ip)
        if embedded:
            return all(is_public_address(address) for address in embedded)
        if ip not in _IPV6_GLOBAL_UNICAST:  # e.g. site-local fec0::/10, multicast ff00::/8
            return False
    return ip.is_global and not ip.is_multicast and not any(ip in n for n in _NOT_GLOBAL)


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Talks to `host` (Host header) at addresses resolved and checked beforehand; expire() cuts
    it off when the request's time is up."""

    def __init__(self, host: str, port: int, *, addresses: list[str], timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses
        self.expired = False
        self._fd = None  # the connected socket's descriptor, kept across the TLS wrapping
        self._lock = threading.Lock()

    def _pinned_socket(self) -> socket.socket:
        error = OSError("no address to connect to")
        for address in self.addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                # The address itself: socket.create_connection would resolve the name again.
                sock.connect((address, self.port))
            except OSError as failed:
                sock.close()
                error = failed
                continue
            with self._lock:
                if self.expired:
                    sock.close()
                    raise TimeoutError("connecting took the request's whole time")
                self._fd = sock.fileno()
            return sock
        raise error

    def connect(self):
        self.sock = self._pinned_socket()

    def expire(self) -> None:
        """Shut the connection down: each read has a timeout, but a server trickling its answer
        a byte at a time would otherwise hold the worker for as long as it liked."""
        with self._lock:
            self.expired = True
            if self._fd is None:
                return
            cut = socket.socket(fileno=self._fd)
            try:
                cut.shutdown(socket.SHUT_RDWR)  # wakes a blocked read, TLS or not
            except OSError:
                pass
            finally:
                cut.detach()  # the descriptor stays the connection's to close

    def close(self):
        with self._lock:
            self._fd = None
            super().close()


class PinnedHTTPSConnection(PinnedHTTPConnection):
    default_port = http.client.HTTPS_PORT  # left out of the Host header

    def connect(self):
        # SNI and the certificate check use the host's name, never the pinned address.
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self._pinned_socket(), server_hostname=self.host)


@contextmanager
def pinned_connection(
    url: str, addresses: list[str], *, name: str, timeout_s: float
) -> Iterator[tuple[PinnedHTTPConnection, str]]:
    """A connection to `url`'s host at `addresses` (from public_addresses) and the request path,
    cut off `timeout_s` after it opens: a reply cut short can still parse, so callers check
    `connection.expired` before trusting one."""
    parts = urlsplit(url)
    host, port = target(url, name=name)
    kind = PinnedHTTPSConnection if parts.scheme == "https" else PinnedHTTPConnection
    connection = kind(host, port, addresses=addresses, timeout=timeout_s)
    deadline = threading.Timer(timeout_s, connection.expire)
    deadline.start()
    try:
        yield connection, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    finally:
        deadline.cancel()
        connection.close()


class FetchFailed(FormTrackError):
    """A remote file could not be fetched: `reason` says why (shown to the client, with no
    address of ours), `too_large` when it was over the limit."""

    def __init__(self, reason: str, *, too_large: bool = False):
        super().__init__("fetch_failed", reason, 502)
        self.reason = reason
        self.too_large = too_large


@dataclass(frozen=True)
class Fetched:
    url: str  # the last one, after redirects
    size_bytes: int


def fetch(
    url: str,
    out,
    *,
    name: str,
    max_bytes: int,
    timeout_s: float,
    user_agent: str,
    max_redirects: int = 3,
) -> Fetched:
    """GET `url` into the binary file `out`, following at most `max_redirects` redirects, each
    checked as a new request. Everything (redirects included) must end within `timeout_s`.

    Raises AddressRefused (a URL or redirect to a private address), FetchFailed (anything else:
    DNS, connection, TLS, HTTP status, time, more than max_bytes).
    """
    end = time.monotonic() + timeout_s
    for _ in range(max_redirects + 1):
        location = _get(url, out, name, max_bytes, end, timeout_s, user_agent)
        if location is None:
            return Fetched(url, out.tell())
        url = urljoin(url, location)
    raise FetchFailed(f"more than {max_redirects} redirects")


def _get(url, out, name, max_bytes, end, timeout_s, user_agent) -> str | None:
    """One request, within what is left of the time until `end`: None once the body is in
    `out`, or the Location of a redirect."""
    late = FetchFailed(f"no answer within {timeout_s:g} s")
    try:
        addresses = public_addresses(url, name=name)
    except OSError as error:
        raise FetchFailed(f"its host does not resolve ({error.strerror or error})") from error
    left = end - time.monotonic()
    if left <= 0:
        raise late
    with pinned_connection(url, addresses, name=name, timeout_s=left) as (connection, path):
        try:
            connection.request("GET", path, headers={"User-Agent": user_agent, "Accept": "*/*"})
            response = connection.getresponse()
            if response.status in _REDIRECTS and response.getheader("Location"):
                return response.getheader("Location")
            if response.status != 200:
                raise FetchFailed(f"HTTP {response.status}")
            length = response.getheader("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FetchFailed(f"{int(length)} bytes", too_large=True)
            out.seek(0)
            out.truncate()
            while chunk := response.read(_CHUNK_BYTES):
                if out.tell() + len(chunk) > max_bytes:
                    raise FetchFailed(f"more than {max_bytes} bytes", too_large=True)
                out.write(chunk)
        except (OSError, http.client.HTTPException) as error:
            # Every read waits at most the time left, so a read that timed out ran out of it.
            if connection.expired or isinstance(error, TimeoutError):
                raise late from error
            # Said without an address: "Connection refused", "RemoteDisconnected"...
            raise FetchFailed(getattr(error, "strerror", None) or type(error).__name__) from error
        if connection.expired:  # a body cut short can still end cleanly
            raise late
    return None
