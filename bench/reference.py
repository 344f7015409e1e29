"""Reference tracking speed: the real curl clip, looped, against a signature of one of its curls.

Prints reps counted, frames per second and the median and p99 time per frame (the p99 is the
once-per-repetition DTW). Target: a median well under 1 ms per frame per tracker.

    .venv/bin/python bench/reference.py [--frames 20000]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.engine import load_clip, looped  # noqa: E402
from tests.support.clips import CURL_CLIP  # noqa: E402
from tracking.engine.reference import ReferenceTracker, build_signature  # noqa: E402
from tracking.params import parse_tracking_params  # noqa: E402

# One clean curl of the clip (the same span the reference tests trim in the dashboard).
ONE_CURL_MS = (3300, 5700)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000)
    args = parser.parse_args()
    poses, period = load_clip(CURL_CLIP)
    signature = build_signature(poses, start_ms=ONE_CURL_MS[0], end_ms=ONE_CURL_MS[1])
    params = parse_tracking_params(
        "token=bench&reference=00000000-0000-4000-8000-000000000000"
        "&recommendations=true&progression=true"
    )
    tracker = ReferenceTracker(params, signature)
    times = []
    for pose in looped(poses, period, args.frames):
        start = time.perf_counter()
        tracker.feed(pose)
        times.append(time.perf_counter() - start)
    summary = tracker.finish()[-1]
    median_ms = float(np.median(times)) * 1000
    print(
        f"reps {summary['counter']} over {args.frames} frames; "
        f"{len(times) / sum(times):.0f} frames/s; median {median_ms:.3f} ms; "
        f"p99 {float(np.percentile(times, 99)) * 1000:.3f} ms per frame"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
