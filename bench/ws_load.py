"""Live WebSocket load: N concurrent tracking sessions against a running server, over loopback.

Each session replays a real stream from the squat clip and follows the protocol's flow control (at
most two frames unanswered; a frame due while two wait is skipped, as the tracking page does):

- `landmarks` mode: the clip's BlazePose landmarks (tests/fixtures/clips/*.landmarks.json) at
  30 fps, looped: what a phone or browser running inference itself sends;
- `jpeg` mode: the clip's frames as 320 px wide JPEGs (quality 70) at 15 fps, looped: server
  inference, each session with a pose estimator of its own.

Prints, per number of sessions: the time from a frame sent to its ack (p50/p95/p99), frames sent,
skipped by the client, dropped by the server, the frame rate each session achieved, and the
server's CPU (from /proc/<pid>/stat of the server process), as a share of a core and in µs per
frame answered. With several session counts it says how many sessions keep p95 under the target
(100 ms by default).

`--flood N` adds N sessions that send the stream as fast as the socket takes it, without waiting
for acks: a misbehaving or hostile client. The measured sessions' latency then shows what a flood
costs the others; a line per step says what became of the floods (messages sent, analysed, the
server's `rate_limited` events and close code). Compare with the server's per-session message
limit switched off (LIVE_MAX_MESSAGES_PER_S=0).

Client: a small WebSocket client on asyncio's transports (RFC 6455 framing, a random mask per
frame, orjson) on uvloop. It shares this machine's cores with the server, so it is kept lean: a
full client library (autobahn) took half a core at 100 sessions, which the server then lacked.
Every session takes one call of the token's monthly quota.

    .venv/bin/python bench/ws_load.py --url ws://127.0.0.1:8000 --token ft_live_… \\
        --server-pid $(pgrep -f 'daphne.*8000' | head -1) --mode landmarks --sessions 1 10 50
    .venv/bin/python bench/ws_load.py … --mode jpeg --sessions 1 2 3 4 --duration 20
    .venv/bin/python bench/ws_load.py … --mode landmarks --sessions 1 --flood 3 --duration 10
"""

import argparse
import asyncio
import base64
import hashlib
import ipaddress
import json
import multiprocessing
import os
import socket
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import cv2
import orjson
import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.clips import SQUAT_CLIP, clip_frames, clip_landmarks  # noqa: E402
from tests.support.servers import wait_until  # noqa: E402

MAX_SESSIONS = 500
MAX_DURATION_S = 300
MAX_UNANSWERED = 2
JPEG_WIDTH = 320
JPEG_QUALITY = 70
CLOSE_TIMEOUT_S = 15
MAX_FLOODS = 20
FLOOD_BUFFER_BYTES = 1024 * 1024  # a flood waits for the socket past this much unsent


# --- Streams ------------------------------------------------------------------------------------


class LandmarkStream:
    """The clip's landmark frames, replayed at any frame rate by clip time (looped)."""

    binary = False

    def __init__(self):
        data = clip_landmarks(SQUAT_CLIP)
        self.clip_fps = data["fps"]
        self.image = json.dumps({"w": data["image_width"], "h": data["image_height"]})
        # Serialised once: each message only adds its frame id and time around them.
        self.frames = [json.dumps(frame["landmarks"]) for frame in data["frames"]]

    def message(self, frame_id: int, t_ms: float) -> bytes:
        landmarks = self.frames[int(t_ms / 1000 * self.clip_fps) % len(self.frames)]
        return (
            f'{{"type":"landmarks","frameId":{frame_id},"t":{t_ms:.1f},'
            f'"image":{self.image},"landmarks":{landmarks}}}'
        ).encode()


