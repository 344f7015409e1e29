"""One live tracking session: the engine, and for server inference a pose estimator of its own."""

import asyncio
import time
from dataclasses import dataclass, replace

import cv2
import numpy as np

from tracking.engine import open_session
from tracking.protocol import MAX_BINARY_BYTES, ProtocolError

JPEG_MAGIC = b"\xff\xd8\xff"


@dataclass(frozen=True)
class JpegFrame:
    data: bytes
    timestamp_ms: float
    frame_id: int


class LiveSession:
    def __init__(self, access):
        self.params = access.params
        self.token = access.token
        self.calls_left = access.calls_left
        self.engine = open_session(self.params, access.reference_signature)
        self.estimator = None
        self.started = time.monotonic()
        self.frames = 0
        self.finished = False

    def opening_events(self) -> list[dict]:
        events = [
            {
                "type": "session_started",
                "exercise": self.params.exercise,
                "reference": str(self.params.reference) if self.params.reference else None,
                "inference": self.params.inference,
                "blocked": list(self.params.blocked),
                "callsLeft": self.calls_left - 1,
            }
        ]
        blocked = self.params.blocked_event()
        if blocked:
            events.append(blocked)
        return events

    def decode_jpeg_frame(self, data: bytes) -> JpegFrame:
        if len(data) > MAX_BINARY_BYTES:
            raise ProtocolError(
                "message_too_large", f"Binary frames are limited to {MAX_BINARY_BYTES} bytes."
            )
        if not data.startswith(JPEG_MAGIC):
            raise ProtocolError("invalid_frame", "Binary messages must be JPEG images.")
        self.frames += 1
        return JpegFrame(data, (time.monotonic() - self.started) * 1000.0, self.frames)

    async def process(self, frame):
        """The engine's events for one frame, and the pose they came from."""
        if isinstance(frame, JpegFrame):
            pose = await asyncio.to_thread(self._estimate, frame)
        else:
            pose = frame
        return self.engine.feed(pose), pose

    def _estimate(self, frame: JpegFrame):
        image = cv2.imdecode(np.frombuffer(frame.data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ProtocolError("invalid_frame", "This binary frame is not a decodable JPEG.")
        if self.estimator is None:
            from tracking.pose.estimator import PoseEstimator

            self.estimator = PoseEstimator(model=self.params.mediapipe_model, mode="video")
        pose = self.estimator.estimate(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), frame.timestamp_ms)
        return replace(pose, frame_id=frame.frame_id)

    def finish(self) -> list[dict]:
        if self.finished:
            return []
        self.finished = True
        return self.engine.finish()

    @property
    def seconds_tracked(self) -> float:
        return time.monotonic() - self.started

    def close(self) -> None:
        if self.estimator is not None:
            self.estimator.close()
            self.estimator = None
