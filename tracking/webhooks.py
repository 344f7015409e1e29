"""Upload callbacks: one POST of an upload's outcome to its callback_url, retried with backoff.

Each attempt resolves the host once, refuses it unless every address is public, and connects to
that exact address (so a DNS answer that changes between the check and the connection cannot
point it inside our network), with the host's name in the Host header and, over https, in SNI and
the certificate check. Redirects are never followed. Requests are signed the Standard Webhooks way
(https://www.standardwebhooks.com/) and with the older X-FormTrack-Signature header.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from tracking.models import Upload

# While an attempt is in flight its delivery is not due; a worker that died mid-attempt leaves
# it due again after this long (requeue_uploads then queues it).
ATTEMPT_LEASE = datetime.timedelta(minutes=5)
# A retry queued with a countdown may start a little before the stored due time on a worker
# whose clock is slightly behind.
CLOCK_SLACK = datetime.timedelta(seconds=2)
USER_AGENT = "FormTrack-Webhooks/1"
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


class CallbackRefused(Exception):
    """The callback URL may never be called (not http(s), or not a public address)."""

    def __init__(self, message: str, address: str = ""):
        super().__init__(message)
        self.message = message
        self.address = address  # recorded, never told to the uploader (no map of our network)


def _target(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port out of range
        port = None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
        raise CallbackRefused("callback_url must be an http(s) URL.")
    return parts.hostname, port


def callback_url_check(url: str) -> None:
    """Refuse at upload time a callback that could not be sent now. Every attempt checks again:
    what a name resolves to may change in between."""
    _target(url)
    if not settings.CALLBACK_ALLOW_PRIVATE_HOSTS:
        callback_addresses(url)


def callback_addresses(url: str) -> list[str]:
    """The addresses `url`'s host resolves to now, once. Raises CallbackRefused unless every one
    is public (or CALLBACK_ALLOW_PRIVATE_HOSTS is set), OSError when the host does not resolve."""
    host, port = _target(url)
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not settings.CALLBACK_ALLOW_PRIVATE_HOSTS:
        for address in addresses:
            if not is_public_address(ipaddress.ip_address(address.split("%")[0])):
                raise CallbackRefused(
                    "callback_url must point at a public address.", address=address
                )
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


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks `webhook-signature`: HMAC-SHA256 of "id.timestamp.body" keyed with
    the base64-decoded part of the whsec_ secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def callback_body(upload: Upload) -> bytes:
    return json.dumps(
        {
            "type": "upload_finished",
            "uploadId": str(upload.id),
            "status": upload.status,
            "summary": upload.summary,
            "error": {"code": upload.error_code, "message": upload.error_message}
            if upload.error_code
            else None,
        }
    ).encode()


def callback_headers(upload: Upload, body: bytes) -> dict:
    secret = upload.organization.webhook_secret
    # One id per upload: a receiver that sees it again knows it is a retry of the same event.
    msg_id = f"msg_{upload.pk.hex}"
    timestamp = int(time.time())
    legacy = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body),
        "X-FormTrack-Signature": f"sha256={legacy}",
    }


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Talks to `host` (Host header) at addresses resolved and checked beforehand; expire() cuts
    it off when the attempt's time is up."""

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
                    raise TimeoutError("connecting took the attempt's whole time")
                self._fd = sock.fileno()
            return sock
        raise error

    def connect(self):
        self.sock = self._pinned_socket()

    def expire(self) -> None:
        """Shut the connection down: each read has a timeout, but a receiver trickling its answer
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


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = http.client.HTTPS_PORT  # left out of the Host header

    def connect(self):
        # SNI and the certificate check use the host's name, never the pinned address.
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self._pinned_socket(), server_hostname=self.host)


@dataclass(frozen=True)
class Outcome:
    status: str  # recorded as callback_status
    delivered: bool = False
    refused: bool = False
    retry: bool = False  # worth trying again later


def _attempt(upload: Upload) -> Outcome:
    try:
        addresses = callback_addresses(upload.callback_url)
    except CallbackRefused as refused:
        reason = (
            f"{refused.address} is not a public address" if refused.address else refused.message
        )
        return Outcome(f"refused: {reason}", refused=True)
    except OSError as error:  # DNS down or the name gone: may come back
        return Outcome(f"host did not resolve ({error})", retry=True)
    parts = urlsplit(upload.callback_url)
    host, port = _target(upload.callback_url)
    https = parts.scheme == "https"
    connection = (_PinnedHTTPSConnection if https else _PinnedHTTPConnection)(
        host, port, addresses=addresses, timeout=settings.CALLBACK_TIMEOUT_S
    )
    body = callback_body(upload)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = threading.Timer(settings.CALLBACK_TIMEOUT_S, connection.expire)
    deadline.start()
    failure = ""
    try:
        connection.request("POST", path, body=body, headers=callback_headers(upload, body))
        # Only the status is used: the receiver's body is never read.
        code = connection.getresponse().status
    except (OSError, http.client.HTTPException) as error:  # timeouts, resets, TLS, bad replies
        failure = f"{type(error).__name__}: {error}"
    finally:
        deadline.cancel()
        connection.close()
    if connection.expired:  # a reply cut short can still parse: its status says nothing
        return Outcome(f"timed out after {settings.CALLBACK_TIMEOUT_S:g} s", retry=True)
    if failure:
        return Outcome(failure, retry=True)
    if 200 <= code < 300:
        return Outcome(f"delivered: HTTP {code}", delivered=True)
    if 300 <= code < 400:
        return Outcome(f"HTTP {code}: redirects are not followed")
    # A server error, a timeout (408) or "slow down" (429) may pass; any other client error (a
    # wrong URL, a signature refused) will not.
    return Outcome(f"HTTP {code}", retry=code >= 500 or code in (408, 429))


def upload_callback_deliver(*, upload_id) -> float | None:
    """Make the upload's callback attempt if one is due, and record its outcome.

    Returns the seconds until the next attempt (a retry), or None when there is none: delivered,
    given up, or nothing was due (e.g. a second copy of the task).
    """
    now = timezone.now()
    claimed = (
        Upload.objects.filter(pk=upload_id, callback_next_attempt_at__lte=now + CLOCK_SLACK)
        .exclude(callback_url="")
        .update(
            callback_attempts=F("callback_attempts") + 1,
            callback_last_attempt_at=now,
            callback_next_attempt_at=now + ATTEMPT_LEASE,
        )
    )
    if not claimed:
        return None
    upload = Upload.objects.select_related("organization").filter(pk=upload_id).first()
    if upload is None:  # deleted meanwhile
        return None
    outcome = _attempt(upload)
    schedule = settings.CALLBACK_RETRY_SCHEDULE_S
    retry_in = None
    if outcome.retry and upload.callback_attempts <= len(schedule):
        retry_in = float(schedule[upload.callback_attempts - 1])
        status = f"retrying: {outcome.status}"
    elif outcome.delivered or outcome.refused:
        status = outcome.status
    else:
        status = f"failed after {upload.callback_attempts} attempt(s): {outcome.status}"
    Upload.objects.filter(pk=upload_id).update(
        callback_status=status[:200],
        callback_next_attempt_at=timezone.now() + datetime.timedelta(seconds=retry_in)
        if retry_in is not None
        else None,
    )
    return retry_in
