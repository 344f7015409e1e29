"""Real servers on loopback, for the tests and the benchmarks (bench/ imports this module with the
repository root on sys.path): Daphne as FormTrack runs it (`python -m config.daphne`), Celery
workers and any other process, each waited for until it serves, and all stopped at the end; a
remote media host (`MediaServer`); and `wait_until`, the one way both wait for a condition.

No Django here: a benchmark starts servers without settings of its own. What the tests add for
their database is in tests/processes.py.
"""

import contextlib
import ctypes
import http.server
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60
PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here, not in a forked child


def _own_group_ending_with_us() -> None:
    """In the child before exec: its own process group (stopped with its children), and a SIGTERM
    should the starting process itself be killed, so nothing outlives a run."""
    os.setsid()
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):
    """The first true value of `predicate()`, polled every `interval` s; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def standalone_env(workdir: Path, **overrides: str) -> dict:
    """The environment of a server of its own: a fresh SQLite file and media folder in `workdir`,
    and no Redis (in-memory channels, in-process jobs), whatever the caller itself runs on."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return env | {
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "MEDIA_ROOT": str(workdir / "media"),
        **overrides,
    }


def manage(env: dict, *args: str) -> str:
    """Run a management command (e.g. `migrate`) in `env`; its standard output."""
    return subprocess.run(  # noqa: S603 - our own management command
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


class Processes:
    """Starts processes with their logs in a folder; `close()` stops every one still running and
    prints the end of each log (which pytest shows when a test failed)."""

    def __init__(self, log_dir: Path, base_env: dict):
        self.log_dir = log_dir
        self.base_env = base_env
        self.started: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - our own commands, fixed arguments
                args,
                cwd=ROOT,
                env={**self.base_env, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_own_group_ending_with_us,
            )
        self.started.append((name, process, log_path))
        return process

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def daphne(
        self,
        name: str,
        port: int,
        env: dict | None = None,
        *,
        options: tuple[str, ...] = (),
        module: str = "config.daphne",
    ) -> subprocess.Popen:
        """FormTrack's server on 127.0.0.1:`port`; returns once it accepts connections (Daphne
        loads the application before it listens). `options` go to Daphne (e.g. ("-v", "0")); the
        `module` is Daphne as installed only where a benchmark compares the two."""
        process = self.start(
            name,
            [sys.executable, "-m", module, *options, "-b", "127.0.0.1", "-p", str(port)]
            + ["config.asgi:application"],
            env,
        )
        self._wait_for_start(
            name, process, lambda: port_open(port), f"{name} to listen on port {port}"
        )
        return process

    def celery_worker(
        self, name: str, queue: str, env: dict | None = None, loglevel: str = "INFO"
    ) -> subprocess.Popen:
        """A worker named `name@<host>` on one queue; returns once it is consuming. Its readiness
        is the " ready." line Celery logs at INFO, so `loglevel` is INFO or DEBUG."""
        process = self.start(
            name,
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"]
            + [f"--loglevel={loglevel}", "-Q", queue, "-n", f"{name}@%h"]
            + ["--without-heartbeat", "--without-gossip", "--without-mingle"],
            env,
        )
        self._wait_for_start(
            name, process, lambda: " ready." in self.log(name), f"{name} to be ready"
        )
        return process

    def _wait_for_start(self, name: str, process: subprocess.Popen, ready, what: str) -> None:
        wait_until(lambda: ready() or process.poll() is not None, START_TIMEOUT_S, what)
        assert process.poll() is None, f"{name} exited at start-up:\n{self.log(name)[-3000:]}"

    def close(self) -> None:
        for _, process, _ in reversed(self.started):
            stop(process)
        for name, _, _ in self.started:
            print(f"----- {name} (end of log)\n{self.log(name)[-4000:]}")


def stop(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `timeout`."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=timeout)


class LoopbackHTTPServer:
    """An HTTP server of a test's own on a loopback address, served by a thread while in its
    `with` block. `handler` answers, and records what it was sent in `requests`; with `hang` set,
    it may hold requests until the event is set, as it is when the server stops."""

    def __init__(self, handler, host: str = "127.0.0.1", hang: threading.Event | None = None):
        self.requests: list[dict] = []
        self.hang = hang
        self.server = http.server.ThreadingHTTPServer((host, 0), handler)
        self.port = self.server.server_port
        # shutdown() returns once the serving loop has seen it: every 10 ms, not the default 0.5 s.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.hang is not None:
            self.hang.set()
        self.server.shutdown()
        self.server.server_close()


class MediaServer(LoopbackHTTPServer):
    """A remote media host on loopback (the upload page's videoSrc and imageSrc): serves `routes`
    (path -> (status, headers, body)) on `host`, records each request; with `hang` set, holds
    every request until it is set (or the server stops). A body sent without Content-Length ends
    when the connection closes (HTTP/1.0)."""

    def __init__(self, routes: dict, host: str = "127.0.0.1", hang: threading.Event | None = None):
        self.routes = routes
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                server.requests.append({"path": self.path, "headers": dict(self.headers)})
                if server.hang is not None:
                    server.hang.wait(30)
                status, headers, body = server.routes.get(self.path, (404, {}, b""))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(Handler, host, hang)

    def url(self, path: str) -> str:
        host = self.server.server_address[0]
        return f"http://{host}:{self.port}{path}"


def nginx_config(
    tmp_path: Path, listen_port: int, upstream_ports: list[int], static_root: Path | None = None
) -> Path:
    """deploy/nginx.conf as shipped, but on a loopback port without TLS, in a private prefix.
    `static_root`: where it serves /static/ from, instead of the shipped path."""
    shipped = (ROOT / "deploy" / "nginx.conf").read_text()
    (tmp_path / "logs").mkdir(parents=True)
    upstreams = tmp_path / "formtrack-upstream.conf"
    upstreams.write_text("".join(f"server 127.0.0.1:{port};\n" for port in upstream_ports))
    head = shipped[: shipped.index("server {\n    listen 80;")]
    head = head.replace("/etc/nginx/formtrack-upstream.conf", str(upstreams))
    site = shipped[shipped.index("server {\n    listen 443 ssl;") :]
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{listen_port};")
    site = site.replace("/var/log/nginx/", f"{tmp_path}/logs/")
    if static_root is not None:
        site = site.replace("/srv/formtrack/staticfiles/", f"{static_root}/")
    site = "\n".join(
        line for line in site.splitlines() if "ssl_certificate" not in line and "http2" not in line
    )
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"user root; daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/logs/error.log;\n"
        "events {}\n"
        f"http {{ include /etc/nginx/mime.types; access_log {tmp_path}/logs/access.log;\n"
        f"client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;\n"
        f"{head}\n{site}\n}}\n"
    )
    return config


def production_settings() -> dict[str, str]:
    """Settings as production runs (DJANGO_DEBUG=False, which the server refuses to start with
    development secrets): no debug bookkeeping, such as Django's log of every SQL query."""
    return {
        "DJANGO_DEBUG": "False",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EMAIL_URL": "smtp+tls://bench@127.0.0.1:587",  # never used
    }
