"""The real, labelled landmark tables of tests/fixtures/real/ (see its README) as engine poses, for
the tests and the benchmarks."""

import csv
from pathlib import Path

import numpy as np

from tracking.engine.pose import LANDMARK_INDEX, Pose

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
# Exercise-Correction's videos are 16:9 landscape (bone lengths stay constant only at that aspect).
EXERCISE_CORRECTION_SIZE = (1280, 720)


def table_poses(
    path: Path, fps: float = 30.0, size: tuple[int, int] = EXERCISE_CORRECTION_SIZE
) -> list[tuple[str, Pose]]:
    """(label, pose) rows of an Exercise-Correction landmark table (`label, <landmark>_x, _y, _z,
    _v, ...` in normalised image coordinates), one frame every 1/fps s; landmarks the table leaves
    out are unknown (NaN, visibility 0), a missing `z` is 0."""
    width, height = size
    rows = []
    with path.open() as handle:
        for index, row in enumerate(csv.DictReader(handle)):
            landmarks = np.full((33, 4), np.nan)
            landmarks[:, 3] = 0.0
            for landmark, i in LANDMARK_INDEX.items():
                if f"{landmark}_x" in row:
                    landmarks[i] = [
                        float(row[f"{landmark}_x"]),
                        float(row[f"{landmark}_y"]),
                        float(row.get(f"{landmark}_z") or 0.0),
                        float(row[f"{landmark}_v"]),
                    ]
            rows.append((row["label"], Pose(landmarks, index * 1000.0 / fps, width, height)))
    return rows


def load_exercise_correction(name: str, fps: float = 30.0) -> list[tuple[str, Pose]]:
    """(label, pose) rows of a trimmed Exercise-Correction table in tests/fixtures/real/."""
    return table_poses(REAL / name, fps)


def load_mlkit_samples() -> list[tuple[str, Pose]]:
    """ML Kit's labelled photos: pixel x, y, z and no visibility (every landmark is seen)."""
    rows = []
    with (REAL / "fitness_pose_samples.csv").open() as handle:
        for row in csv.reader(handle):
            xyz = np.array([float(value) for value in row[2:]]).reshape(33, 3)
            size = float(xyz[:, :2].max()) * 1.05
            landmarks = np.column_stack([xyz / size, np.ones(33)])
            rows.append((row[1], Pose(landmarks, 0.0, round(size), round(size))))
    return rows
