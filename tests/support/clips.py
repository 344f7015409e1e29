"""The real clips of tests/fixtures/clips/ (see its README) as the tests and the benchmarks use
them: their recorded BlazePose landmarks (as engine poses or as the live protocol's `landmarks`
messages, packed as the tracking page packs them), their video frames (as JPEGs, looped into a
longer video, re-encoded, or as a fake camera file), the same poses at other frame rates and
timings, and where a set's reps turn and rest.

A clip is named by its video's path; its landmarks are in `<video>.landmarks.json` beside it.
"""

import json
import random
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

from tracking.engine.body import SidePicker, view_of
from tracking.engine.catalog import EXERCISES
from tracking.engine.metrics import SIDES, Frame
from tracking.engine.pose import Pose

CLIPS = Path(__file__).resolve().parents[1] / "fixtures" / "clips"
SQUAT_CLIP = CLIPS / "fitness-squat-counter.mp4"  # 10 fps, 152×248, 4 squats in 10.3 s
CURL_CLIP = CLIPS / "fitness-biceps-curls.mp4"  # 10 fps, 152×264, 6 curls
BALANCE_CLIP = CLIPS / "pose_1.mp4"  # 30 fps, 576×576, standing on one leg, arms sweeping


def clip_landmarks(clip: Path = SQUAT_CLIP) -> dict:
    """The recorded landmarks: `frames` (frame_id, timestamp_ms, landmarks, world), `fps`,
    `image_width` and `image_height`."""
    return json.loads(clip.with_suffix(".landmarks.json").read_text())


def clip_poses(clip: Path) -> list[Pose]:
    """The recorded landmarks as the engine's poses (None where no one was seen)."""
    data = clip_landmarks(clip)
    return [
        Pose(
            np.array(frame["landmarks"]) if frame["landmarks"] else None,
            frame["timestamp_ms"],
            data["image_width"],
            data["image_height"],
            np.array(frame["world"]) if frame["world"] else None,
            frame["frame_id"],
        )
        for frame in data["frames"]
    ]


def landmark_messages(clip: Path = SQUAT_CLIP, *, world: bool = True) -> list[dict]:
    """The recorded landmarks as the `landmarks` messages the tracking page sends; `world=False`:
    as a client from before world landmarks sends them (no `world` field)."""
    messages = [page_message(pose) for pose in clip_poses(clip)]
    if not world:
        for message in messages:
            del message["world"]
    return messages


def page_message(pose: Pose) -> dict:
    """A pose as the tracking page packs it (static/formtrack/live/inference.js): image landmarks
    to 1e-5, world landmarks (metres) to the millimetre, t to a tenth of a millisecond."""
    seen = pose.landmarks is not None
    return {
        "type": "landmarks",
        "frameId": pose.frame_id,
        "t": round(pose.timestamp_ms, 1),
        "image": {"w": pose.image_width, "h": pose.image_height},
        "landmarks": np.round(pose.landmarks, 5).tolist() if seen else None,
        "world": np.round(pose.world, 3).tolist() if seen and pose.world is not None else None,
    }


def clip_frames(clip: Path) -> tuple[list[np.ndarray], float]:
    """Every frame of the video (BGR) and its frame rate."""
    capture = cv2.VideoCapture(str(clip))
    fps = capture.get(cv2.CAP_PROP_FPS)
    frames = []
    while (read := capture.read())[0]:
        frames.append(read[1])
    capture.release()
    if not frames or not fps:
        raise ValueError(f"cannot read {clip}")
    return frames, fps


def clip_jpegs(count: int, clip: Path = SQUAT_CLIP) -> list[bytes]:
    """The clip's first `count` frames as JPEGs, as the tracking page sends them."""
    frames, _ = clip_frames(clip)
    return [cv2.imencode(".jpg", frame)[1].tobytes() for frame in frames[:count]]


def looped_clip(source: Path, target: Path, loops: int) -> Path:
    """A real clip played `loops` times in a row (mp4v): a longer analysis of known content."""
    frames, fps = clip_frames(source)
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for _ in range(loops):
        for frame in frames:
            writer.write(frame)
    writer.release()
    return target


def reencoded_clip(source: Path, target: Path, *ffmpeg_output_args: str) -> Path:
    """A real clip re-encoded by the FFmpeg the imageio-ffmpeg wheel ships, e.g. to a container
    or codec browsers do not play; the format follows the arguments and `target`'s suffix."""
    subprocess.run(  # noqa: S603 - our own FFmpeg binary, the caller's fixed arguments
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(source)]
        + [*ffmpeg_output_args, str(target)],
        check=True,
    )
    return target


