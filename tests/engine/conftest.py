"""Loaders for the engine tests: real clips and real landmark tables as Pose streams, and a
one-call way to run a session over a stream."""

import csv
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.support.clips import CURL_CLIP, SQUAT_CLIP, clip_poses
from tracking.engine.pose import LANDMARK_INDEX, Pose
from tracking.engine.session import TrackingSession
from tracking.params import parse_tracking_params

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Exercise-Correction's videos are 16:9 landscape (bone lengths stay constant only at that aspect).
EXERCISE_CORRECTION_SIZE = (1280, 720)


def session_for(query: str) -> TrackingSession:
    return TrackingSession(parse_tracking_params(f"token=test&{query}"))


def run_session(query: str, poses) -> tuple[list[dict], list[dict]]:
    """All events fed back while streaming, and the events from finish()."""
    session = session_for(query)
    events = []
    for pose in poses:
        events.extend(session.feed(pose))
    return events, session.finish()


def summary_of(query: str, poses) -> dict:
    return run_session(query, poses)[1][-1]


def retimed(poses: list[Pose], factor: float) -> list[Pose]:
    return [replace(pose, timestamp_ms=pose.timestamp_ms * factor) for pose in poses]


def load_exercise_correction(name: str, fps: float = 30.0) -> list[tuple[str, Pose]]:
    """(label, pose) rows; landmarks the table leaves out are unknown (NaN, visibility 0)."""
    width, height = EXERCISE_CORRECTION_SIZE
    rows = []
    with (FIXTURES / "real" / name).open() as handle:
        for index, row in enumerate(csv.DictReader(handle)):
            landmarks = np.full((33, 4), np.nan)
            landmarks[:, 3] = 0.0
            for landmark, i in LANDMARK_INDEX.items():
                if f"{landmark}_x" in row:
                    landmarks[i] = [
                        float(row[f"{landmark}_x"]),
                        float(row[f"{landmark}_y"]),
                        0.0,
                        float(row[f"{landmark}_v"]),
                    ]
            rows.append((row["label"], Pose(landmarks, index * 1000.0 / fps, width, height)))
    return rows


def load_mlkit_samples() -> list[tuple[str, Pose]]:
    """ML Kit's labelled photos: pixel x, y, z and no visibility (every landmark is seen)."""
    rows = []
    with (FIXTURES / "real" / "fitness_pose_samples.csv").open() as handle:
        for row in csv.reader(handle):
            xyz = np.array([float(value) for value in row[2:]]).reshape(33, 3)
            size = float(xyz[:, :2].max()) * 1.05
            landmarks = np.column_stack([xyz / size, np.ones(33)])
            rows.append((row[1], Pose(landmarks, 0.0, round(size), round(size))))
    return rows


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
        session=session_for,
        run=run_session,
        summary=summary_of,
        retimed=retimed,
        exercise_correction=load_exercise_correction,
        mlkit_samples=load_mlkit_samples,
        load_clip=load_clip,
    )
