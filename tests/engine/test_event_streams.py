"""Whole event streams on real clips, exactly as recorded: a guard for work on the engine's speed,
which must not change a single event (docs/performance.md).

Each stream is every event of a live-configured tracker (mirrored keypoints, the page's cues) fed
a real clip, then finish(), serialised with sorted keys: its SHA-256 and its events per type are
in tests/fixtures/event_streams.json. A change that is meant to change events updates them:

    .venv/bin/python -m tests.engine.test_event_streams
"""

import collections
import hashlib
import json
import sys
from dataclasses import replace

import orjson
import pytest

from tests.support.clips import CLIPS, clip_poses
from tracking.engine.tracker import ExerciseTracker
from tracking.params import parse_tracking_params

RECORDED = CLIPS.parent / "event_streams.json"
ALL_OUTPUTS = "keypoints=true&angles=true&recommendations=true&progression=true"
# (name, clip, query, world): world=False streams as a client without world landmarks does
# (bench/ws_load.py's sessions).
STREAMS = [
    ("squat", "fitness-squat-counter", f"exercise=squat&{ALL_OUTPUTS}", True),
    ("squat, no world", "fitness-squat-counter", "exercise=squat", False),
    ("squats", "pose_classification_squats", f"exercise=squat&{ALL_OUTPUTS}", True),
    ("curl", "fitness-biceps-curls", f"exercise=bicep_curl&{ALL_OUTPUTS}&blazepose=true", True),
    ("push-up", "fitness-cobra-wings", f"exercise=push_up&{ALL_OUTPUTS}", True),
    ("plank", "fitness-plank-timer", f"exercise=plank&{ALL_OUTPUTS}", True),
    ("jumping jack", "pose_1", f"exercise=jumping_jack&{ALL_OUTPUTS}", True),
    ("pose only", "pose_tracking_example", "keypoints=true&angles=true", True),
]


def stream_events(clip: str, query: str, world: bool) -> list[dict]:
    tracker = ExerciseTracker(
        parse_tracking_params(f"token=test&{query}"), mirrored=True, screen=True
    )
    events = []
    for pose in clip_poses(CLIPS / f"{clip}.mp4"):
        events.extend(tracker.feed(pose if world else replace(pose, world=None)))
    return events + tracker.finish()


def fingerprint(events: list[dict]) -> dict:
    options = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    return {
        "sha256": hashlib.sha256(orjson.dumps(events, option=options)).hexdigest(),
        "events": dict(sorted(collections.Counter(e["type"] for e in events).items())),
    }


@pytest.mark.parametrize(("name", "clip", "query", "world"), STREAMS, ids=[s[0] for s in STREAMS])
def test_engine_streams_the_recorded_events_on_real_clips(name, clip, query, world):
    recorded = json.loads(RECORDED.read_text())[name]
    events = stream_events(clip, query, world)
    assert fingerprint(events)["events"] == recorded["events"]
    assert fingerprint(events)["sha256"] == recorded["sha256"]


if __name__ == "__main__":
    recorded = {name: fingerprint(stream_events(*stream)) for name, *stream in STREAMS}
    RECORDED.write_text(json.dumps(recorded, indent=2) + "\n")
    sys.exit(0)
