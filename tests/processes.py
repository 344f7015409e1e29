"""Real processes on loopback for the fault and scale-out tests, beyond the servers of
tests/support/servers.py: a private Redis that can be restarted, a TCP proxy that can cut the way to
PostgreSQL, a small WebSocket and HTTP client, and the test database's URL for a server process.

Every process is started through a `Processes` stack, which stops them all at the end of the test,
whatever happened, and prints the end of their logs (shown by pytest when the test failed).
"""

import base64
import contextlib
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.db import connection

from tests.support import servers
from tests.support.servers import ROOT, free_port, port_open, stop, wait_until


def server_database_url(host: str | None = None, port: int | None = None) -> str:
    """DATABASE_URL of pytest-django's test database, for a server process: PostgreSQL's by name
    (optionally via another host and port), or SQLite's file (an in-memory database is invisible
    to another process: tests/browser/conftest.py makes it a file)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            raise RuntimeError("a server process needs a file SQLite test database")
        return f"sqlite:///{Path(name).resolve()}"
    host = host or db["HOST"] or "127.0.0.1"
    port = port or db["PORT"] or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


class Processes(servers.Processes):
    """servers.Processes on the test database: closing also waits until the stopped processes'
    database sessions are gone (hence the tests' `django_db` marks)."""

    def close(self) -> None:
        super().close()
        wait_for_other_sessions_to_end()


def wait_for_other_sessions_to_end(timeout: float = 15) -> None:
    """PostgreSQL: until the stopped processes' sessions are gone, so that the test database can
    be flushed and dropped."""
    if connection.vendor != "postgresql":
        return

    def others() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return cursor.fetchone()[0]

    with contextlib.suppress(AssertionError):
        wait_until(lambda: others() == 0, timeout, "the other database sessions to end")


def seeded_sqlite(directory: Path) -> tuple[str, dict[str, str]]:
    """A SQLite file of its own for a server, migrated and with the demo organisation
    (`manage.py seed_demo`), whatever database the tests run on: its DATABASE_URL and the keys
    seed_demo printed (DEMO_TOKEN, DEMO_PUBLISHABLE_KEY)."""
    url = f"sqlite:///{directory / 'seeded.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env | {"DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
    keys = dict(
        line.split("=", 1) for line in result.stdout.splitlines() if line.startswith("DEMO_")
    )
    return url, keys


# --- A private Redis ------------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of the test's own on a free loopback port, keeping nothing on disk."""

    def __init__(self, processes: Processes, name: str = "redis"):
        self.processes = processes
        self.name = name
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = self.processes.start(
            self.name,
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.processes.log_dir)],
        )
        wait_until(self.ping, 20, f"{self.name} on port {self.port}")

    def ping(self) -> bool:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock,
        ):
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        return False

    def stop(self) -> None:
        stop(self.process)
        wait_until(lambda: not port_open(self.port), 10, f"{self.name} to stop")


# --- A TCP proxy that can cut the way to a server -------------------------------------------------


