"""Server CPU per live landmark frame on one Daphne process, and where it goes.

`--sessions` landmark sessions (bench/ws_load.py's client and stream: the squat clip at 30 fps,
flow control as the tracking page does it) against one Daphne process with production settings
(bench/server.py), for `--duration` seconds. Prints the server's CPU time per frame answered, from
/proc/<pid>/stat (CPU time, not wall time: other work on this machine moves it less), measured
from WARM_UP_S on (once each session has taken its call of the quota, a database transaction),
and, while py-spy samples the server without stopping it, its split by the part of the per-frame
path each sample was in:

- receive: Twisted reading the socket, autobahn unframing the message, Daphne's hand-off (its
  queue) to the session's consumer
- decode: the message's JSON and its checks (tracking.protocol)
- engine: tracking.engine, the tracker's work on the pose
- events: the frame's events and ack built and encoded (orjson)
- send: the ASGI send chain (Channels, Daphne), autobahn framing, Twisted's write
- consumer: the consumer's own per-frame logic (message rate, flow control)
- other: the event loop's own work, Daphne's timers, anything else

py-spy is for profiling only, not a requirement: `.venv/bin/pip install py-spy`. Without it,
only the total is printed. `--top N` adds the functions where most samples were.

    .venv/bin/python bench/live_cpu.py [--sessions 100] [--duration 20] [--top 25]
"""

import argparse
import asyncio
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.server import Server  # noqa: E402
from bench.ws_load import LandmarkStream, cpu_seconds, run_load  # noqa: E402
from tests.support.servers import production_settings  # noqa: E402

PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
SAMPLES_PER_S = 250
WARM_UP_S = 3.0

# py-spy's raw format: one line per distinct stack, `frame;frame;… count`, each frame
# `Class.function (path:line)` with the path from its package's root, outermost first.
FRAME = re.compile(r"^(?P<function>.+?) \((?P<path>[^()]*?)(?::\d+)?\)$")

# The part a sample belongs to: its innermost frame that names one. Generic library frames
# (autobahn, Twisted, asyncio) name none: they belong to whichever part called them.
RECEIVE = {"doRead", "dataReceived", "onMessage"}
QUEUE = {"get", "put_nowait"}  # asyncio.Queue: Daphne's hand-off to the consumer
DECODE = {"decode_text", "landmarks_to_pose"}
EVENTS = {"encode_json", "on_wall_clock", "session_summary", "_ack"}
SEND = {"send_json", "send", "_send_while_open", "handle_reply", "serverSend", "doWrite"}
CONSUMER = ("tracking/consumers.py", "tracking/live.py", "config/message_rate.py")
PARTS = ("receive", "decode", "engine", "events", "send", "consumer", "other")


def part_of(stack: list[tuple[str, str]]) -> str:
    for qualified, path in reversed(stack):
        function = qualified.rsplit(".", 1)[-1]
        if path.startswith("tracking/engine/"):
            return "engine"
        if function in DECODE:
            return "decode"
        if function in EVENTS:
            return "events"
        if function in SEND:
            return "send"
        if function in RECEIVE or (function in QUEUE and path == "asyncio/queues.py"):
            return "receive"
        if path in CONSUMER:
            return "consumer"
    return "other"


def read_samples(raw: Path) -> list[tuple[list[tuple[str, str]], int]]:
    samples = []
    for line in raw.read_text().splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not stack_text or not count.isdigit():
            continue
        stack = []
        for frame in stack_text.split(";"):
            found = FRAME.match(frame.strip())
            stack.append((found["function"], found["path"]) if found else (frame.strip(), ""))
        samples.append((stack, int(count)))
    return samples


def profile_report(samples, us_per_frame: float, top: int) -> str:
    parts = collections.Counter()
    leaves = collections.Counter()
    for stack, count in samples:
        parts[part_of(stack)] += count
        if stack:
            function, path = stack[-1]
            leaves[f"{function} ({'/'.join(Path(path).parts[-2:])})"] += count
    total = sum(parts.values()) or 1
    lines = [f"{'part':<10} {'samples':>8} {'share':>6} {'µs/frame':>9}"]
    for part in PARTS:
        share = parts[part] / total
        lines.append(f"{part:<10} {parts[part]:>8} {share:>6.0%} {share * us_per_frame:>9.0f}")
    if top:
        lines.append(f"\ninnermost functions, top {top} of {total} samples:")
        lines += [f"{count / total:>6.1%}  {name}" for name, count in leaves.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of streaming")
    parser.add_argument("--exercise", default="squat")
    parser.add_argument("--top", type=int, default=0, help="also the N busiest functions")
    parser.add_argument("--no-profile", action="store_true", help="the total only, no py-spy")
    parser.add_argument("--samples", type=Path, help="keep py-spy's samples (raw format) here")
    args = parser.parse_args()
    profile = not args.no_profile and Path(PY_SPY).exists()
    stream = LandmarkStream()
    with tempfile.TemporaryDirectory(prefix="formtrack-bench-") as workdir:
        server = Server(Path(workdir), processes=1, **production_settings())
        raw = args.samples or Path(workdir) / "py-spy.txt"
        marks = {}
        spy = None

        def mark(name, sessions):
            nonlocal spy
            marks[name] = (cpu_seconds(server.pids[0]), sum(s.acked for s in sessions))
            if name == "start" and profile:
                seconds = args.duration - WARM_UP_S - 1
                spy = subprocess.Popen(  # noqa: S603 - py-spy on our own server
                    [PY_SPY, "record", "--pid", str(server.pids[0]), "--rate", str(SAMPLES_PER_S)]
                    + ["--duration", str(max(1, int(seconds))), "--format", "raw"]
                    + ["--nonblocking", "--output", str(raw)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )

        def streaming(sessions):
            # Measured once every session has analysed its first frames (and taken its call of
            # the quota, a database transaction each), until just before they finish.
            loop = asyncio.get_running_loop()
            loop.call_later(WARM_UP_S, mark, "start", sessions)
            loop.call_later(args.duration - 0.5, mark, "end", sessions)

        load = SimpleNamespace(
            url=[f"ws://127.0.0.1:{server.ports[0]}"],
            token=server.token,
            server_pid=server.pids,
            exercise=args.exercise,
            inference="browser",
            mode="landmarks",
            fps=30.0,
            duration=args.duration,
            flood=0,
        )
        load_before = os.getloadavg()[0]
        try:
            row = uvloop.run(run_load(load, args.sessions, stream, streaming=streaming))
            if spy is not None:
                spy.wait(timeout=60)
        finally:
            server.stop()
        (cpu_start, frames_start), (cpu_end, frames_end) = marks["start"], marks["end"]
        us_per_frame = (cpu_end - cpu_start) / (frames_end - frames_start) * 1e6
        print(
            f"{args.sessions} landmark sessions ({args.exercise}), {args.duration:.0f} s: "
            f"{row['acked']} frames answered at {row['fps']:.1f} fps per session, "
            f"p95 {row['p95']:.1f} ms; server CPU {row['server_cpu']:.0f}% of a core; "
            f"{us_per_frame:.0f} µs per frame from {WARM_UP_S:.0f} s on"
        )
        if profile and raw.is_file():
            print(profile_report(read_samples(raw), us_per_frame, args.top))
        elif not args.no_profile:
            print("(no py-spy: `.venv/bin/pip install py-spy` for the split)")
        print(f"\nload average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