def clip_to_y4m(
    source: Path,
    target: Path,
    *,
    scale: int = 1,
    repeat: int = 1,
    stamped: bool = False,
    keep: list[int] | None = None,
) -> int:
    """Write a video as Y4M (4:2:0), the format Chromium's fake camera plays; returns its frames.

    Chromium plays the file at its header's frame rate and loops it. Each frame is scaled by
    `scale` (to even sides, as 4:2:0 needs) and repeated `repeat` times, so the timing of the clip
    is kept at `repeat` times its frame rate. `stamped` adds a band under each frame that codes its
    index in the clip, read back by `stamped_frame_index` from what the camera showed. `keep`:
    the indices of the frames to write, in order (all of them by default).
    """
    frames, fps = clip_frames(source)
    if keep is not None:
        frames = [frames[index] for index in keep]
    height, width = frames[0].shape[:2]
    width, height = width * scale // 2 * 2, height * scale // 2 * 2
    band = STAMP_BAND_HEIGHT * scale if stamped else 0
    with target.open("wb") as out:
        rate = round(fps * repeat)
        out.write(f"YUV4MPEG2 W{width} H{height + band} F{rate}:1 Ip A1:1 C420jpeg\n".encode())
        for index, frame in enumerate(frames):
            picture = cv2.resize(frame, (width, height), interpolation=cv2.INTER_CUBIC)
            if stamped:
                picture = np.vstack([picture, _stamp(index, width, band)])
            planes = cv2.cvtColor(picture, cv2.COLOR_BGR2YUV_I420).tobytes()
            for _ in range(repeat):
                out.write(b"FRAME\n")
                out.write(planes)
    return len(frames)


# The stamp: a band of white and black cells, big enough to survive a camera recording's lossy
# compression and any rescaling. The first cell is always white; the others are the frame's index
# in binary, most significant bit first.
STAMP_BAND_HEIGHT = 16
STAMP_BITS = 7  # clips of up to 128 frames


