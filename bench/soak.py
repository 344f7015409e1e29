"""Memory of a live server: 1,000 landmark sessions opened and closed, and what a server-inference
session holds, against one real Daphne process with production settings (bench/server.py: a fresh
SQLite database, the demo token; `--redis-url` for the channel layer and cache of production) over
loopback.

- Landmark soak: `--sessions` live sessions (1,000 by default), `--concurrent` at a time, each
  streaming the squat clip's landmarks at 30 fps for `--session-seconds`, then finishing, as
  bench/ws_load.py's sessions do. The server's resident memory (VmRSS) is read once it is idle
  after every `--every` sessions. The growth is given from the first reading (after the first
  sessions made the allocations a process makes once) to the last, and over the second half.
- Server inference: 1 then `--inference-sessions` sessions at once streaming JPEG frames at
  15 fps, each with its own pose estimator: the memory each adds while open, then what is left
  once they are closed; then `--inference-rounds` more rounds of them opened and closed, with the
  memory after each.

Bounded in time: stops (and says so) after `--max-seconds`.

    .venv/bin/python bench/soak.py [--sessions 1000] [--concurrent 50] [--inference-sessions 4]
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.server import Server  # noqa: E402
from bench.ws_load import JpegStream, LandmarkStream, open_session, wait_until_idle  # noqa: E402
from tests.support.servers import production_settings  # noqa: E402


def rss_mb(pid: int) -> float:
    """The process's resident memory now (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def sessions_round(url: str, port: int, stream, fps: float, count: int, seconds: float):
    """`count` sessions opened together, streaming for `seconds`, then finished and closed; the
    number that failed."""
    sessions = await asyncio.gather(
        *(open_session(url, "127.0.0.1", port, stream, fps) for _ in range(count)),
        return_exceptions=True,
    )
    opened = [s for s in sessions if not isinstance(s, BaseException)]
    until = asyncio.get_running_loop().time() + seconds
    results = await asyncio.gather(*(s.run(until) for s in opened), return_exceptions=True)
    return len(sessions) - len(opened) + sum(isinstance(r, BaseException) for r in results)


async def held_sessions(url: str, port: int, stream, fps: float, count: int, seconds: float, pid):
    """`count` sessions streaming together for `seconds`: the server's memory while they are all
    open (read at the end), then they finish and close."""
    sessions = [await open_session(url, "127.0.0.1", port, stream, fps) for _ in range(count)]
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    tasks = [asyncio.create_task(s.run(until)) for s in sessions]
    await asyncio.sleep(max(0.0, until - loop.time() - 0.2))  # the sessions' own length
    open_mb = rss_mb(pid)
    await asyncio.gather(*tasks, return_exceptions=True)
    if any(s.acked == 0 for s in sessions):
        raise RuntimeError("a server-inference session analysed no frame")
    return open_mb


def session_url(server: Server, inference: str) -> str:
    query = urlencode({"token": server.token, "exercise": "squat", "inference": inference})
    return f"ws://127.0.0.1:{server.ports[0]}/ws/pose_tracker/tracking?{query}"


def soak(
    server: Server,
    url: str,
    stream,
    fps: float,
    sessions: int,
    concurrent: int,
    seconds: float,
    every: int,
    deadline: float,
) -> list[tuple[int, float]]:
    """`sessions` sessions, `concurrent` at a time, each streaming for `seconds`: the server's
    memory once idle after every `every` of them (printed as a table, and returned)."""
    pid, port = server.pids[0], server.ports[0]
    print(f"{'sessions':>8} {'RSS MB':>8} {'failed':>7} {'seconds':>8}")
    wait_until_idle([pid])
    print(f"{0:>8} {rss_mb(pid):>8.1f} {0:>7} {0:>8}")
    readings, done, failed, started = [], 0, 0, time.monotonic()
    while done < sessions:
        if time.monotonic() > deadline:
            print(f"stopped at {done} sessions: --max-seconds reached")
            break
        count = min(concurrent, sessions - done)
        failed += uvloop.run(sessions_round(url, port, stream, fps, count, seconds))
        done += count
        if done % every == 0 or done == sessions:
            wait_until_idle([pid])
            readings.append((done, rss_mb(pid)))
            elapsed = time.monotonic() - started
            print(f"{done:>8} {readings[-1][1]:>8.1f} {failed:>7} {elapsed:>8.0f}", flush=True)
    return readings


