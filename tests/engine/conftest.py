"""Loaders for the engine tests: real clips and real landmark tables as Pose streams, and a
one-call way to run a tracker over a stream."""

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.support.clips import CURL_CLIP, SQUAT_CLIP, clip_poses
from tests.support.labelled import load_exercise_correction, load_mlkit_samples
from tracking.engine.pose import Pose
from tracking.engine.tracker import ExerciseTracker
from tracking.params import parse_tracking_params

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def tracker_for(query: str) -> ExerciseTracker:
    return ExerciseTracker(parse_tracking_params(f"token=test&{query}"))


def run_tracker(query: str, poses) -> tuple[list[dict], list[dict]]:
    """All events fed back while streaming, and the events from finish()."""
    tracker = tracker_for(query)
    events = []
    for pose in poses:
        events.extend(tracker.feed(pose))
    return events, tracker.finish()


def summary_of(query: str, poses) -> dict:
    return run_tracker(query, poses)[1][-1]


def retimed(poses: list[Pose], factor: float) -> list[Pose]:
    return [replace(pose, timestamp_ms=pose.timestamp_ms * factor) for pose in poses]


@pytest.fixture(scope="session")
def squat_clip() -> list[Pose]:
    return clip_poses(SQUAT_CLIP)


@pytest.fixture(scope="session")
def curl_clip() -> list[Pose]:
    return clip_poses(CURL_CLIP)


def load_clip(name: str) -> list[Pose]:
    """The recorded poses of tests/fixtures/clips/<name>.landmarks.json."""
    return clip_poses(FIXTURES / "clips" / f"{name}.mp4")


@pytest.fixture(scope="session")
def engine() -> SimpleNamespace:
    """The helpers above, for test modules (which cannot import a conftest)."""
    return SimpleNamespace(
        tracker=tracker_for,
        run=run_tracker,
        summary=summary_of,
        retimed=retimed,
        exercise_correction=load_exercise_correction,
        mlkit_samples=load_mlkit_samples,
        load_clip=load_clip,
    )
