"""Requests the application must never see are refused by the server before it reads them, against
a real Daphne (`python -m config.daphne`, as every deployment runs it):

- a body over REQUEST_BODY_MAX_BYTES gets 413 `payload_too_large` at once, from its Content-Length
  (even 10^15) or, chunked, as it streams past the limit; the connection closes without the rest
  being read, and no token is looked at first;
- other requests are answered meanwhile (the refused bodies are never parsed or buffered);
- a request line over 16 KB gets 414, a header over 16 KB 431, instead of a dropped connection.

The server runs with an 8 MiB upload limit, so a limit-passing body is quick to send.
"""

import contextlib
import json
import os
import socket
import threading
import time
import uuid

import pytest

from tests.processes import Processes, http
from tests.support.servers import free_port

UPLOAD_MAX_BYTES = 8 * 1024 * 1024
BODY_LIMIT = UPLOAD_MAX_BYTES + 1024 * 1024  # settings.REQUEST_BODY_MAX_BYTES
MIB = 1024 * 1024
HEAD_TIMEOUT_S = 2  # settings.REQUEST_HEAD_TIMEOUT_S, short for the tests (30 s by default)

pytestmark = pytest.mark.slow  # every test talks to a real server


@pytest.fixture(scope="module")
def server(tmp_path_factory, django_db_setup, django_db_blocker):
    """Base URL and port of one Daphne with an 8 MiB upload limit; stopped at the end."""
    workdir = tmp_path_factory.mktemp("request-limits")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "MEDIA_ROOT": str(workdir / "media"),
        "UPLOAD_MAX_BYTES": str(UPLOAD_MAX_BYTES),
        "RATE_LIMIT_IP_PER_MIN": "0",  # the tests below send many requests from one address
        "REQUEST_HEAD_TIMEOUT_S": str(HEAD_TIMEOUT_S),
    }
    processes = Processes(workdir, base_env=env)
    try:
        port = free_port()
        processes.daphne("daphne", port)
        yield f"http://127.0.0.1:{port}", port
    finally:
        with django_db_blocker.unblock():  # closing looks for database sessions left behind
            processes.close()