def landmark_soak(args, server: Server, deadline: float) -> None:
    print(
        f"landmark sessions: {args.sessions} in rounds of {args.concurrent}, each streaming "
        f"{args.session_seconds:g} s at 30 fps; server RSS once idle"
    )
    readings = soak(
        server,
        session_url(server, "browser"),
        LandmarkStream(),
        30.0,
        args.sessions,
        args.concurrent,
        args.session_seconds,
        args.every,
        deadline,
    )
    report("landmark soak", readings)


def inference_memory(args, server: Server, deadline: float) -> None:
    pid, port = server.pids[0], server.ports[0]
    url = session_url(server, "server")
    stream = JpegStream()
    seconds = args.inference_seconds
    print(f"\nserver-inference sessions at 15 fps, {seconds:g} s each; server RSS")
    for count in sorted({1, args.inference_sessions}):
        wait_until_idle([pid])
        idle = rss_mb(pid)
        held = uvloop.run(held_sessions(url, port, stream, 15.0, count, seconds, pid))
        wait_until_idle([pid])
        after = rss_mb(pid)
        print(
            f"{count} open: RSS {idle:.1f} MB idle → {held:.1f} MB open "
            f"(+{(held - idle) / count:.1f} MB per server-inference session) → {after:.1f} MB "
            f"once closed"
        )
    batch = args.inference_sessions
    print(f"then {args.inference_rounds} rounds of {batch} opened and closed")
    readings = soak(
        server, url, stream, 15.0, args.inference_rounds * batch, batch, seconds, batch, deadline
    )
    report("server-inference soak", readings)


def report(what: str, readings: list[tuple[int, float]]) -> None:
    """The growth from the first reading to the last, and over the second half of the run (what a
    process's first sessions allocate for good shows in the first, a leak in both), and the range
    the readings stayed in (an allocator keeps some of what was freed for reuse)."""
    if len(readings) < 3:
        return
    (first_done, first), (last_done, last) = readings[0], readings[-1]
    middle_done, middle = readings[len(readings) // 2]
    values = [rss for _, rss in readings]
    per_session_kb = (last - middle) * 1024 / (last_done - middle_done)
    print(
        f"{what}: RSS {first:.1f} MB after {first_done} sessions → {last:.1f} MB after "
        f"{last_done}: {last - first:+.1f} MB, {last - middle:+.1f} MB over the last "
        f"{last_done - middle_done} ({per_session_kb:+.1f} KB per session); within "
        f"{min(values):.1f}–{max(values):.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--session-seconds", type=float, default=1.0)
    parser.add_argument("--every", type=int, default=100, help="sessions between readings")
    parser.add_argument("--inference-sessions", type=int, default=4)
    parser.add_argument("--inference-seconds", type=float, default=4.0)
    parser.add_argument("--inference-rounds", type=int, default=10)
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument(
        "--redis-url", help="production's channel layer and cache, e.g. redis://…/5"
    )
    args = parser.parse_args()
    if args.every % args.concurrent:
        sys.exit("--every must be a multiple of --concurrent")
    deadline = time.monotonic() + args.max_seconds
    with tempfile.TemporaryDirectory(prefix="formtrack-bench-soak-") as workdir:
        redis = {"REDIS_URL": args.redis_url} if args.redis_url else {}
        server = Server(Path(workdir), processes=1, **production_settings(), **redis)
        try:
            landmark_soak(args, server, deadline)
            inference_memory(args, server, deadline)
        finally:
            server.stop()
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