class JpegStream:
    """The clip's video frames as JPEGs the size the tracking page sends, by clip time (looped)."""

    binary = True

    def __init__(self):
        frames, self.clip_fps = clip_frames(SQUAT_CLIP)
        self.frames = []
        for frame in frames:
            height, width = frame.shape[:2]
            size = (JPEG_WIDTH, round(height * JPEG_WIDTH / width / 2) * 2)
            resized = cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC)
            ok, jpeg = cv2.imencode(".jpg", resized, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            self.frames.append(jpeg.tobytes())

    def message(self, frame_id: int, t_ms: float) -> bytes:
        return self.frames[int(t_ms / 1000 * self.clip_fps) % len(self.frames)]


# --- One session --------------------------------------------------------------------------------


@dataclass
class Session:
    stream: object
    fps: float
    flood: bool = False  # sends without flow control or pacing; its latencies are not measured
    sent: int = 0
    acked: int = 0
    skipped: int = 0
    dropped: int = 0  # replaced on the server before analysis (the last ack's cumulative count)
    errors: list = field(default_factory=list)
    latencies_ms: list = field(default_factory=list)
    close_code: int | None = None
    started_at: float = 0.0
    sending_s: float = 0.0

    def __post_init__(self):
        self.opened = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.sent_at: dict[int, float] = {}
        self.protocol = None

    def unanswered(self) -> int:
        return self.sent - self.acked - self.dropped

    def on_message(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "session_started" and not self.opened.done():
            self.opened.set_result(event)
        elif kind == "ack":
            now = time.perf_counter()
            self.acked += 1
            self.dropped = event.get("dropped", 0)
            # JPEG frames are numbered by the server, 1, 2, 3…: the same as our own count.
            sent_at = self.sent_at.pop(event["frameId"], None)
            if sent_at is not None:
                self.latencies_ms.append((now - sent_at) * 1000)
            for frame_id in [f for f in self.sent_at if f < event["frameId"]]:
                del self.sent_at[frame_id]  # replaced on the server: counted in `dropped`
        elif kind == "error":
            self.errors.append(event.get("code"))

    def on_close(self, code, reason: str = "") -> None:
        if self.close_code is None:
            self.close_code = code
        if not self.opened.done():
            self.opened.set_exception(
                ConnectionError(f"refused: close {code} {reason} {self.errors}".strip())
            )
        if not self.closed.done():
            self.closed.set_result(code)

    async def run(self, until: float) -> None:
        if self.flood:
            return await self.run_flood(until)
        loop = asyncio.get_running_loop()
        period = 1.0 / self.fps
        self.started_at = loop.time()
        tick = self.started_at
        while tick < until and self.close_code is None:
            if self.unanswered() < MAX_UNANSWERED:
                frame_id = self.sent + 1
                payload = self.stream.message(frame_id, (tick - self.started_at) * 1000)
                self.sent_at[frame_id] = time.perf_counter()
                self.protocol.sendMessage(payload, isBinary=self.stream.binary)
                self.sent = frame_id
            else:
                self.skipped += 1
            tick += period
            await asyncio.sleep(max(0.0, tick - loop.time()))  # the frame rate: the load itself
        self.sending_s = loop.time() - self.started_at
        if self.close_code is None:
            self.protocol.sendMessage(b'{"type":"finish"}')
        await asyncio.wait_for(self.closed, CLOSE_TIMEOUT_S)

    async def run_flood(self, until: float) -> None:
        loop = asyncio.get_running_loop()
        self.started_at = loop.time()
        transport = self.protocol.transport
        while loop.time() < until and self.close_code is None:
            self.sent += 1
            t_ms = (loop.time() - self.started_at) * 1000
            self.protocol.sendMessage(self.stream.message(self.sent, t_ms), self.stream.binary)
            # As fast as the socket takes them, leaving the loop to the other sessions between.
            if transport.get_write_buffer_size() > FLOOD_BUFFER_BYTES or self.sent % 20 == 0:
                await asyncio.sleep(0.001 if transport.get_write_buffer_size() else 0)
        self.sending_s = loop.time() - self.started_at
        if self.close_code is None:
            self.protocol.sendMessage(b'{"type":"finish"}')
        await asyncio.wait_for(self.closed, CLOSE_TIMEOUT_S)


OPCODE_CONTINUATION, OPCODE_TEXT, OPCODE_BINARY = 0x0, 0x1, 0x2
OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG = 0x8, 0x9, 0xA
WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame (RFC 6455 5.2): a fresh random key for every frame."""
    length = len(payload)
    if length < 126:
        header = bytes((0x80 | opcode, 0x80 | length))
    elif length < 1 << 16:
        header = bytes((0x80 | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + length.to_bytes(8, "big")
    key = os.urandom(4)
    # XOR as two big integers: one C-speed operation instead of a loop over the bytes.
    mask = (key * (length // 4 + 1))[:length]
    masked = int.from_bytes(payload, "little") ^ int.from_bytes(mask, "little")
    return header + key + masked.to_bytes(length, "little")


class BenchProtocol(asyncio.Protocol):
    """The client side of one session's WebSocket: handshake, framing, close."""

    def __init__(self, session: "Session", host: str, path: str):
        self.session = session
        self.request_key = base64.b64encode(os.urandom(16))
        self.request = (
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            ).encode()
            + b"Sec-WebSocket-Key: "
            + self.request_key
            + b"\r\n\r\n"
        )
        self.buffer = bytearray()
        self.upgraded = False
        self.fragments: list[bytes] = []
        self.fragment_opcode = None
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def sendMessage(self, payload: bytes, isBinary: bool = False) -> None:  # noqa: N802, N803
        self.transport.write(client_frame(OPCODE_BINARY if isBinary else OPCODE_TEXT, payload))

    def data_received(self, data):
        self.buffer += data
        if not self.upgraded and not self._handshake():
            return
        while self._next_frame():
            pass

    def _handshake(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buffer[:end]).decode("latin1").split("\r\n")
        del self.buffer[: end + 4]
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
        # The handshake's SHA-1 is a fixed part of the protocol, not a security choice.
        digest = hashlib.sha1(self.request_key + WEBSOCKET_GUID, usedforsecurity=False).digest()
        status = head[0].split(" ")[1] if " " in head[0] else ""
        accept = base64.b64encode(digest).decode()
        if status != "101" or headers.get("sec-websocket-accept") != accept:
            self.session.on_close(None, f"handshake refused: {head[0]}")
            self.transport.close()
            return False
        self.upgraded = True
        self.session.protocol = self
        return True

    def _next_frame(self) -> bool:
        buffer = self.buffer
        if len(buffer) < 2:
            return False
        first, second = buffer[0], buffer[1]
        length, offset = second & 0x7F, 2
        if length == 126:
            if len(buffer) < 4:
                return False
            length, offset = int.from_bytes(buffer[2:4], "big"), 4
        elif length == 127:
            if len(buffer) < 10:
                return False
            length, offset = int.from_bytes(buffer[2:10], "big"), 10
        if second & 0x80:
            raise ConnectionError("the server masked a frame (RFC 6455 5.1)")
        if len(buffer) < offset + length:
            return False
        payload = bytes(buffer[offset : offset + length])
        del buffer[: offset + length]
        self._on_frame(first & 0x0F, bool(first & 0x80), payload)
        return True

    def _on_frame(self, opcode: int, final: bool, payload: bytes) -> None:
        if opcode == OPCODE_CLOSE:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.transport.write(client_frame(OPCODE_CLOSE, payload[:2]))
            self.transport.close()
            self.session.on_close(code)
        elif opcode == OPCODE_PING:
            self.transport.write(client_frame(OPCODE_PONG, payload))
        elif opcode in (OPCODE_TEXT, OPCODE_BINARY, OPCODE_CONTINUATION):
            if opcode != OPCODE_CONTINUATION:
                self.fragment_opcode = opcode
            self.fragments.append(payload)
            if final:
                message, self.fragments = b"".join(self.fragments), []
                if self.fragment_opcode == OPCODE_TEXT:
                    self.session.on_message(orjson.loads(message))

    def connection_lost(self, exc):
        self.session.on_close(1006)


async def open_session(
    url: str, host: str, port: int, stream, fps: float, flood: bool = False
) -> Session:
    session = Session(stream, fps, flood)
    target = urlsplit(url)
    path = f"{target.path}?{target.query}"
    await asyncio.get_running_loop().create_connection(
        lambda: BenchProtocol(session, f"{host}:{port}", path), host, port
    )
    await asyncio.wait_for(session.opened, 30)
    return session


# --- Measuring ----------------------------------------------------------------------------------


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process, from /proc (psutil is not installed)."""
    if pid is None:
        return None
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After "pid (comm)": state is field 3, utime 14 and stime 15 (man 5 proc).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def servers_cpu_seconds(pids: list[int]) -> float | None:
    seconds = [cpu_seconds(pid) for pid in pids]
    return None if not seconds or None in seconds else sum(seconds)


async def run_load(args, count: int, stream, streaming=None) -> dict:
    """One step: `count` sessions opened, then streaming for args.duration. `streaming`, if
    given, is called with the sessions once they are all open, as the measured part begins."""
    query = urlencode({"token": args.token, "exercise": args.exercise, "inference": args.inference})
    fps = args.fps or (30.0 if args.mode == "landmarks" else 15.0)
    sessions = []
    for index in range(count):
        # Sessions spread over the server processes, as a reverse proxy would spread them.
        base = args.url[index % len(args.url)]
        target = urlsplit(base)
        url = f"{base.rstrip('/')}/ws/pose_tracker/tracking?{query}"
        sessions.append(await open_session(url, target.hostname, target.port, stream, fps))
    floods = start_floods(args, stream, fps) if args.flood else None
    loop = asyncio.get_running_loop()
    server_before, client_before = servers_cpu_seconds(args.server_pid), time.process_time()
    wall_before = loop.time()
    until = wall_before + args.duration
    if streaming is not None:
        streaming(sessions)
    # Staggered over one frame period, as independent cameras would be.
    tasks = []
    for index, session in enumerate(sessions):
        await asyncio.sleep(1.0 / fps / count * (index > 0))
        tasks.append(asyncio.create_task(session.run(until)))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    wall = loop.time() - wall_before
    server_cpu = servers_cpu_seconds(args.server_pid)
    latencies = [ms for s in sessions for ms in s.latencies_ms]
    return {
        "sessions": count,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "sent": sum(s.sent for s in sessions),
        "acked": sum(s.acked for s in sessions),
        "skipped": sum(s.skipped for s in sessions),
        "dropped": sum(s.dropped for s in sessions),
        "fps": statistics.mean(s.acked / s.sending_s for s in sessions if s.sending_s),
        "fps_min": min((s.acked / s.sending_s for s in sessions if s.sending_s), default=0),
        "server_cpu": None if server_cpu is None else (server_cpu - server_before) / wall * 100,
        # CPU time, not wall time: other work on the machine hardly moves it.
        "server_us_per_frame": None
        if server_cpu is None
        else (server_cpu - server_before) / max(1, sum(s.acked for s in sessions)) * 1e6,
        "client_cpu": (time.process_time() - client_before) / wall * 100,
        "errors": sorted({e for s in sessions for e in s.errors if e}),
        "failures": [repr(r) for r in results if isinstance(r, BaseException)],
        "target_fps": fps,
        "floods": finish_floods(*floods) if floods else [],
    }


def start_floods(args, stream, fps: float):
    """The floods, in a process of their own: sending flat out, they would otherwise hold up
    this process's event loop and add their own delay to the measured sessions' latency."""
    receiving, sending = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(
        target=run_floods, args=(args, stream, fps, sending), daemon=True
    )
    process.start()
    return process, receiving


def finish_floods(process, receiving) -> list[dict]:
    timeout = CLOSE_TIMEOUT_S * 2
    floods = receiving.recv() if receiving.poll(timeout) else []
    process.join(timeout)
    return floods


def run_floods(args, stream, fps: float, sending) -> None:
    async def floods() -> list[dict]:
        query = urlencode(
            {"token": args.token, "exercise": args.exercise, "inference": args.inference}
        )
        sessions = []
        for index in range(args.flood):
            base = args.url[index % len(args.url)]
            target = urlsplit(base)
            url = f"{base.rstrip('/')}/ws/pose_tracker/tracking?{query}"
            sessions.append(
                await open_session(url, target.hostname, target.port, stream, fps, flood=True)
            )
        until = asyncio.get_running_loop().time() + args.duration
        await asyncio.gather(*(s.run(until) for s in sessions), return_exceptions=True)
        return [
            {
                "sent": s.sent,
                "acked": s.acked,
                "seconds": s.sending_s,
                "errors": s.errors,
                "close_code": s.close_code,
            }
            for s in sessions
        ]

    sending.send(uvloop.run(floods()))


def print_row(row: dict) -> None:
    cpu = "n/a" if row["server_cpu"] is None else f"{row['server_cpu']:.0f}%"
    per_frame = "n/a" if row["server_us_per_frame"] is None else f"{row['server_us_per_frame']:.0f}"
    print(
        f"{row['sessions']:>8} {row['p50']:>7.1f} {row['p95']:>7.1f} {row['p99']:>7.1f} "
        f"{row['sent']:>8} {row['skipped']:>8} {row['dropped']:>8} "
        f"{row['fps']:>6.1f} {row['fps_min']:>6.1f} {cpu:>7} {row['client_cpu']:>6.0f}% "
        f"{per_frame:>9}"
        + (f"  errors: {row['errors']}" if row["errors"] else "")
        + (f"  failures: {row['failures']}" if row["failures"] else ""),
        flush=True,
    )
    if row["floods"]:
        floods = row["floods"]
        sent = sum(f["sent"] for f in floods)
        seconds = max(f["seconds"] for f in floods) or 1.0
        codes = [c for f in floods for c in f["errors"]]
        print(
            f"{'':>8} floods: {len(floods)} sent {sent} messages in {seconds:.1f} s "
            f"({sent / seconds:.0f}/s), {sum(f['acked'] for f in floods)} analysed, "
            f"{codes.count('rate_limited')} rate_limited events, "
            f"closed with {sorted({f['close_code'] for f in floods}, key=str)}",
            flush=True,
        )


def wait_until_idle(pids: list[int], timeout: float = 30) -> None:
    """Until the servers are done with the last step's sessions (closing them, recording their
    usage, freeing their pose estimators): their CPU time stops growing. Without their process
    ids there is nothing to watch, and the next step starts at once."""
    if not pids:
        return
    window_s, busy_share = 0.5, 0.05  # idle: under 5% of a core over half a second

    def idle() -> bool:
        before = servers_cpu_seconds(pids)
        time.sleep(window_s)  # the window the CPU time is measured over
        return servers_cpu_seconds(pids) - before < busy_share * window_s

    wait_until(idle, timeout, "the servers to finish with the last step's sessions", interval=0)


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    if not addresses or not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        sys.exit(f"{host} is not a loopback address: this benchmark runs against a local server")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url",
        required=True,
        nargs="+",
        help="server base, e.g. ws://127.0.0.1:8000; several for several server processes",
    )
    parser.add_argument("--token", required=True)
    parser.add_argument(
        "--server-pid",
        type=int,
        nargs="*",
        default=[],
        help="the server processes' ids, for their CPU (summed: 100%% is one core)",
    )
    parser.add_argument("--mode", choices=("landmarks", "jpeg"), default="landmarks")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per step")
    parser.add_argument("--fps", type=float, help="default: 30 (landmarks), 15 (jpeg)")
    parser.add_argument("--exercise", default="squat")
    parser.add_argument("--target-p95", type=float, default=100.0, help="milliseconds")
    parser.add_argument(
        "--flood", type=int, default=0, help="sessions sending as fast as they can, unmeasured"
    )
    args = parser.parse_args()
    for url in args.url:
        if urlsplit(url).scheme not in ("ws", "wss") or urlsplit(url).port is None:
            sys.exit("--url must be ws://host:port")
        check_loopback(url)
    if not 0 < args.duration <= MAX_DURATION_S:
        sys.exit(f"--duration must be in (0, {MAX_DURATION_S}] seconds")
    if not all(0 < n <= MAX_SESSIONS for n in args.sessions):
        sys.exit(f"--sessions must be from 1 to {MAX_SESSIONS}")
    if not 0 <= args.flood <= MAX_FLOODS:
        sys.exit(f"--flood must be from 0 to {MAX_FLOODS}")
    args.inference = "browser" if args.mode == "landmarks" else "server"
    stream = LandmarkStream() if args.mode == "landmarks" else JpegStream()

    print(
        f"mode={args.mode} exercise={args.exercise} duration={args.duration:.0f}s per step, "
        f"flow control: at most {MAX_UNANSWERED} frames unanswered"
    )
    print(
        f"{'sessions':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'sent':>8} {'skipped':>8} "
        f"{'dropped':>8} {'fps':>6} {'min':>6} {'server':>7} {'client':>7} {'µs/frame':>9}"
    )
    holding = 0
    for count in args.sessions:
        row = uvloop.run(run_load(args, count, stream))
        print_row(row)
        # Holding: latency under target with every session still near its frame rate.
        if row["p95"] < args.target_p95 and row["fps_min"] >= 0.9 * row["target_fps"]:
            holding = max(holding, count)
        wait_until_idle(args.server_pid)
    print(
        f"sessions keeping p95 < {args.target_p95:.0f} ms at >= 90% of "
        f"{args.fps or (30 if args.mode == 'landmarks' else 15):.0f} fps: "
        f"{holding if holding else 'none'} (of the steps tried)"
    )


if __name__ == "__main__":
    main()
