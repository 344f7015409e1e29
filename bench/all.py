"""`make bench`: every benchmark, one table of figures against their targets in docs/performance.md.

Runs bench/engine.py, bench/reference.py, bench/upload.py, bench/faults.py and bench/accuracy.py
(counting on the labelled real clips of the shared data set, when it is found), then starts a real
server (one Daphne process per core on free loopback ports, as a reverse proxy would front them, a
fresh SQLite database, a demo token) for bench/ws_load.py in landmark and server-inference modes.
bench/first_pose.py (the live page in headless Chromium) and bench/soak.py (the server's memory)
start servers of their own. Takes about twelve minutes on 2 cores.

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

from bench.server import Server  # noqa: E402

PYTHON = sys.executable
REPORT = ROOT / "docs" / "performance.md"


def run(command: list[str], *, env=None, timeout=1200) -> str:
    """The command's output, closed by the machine's load average (1 min) before and after it:
    other work on the machine slows every elapsed-time figure."""
    print("$", " ".join(command), flush=True)
    load_before = os.getloadavg()[0]
    completed = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = completed.stdout + (completed.stderr if completed.returncode else "")
    output += f"\nload average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after\n"
    print(output, flush=True)
    return output


def number(pattern: str, text: str) -> float | None:
    found = [float(value) for value in re.findall(pattern, text)]
    return max(found) if found else None


def load_of(output: str) -> str:
    found = re.search(r"load average ([\d.]+) before, ([\d.]+) after", output)
    return f"{found.group(1)} → {found.group(2)}" if found else "—"


def upload_run(output: str, label: str) -> str:
    """The part of bench/upload.py's output about one run, by the end of its label."""
    found = re.search(rf"\n(lite|full|heavy) model[^\n]*{label}\n(.*?)(?:\n\n|\Z)", output, re.S)
    return found.group(2) if found else ""


def previous_figures() -> dict[str, str]:
    """What the last report measured, by each row's key: the previous round."""
    if not REPORT.is_file():
        return {}
    figures = {}
    for line in REPORT.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and cells[0] not in ("What", "---"):
            figures[row_key(cells[0])] = cells[2]
    return figures


def row_key(what: str) -> str:
    """A row's words before its first parenthesis: rows may share their first words."""
    return what.split(" (")[0]


def ws_load(server: Server, *args: str) -> str:
    return run(
        [
            PYTHON,
            "bench/ws_load.py",
            "--url",
            *[f"ws://127.0.0.1:{port}" for port in server.ports],
            "--token",
            server.token,
            "--server-pid",
            *[str(pid) for pid in server.pids],
            *args,
        ]
    )


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


