"""One live tracking session: the engine, and for server inference a pose estimator of its own."""

import asyncio
import ctypes
import io
import threading
import time
from dataclasses import dataclass, replace

import cv2
import numpy as np
from django.conf import settings

from tracking.engine import open_session
from tracking.pose.media import DEFAULT_LIMITS, MediaError, MediaLimits, check_image
from tracking.protocol import MAX_IMAGE_SIDE, ProtocolError

JPEG_MAGIC = b"\xff\xd8\xff"
# A frame is decoded only within the sizes of a video frame we accept (4096 px a side, 4096×2160
# pixels), read from its header first: a camera frame is far smaller (docs/protocol.md), and a
# 1 MB JPEG may declare 16000×16000 pixels (1.5 GB once decoded and converted).
FRAME_LIMITS = MediaLimits(
    max_image_side=MAX_IMAGE_SIDE, max_image_pixels=DEFAULT_LIMITS.max_video_pixels
)
SERVER_BUSY_RETRY_AFTER_S = 10
# glibc keeps what a closed estimator freed (a few hundred MiB, spread over the arenas of the
# threads that ran it) for reuse, so the server's memory would ratchet up with each session;
# trimming hands it back. Other C libraries have no malloc_trim.
_malloc_trim = getattr(ctypes.CDLL(None), "malloc_trim", None)


class EstimatorSlots:
    """How many sessions of this process hold a pose estimator (settings.
    LIVE_MAX_SERVER_INFERENCE_SESSIONS at most): each costs memory and threads, so parallel
    sessions must not multiply them without bound. Taken and given back from the event loop and
    from database threads: under a lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.taken = 0

    def take(self) -> bool:
        limit = settings.LIVE_MAX_SERVER_INFERENCE_SESSIONS
        with self.lock:
            if limit and self.taken >= limit:
                return False
            self.taken += 1
            return True

    def give_back(self) -> None:
        with self.lock:
            self.taken -= 1


ESTIMATOR_SLOTS = EstimatorSlots()


def server_busy() -> ProtocolError:
    limit = settings.LIVE_MAX_SERVER_INFERENCE_SESSIONS
    return ProtocolError(
        "server_busy",
        f"This server already analyses camera frames for {limit} sessions: try again in "
        f"{SERVER_BUSY_RETRY_AFTER_S} s, or run pose inference on the device (inference=browser).",
        retry_after=SERVER_BUSY_RETRY_AFTER_S,
    )


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
        self.has_estimator_slot = False
        # Held while a worker thread estimates a frame: close() waits for it to finish, and no
        # estimator (about 90 MiB, two threads) is created once the session is closed.
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

    def reserve_estimator(self) -> bool:
        """Whether this session may run pose estimation: it holds one of the process's estimator
        slots from its first JPEG frame (or its start, with inference=server) until it closes."""
        if not self.has_estimator_slot:
            self.has_estimator_slot = ESTIMATOR_SLOTS.take()
        return self.has_estimator_slot

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
        try:
            check_image(io.BytesIO(frame.data), limits=FRAME_LIMITS)
        except MediaError as error:
            raise ProtocolError("invalid_frame", error.message) from error
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
            if self.has_estimator_slot:
                self.has_estimator_slot = False
                ESTIMATOR_SLOTS.give_back()
