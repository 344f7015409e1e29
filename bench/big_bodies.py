"""Big request bodies against a real server: what one multipart POST with no token costs (time to
its answer, the server's peak memory) and how long other requests wait meanwhile.

Starts `python -m config.daphne` (or, with --plain, Daphne as installed, without FormTrack's
request limits) on a free port with a fresh SQLite database and the default limits, posts
--megabytes of multipart upload without a token, and sends a GET every 50 ms throughout.

    .venv/bin/python bench/big_bodies.py [--megabytes 250] [--plain]
"""

import argparse
import contextlib
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import Processes, free_port, standalone_env  # noqa: E402

MIB = 1024 * 1024


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def post_without_token(port: int, megabytes: int) -> tuple[str, float]:
    """The status line of the answer and the seconds until it came."""
    boundary = "benchboundary"
    start = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    end = f"\r\n--{boundary}--\r\n".encode()
    size = megabytes * MIB
    head = (
        f"POST /api/v1/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {size}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n"
    ).encode()
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        try:
            sock.sendall(head + start)
            left = size - len(start) - len(end)
            while left > 0:
                sock.sendall(bytes(min(left, MIB)))
                left -= MIB
            sock.sendall(end)
        except OSError:
            pass  # the server answered and closed before taking it all
        answer = sock.recv(4096)
    return answer.split(b"\r\n", 1)[0].decode(), time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=250)
    parser.add_argument("--plain", action="store_true", help="Daphne without FormTrack's limits")
    args = parser.parse_args()

    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="formtrack-bench-bodies-"))
    env = standalone_env(workdir, RATE_LIMIT_IP_PER_MIN="0")
    module = "daphne" if args.plain else "config.daphne"
    stack = Processes(workdir, base_env=env)
    try:
        server = stack.daphne("server", port, module=module)
        url = f"http://127.0.0.1:{port}/api/v1/me"
        latencies, done = [], threading.Event()

        def get_meanwhile():
            while not done.is_set():
                began = time.monotonic()
                try:
                    urllib.request.urlopen(url, timeout=120)  # noqa: S310 - loopback
                except urllib.error.HTTPError:
                    pass  # 401: no token, answered
                latencies.append(time.monotonic() - began)
                time.sleep(0.05)  # the pace of the measuring GETs, not a wait for anything

        with contextlib.suppress(urllib.error.HTTPError):  # Django's first request loads it all
            urllib.request.urlopen(url, timeout=60)  # noqa: S310 - loopback
        get_meanwhile_thread = threading.Thread(target=get_meanwhile)
        baseline_rss = peak_rss_mb(server.pid)
        get_meanwhile_thread.start()
        status, seconds = post_without_token(port, args.megabytes)
        time.sleep(1)  # GETs after the answer too, while the server may still be busy
        done.set()
        get_meanwhile_thread.join()
        print(f"server: {module}; POST {args.megabytes} MB multipart, no token")
        print(f"answer: {status} after {seconds:.2f} s")
        print(f"server peak RSS: {peak_rss_mb(server.pid):.0f} MB (before: {baseline_rss:.0f} MB)")
        print(f"GETs meanwhile: {len(latencies)}, slowest {max(latencies) * 1000:.0f} ms")
    finally:
        stack.close()


if __name__ == "__main__":
    main()