def _stamp(index: int, width: int, height: int) -> np.ndarray:
    assert index < 2**STAMP_BITS, f"frame {index} does not fit in the stamp"
    bits = [1] + [index >> shift & 1 for shift in range(STAMP_BITS - 1, -1, -1)]
    band = np.zeros((height, width, 3), np.uint8)
    for cell, bit in enumerate(bits):
        band[:, cell * width // len(bits) : (cell + 1) * width // len(bits)] = 255 * bit
    return band


def half_squat_frames() -> list[int]:
    """The squat clip's frames without the deep half of each squat: the same person doing half
    squats (each still counts, with a lower grade and the squat's depth cue)."""
    segments = Segments.of("squat", clip_poses(SQUAT_CLIP))
    return [index for index, depth in enumerate(segments.signal) if depth <= HALF_SQUAT_DEPTH]


def stamped_frame_index(picture: np.ndarray, clip_height: int) -> int | None:
    """The clip frame index stamped on a picture of a stamped camera (BGR, at any scale), or None
    when its band does not read as a stamp. `clip_height`: the clip frame's height, unscaled."""
    height, width = picture.shape[:2]
    band_height = height * STAMP_BAND_HEIGHT // (clip_height + STAMP_BAND_HEIGHT)
    band = cv2.cvtColor(picture[height - band_height :], cv2.COLOR_BGR2GRAY)
    cells = 1 + STAMP_BITS
    # The middle of each cell, away from the edges that compression smears.
    values = [
        np.median(
            band[
                band_height // 4 : band_height * 3 // 4,
                (4 * cell + 1) * width // (4 * cells) : (4 * cell + 3) * width // (4 * cells),
            ]
        )
        for cell in range(cells)
    ]
    if values[0] < 128:
        return None
    return sum(1 << (STAMP_BITS - 1 - i) for i, value in enumerate(values[1:]) if value >= 128)


# -- the same movement at other frame rates and timings ---------------------------------------

RATES = (10.0, 15.0, 30.0)
DROP_SHARE = 0.1
JITTER_MS = 15.0


def _blend(a: Pose, b: Pose, t: float) -> Pose:
    """The pose at time t between a and b: linear, or the nearer one where either is missing."""
    share = (t - a.timestamp_ms) / (b.timestamp_ms - a.timestamp_ms)
    if a.landmarks is None or b.landmarks is None:
        return replace(a if share < 0.5 else b, timestamp_ms=t)
    world = None
    if a.world is not None and b.world is not None:
        world = a.world + share * (b.world - a.world)
    landmarks = a.landmarks + share * (b.landmarks - a.landmarks)
    return Pose(landmarks, t, a.image_width, a.image_height, world)


def resampled(poses: list[Pose], fps: float) -> list[Pose]:
    """The poses at `fps` over the same time span, each between its two recorded neighbours."""
    start, end, step = poses[0].timestamp_ms, poses[-1].timestamp_ms, 1000.0 / fps
    out: list[Pose] = []
    j = 0
    while (t := start + len(out) * step) <= end + 1e-6:
        while j + 2 < len(poses) and poses[j + 1].timestamp_ms <= t:
            j += 1
        a, b = poses[j], poses[min(j + 1, len(poses) - 1)]
        pose = _blend(a, b, t) if b.timestamp_ms > a.timestamp_ms else replace(a, timestamp_ms=t)
        out.append(replace(pose, frame_id=len(out)))
    return out


def rate_variants(poses: list[Pose], seed: int = 16) -> list[tuple[str, list[Pose]]]:
    """The poses resampled to each of RATES, at 15 fps with DROP_SHARE of the frames dropped,
    and at 30 fps with timestamps jittered by up to ±JITTER_MS (still in order)."""
    rng = random.Random(seed)
    variants = [(f"{fps:g} fps", resampled(poses, fps)) for fps in RATES]
    dropped = [pose for pose in resampled(poses, 15.0) if rng.random() >= DROP_SHARE]
    variants.append((f"15 fps, {DROP_SHARE:.0%} dropped", dropped))
    jittered: list[Pose] = []
    for pose in resampled(poses, 30.0):
        t = pose.timestamp_ms + rng.uniform(-JITTER_MS, JITTER_MS)
        if jittered:
            t = max(t, jittered[-1].timestamp_ms + 1.0)
        jittered.append(replace(pose, timestamp_ms=t))
    variants.append((f"30 fps, ±{JITTER_MS:g} ms jitter", jittered))
    return variants


# -- where a set's reps turn and rest -----------------------------------------------------------

# Half squats: frames up to this share of the clip's squat depth.
HALF_SQUAT_DEPTH = 0.7

# A turn rises above HIGH of the clip's range from below LOW and comes back under LOW; a frame
# within AT_REST of a rep's range of its rest is at rest.
HIGH, LOW = 0.6, 0.3
AT_REST = 0.1


@dataclass
class Segments:
    """Where a set clip's movement turns and rests, on the exercise's own signal measured on the
    raw landmarks (the more visible side side-on, both sides' mean facing the camera) and scaled
    to the clip's range: what the harness and the tests cut single reps and fragments at, read
    from the movement itself rather than from the counter under test.

    `peaks[i]`: the index of rep i's turn; `rests[i]`: the lowest frame between turn i-1 and turn
    i (`rests[len(peaks)]` after the last); `signal`: the scaled signal per pose."""

    signal: list[float]
    peaks: list[int]
    rests: list[int]

    @classmethod
    def of(cls, exercise_id: str, poses: list[Pose]) -> "Segments":
        exercise = EXERCISES[exercise_id]
        picker = SidePicker(exercise.needs)
        view = None
        raw: list[float | None] = []
        for pose in poses:
            if pose.landmarks is None:
                raw.append(None)
                continue
            frame = Frame(pose)
            view = view_of(frame, view)
            signal = exercise.signal_for(view)
            sides: tuple[str | None, ...] = (None,)
            if signal.per_side:
                sides = SIDES if view == "front" else (picker.update(frame),)
            values = []
            for side in sides:
                parts = []
                for component in signal.components:
                    value = frame.metric(component.metric, side)
                    if value is not None:
                        parts.append((value - component.top) / (component.target - component.top))
                if parts:
                    values.append(max(parts) if signal.combine == "max" else float(np.mean(parts)))
            raw.append(float(np.mean(values)) if values else None)
        known = [value for value in raw if value is not None]
        filled: list[float] = []
        last = known[0] if known else 0.0
        for value in raw:
            last = value if value is not None else last
            filled.append(last)
        # A median of three drops single-frame glitches.
        smooth = [float(np.median(filled[max(0, i - 1) : i + 2])) for i in range(len(filled))]
        low, high = np.percentile(smooth, 2), np.percentile(smooth, 98)
        scaled = [(v - low) / (high - low) if high > low else 0.0 for v in smooth]
        peaks: list[int] = []
        armed, run = scaled[0] < LOW, None
        for i, value in enumerate(scaled):
            if armed and value >= HIGH:
                armed, run = False, i
            elif run is not None:
                if value > scaled[run]:
                    run = i
                if value < LOW:
                    peaks.append(run)
                    armed, run = True, None
            elif value < LOW:
                armed = True
        bounds = [0, *peaks, len(scaled) - 1]
        pairs = zip(bounds, bounds[1:], strict=False)
        rests = [min(range(a, b + 1), key=lambda i: scaled[i]) for a, b in pairs]
        return cls(scaled, peaks, rests)

    def start(self, i: int) -> int:
        """The last frame at rest before rep i leaves it."""
        rest, peak = self.rests[i], self.peaks[i]
        limit = self.signal[rest] + AT_REST * (self.signal[peak] - self.signal[rest])
        return max(j for j in range(rest, peak) if self.signal[j] <= limit)

    def end(self, i: int) -> int:
        """The first frame back at rest after rep i's turn."""
        rest, peak = self.rests[i + 1], self.peaks[i]
        limit = self.signal[rest] + AT_REST * (self.signal[peak] - self.signal[rest])
        return min(j for j in range(peak, rest + 1) if self.signal[j] <= limit)

    def halfway_back(self, i: int) -> int:
        """The last frame still more than halfway up on rep i's return."""
        rest, peak = self.rests[i + 1], self.peaks[i]
        half = (self.signal[peak] + self.signal[rest]) / 2
        return max(j for j in range(peak, self.end(i) + 1) if self.signal[j] > half)
