"""Live tracking sessions: opening one (access, an estimator slot; its call of the quota at its
first analysed frame), running it (the engine, and for server inference a pose estimator of its
own), the page visit id that makes a page's reconnects one call, and ending it (its seconds).
"""

import asyncio
import ctypes
import datetime
import io
import secrets
import threading
import time
from dataclasses import dataclass, replace
from urllib.parse import urlencode

import cv2
import numpy as np
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from accounts import services
from accounts.errors import AccessError
from config.errors import FormTrackError
from tracking import links, results
from tracking.access import TrackingAccess, TrackingRefused, tracking_open
from tracking.engine import events as contract
from tracking.engine.tracker import open_tracker
from tracking.models import LiveCall, SessionResult
from tracking.pose.estimator import PoseEstimator
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


def server_busy() -> FormTrackError:
    limit = settings.LIVE_MAX_SERVER_INFERENCE_SESSIONS
    return FormTrackError(
        "server_busy",
        f"This server already analyses camera frames for {limit} sessions: try again in "
        f"{SERVER_BUSY_RETRY_AFTER_S} s, or run pose inference on the device (inference=browser).",
        503,
        retry_after=SERVER_BUSY_RETRY_AFTER_S,
    )


# The tracking page's socket presents its page visit id with this name, beside its access query.
# Both strings are older than the name page visit: pages open across a deploy keep their ids.
PAGE_VISIT_PARAM = "pageSession"
PAGE_VISIT_SALT = "formtrack.page-session"


def page_visit_issue(token) -> str:
    """A new page visit id, signed and bound to the key the page was opened with: the live page
    presents it on every (re)connection of its socket, which makes their live sessions one call."""
    return signing.dumps({"k": str(token.pk), "n": secrets.token_hex(16)}, salt=PAGE_VISIT_SALT)


def page_visit_of(signed: str | None, token) -> str | None:
    """The page visit a socket presents: None when it presents none, or a forged one, another
    key's, or one older than the page may reconnect for (TRACKING_TICKET_MAX_AGE_S). Such a socket
    is a visit of its own."""
    if not signed:
        return None
    try:
        value = signing.loads(
            signed, salt=PAGE_VISIT_SALT, max_age=settings.TRACKING_TICKET_MAX_AGE_S
        )
    except signing.BadSignature:
        return None
    if not isinstance(value, dict) or value.get("k") != str(token.pk):
        return None
    return value.get("n") if isinstance(value.get("n"), str) else None


@dataclass(frozen=True)
class JpegFrame:
    data: bytes
    timestamp_ms: float
    frame_id: int


