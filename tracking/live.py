"""One live tracking session: the engine, and for server inference a pose estimator of its own."""

import asyncio
import ctypes
import threading
import time
from dataclasses import dataclass, replace

import cv2
import numpy as np

from tracking.engine import open_session
from tracking.protocol import ProtocolError

JPEG_MAGIC = b"\xff\xd8\xff"
# glibc keeps what a closed estimator freed (a few hundred MiB, spread over the arenas of the
# threads that ran it) for reuse, so the server's memory would ratchet up with each session;
# trimming hands it back. Other C libraries have no malloc_trim.
_malloc_trim = getattr(ctypes.CDLL(None), "malloc_trim", None)


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
        # Held while a worker thread estimates a frame: close() waits for it to finish, and no
        # estimator (~240 MiB, two threads) is created once the session is closed.
        self.estimator_lock = threading.Lock()
        self.closed = False
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
        # A native app opening the socket itself hears here what the page would have posted.
        for event in (self.params.blocked_event(), self.params.warning_event()):
            if event is not None:
                events.append(event)
        return events

    def decode_jpeg_frame(self, data: bytes) -> JpegFrame:
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
        with self.estimator_lock:
            if self.closed:  # the session ended while this frame waited for a thread
                raise RuntimeError("This live session is closed.")
            if self.estimator is None:
                from tracking.pose.estimator import PoseEstimator

                self.estimator = PoseEstimator(model=self.params.mediapipe_model, mode="video")
            rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            pose = self.estimator.estimate(rgb, frame.timestamp_ms)
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
        """Free the estimator, once a frame being estimated is done. Blocks: call it in a thread."""
        with self.estimator_lock:
            self.closed = True
            if self.estimator is not None:
                self.estimator.close()
                self.estimator = None
                if _malloc_trim is not None:
                    _malloc_trim(0)
