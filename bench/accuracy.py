"""Counting accuracy on real people: every labelled real clip through the upload pipeline.

Labels: bench/accuracy_labels.toml (copied from the shared data set's MANIFEST.md, with their
sources). Each video runs through tracking.pose.pipeline.analyze_file as an upload would (real
MediaPipe at the upload's analysis rate, the real engine tracker), once per model: lite (the
upload default) and full (blazepose=true). MediaPipe's
landmarks of a file are kept in .cache/accuracy/, keyed by the file's hash, the model, the
analysis rate and what makes landmarks (the code that decodes and prepares frames, the models and
mediapipe: `landmark_inputs_hash`), and replayed on later runs: only the estimator is replayed,
everything else runs.

Groups (each: exact %, within one %, normalised MAE = mean |count - label| / max(label, 1)):
- sets: multi-rep clips; wrong: a movement that is not the exercise analysed (label 0);
  near: movements close to a catalog exercise, counted by the vendor's rules (reported only);
- holds: seconds held (exact: within 0.5 s, within one: within 1 s, MAE in seconds / label);
- single rep: each rep of a set cut out, from its last frame at rest to its first frame back at
  rest (the clip starts straight into the movement): 1;
- ends mid-return: a single rep cut halfway back: 0; a whole set cut halfway back from its last
  rep: one less than the set;
- starts mid-rep: from a rep's turn to its end: 0; a whole set from its first turn: one less;
- rates: each set's and wrong movement's landmarks resampled to 10, 15 and 30 frames a second,
  with 10 % of the frames dropped, and with timestamps jittered by up to ±15 ms, through the
  engine tracker: the clip's label;
- tables: landmark tables with per-row stage labels, through the engine tracker.
Range of motion: each clip through the upload pipeline as its assessment (exercise=knee_rom …),
the best held peak of the labelled side and movement (the upload summary's rom_summary) against
the vendor's peak readout, on the vendor's scale: mean absolute error in degrees, and how many
readouts fall within our stated uncertainty. A bound-only readout is reported, not averaged.

Reports, never tunes: the excerpts are cut where the clip's own movement signal turns and rests
(`Segments`, the catalog signal measured on the landmarks, not the engine's counter), only when
that finds as many complete turns as the label has reps.

    .venv/bin/python bench/accuracy.py [--data ../shared/data] [--models lite full]
                                       [--only GROUP ...] [--verbose]
"""

import argparse
import functools
import hashlib
import json
import os
import statistics
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import mediapipe
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.clips import Segments, clip_frames, rate_variants  # noqa: E402
from tests.support.labelled import table_poses  # noqa: E402
from tracking.engine.pose import Pose  # noqa: E402
from tracking.engine.tracker import open_tracker  # noqa: E402
from tracking.params import parse_tracking_params  # noqa: E402
from tracking.pose import chunks, estimator, media  # noqa: E402
from tracking.pose.estimator import PoseEstimator  # noqa: E402
from tracking.pose.media import probe_video  # noqa: E402
from tracking.pose.pipeline import analyze_file  # noqa: E402

LABELS = Path(__file__).with_name("accuracy_labels.toml")
CACHE = ROOT / ".cache" / "accuracy"
# The shared data set sits beside the main checkout (../shared/data), and worktrees sit one level
# further down.
DATA_CANDIDATES = (ROOT.parent / "shared" / "data", ROOT.parents[1] / "shared" / "data")
UPLOAD_FPS = 15.0  # settings.UPLOAD_ANALYSIS_FPS's default


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@functools.cache
def landmark_inputs_hash(model: str) -> str:
    """What MediaPipe's landmarks of a file depend on besides the file: the modules that decode,
    select and convert its frames and run the estimator, the model files and mediapipe's
    version. Any change there (a frame size, a colour conversion) records the landmarks anew."""
    digest = hashlib.sha256(mediapipe.__version__.encode())
    sources = [Path(module.__file__) for module in (media, chunks, estimator)]
    for path in [*sources, *estimator.model_files(model), estimator.server_landmark_model(model)]:
        digest.update(path.read_bytes() if path.is_file() else b"missing")
    return digest.hexdigest()[:12]


# -- MediaPipe, replayed ---------------------------------------------------------------------


def _pose_to_json(pose: Pose) -> list:
    return [
        pose.landmarks.tolist() if pose.landmarks is not None else None,
        pose.world.tolist() if pose.world is not None else None,
        pose.image_width,
        pose.image_height,
    ]