class LiveSession:
    """One live socket, from its start to its end. `page_visit`: the id the page presented
    (page_visit_of), or None; `call_taken`: whether this session has its monthly call (an
    earlier session of its page visit took it before the page reconnected)."""

    def __init__(
        self, access: TrackingAccess, *, page_visit: str | None = None, call_taken: bool = False
    ):
        self.params = access.params
        self.token = access.token
        self.calls_left = access.calls_left
        self.page_visit = page_visit
        self.call_taken = call_taken
        # The live page shows the front camera as a mirror; keypoints are given on that picture.
        # The page (a page visit) coaches the person on screen whatever its host asked for: its
        # socket gets the cues, and the page posts them to the host only when asked.
        self.tracker = open_tracker(
            self.params,
            access.reference_signature,
            mirrored=True,
            screen=page_visit is not None,
            workout=access.workout,
            signatures=access.workout_signatures,
            workout_from=self.params.workout_from,
        )
        self.estimator = None
        self.has_estimator_slot = False
        # Held while a worker thread estimates a frame: close() waits for it to finish, and no
        # estimator (about 90 MiB, two threads) is created once the session is closed.
        self.estimator_lock = threading.Lock()
        self.closed = False
        self.started = time.monotonic()
        self.started_unix_ms = time.time() * 1000.0
        self.tracking_since: float | None = None  # the first analysed frame (monotonic)
        self.clock_origin_ms: float | None = None  # the Unix time of the engine's time 0
        self.frames = 0
        self.finished = False
        self.summary: dict | None = None  # the session's summary event, once finished

    def opening_events(self) -> list[dict]:
        events = [
            {
                "type": "session_started",
                "exercise": self.params.exercise,
                "reference": str(self.params.reference) if self.params.reference else None,
                "workout": str(self.params.workout) if self.params.workout else None,
                "inference": self.params.inference,
                "blocked": list(self.params.blocked),
                # Once this session has started tracking (a reconnect's call is already taken).
                "callsLeft": self.calls_left - (0 if self.call_taken else 1),
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

    @property
    def tracking(self) -> bool:
        """Whether a frame was analysed: tracking has really started."""
        return self.tracking_since is not None

    async def process(self, frame):
        """The engine's events for one frame, and the pose they came from."""
        if isinstance(frame, JpegFrame):
            pose = await asyncio.to_thread(self._estimate, frame)
        else:
            pose = frame
        if self.tracking_since is None:
            self.tracking_since = time.monotonic()
            # JPEG frames are stamped from the session's start; a client's landmarks carry a
            # time of any origin, anchored to the Unix time they arrived at.
            jpeg = isinstance(frame, JpegFrame)
            self.clock_origin_ms = (
                self.started_unix_ms if jpeg else time.time() * 1000.0 - pose.timestamp_ms
            )
        events = contract.on_wall_clock(self.tracker.feed(pose), self.clock_origin_ms)
        if events:
            # A workout sums itself up as its last set ends, before the session finishes.
            self.summary = results.session_summary(events) or self.summary
        return events, pose

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
                self.estimator = PoseEstimator(model=self.params.mediapipe_model, mode="video")
            rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            pose = self.estimator.estimate(rgb, frame.timestamp_ms)
        return replace(pose, frame_id=frame.frame_id)

    def finish(self) -> list[dict]:
        if self.finished:
            return []
        self.finished = True
        if not self.tracking:
            return []  # nothing was analysed: no count, no grade, no summary
        events = contract.on_wall_clock(self.tracker.finish(), self.clock_origin_ms)
        self.summary = results.session_summary(events) or self.summary
        return events

    @property
    def seconds_tracked(self) -> float:
        """From the first analysed frame on: 0 for a session that never started."""
        return time.monotonic() - self.tracking_since if self.tracking else 0.0

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


def live_session_start(
    query, *, origin: str | None, origin_required: bool = True, client_ip: str | None = None
) -> LiveSession:
    """Open a live session: validate like the page does, and reserve its pose estimator (server
    inference) while the process has one free. Its call is taken later, by live_session_track."""
    pairs = links.query_pairs(query)
    signed = next((value for name, value in pairs if name == PAGE_VISIT_PARAM), None)
    access = tracking_open(
        urlencode([(name, value) for name, value in pairs if name != PAGE_VISIT_PARAM]),
        endpoint="tracking",
        origin=origin,
        origin_required=origin_required,
        via="websocket",
        client_ip=client_ip,
    )
    page_visit = page_visit_of(signed, access.token)
    call_taken = page_visit is not None and LiveCall.objects.filter(page_visit=page_visit).exists()
    live = LiveSession(access, page_visit=page_visit, call_taken=call_taken)
    if access.params.inference == "server" and not live.reserve_estimator():
        raise TrackingRefused(server_busy(), "inference")
    return live


def live_session_track(live: LiveSession) -> None:
    """Before a session's first frame is analysed: take its monthly call, unless its page visit
    took one already (the page reconnected). A user who refuses the camera costs nothing.
    Raises TrackingRefused (quota_exceeded)."""
    if live.call_taken:
        return
    org = live.token.organization
    try:
        with transaction.atomic():
            first = True
            if live.page_visit is not None:
                _, first = LiveCall.objects.get_or_create(
                    page_visit=live.page_visit, defaults={"organization": org}
                )
                expired = timezone.now() - datetime.timedelta(
                    seconds=settings.TRACKING_TICKET_MAX_AGE_S
                )
                LiveCall.objects.for_org(org).filter(created_at__lt=expired).delete()
            if first:
                services.usage_take_call(
                    token=live.token, exercise=_usage_exercise(live.params), kind="live"
                )
    except AccessError as error:
        raise TrackingRefused.from_access_error(error) from error
    live.call_taken = True


# What a live session's result is, by its summary: a workout, an assessment, or an exercise.
LIVE_RESULT_KINDS = {
    "workout_summary": SessionResult.Kind.WORKOUT,
    "rom_summary": SessionResult.Kind.ASSESSMENT,
}


def _usage_exercise(params) -> str:
    """What a live session's usage is recorded under: its exercise; "workout" for a workout."""
    return params.exercise or ("workout" if params.workout is not None else "")


def live_session_end(live: LiveSession) -> None:
    """However the session ended: free its estimator, record its seconds and, for an end user
    (externalUserId), its result. A client that left without `finish` is summed up here too."""
    live.close()
    if not live.tracking:
        return
    seconds = round(live.seconds_tracked, 3)
    services.usage_add_seconds(
        token=live.token, exercise=_usage_exercise(live.params), kind="live", seconds=seconds
    )
    live.finish()
    if live.params.external_user_id and live.summary is not None:
        kind = LIVE_RESULT_KINDS.get(live.summary["type"], SessionResult.Kind.LIVE)
        # The summary's duration is on the client's clock: no longer than the session lasted.
        claimed = results.Figures.of(live.summary).duration_s
        results.result_record(
            org=live.token.organization,
            external_user_id=live.params.external_user_id,
            kind=kind,
            exercise=_usage_exercise(live.params),
            reference=live.params.reference,
            summary=live.summary,
            page_visit=live.page_visit or "",
            duration_s=seconds if claimed is None else min(claimed, seconds),
        )
