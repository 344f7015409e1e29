"""Form faults that reach the person: the engine's cues in live sessions on real, labelled people.

Each Exercise-Correction table (tests/fixtures/real/, sources in its README) is streamed through
one tracker, a frame every 1/fps s, with `recommendations=true`, as one person's set. For every
labelled fault:

- a fault run is a stretch of contiguous frames with its label; it is detected when the fault's cue
  reaches the person during the run or within 0.5 s after it ends;
- recall = detected runs / runs; precision = the fault's cues that fall within a run of it (or
  0.5 s after one) / all of its cues; delay = median time from a run's start to its first cue;
- per frame: each frame judged alone by the exercise's checks on the more visible side, against the
  labels (accuracy, and recall per label);
- held (holds): the share of each label's frames inside a counted hold.

A benchmark: it reports, it never tunes. Thresholds live in the catalog.

    .venv/bin/python bench/faults.py [--fps 30]
"""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.labelled import load_exercise_correction  # noqa: E402
from tracking.engine.body import SidePicker  # noqa: E402
from tracking.engine.catalog import DIFFICULTIES, EXERCISES  # noqa: E402
from tracking.engine.metrics import PER_SIDE_METRICS, Frame  # noqa: E402
from tracking.engine.tracker import ExerciseTracker  # noqa: E402
from tracking.params import parse_tracking_params  # noqa: E402

AFTER_MS = 500.0
MEDIUM = DIFFICULTIES["medium"]


@dataclass(frozen=True)
class Table:
    file: str
    exercise: str
    faults: dict[str, str]  # label -> the check it names; every other label is correct form


TABLES = (
    Table("plank_test.csv", "plank", {"H": "hips_high", "L": "hips_sag"}),
    Table("bicep_test.csv", "bicep_curl", {"L": "lean_back"}),
    Table("lunge_err.test.csv", "lunge", {"L": "knee_over_toe"}),
)


def runs_of(labels: list[str], label: str) -> list[tuple[int, int]]:
    """(first, last) frame indices of each stretch labelled `label`."""
    runs, start = [], None
    for i, current in enumerate([*labels, None]):
        if current == label and start is None:
            start = i
        elif current != label and start is not None:
            runs.append((start, i - 1))
            start = None
    return runs


def stream(table: Table, rows, fps: float) -> tuple[list[tuple[float, str]], dict]:
    """The tracker's cues as (time ms, check id or "other:<text>"), and its summary."""
    exercise = EXERCISES[table.exercise]
    check_of = {check.message: check.id for check in exercise.checks}
    query = f"token=bench&exercise={table.exercise}&recommendations=true&language=en"
    tracker = ExerciseTracker(parse_tracking_params(query))
    cues = []
    for _, pose in rows:
        for event in tracker.feed(pose):
            if event["type"] == "recommendations":
                for text in event["data"]:
                    cues.append((pose.timestamp_ms, check_of.get(text, f"other:{text}")))
    return cues, tracker.finish()[-1]


def frame_verdicts(table: Table, rows) -> list[str]:
    """Each frame's label as the exercise's checks read it alone (the first fault found)."""
    exercise = EXERCISES[table.exercise]
    checks = {check.id: check for check in exercise.checks}
    picker = SidePicker(exercise.needs)
    verdicts = []
    for _, pose in rows:
        frame = Frame(pose)
        side = picker.update(frame)
        verdict = "C"
        for label, check_id in table.faults.items():
            check = checks[check_id]
            value = frame.metric(check.metric, side if check.metric in PER_SIDE_METRICS else None)
            if value is not None and check.is_fault(value, MEDIUM.tolerance):
                verdict = label
                break
        verdicts.append(verdict)
    return verdicts


def held_share(summary: dict, rows, label: str) -> float | None:
    spans = [(hold["startMs"], hold["endMs"]) for hold in summary.get("history", [])]
    times = [pose.timestamp_ms for row_label, pose in rows if row_label == label]
    if not times:
        return None
    return sum(any(a <= t <= b for a, b in spans) for t in times) / len(times)


def report(table: Table, fps: float) -> list[str]:
    rows = load_exercise_correction(table.file, fps)
    labels = [label for label, _ in rows]
    times = [pose.timestamp_ms for _, pose in rows]
    cues, summary = stream(table, rows, fps)
    lines = [f"{table.file} as one {table.exercise} session: {len(rows)} frames at {fps:g} fps"]
    lines.append(
        f"  {'fault':<16} {'runs':>5} {'found':>6} {'recall':>7} {'cues':>5} {'precision':>10} "
        f"{'delay s':>8} {'frames':>7} {'held':>6}"
    )
    for label, check_id in table.faults.items():
        runs = [(times[a], times[b]) for a, b in runs_of(labels, label)]
        own = [t for t, cue in cues if cue == check_id]
        found, delays = 0, []
        for start, end in runs:
            hits = [t for t in own if start <= t <= end + AFTER_MS]
            if hits:
                found += 1
                delays.append(hits[0] - start)
        right = sum(any(start <= t <= end + AFTER_MS for start, end in runs) for t in own)
        precision = f"{right / len(own):.2f}" if own else "-"
        delay = f"{median(delays) / 1000:.2f}" if delays else "-"
        held = held_share(summary, rows, label) if EXERCISES[table.exercise].hold else None
        lines.append(
            f"  {check_id:<16} {len(runs):>5} {found:>6} {found / len(runs):>7.2f} {len(own):>5} "
            f"{precision:>10} {delay:>8} {labels.count(label):>7} "
            f"{'-' if held is None else f'{held:.2f}':>6}"
        )
    if EXERCISES[table.exercise].hold:
        held = held_share(summary, rows, "C")
        lines.append(f"  correct form held: {held:.2f} of its frames")
    verdicts = frame_verdicts(table, rows)
    agree = sum(v == label for v, label in zip(verdicts, labels, strict=True))
    hits = {label: 0 for label in labels}
    for verdict, label in zip(verdicts, labels, strict=True):
        hits[label] += verdict == label
    per_label = ", ".join(f"{label} {hits[label]}/{labels.count(label)}" for label in sorted(hits))
    lines.append(f"  per frame: accuracy {agree / len(rows):.3f} ({per_label})")
    others = sorted({cue for _, cue in cues if cue not in table.faults.values()})
    if others:
        lines.append(f"  other cues: {', '.join(others)}")
    if EXERCISES[table.exercise].kind == "repetition":
        lines.append(f"  reps counted: {summary['counter']}, attempts {summary['attempts']}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, default=30.0, help="frames per second of the stream")
    args = parser.parse_args()
    for table in TABLES:
        print("\n".join(report(table, args.fps)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
