"""Reference movements: one clean repetition becomes a movement signature, then anyone's
movement is counted and scored against it, live and on uploads.

    signature = build_signature(poses, start_ms=..., end_ms=...)  # JSON-serialisable dict
    tracker = ReferenceTracker(params, signature)  # the same interface as ExerciseTracker
    for pose in poses:
        send(tracker.feed(pose))
    send(tracker.finish())

- signature: the channels read from each pose, and the signature built from one repetition;
- comparison: scoring one performance against it (DTW, pose, shape, amplitude, timing);
- cues: what to change, from a comparison;
- tracker: segmenting a stream of poses into repetitions, and its events.
"""

from tracking.engine.reference.comparison import compare_poses
from tracking.engine.reference.signature import Reference, SignatureError, build_signature
from tracking.engine.reference.tracker import ReferenceTracker

__all__ = ["Reference", "ReferenceTracker", "SignatureError", "build_signature", "compare_poses"]
