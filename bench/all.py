"""`make bench`: every benchmark, one table of figures against their targets in docs/performance.md.

Runs bench/engine.py, bench/reference.py and bench/upload.py, then starts a real server (one
Daphne process per core on free loopback ports, as a reverse proxy would front them, a fresh
SQLite database, a demo token) for bench/ws_load.py in landmark and server-inference modes.
Takes about five minutes on 2 cores.

    .venv/bin/python bench/all.py [--quick]
"""

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import Processes, free_port, manage, standalone_env  # noqa: E402

PYTHON = sys.executable
REPORT = ROOT / "docs" / "performance.md"


def run(command: list[str], *, env=None, timeout=1200) -> str:
    print("$", " ".join(command), flush=True)
    completed = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = completed.stdout + (completed.stderr if completed.returncode else "")
    print(output, flush=True)
    return output


def number(pattern: str, text: str) -> float | None:
    found = [float(value) for value in re.findall(pattern, text)]
    return max(found) if found else None


class Server:
    """Daphne processes (one per core, as deployed behind a proxy) on a fresh SQLite database
    with a demo token: what ws_load talks to. Their logs are in `workdir`."""

    def __init__(self, workdir: Path, processes: int = len(os.sched_getaffinity(0))):
        self.ports = [free_port() for _ in range(processes)]
        # Load, not abuse: the benchmark opens many sessions from one token and one address.
        limits = {
            "RATE_LIMIT_TOKEN_WEBSOCKET_PER_MIN": "100000",
            "RATE_LIMIT_TOKEN_PAGE_PER_MIN": "100000",
            "RATE_LIMIT_IP_PER_MIN": "100000",
        }
        self.env = standalone_env(workdir, **limits)
        manage(self.env, "migrate", "--noinput")
        seeded = manage(self.env, "seed_demo")
        self.token = re.search(r"^DEMO_TOKEN=(\S+)$", seeded, re.M).group(1)
        self.stack = Processes(workdir, base_env=self.env)
        # No access log: writing a line per request would be part of what is measured.
        self.processes = [
            self.stack.daphne(f"daphne-{port}", port, options=("-v", "0")) for port in self.ports
        ]

    def ws_load(self, *args: str) -> str:
        return run(
            [
                PYTHON,
                "bench/ws_load.py",
                "--url",
                *[f"ws://127.0.0.1:{port}" for port in self.ports],
                "--token",
                self.token,
                "--server-pid",
                *[str(process.pid) for process in self.processes],
                *args,
            ]
        )

    def stop(self):
        self.stack.close()


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return (
        f"{len(os.sched_getaffinity(0))} cores ({cpu}), {memory_kb / 1024 / 1024:.0f} GiB, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}; "
        # Other work on the machine slows every figure: the load says how quiet it was.
        f"load average {os.getloadavg()[0]:.2f} at the end of the run"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, for a smoke test")
    args = parser.parse_args()
    frames = "5000" if args.quick else "20000"
    step_s = "8" if args.quick else "20"
    upload_s = "20" if args.quick else "60"

    outputs = {
        "engine": run([PYTHON, "bench/engine.py", "--frames", frames]),
        "reference": run([PYTHON, "bench/reference.py", "--frames", frames]),
        "upload": run([PYTHON, "bench/upload.py", "--seconds", upload_s]),
    }
    with tempfile.TemporaryDirectory(prefix="formtrack-bench-") as workdir:
        server = Server(Path(workdir))
        try:
            outputs["ws landmarks"] = server.ws_load(
                "--mode",
                "landmarks",
                "--sessions",
                "10",
                "50",
                "100",
                "150",
                "--duration",
                step_s,
                "--target-p95",
                "50",
            )
            outputs["ws jpeg"] = server.ws_load(
                "--mode",
                "jpeg",
                "--sessions",
                "1",
                "2",
                "4",
                "5",
                "6",
                "--duration",
                step_s,
                "--target-p95",
                "100",
            )
        finally:
            server.stop()

    # The upload run with the best real-time factor, and its share of time outside inference.
    upload_runs = re.findall(
        r"of video in [\d.]+ s: ([\d.]+)x real time.*?everything but inference: ([\d.]+)%",
        outputs["upload"],
        re.S,
    )
    best_upload = max(((float(f), float(share)) for f, share in upload_runs), default=None)
    ws100 = re.search(r"^\s+100\s+([\d.]+)\s+([\d.]+)", outputs["ws landmarks"], re.M)
    rows = [
        (
            "Engine, median time per frame per session (worst exercise)",
            "≤ 0.2 ms",
            number(r"worst median ([\d.]+) ms", outputs["engine"]),
            lambda v: v <= 0.2,
            "ms",
            f"bench/engine.py --frames {frames}",
        ),
        (
            "Reference tracking, median time per frame",
            "< 1 ms",
            number(r"median ([\d.]+) ms", outputs["reference"]),
            lambda v: v < 1,
            "ms",
            f"bench/reference.py --frames {frames}",
        ),
        (
            "Upload analysis, 720p 30 fps at 15 fps analysis (best run: 1 process, "
            "2 started for the video, 2 kept from the previous one)",
            "≥ 6× real time",
            best_upload[0] if best_upload else None,
            lambda v: v >= 6,
            "× real time",
            f"bench/upload.py --seconds {upload_s}",
        ),
        (
            "Upload analysis, everything but inference (in that best run)",
            "< 20% of the time",
            best_upload[1] if best_upload else None,
            lambda v: v < 20,
            "%",
            f"bench/upload.py --seconds {upload_s}",
        ),
        (
            "100 concurrent landmark sessions at 30 fps, p95 frame → events",
            "< 50 ms",
            float(ws100.group(2)) if ws100 else None,
            lambda v: v < 50,
            "ms",
            "bench/ws_load.py --mode landmarks --sessions 10 50 100 150",
        ),
        (
            "Server-inference sessions at 15 fps holding p95 < 100 ms",
            "≥ 4",
            number(r"p95 < 100 ms[^:]*: (\d+)", outputs["ws jpeg"]),
            lambda v: v >= 4,
            "sessions",
            "bench/ws_load.py --mode jpeg --sessions 1 2 4 5 6",
        ),
    ]
    lines = [
        "# Performance",
        "",
        f"Made by `make bench` (`bench/all.py{' --quick' if args.quick else ''}`) on "
        f"{datetime.date.today().isoformat()}: {machine()}. Every figure comes from the command",
        "in its row; the full outputs follow the table.",
        "",
        "| What | Target | Measured | Met | Command |",
        "|---|---|---|---|---|",
    ]
    for what, target, value, meets, unit, command in rows:
        measured = "not measured" if value is None else f"{value:g} {unit}"
        met = "—" if value is None else ("yes" if meets(value) else "**no**")
        lines.append(f"| {what} | {target} | {measured} | {met} | `{command}` |")
    for name, output in outputs.items():
        lines += ["", f"## {name}", "", "```", output.strip(), "```"]
    REPORT.write_text("\n".join(lines) + "\n")
    print(f"wrote {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