class RawExchange:
    """One HTTP/1.1 request written by hand on a socket, its answer read by a thread as it comes
    (a server may answer, and close, while the body is still being sent)."""

    def __init__(self, port: int, head: str):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.received = b""
        self.closed = threading.Event()
        self.answered = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        self.sent = 0
        self.head_size = len(head) + head.count("\n")  # with CRLF line ends
        self.send(head.replace("\n", "\r\n").encode())

    def _read(self):
        with contextlib.suppress(OSError):
            while chunk := self.sock.recv(65536):
                self.received += chunk
                if b"\r\n\r\n" in self.received:
                    self.answered.set()
        self.answered.set()
        self.closed.set()

    def send(self, data: bytes) -> bool:
        """False once the server no longer takes data (it closed the connection)."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        self.sent += len(data)
        return True

    def response(self, timeout: float) -> tuple[int, dict]:
        """(status, JSON body) once the whole answer is in and the server closed."""
        assert self.closed.wait(timeout), (
            f"no answer and close within {timeout} s: {self.received!r}"
        )
        head, _, body = self.received.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), json.loads(body)

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()


def request_head(method: str, path: str, *headers: str) -> str:
    return "\n".join([f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers]) + "\n\n"


def multipart_head(size: int, boundary: str) -> str:
    """An upload as a browser posts it, `size` bytes in all, without a token."""
    return request_head(
        "POST",
        "/api/v1/uploads",
        f"Content-Type: multipart/form-data; boundary={boundary}",
        f"Content-Length: {size}",
    )


def multipart_body(size: int, boundary: str):
    """`size` bytes of a multipart body (one file part of zeros), in 1 MiB pieces."""
    start = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    end = f"\r\n--{boundary}--\r\n".encode()
    yield start
    left = size - len(start) - len(end)
    while left > 0:
        piece = min(left, MIB)
        yield bytes(piece)
        left -= piece
    yield end


def test_a_declared_content_length_of_10_15_is_refused_at_once(server):
    _, port = server
    started = time.monotonic()
    exchange = RawExchange(
        port,
        request_head(
            "POST",
            "/api/v1/uploads",
            "Content-Type: multipart/form-data; boundary=x",
            f"Content-Length: {10**15}",
        ),
    )
    status, body = exchange.response(timeout=10)
    elapsed = time.monotonic() - started
    assert status == 413
    assert body["type"] == "error" and body["code"] == "payload_too_large"
    assert "9 MB" in body["message"]
    assert elapsed < 2, f"answered after {elapsed:.1f} s"  # generous: it takes milliseconds


def test_a_chunked_body_streamed_past_the_limit_is_cut_off_without_being_read(server):
    _, port = server
    exchange = RawExchange(
        port, request_head("POST", "/api/v1/uploads", "Transfer-Encoding: chunked")
    )
    chunk = b"%x\r\n" % MIB + bytes(MIB) + b"\r\n"
    offered = 256 * MIB  # what the client would send if nothing stopped it
    while exchange.sent < offered and not exchange.closed.is_set() and exchange.send(chunk):
        pass
    status, body = exchange.response(timeout=10)
    assert status == 413 and body["code"] == "payload_too_large"
    # The server stopped reading just past the limit: what went beyond is at most what loopback
    # socket buffers hold, far from the 256 MiB offered.
    assert exchange.sent < BODY_LIMIT + 32 * MIB, f"{exchange.sent / MIB:.0f} MiB sent"


def test_a_body_within_the_limit_still_reaches_the_application(server):
    _, port = server
    boundary = uuid.uuid4().hex
    size = UPLOAD_MAX_BYTES - MIB
    exchange = RawExchange(port, multipart_head(size, boundary))
    for piece in multipart_body(size, boundary):
        assert exchange.send(piece)
    assert exchange.answered.wait(30)
    exchange.close()
    head = exchange.received.partition(b"\r\n\r\n")[0]
    assert head.startswith(b"HTTP/1.1 401"), head  # Django's answer: no token


def test_other_requests_are_answered_while_big_bodies_are_posted(server):
    base_url, port = server
    stop = threading.Event()
    refused = []

    def post_big_bodies():
        # As the attack: 128 MiB multipart uploads with no token, one after another.
        while not stop.is_set():
            boundary = uuid.uuid4().hex
            exchange = RawExchange(port, multipart_head(128 * MIB, boundary))
            for piece in multipart_body(128 * MIB, boundary):
                if not exchange.send(piece):
                    break
            refused.append(exchange.response(timeout=60)[0])
            exchange.close()

    # Meanwhile a legitimate upload is in flight, sent slowly.
    boundary = uuid.uuid4().hex
    slow = RawExchange(port, multipart_head(4 * MIB, boundary))
    slow_body = b"".join(multipart_body(4 * MIB, boundary))
    attacker = threading.Thread(target=post_big_bodies, daemon=True)
    attacker.start()
    latencies = []
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            started = time.monotonic()
            status, _, _ = http("GET", f"{base_url}/api/v1/me")
            latencies.append(time.monotonic() - started)
            assert status == 401
            assert slow.send(slow_body[slow.sent - slow.head_size :][: 16 * 1024])
            time.sleep(0.05)  # the legitimate upload's slow pace, and a GET every 50 ms
    finally:
        stop.set()
        attacker.join(timeout=60)
    # Generous against the milliseconds a GET takes: a server parsing the bodies stalls seconds.
    assert max(latencies) < 1.5, f"slowest GET {max(latencies):.2f} s of {len(latencies)}"
    assert refused and set(refused) == {413}, refused
    assert slow.send(slow_body[slow.sent - slow.head_size :])
    assert slow.answered.wait(30)
    assert slow.received.startswith(b"HTTP/1.1 401"), slow.received[:200]  # Django's: no token
    print(f"{len(refused)} big posts refused; GETs: {len(latencies)}, max {max(latencies):.3f} s")


def test_a_request_line_over_16_kb_is_answered_414(server):
    _, port = server
    exchange = RawExchange(port, request_head("GET", "/api/v1/me?q=" + "a" * 20_000))
    status, body = exchange.response(timeout=10)
    assert status == 414 and body["code"] == "uri_too_long"


def test_a_header_over_16_kb_is_answered_431(server):
    _, port = server
    exchange = RawExchange(port, request_head("GET", "/api/v1/me", "X-Big: " + "a" * 20_000))
    status, body = exchange.response(timeout=10)
    assert status == 431 and body["code"] == "header_too_large"


def test_a_request_head_trickled_byte_by_byte_is_answered_408_at_its_deadline(server):
    """Slowloris: Twisted's idle timeout restarts with every byte, so a head sent a byte at a time
    (the attack: one every 50 s) held its connection for good."""
    _, port = server
    started = time.monotonic()
    exchange = RawExchange(port, "GET /api/v1/me HTTP/1.1\nHost: 127.0.0.1\nX-Slow: ")
    while time.monotonic() - started < HEAD_TIMEOUT_S + 5 and not exchange.closed.wait(0.2):
        exchange.send(b"a")
    status, body = exchange.response(timeout=1)
    elapsed = time.monotonic() - started
    assert status == 408 and body["code"] == "request_timeout" and body["message"]
    assert HEAD_TIMEOUT_S <= elapsed < HEAD_TIMEOUT_S + 1.5, f"answered after {elapsed:.1f} s"


def test_heads_sent_in_pieces_in_time_and_keep_alive_connections_idle_past_it_are_served(server):
    """The deadline runs from a request's first byte: a connection kept alive between requests
    is idle for as long as Twisted's idle timeout allows."""
    _, port = server
    head = request_head("GET", "/api/v1/me").replace("\n", "\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        for request in range(2):
            if request:
                time.sleep(HEAD_TIMEOUT_S + 0.5)  # idle between requests, past the deadline
            connection.sendall(head[:20])
            time.sleep(HEAD_TIMEOUT_S / 2)  # the rest of the head within the deadline
            connection.sendall(head[20:])
            answer = b""
            while b"}" not in answer:  # the end of the JSON body of Django's 401
                chunk = connection.recv(65536)
                assert chunk, f"closed after {answer[:200]!r}"
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 401"), (request, answer[:200])