class TcpProxy:
    """Forwards a loopback port to a target. `cut()` refuses new connections and resets open ones
    (as when a database host goes away); `restore()` forwards again on the same port."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.port = free_port()
        self.listener = None
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()

    def restore(self) -> None:
        self.cut()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    start = restore

    def stall(self) -> None:
        """Accept connections but pass nothing on, as a host that stopped answering."""
        self.cut()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener

    def cut(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self.lock:
            sockets, self.sockets = self.sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                # Both ends see their connection drop (shutdown also wakes the pump blocked on it;
                # a bare close would not, and would leave the connection open underneath).
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RDWR)

    close = cut

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


# --- HTTP and WebSocket clients -------------------------------------------------------------------


def http(method: str, url: str, *, data: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) of one request; errors are answers too."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def post_upload(base_url: str, token: str, path: Path, **fields) -> tuple[int, dict]:
    """POST a file to /api/v1/uploads as multipart form data; (status, JSON body)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + path.read_bytes()
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    status, _, content = http(
        "POST",
        f"{base_url}/api/v1/uploads",
        data=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    return status, json.loads(content)


class WebSocketRefused(Exception):
    def __init__(self, status: int):
        super().__init__(f"handshake answered {status}")
        self.status = status


class Closed:
    def __init__(self, code: int | None):
        self.code = code

    def __repr__(self):
        return f"Closed({self.code})"


class WebSocket:
    """A minimal blocking RFC 6455 client: JSON text messages in and out, close codes."""

    def __init__(self, url: str, headers: dict | None = None, timeout: float = 10):
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [
            f"GET {target} HTTP/1.1",
            f"Host: {parts.hostname}:{parts.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise WebSocketRefused(0)
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status = int(head.split(b" ", 2)[1])
        if status != 101:
            self.sock.close()
            raise WebSocketRefused(status)
        self.closed: Closed | None = None
        self.pongs: list[bytes] = []  # payloads of the pongs received so far

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("connection closed without a close frame")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _send(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        size = len(payload)
        if size < 126:
            header += bytes([0x80 | size])
        elif size < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", size)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", size)
        mask = os.urandom(4)
        # XOR as two big integers: a JPEG frame of megabytes is masked at C speed.
        masked = int.from_bytes(payload, "little") ^ int.from_bytes(
            (mask * (size // 4 + 1))[:size], "little"
        )
        self.sock.sendall(header + mask + masked.to_bytes(size, "little"))

    def send_json(self, message: dict) -> None:
        self._send(0x1, json.dumps(message).encode())

    def send_text(self, text: str) -> None:
        self._send(0x1, text.encode())

    def send_bytes(self, data: bytes) -> None:
        self._send(0x2, data)

    def send_ping(self, payload: bytes = b"") -> None:
        self._send(0x9, payload)

    def receive(self, timeout: float = 10):
        """The next JSON message, or Closed(code) once the server closed the socket."""
        if self.closed:
            return self.closed
        self.sock.settimeout(timeout)
        while True:
            first, second = self._read(2)
            opcode, size = first & 0x0F, second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._read(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(size)
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                with contextlib.suppress(OSError):
                    self._send(0x8, payload[:2])
                self.sock.close()
                self.closed = Closed(code)
                return self.closed
            if opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0xA:
                self.pongs.append(payload)
            elif opcode == 0x1:
                return json.loads(payload)

    def receive_until(self, predicate, timeout: float = 20) -> list:
        """Messages up to the first one `predicate` accepts (or the close); all of them."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"nothing matched in {timeout} s; got {seen[-5:]}")
            message = self.receive(timeout=left)
            seen.append(message)
            if isinstance(message, Closed) or predicate(message):
                return seen

    def close(self, code: int = 1000) -> None:
        if self.closed:
            return
        with contextlib.suppress(OSError):
            self._send(0x8, struct.pack("!H", code))
            self.sock.close()
        self.closed = Closed(code)

    def drop(self) -> None:
        """Reset the connection, without a close frame: a client that vanished."""
        if not self.closed:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()
            self.closed = Closed(None)


def tracking_socket(base_ws: str, token: str, **params) -> WebSocket:
    """A live session as the tracking page opens it (from the server's own origin)."""
    query = urlencode({"token": token, **params})
    origin = "http://" + urlsplit(base_ws).netloc
    return WebSocket(f"{base_ws}/ws/pose_tracker/tracking?{query}", headers={"Origin": origin})


def stream_frames(ws: WebSocket, messages) -> list:
    """Send each frame and wait for its ack (as a paced client does); every event received."""
    events = []
    for message in messages:
        ws.send_json(message)
        events += ws.receive_until(lambda e: e.get("type") == "ack")
        assert not isinstance(events[-1], Closed), f"session closed: {events[-3:]}"
    return events