class ReplayEstimator:
    """PoseEstimator's interface: MediaPipe's landmarks of this file as recorded on an earlier
    run (same file, model, analysis rate and landmark inputs), else the real estimator,
    recording."""

    def __init__(self, record: Path, model: str, mode: str):
        self.record, self.model, self.mode = record, model, mode
        self.frames: dict[str, list] = (
            json.loads(record.read_text())["frames"] if record.exists() else {}
        )
        self._replaying = bool(self.frames)
        self._real: PoseEstimator | None = None
        self._stderr: int | None = None

    def estimate(self, image_rgb, timestamp_ms: float, frame_id: int | None = None) -> Pose:
        recorded = self.frames.get(str(frame_id)) if self._replaying else None
        if recorded is None:
            if self._real is None:
                # MediaPipe's native start-up warnings, once per file, would bury the report.
                self._stderr = os.dup(2)
                os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
                self._real = PoseEstimator(self.model, self.mode)
                self._replaying, self.frames = False, {}
            pose = self._real.estimate(image_rgb, timestamp_ms, frame_id)
            self.frames[str(frame_id)] = _pose_to_json(pose)
            return pose
        landmarks, world, width, height = recorded
        return Pose(
            np.array(landmarks) if landmarks is not None else None,
            timestamp_ms,
            width,
            height,
            np.array(world) if world is not None else None,
            frame_id,
        )

    def close(self) -> None:
        if self._stderr is not None:
            os.dup2(self._stderr, 2)
            os.close(self._stderr)
            self._stderr = None
        if self._real is not None:
            self._real.close()
            self.record.parent.mkdir(parents=True, exist_ok=True)
            self.record.write_text(json.dumps({"model": self.model, "frames": self.frames}))

    def __enter__(self) -> "ReplayEstimator":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class Uploads:
    """Runs files through analyze_file as an upload, MediaPipe replayed from the cache."""

    def __init__(self, model: str):
        self.model = model

    def params(self, query: str):
        query = f"token=bench&source=video&{query}&mediapipeModel={self.model}"
        return parse_tracking_params(query, endpoint="upload")

    def analyse(self, video: Path, query: str, fps: float = UPLOAD_FPS):
        params = self.params(query)
        rate = min(fps, probe_video(video).fps)
        model = params.mediapipe_model
        inputs = landmark_inputs_hash(model)
        record = CACHE / f"{file_hash(video)}-{model}-{rate:g}fps-{inputs}.json"
        result = analyze_file(
            video,
            params=params,
            analysis_fps=rate,
            make_estimator=lambda model, mode: ReplayEstimator(record, model, mode),
        )
        return result, record

    def poses(self, video: Path) -> list[Pose]:
        """The video's poses at its own frame rate, as MediaPipe gave them to the pipeline."""
        _, record = self.analyse(video, "", fps=1000.0)
        rate = probe_video(video).fps
        frames = json.loads(record.read_text())["frames"]
        poses = []
        for frame_id in sorted(frames, key=int):
            landmarks, world, width, height = frames[frame_id]
            poses.append(
                Pose(
                    np.array(landmarks) if landmarks is not None else None,
                    int(frame_id) * 1000.0 / rate,
                    width,
                    height,
                    np.array(world) if world is not None else None,
                    int(frame_id),
                )
            )
        return poses


def summary_of(result) -> dict:
    return result.summary["exercise_summary"] or {}


def tracker_summary(query: str, poses: list[Pose]) -> dict:
    """The engine tracker over a stream of poses (what a live session or the pipeline runs)."""
    tracker = open_tracker(parse_tracking_params(f"token=bench&{query}"))
    for pose in poses:
        tracker.feed(pose)
    return tracker.finish()[-1]


