"""WebSocket consumers. They authenticate, call services, and send what comes back."""

import asyncio
import contextlib
import logging
import time
from urllib.parse import parse_qs, urlsplit

import orjson
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import RedisError

from config.db_unavailable import DATABASE_ERRORS, service_unavailable_event
from config.ratelimit import scope_client_ip
from tracking import protocol, services
from tracking.engine.pose import Pose

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
# A service is unreachable: the database (after an `error` event, code service_unavailable) or,
# on the upload progress socket, the channel layer (Redis restarting). Reconnecting later helps:
# the tracking page retries with back-off, the upload page polls. (Daphne cannot send 1013.)
CLOSE_SERVICE_UNAVAILABLE = 4503


class UploadProgressConsumer(AsyncJsonWebsocketConsumer):
    """Pushes `initialization` progress events of one upload, then its final status."""

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        except (RedisError, OSError) as error:  # the channel layer's connection broke
            logger.warning("Upload progress socket closed, channel layer unavailable: %s", error)
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": CLOSE_SERVICE_UNAVAILABLE})

    async def connect(self):
        upload_id = self.scope["url_route"]["kwargs"]["upload_id"]
        # The ticket is not a tracking parameter: it is this socket's credential, signed by us.
        ticket = parse_qs(self.scope["query_string"].decode()).get("ticket", [""])[0]
        try:
            upload = await database_sync_to_async(services.upload_for_progress_ticket)(
                ticket, upload_id
            )
        except DATABASE_ERRORS as error:
            await self.accept()
            await _refuse_unavailable(self, error)
            return
        if upload is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.group = services.upload_group(upload.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # Send the current state at once, so a page that connects late misses nothing.
        await self.send_json(services.upload_status_event(upload))

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def upload_status(self, message):
        await self.send_json(message["event"])


# Close codes of the live tracking socket (docs/protocol.md). Each close follows an `error` event.
CLOSE_INVALID_PARAMETERS = 4400
CLOSE_FORBIDDEN = 4403
CLOSE_IDLE = 4408
CLOSE_ABUSE = 4422
CLOSE_QUOTA = 4429
CLOSE_FINISHED = 1000
_CLOSE_FOR_STATUS = {
    400: CLOSE_INVALID_PARAMETERS,
    401: CLOSE_UNAUTHORIZED,
    403: CLOSE_FORBIDDEN,
    429: CLOSE_QUOTA,
}

IDLE_TIMEOUT_S = 60.0
MAX_INVALID_MESSAGES = 20


def _same_site(origin: str | None, host: str) -> bool:
    return bool(origin and host) and urlsplit(origin).netloc.lower() == host.lower()


async def _refuse_unavailable(consumer, error) -> None:
    """On an accepted socket: the `error` event, then close (4503)."""
    logger.warning("WebSocket refused, database unavailable: %s", error)
    await consumer.send_json(service_unavailable_event())
    await consumer.close(code=CLOSE_SERVICE_UNAVAILABLE)


class TrackingConsumer(AsyncJsonWebsocketConsumer):
    """One live tracking session: landmarks (or JPEG frames) in, engine events out.

    At most one frame waits while another is analysed; a newer frame replaces the waiting one, so
    a slow server lowers the frame rate instead of adding latency.
    """

    # No channel layer: a session talks only to its own socket and keeps its engine state in this
    # process, so it runs on when Redis restarts (the layer's receive loop would die with Redis).
    channel_layer_alias = None

    async def __call__(self, scope, receive, send):
        # Channels' own loop waits on the socket and the channel layer with a new task per
        # message; with no channel layer, reading the socket directly is cheaper per frame.
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            while True:
                await self.dispatch(await receive())

    async def dispatch(self, message):
        # Channels closes stale database connections before every message, in a thread: a
        # thread hop per frame, a third of the server's time at 30 fps. Frames never touch the
        # database; connect and disconnect do, through database_sync_to_async, which closes
        # stale connections itself.
        if message["type"] == "websocket.receive":
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    @classmethod
    async def encode_json(cls, content):
        # Events may hold NumPy numbers and non-string keys, which json.dumps also accepted.
        options = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
        return orjson.dumps(content, option=options).decode()

    async def connect(self):
        await self.accept()
        headers = dict(self.scope.get("headers", []))
        origin = headers.get(b"origin", b"").decode("latin1") or None
        host = headers.get(b"host", b"").decode("latin1")
        try:
            self.live = await database_sync_to_async(services.live_session_start)(
                self.scope["query_string"].decode("latin1"),
                # Our own tracking page (already checked against the token's origins when it
                # loaded) connects from our origin; any other browser origin is checked here.
                origin=None if _same_site(origin, host) else origin,
                browser=not _same_site(origin, host),
                client_ip=scope_client_ip(self.scope),
            )
        except services.TrackingRefused as refused:
            await self.send_json(refused.event)
            await self.close(code=_CLOSE_FOR_STATUS.get(refused.status, CLOSE_INVALID_PARAMETERS))
            return
        except DATABASE_ERRORS as error:
            await _refuse_unavailable(self, error)
            return
        self.pending = None
        self.drain_task = None
        self.invalid_messages = 0
        self.dropped_frames = 0
        self.last_timestamp_ms = None
        self.last_message_at = time.monotonic()
        self.closed = False
        self.watchdog = asyncio.create_task(self._close_when_idle())
        for event in self.live.opening_events():
            await self.send_json(event)

    async def disconnect(self, code):
        live = getattr(self, "live", None)
        if live is None:
            return
        self.closed = True
        self.watchdog.cancel()
        try:
            await database_sync_to_async(services.live_session_end)(live)
        except DATABASE_ERRORS as error:  # the session's seconds cannot be recorded now
            logger.warning("Live session usage not recorded, database unavailable: %s", error)

    async def receive(self, text_data=None, bytes_data=None):
        if getattr(self, "live", None) is None or self.closed:
            return
        self.last_message_at = time.monotonic()
        # A refused frame is still answered (an ack with an error), so clients that count
        # unanswered frames never stall.
        answers_frame, frame_id = bytes_data is not None, None
        try:
            if bytes_data is not None:
                await self._submit(self.live.decode_jpeg_frame(bytes_data))
                return
            message = protocol.decode_text(text_data)
            if message["type"] == "landmarks":
                answers_frame = True
                frame_id = message.get("frameId") if type(message.get("frameId")) is int else None
                pose = protocol.landmarks_to_pose(message, last_timestamp_ms=self.last_timestamp_ms)
                self.last_timestamp_ms = pose.timestamp_ms
                await self._submit(pose)
            elif message["type"] == "finish":
                await self._finish()
            else:
                raise protocol.ProtocolError(
                    "unknown_message_type",
                    f"Unknown message type {message['type'][:40]!r}: "
                    "send landmarks, a binary JPEG frame, or finish.",
                )
        except protocol.ProtocolError as error:
            await self._refuse_message(error, answers_frame=answers_frame, frame_id=frame_id)

    async def _refuse_message(self, error, *, answers_frame=False, frame_id=None):
        self.invalid_messages += 1
        await self.send_json(error.to_event())
        if answers_frame:
            await self.send_json(self._ack(frame_id) | {"error": error.code})
        if self.invalid_messages >= MAX_INVALID_MESSAGES:
            await self.send_json(
                {
                    "type": "error",
                    "code": "too_many_invalid_messages",
                    "error": "too_many_invalid_messages",
                    "message": f"{MAX_INVALID_MESSAGES} invalid messages: closing the session.",
                }
            )
            await self._close_with_summary(CLOSE_ABUSE)

    async def _submit(self, frame):
        if self.pending is not None:
            self.dropped_frames += 1
        self.pending = frame
        if self.drain_task is not None and not self.drain_task.done():
            return
        if isinstance(frame, Pose):
            # Landmarks take the engine a fraction of a millisecond: analyse them in line,
            # which saves a task per frame when many sessions stream at 30 fps.
            await self._drain()
        else:
            self.drain_task = asyncio.create_task(self._drain())

    async def _drain(self):
        while self.pending is not None and not self.closed:
            frame, self.pending = self.pending, None
            try:
                events, pose = await self.live.process(frame)
            except protocol.ProtocolError as error:
                await self._refuse_message(error, answers_frame=True, frame_id=frame.frame_id)
                continue
            for event in events:
                await self.send_json(event)
            ack = self._ack(pose.frame_id)
            if frame is not pose and pose.landmarks is not None:
                # Server inference: the page draws its skeleton from these.
                ack["landmarks"] = [[round(float(v), 4) for v in p] for p in pose.landmarks]
            await self.send_json(ack)

    def _ack(self, frame_id) -> dict:
        return {"type": "ack", "frameId": frame_id, "dropped": self.dropped_frames}

    async def _finish(self):
        await self._close_with_summary(CLOSE_FINISHED)

    async def _close_with_summary(self, code):
        if self.closed:
            return
        self.pending = None
        if self.drain_task is not None and self.drain_task is not asyncio.current_task():
            await self.drain_task
        for event in self.live.finish():
            await self.send_json(event)
        self.closed = True
        await self.close(code=code)

    async def _close_when_idle(self):
        while not self.closed:
            await asyncio.sleep(1.0)
            if time.monotonic() - self.last_message_at > IDLE_TIMEOUT_S:
                await self.send_json(
                    {
                        "type": "error",
                        "code": "idle_timeout",
                        "error": "idle_timeout",
                        "message": f"No message for {IDLE_TIMEOUT_S:.0f} s: closing the session.",
                    }
                )
                await self._close_with_summary(CLOSE_IDLE)