FIRST_POSE_4G = "--proxy --rtt 100 --mbps 20"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, for a smoke test")
    args = parser.parse_args()
    frames = "5000" if args.quick else "20000"
    step_s = "8" if args.quick else "20"
    upload_s = "20" if args.quick else "60"
    first_pose_runs = "2" if args.quick else "5"
    soak_sessions = "300" if args.quick else "1000"

    outputs = {
        "engine": run([PYTHON, "bench/engine.py", "--frames", frames]),
        "reference": run([PYTHON, "bench/reference.py", "--frames", frames]),
        "upload": run([PYTHON, "bench/upload.py", "--seconds", upload_s]),
        # A video browsers do not play: the service encodes an H.264 preview beside the analysis.
        "upload unplayable": run(
            [PYTHON, "bench/upload.py", "--seconds", upload_s]
            + ["--workers", "2", "--kept-runs", "1", "--unplayable"]
        ),
        "faults": run([PYTHON, "bench/faults.py"]),
        "accuracy": run([PYTHON, "bench/accuracy.py"]),
        "first pose": run([PYTHON, "bench/first_pose.py", "--runs", first_pose_runs]),
        # As deployed (nginx in front, gzip copies) on a phone's network, where bytes cost time.
        "first pose 4g": run(
            [PYTHON, "bench/first_pose.py", "--runs", "3", *FIRST_POSE_4G.split()]
        ),
        "soak": run([PYTHON, "bench/soak.py", "--sessions", soak_sessions]),
    }
    # Landmark sessions per Daphne process: one process, on one core (the client has the other).
    with tempfile.TemporaryDirectory(prefix="formtrack-bench-") as workdir:
        server = Server(Path(workdir), processes=1)
        try:
            outputs["ws landmarks"] = ws_load(
                server,
                "--mode",
                "landmarks",
                "--sessions",
                *(["50", "100", "150"] if args.quick else ["50", "100", "150", "200", "250"]),
                "--duration",
                step_s,
                "--target-p95",
                "50",
            )
        finally:
            server.stop()
    # Server inference on every core, a Daphne process per core.
    with tempfile.TemporaryDirectory(prefix="formtrack-bench-") as workdir:
        server = Server(Path(workdir))
        try:
            outputs["ws jpeg"] = ws_load(
                server,
                "--mode",
                "jpeg",
                "--sessions",
                *(["2", "4", "6"] if args.quick else ["2", "4", "6", "8", "10"]),
                "--duration",
                step_s,
                "--target-p95",
                "100",
            )
        finally:
            server.stop()

    upload = outputs["upload"]
    kept = upload_run(upload, "worker processes kept from the previous video")
    unplayable = upload_run(outputs["upload unplayable"], "MPEG-4 part 2 with its preview")
    started = upload_run(upload, "worker processes started for this video")
    ceiling = number(r"inference-bound ceiling[^:]*: ([\d.]+)x", kept)
    idle_bound = number(r"this CPU allows ([\d.]+)x", kept)
    ws100 = re.search(r"^\s+100\s+([\d.]+)\s+([\d.]+)", outputs["ws landmarks"], re.M)
    landmark_sessions = number(r"p95 < 50 ms[^:]*: (\d+)", outputs["ws landmarks"])
    # Per model: "all but near" exact share, and each group's exact share.
    accuracy = {
        model: section
        for model, section in re.findall(
            r"== (\w+) model.*?==\n(.*?)done in", outputs["accuracy"], re.S
        )
    }

    def exact_share(model: str, group: str) -> float | None:
        section = accuracy.get(model, "")
        if group == "all":
            found = re.search(r"all but near: \d+ of \d+ exact \((\d+)%\)", section)
        else:
            found = re.search(rf"^{re.escape(group)}\s+\d+\s+(\d+)\s+(\d+)", section, re.M)
        return float(found.group(1)) if found else None

    first_pose = {
        kind: re.search(rf"^{kind}: first skeleton median (\d+) ms, worst (\d+) ms", text, re.M)
        for kind, text in [(kind, outputs["first pose"]) for kind in ("cold", "warm")]
    }
    first_pose_4g = re.search(
        r"^cold: first skeleton median (\d+) ms, worst (\d+) ms", outputs["first pose 4g"], re.M
    )
    landmark_soak = re.search(
        r"^landmark soak: .*?([+-][\d.]+) MB over the last (\d+).*?within ([\d.]+)–([\d.]+) MB",
        outputs["soak"],
        re.M,
    )
    inference_soak = re.search(
        r"^server-inference soak: .*?after (\d+):.*?within ([\d.]+)–([\d.]+) MB",
        outputs["soak"],
        re.M,
    )

    job_rss = number(r"peak RSS: this process ([\d.]+) MB", kept)

    def cold_mb(text: str) -> str:
        """The MB a cold visit of bench/first_pose.py took from the network (its first)."""
        found = re.search(r"^cold\s+1(?:\s+\S+){4}\s+([\d.]+)\s", text, re.M)
        return found.group(1) if found else "?"

    def first_pose_s(kind: str, group: int = 1) -> float | None:
        found = first_pose[kind]
        return int(found.group(group)) / 1000 if found else None

    upload_command = f"bench/upload.py --seconds {upload_s}"
    # (what, target, measured, met, unit, command, output, anchors besides the previous round)
    rows = [
        (
            "Engine, median time per frame per session (worst exercise)",
            "≤ 0.2 ms",
            number(r"worst median ([\d.]+) ms", outputs["engine"]),
            lambda v: v <= 0.2,
            "ms",
            f"bench/engine.py --frames {frames}",
            "engine",
            "",
        ),
        (
            "Reference tracking, median time per frame",
            "< 1 ms",
            number(r"median ([\d.]+) ms", outputs["reference"]),
            lambda v: v < 1,
            "ms",
            f"bench/reference.py --frames {frames}",
            "reference",
            "",
        ),
        (
            "Upload analysis, 720p 30 fps at 15 fps analysis, 2 processes (the worker kept from "
            "the previous video; median of 3 runs)",
            "≥ 10× real time",
            number(r"processes kept: median of \d+ runs ([\d.]+)x real time", upload),
            lambda v: v >= 10,
            "× real time",
            upload_command,
            "upload",
            "PoseTracker analyses uploads at about 1×; "
            f"inference-bound ceiling {ceiling:g}×; "
            f"this run's CPU on idle cores {idle_bound:g}×"
            if ceiling and idle_bound
            else "PoseTracker analyses uploads at about 1×",
        ),
        (
            "Upload analysis, the same with the worker started for the video",
            "—",
            number(r"of video in [\d.]+ s: ([\d.]+)x real time", started),
            lambda v: True,
            "× real time",
            upload_command,
            "upload",
            "",
        ),
        (
            "Upload analysis, the same video in MPEG-4 part 2 (browsers do not play it), with "
            "its H.264 preview encoded beside the analysis (workers kept)",
            "—",
            number(r"of video in [\d.]+ s: ([\d.]+)x real time", unplayable),
            lambda v: True,
            "× real time",
            f"{upload_command} --workers 2 --kept-runs 1 --unplayable",
            "upload unplayable",
            "an H.264 MP4 of page size gets no preview: the row above",
        ),
        (
            # What 10× real time at 15 analysed frames a second leaves on 2 cores: 13.3 ms.
            "Upload analysis, CPU per analysed frame (all processes, start-up included; "
            "workers kept)",
            "≤ 13.3 ms",
            number(r"CPU [\d.]+ s, ([\d.]+) ms per analysed frame", kept),
            lambda v: v <= 13.3,
            "ms",
            upload_command,
            "upload",
            "",
        ),
        (
            "Landmark sessions at 30 fps on one Daphne process (one core) holding p95 frame → "
            "events < 50 ms",
            "≥ 250",
            landmark_sessions,
            lambda v: v >= 250,
            "sessions",
            "bench/ws_load.py --mode landmarks --sessions 50 100 150 200 250 (one process)",
            "ws landmarks",
            "",
        ),
        (
            "100 concurrent landmark sessions at 30 fps on one Daphne process, p95 frame → events",
            "< 50 ms",
            float(ws100.group(2)) if ws100 else None,
            lambda v: v < 50,
            "ms",
            "bench/ws_load.py --mode landmarks --sessions 50 100 150 200 250 (one process)",
            "ws landmarks",
            "",
        ),
        (
            "Counting on labelled real clips (sets, wrong movements, single-rep and cut excerpts, "
            "10/15/30 fps, dropped and jittered frames), exact, upload model (lite)",
            "100 %",
            exact_share("lite", "all"),
            lambda v: v == 100,
            "%",
            "bench/accuracy.py",
            "accuracy",
            "",
        ),
        (
            "Single reps cut from real sets, starting straight into the movement, counted (lite)",
            "100 %",
            exact_share("lite", "single rep"),
            lambda v: v == 100,
            "%",
            "bench/accuracy.py",
            "accuracy",
            "",
        ),
        (
            "Counting on labelled real clips, exact, full model (blazepose=true)",
            "100 %",
            exact_share("full", "all"),
            lambda v: v == 100,
            "%",
            "bench/accuracy.py",
            "accuracy",
            "",
        ),
        (
            "Server-inference sessions at 15 fps on 2 cores holding p95 < 100 ms",
            "≥ 8",
            number(r"p95 < 100 ms[^:]*: (\d+)", outputs["ws jpeg"]),
            lambda v: v >= 8,
            "sessions",
            "bench/ws_load.py --mode jpeg --sessions 2 4 6 8 10",
            "ws jpeg",
            "",
        ),
        (
            "First skeleton after the live page opens, warm visit (the same browser profile "
            f"again; median of {first_pose_runs}), headless Chromium on the CPU",
            "≤ 1.0 s",
            first_pose_s("warm"),
            lambda v: v <= 1.0,
            "s",
            f"bench/first_pose.py --runs {first_pose_runs}",
            "first pose",
            f"worst {first_pose_s('warm', 2):g} s" if first_pose["warm"] else "",
        ),
        (
            f"First skeleton, cold visit (a fresh browser profile; median of {first_pose_runs})",
            "≤ 2.0 s",
            first_pose_s("cold"),
            lambda v: v <= 2.0,
            "s",
            f"bench/first_pose.py --runs {first_pose_runs}",
            "first pose",
            (f"worst {first_pose_s('cold', 2):g} s; " if first_pose["cold"] else "")
            + "first round 1.6–2.3 s",
        ),
        (
            "First skeleton, cold visit as deployed (collectstatic, deploy/nginx.conf) on an "
            "emulated phone network (100 ms round trips, 20 Mbit/s; median of 3)",
            "—",
            int(first_pose_4g.group(1)) / 1000 if first_pose_4g else None,
            lambda v: True,
            "s",
            f"bench/first_pose.py --runs 3 {FIRST_POSE_4G}",
            "first pose 4g",
            (f"worst {int(first_pose_4g.group(2)) / 1000:g} s; " if first_pose_4g else "")
            + f"a cold visit takes {cold_mb(outputs['first pose 4g'])} MB from the network "
            f"(gzip copies), {cold_mb(outputs['first pose'])} MB from Daphne alone",
        ),
        (
            f"Server memory over {soak_sessions} live landmark sessions opened and closed, 50 at "
            "a time (one Daphne process, production settings): RSS growth over the later half",
            "no growth",
            float(landmark_soak.group(1)) if landmark_soak else None,
            lambda v: v <= 1.0,  # MB: what the allocator's rounding moves, not a leak
            "MB",
            f"bench/soak.py --sessions {soak_sessions}",
            "soak",
            f"RSS within {landmark_soak.group(3)}–{landmark_soak.group(4)} MB from the first "
            f"{int(soak_sessions) // 10} sessions on"
            if landmark_soak
            else "",
        ),
        (
            "Server memory per live server-inference session (4 open, each with its estimator)",
            "—",
            number(
                r"(?m)^4 open: .*\(\+([\d.]+) MB per server-inference session\)", outputs["soak"]
            ),
            lambda v: True,
            "MB",
            f"bench/soak.py --sessions {soak_sessions}",
            "soak",
            f"{inference_soak.group(1)} more opened and closed, 4 at a time: RSS within "
            f"{inference_soak.group(2)}–{inference_soak.group(3)} MB"
            if inference_soak
            else "",
        ),
        (
            "Upload analysis, peak memory of each further worker process (workers kept)",
            "—",
            number(r"peak RSS: this process [\d.]+ MB, workers \[([\d.]+)", kept),
            lambda v: True,
            "MB",
            upload_command,
            "upload",
            f"the job's own process {job_rss:g} MB" if job_rss else "",
        ),
    ]
    previous = previous_figures()
    lines = [
        "# Performance",
        "",
        f"Made by `make bench` (`bench/all.py{' --quick' if args.quick else ''}`) on "
        f"{datetime.date.today().isoformat()}: {machine()}. Every figure comes from the command",
        "in its row, run while the machine had the load shown (other work slows elapsed-time",
        "figures; CPU-time figures hardly move); the previous round is the report this one",
        "replaced. The full outputs follow the table; what each round changed in counting",
        "accuracy, and what is still missed, is in docs/accuracy.md.",
        "",
        "| What | Target | Measured | Anchors | Load | Met | Command |",
        "|---|---|---|---|---|---|---|",
    ]
    for what, target, value, meets, unit, command, output, anchors in rows:
        measured = "not measured" if value is None else f"{value:g} {unit}"
        met = "—" if value is None or target == "—" else ("yes" if meets(value) else "**no**")
        was = previous.get(row_key(what))
        anchors = "; ".join(filter(None, [anchors, f"previous round {was}" if was else ""]))
        lines.append(
            f"| {what} | {target} | {measured} | {anchors or '—'} | {load_of(outputs[output])} "
            f"| {met} | `{command}` |"
        )
    for name, output in outputs.items():
        lines += ["", f"## {name}", "", "```", output.strip(), "```"]
    REPORT.write_text("\n".join(lines) + "\n")
    print(f"wrote {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
