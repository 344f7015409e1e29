"""Build MediaPipe Tasks `.task` bundles (pose detector + landmark model) from `.tflite` files.

The PoseLandmarker of the Tasks API (Python and the browser's tasks-vision) loads a zip of
`pose_detector.tflite` and `pose_landmarks_detector.tflite`. The legacy models carry no input
normalisation metadata, which the Tasks API requires for float inputs, so it is written first.

Usage: build_pose_task_bundles.py DETECTOR OUT_DIR NAME=LANDMARK_MODEL [NAME=LANDMARK_MODEL ...]
writes OUT_DIR/pose_landmarker_NAME.task for each landmark model.
"""

import argparse
import os
import tempfile
from pathlib import Path

from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer
from mediapipe.tasks.python.metadata.metadata_writers.model_asset_bundle_utils import (
    create_model_asset_bundle,
)

# Input normalisation the two networks were trained with: the detector takes [-1, 1], the
# landmark model [0, 1].
DETECTOR_NORMALISATION = (127.5, 127.5)
LANDMARK_NORMALISATION = (0.0, 255.0)


def with_image_metadata(model: bytes, name: str, mean: float, std: float) -> bytes:
    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(name)
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    model_with_metadata, _ = writer.populate()
    return bytes(model_with_metadata)


def build_bundle(detector: bytes, landmark_model: bytes, output: Path) -> None:
    members = {
        "pose_detector.tflite": with_image_metadata(
            detector, "pose_detector", *DETECTOR_NORMALISATION
        ),
        "pose_landmarks_detector.tflite": with_image_metadata(
            landmark_model, "pose_landmarks_detector", *LANDMARK_NORMALISATION
        ),
    }
    # Write next to the target and rename, so a served bundle is never half-written.
    fd, partial = tempfile.mkstemp(dir=output.parent, suffix=".partial")
    os.close(fd)
    try:
        create_model_asset_bundle(members, partial)
        os.chmod(partial, 0o644)  # served as a static file; mkstemp creates it private
        os.replace(partial, output)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("detector", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("landmark_models", nargs="+", metavar="NAME=LANDMARK_MODEL")
    args = parser.parse_args()

    args.out_dir.mkdir(parents=True, exist_ok=True)
    detector = args.detector.read_bytes()
    for spec in args.landmark_models:
        name, _, path = spec.partition("=")
        output = args.out_dir / f"pose_landmarker_{name}.task"
        build_bundle(detector, Path(path).read_bytes(), output)
        print(f"built {output}")


if __name__ == "__main__":
    main()
