"""Engine speed: the real clips' landmark streams, looped, through trackers with every output on.

Prints frames per second and the median and p99 time per frame, per tracker kind, and the CPU
time per frame (process time, which other work on the machine moves less than elapsed time).
Target: a median of at most 0.2 ms per frame per tracker (about 5,000 frames/s on one core).

    .venv/bin/python bench/engine.py [--frames 20000]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.clips import CURL_CLIP, SQUAT_CLIP, clip_landmarks, clip_poses  # noqa: E402
from tracking.engine.pose import Pose  # noqa: E402
from tracking.engine.tracker import ExerciseTracker  # noqa: E402
from tracking.params import parse_tracking_params  # noqa: E402

ALL_OUTPUTS = "keypoints=true&angles=true&recommendations=true&progression=true"
TRACKERS = [
    ("squat", SQUAT_CLIP, f"exercise=squat&{ALL_OUTPUTS}"),
    ("bicep_curl", CURL_CLIP, f"exercise=bicep_curl&{ALL_OUTPUTS}&blazepose=true"),
    ("jumping_jack", SQUAT_CLIP, f"exercise=jumping_jack&{ALL_OUTPUTS}"),
    ("plank", SQUAT_CLIP, f"exercise=plank&{ALL_OUTPUTS}"),
    ("pose only", CURL_CLIP, "keypoints=true&angles=true"),
]


def load_clip(clip: Path) -> tuple[list[Pose], float]:
    """The clip's poses and its period in ms: the time from its first frame to its first frame
    again when it is looped."""
    poses = clip_poses(clip)
    return poses, poses[-1].timestamp_ms + 1000.0 / clip_landmarks(clip)["fps"]


def looped(poses: list[Pose], period_ms: float, count: int) -> list[Pose]:
    out = []
    for i in range(count):
        loop, index = divmod(i, len(poses))
        pose = poses[index]
        out.append(
            Pose(
                pose.landmarks,
                pose.timestamp_ms + loop * period_ms,
                pose.image_width,
                pose.image_height,
                pose.world,
                i,
            )
        )
    return out


def run(query: str, stream: list[Pose]) -> tuple[list[float], int, float]:
    """Each frame's elapsed time, the events, and the CPU seconds of the whole run."""
    tracker = ExerciseTracker(parse_tracking_params(f"token=bench&{query}"))
    times = []
    events = 0
    clock = time.perf_counter
    cpu_start = time.process_time()
    for pose in stream:
        start = clock()
        events += len(tracker.feed(pose))
        times.append(clock() - start)
    events += len(tracker.finish())
    return times, events, time.process_time() - cpu_start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000, help="frames per tracker")
    args = parser.parse_args()
    print(
        f"{'tracker':<14} {'frames/s':>10} {'median ms':>10} {'p99 ms':>8} {'events':>8} "
        f"{'CPU µs':>7}"
    )
    worst_median = 0.0
    for label, clip, query in TRACKERS:
        poses, period = load_clip(clip)
        stream = looped(poses, period, args.frames)
        run(query, stream[:500])  # warm up
        times, events, cpu_s = run(query, stream)
        median_ms = float(np.median(times)) * 1000
        p99_ms = float(np.percentile(times, 99)) * 1000
        worst_median = max(worst_median, median_ms)
        print(
            f"{label:<14} {len(times) / sum(times):>10.0f} {median_ms:>10.3f} {p99_ms:>8.3f} "
            f"{events:>8} {cpu_s / len(times) * 1e6:>7.1f}"
        )
    verdict = "OK" if worst_median <= 0.2 else "ABOVE TARGET"
    print(f"worst median {worst_median:.3f} ms per frame (target 0.2 ms): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