# -- scoring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One clip's reading against its label: a count, or seconds held (`low`..`high` when the
    label is a range)."""

    what: str
    got: float
    low: float
    high: float
    unit: str = "reps"

    @property
    def error(self) -> float:
        return max(0.0, self.low - self.got, self.got - self.high)

    @property
    def exact(self) -> bool:
        """A count exactly; seconds within half a second."""
        return self.error <= (0.5 if self.unit == "s" else 0.0)

    def line(self) -> str:
        label = f"{self.low:g}" if self.low == self.high else f"{self.low:g}-{self.high:g}"
        mark = "ok" if self.exact else "MISS"
        return f"  {mark:<4} {self.what:<72} {self.got:>6g} vs {label:<8} {self.unit}"


@dataclass
class Group:
    name: str
    rows: list[Row] = field(default_factory=list)

    def figures(self) -> tuple[int, float, float, float]:
        """Clips, exact %, within one (rep or second) %, normalised MAE."""
        n = len(self.rows)
        if not n:
            return 0, 0.0, 0.0, 0.0
        exact = sum(row.exact for row in self.rows)
        within = sum(row.error <= 1.0 for row in self.rows)
        nmae = sum(row.error / max(row.high, 1.0) for row in self.rows) / n
        return n, 100.0 * exact / n, 100.0 * within / n, nmae


# -- cutting the sets ------------------------------------------------------------------------


def cut(video: Path, first: int, last: int) -> Path:
    """Frames first..last (inclusive) of the video as their own mp4v file (made once)."""
    target = CACHE / "excerpts" / f"{video.stem}-{file_hash(video)}-{first}-{last}.mp4"
    if not target.exists():
        frames, fps = clip_frames(video)
        target.parent.mkdir(parents=True, exist_ok=True)
        height, width = frames[0].shape[:2]
        partial = target.with_suffix(".partial.mp4")
        writer = cv2.VideoWriter(
            str(partial), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height)
        )
        for frame in frames[first : last + 1]:
            writer.write(frame)
        writer.release()
        partial.rename(target)
    return target


# -- the run ---------------------------------------------------------------------------------


def find_data(given: str | None) -> Path:
    for candidate in [Path(given)] if given else DATA_CANDIDATES:
        if (candidate / "MANIFEST.md").exists():
            return candidate
    raise SystemExit("shared data set not found: pass --data <folder with MANIFEST.md>")


class Harness:
    """One model's run over every group asked for; `report` prints a row (every row with
    --verbose, else the clip groups and the misses) and `summary` the figures per group."""

    def __init__(self, data: Path, labels: dict, model: str, only, verbose: bool):
        self.data, self.labels, self.only, self.verbose = data, labels, only, verbose
        self.uploads = Uploads(model)
        self.groups: dict[str, Group] = {}
        self.rom_errors: list[float] = []
        self.rom_within = 0  # readouts within our stated uncertainty

    def wanted(self, *names: str) -> bool:
        return not self.only or any(name in self.only for name in names)

    def report(self, name: str, what: str, got: float, label, unit: str = "reps") -> None:
        low, high = label if isinstance(label, tuple) else (label, label)
        row = Row(what, got, low, high, unit)
        self.groups.setdefault(name, Group(name)).rows.append(row)
        if self.verbose or name in ("sets", "wrong", "near", "holds") or not row.exact:
            print(f"{name:<16}{row.line()}")

    def clips(self) -> None:
        for clip in self.labels["clip"]:
            if not self.wanted(clip["group"]):
                continue
            video = self.data / clip["file"]
            result, _ = self.uploads.analyse(video, f"exercise={clip['exercise']}")
            summary = summary_of(result)
            what = f"{video.stem} as {clip['exercise']}"
            if "reps" in clip:
                self.report(clip["group"], what, summary.get("counter", 0), clip["reps"])
            else:
                held = summary.get("held_ms", 0) / 1000.0
                label = tuple(clip["hold_range_s"]) if "hold_range_s" in clip else clip["hold_s"]
                self.report(clip["group"], what, round(held, 1), label, "s")

    def range_of_motion(self) -> None:
        for rom in self.labels["rom"]:
            video = self.data / rom["file"]
            result, _ = self.uploads.analyse(video, f"exercise={rom['assessment']}")
            rom_summary = result.summary.get("rom_summary") or {}
            found = [
                r
                for r in rom_summary.get("results", [])
                if (r["movement"], r["side"]) == (rom["movement"], rom["side"])
            ]
            what = f"{video.stem} {rom['side']} {rom['movement']}"
            label = rom["degrees"]
            if not found:
                print(f"{'rom':<16}  {what:<55} not measured vs {label:g} degrees")
                continue
            degrees, uncertainty = found[0]["degrees"], found[0]["uncertainty"]
            # On the vendor's scale: an interior angle is 180 minus the movement.
            ours = 180.0 - degrees if rom["readout"] == "interior" else degrees
            if rom.get("bound") == "at_most":
                mark = "ok" if ours <= label else "MISS"
                print(f"{'rom':<16}  {what:<55} {ours:>6.1f} vs at most {label:g} degrees {mark}")
                continue
            error = abs(ours - label)
            self.rom_errors.append(error)
            self.rom_within += error <= uncertainty
            print(
                f"{'rom':<16}  {what:<55} {ours:>6.1f} ± {uncertainty:<4.1f} vs {label:g} "
                f"degrees ({ours - label:+.1f})"
            )

    def excerpts(self) -> None:
        sets = {
            clip["file"]: clip["reps"] for clip in self.labels["clip"] if clip["group"] == "sets"
        }
        for entry in self.labels["cut"]:
            video, exercise = self.data / entry["file"], entry["exercise"]
            reps = sets[entry["file"]]
            segments = Segments.of(exercise, self.uploads.poses(video))
            if len(segments.peaks) != reps:
                print(
                    f"{'excerpts':<16}  skip {video.stem}: its signal turns "
                    f"{len(segments.peaks)} times, the label says {reps}"
                )
                continue
            cuts = []
            for i in range(reps):
                start, end, turn = segments.start(i), segments.end(i), segments.peaks[i]
                cuts += [
                    ("single rep", f"rep {i + 1}", start, end, 1),
                    (
                        "ends mid-return",
                        f"rep {i + 1} to halfway back",
                        start,
                        segments.halfway_back(i),
                        0,
                    ),
                    ("starts mid-rep", f"rep {i + 1} from its turn", turn, end, 0),
                ]
            cuts += [
                (
                    "ends mid-return",
                    "set to halfway back",
                    0,
                    segments.halfway_back(reps - 1),
                    reps - 1,
                ),
                (
                    "starts mid-rep",
                    "set from its first turn",
                    segments.peaks[0],
                    len(segments.signal) - 1,
                    reps - 1,
                ),
            ]
            fps = probe_video(video).fps
            for name, what, first, last, label in cuts:
                if not self.wanted(name):
                    continue
                result, _ = self.uploads.analyse(cut(video, first, last), f"exercise={exercise}")
                seconds = (last - first + 1) / fps
                self.report(
                    name,
                    f"{video.stem} {what} ({first}-{last}, {seconds:.1f} s)",
                    summary_of(result).get("counter", 0),
                    label,
                )

    def rates(self) -> None:
        for clip in self.labels["clip"]:
            if clip["group"] not in ("sets", "wrong"):
                continue
            poses = self.uploads.poses(self.data / clip["file"])
            for variant, stream in rate_variants(poses):
                summary = tracker_summary(f"exercise={clip['exercise']}", stream)
                what = f"{Path(clip['file']).stem} as {clip['exercise']}, {variant}"
                self.report("rates", what, summary.get("counter", 0), clip["reps"])

    def tables(self) -> None:
        for table in self.labels["table"]:
            rows = table_poses(self.data / table["file"], table["fps"])
            summary = tracker_summary(f"exercise={table['exercise']}", [pose for _, pose in rows])
            what = f"{Path(table['file']).name} as {table['exercise']}"
            self.report("tables", what, summary.get("counter", 0), table["reps"])

    def run(self) -> None:
        self.clips()
        if self.wanted("rom"):
            self.range_of_motion()
        if self.wanted("single rep", "ends mid-return", "starts mid-rep"):
            self.excerpts()
        if self.wanted("rates"):
            self.rates()
        if self.wanted("tables"):
            self.tables()

    def summary(self) -> None:
        print(
            f"{'group':<16} {'clips':>5} {'exact %':>8} {'within one %':>13} {'normalised MAE':>15}"
        )
        clips = exact_clips = 0
        for name, group in self.groups.items():
            n, exact, within, nmae = group.figures()
            print(f"{name:<16} {n:>5} {exact:>8.0f} {within:>13.0f} {nmae:>15.3f}")
            if name != "near":
                clips += n
                exact_clips += sum(row.exact for row in group.rows)
        if clips:
            share = 100 * exact_clips / clips
            print(f"all but near: {exact_clips} of {clips} exact ({share:.0f}%)")
        if self.rom_errors:
            mae, readouts = statistics.mean(self.rom_errors), len(self.rom_errors)
            print(
                f"range of motion: mean absolute error {mae:.1f} degrees, {readouts} readouts, "
                f"{self.rom_within} within our stated uncertainty"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="the shared data folder (with MANIFEST.md)")
    parser.add_argument(
        "--models",
        nargs="+",
        default=["lite", "full"],
        help="MediaPipe models, one run each (lite: the upload default; full: blazepose=true)",
    )
    parser.add_argument("--only", nargs="+", help="groups to run")
    parser.add_argument("--verbose", action="store_true", help="every excerpt and rate, not misses")
    args = parser.parse_args()
    data = find_data(args.data)
    labels = tomllib.loads(LABELS.read_text())
    for model in args.models:
        started = time.perf_counter()
        print(f"== {model} model, {UPLOAD_FPS:g} fps analysis ==")
        harness = Harness(data, labels, model, args.only, args.verbose)
        harness.run()
        print()
        harness.summary()
        print(f"done in {time.perf_counter() - started:.0f} s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
