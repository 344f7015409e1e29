"""WebSocket consumers. They authenticate, call services, and send what comes back."""

import asyncio
import contextlib
import logging
import math
import time
from urllib.parse import parse_qs

import orjson
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from redis.exceptions import RedisError

from accounts.errors import AccessError
from accounts.origins import socket_origin
from config.db_unavailable import DATABASE_ERRORS, service_unavailable
from config.errors import FormTrackError
from config.message_rate import MessageRate
from config.ratelimit import scope_client_ip
from tracking import live, protocol, uploads
from tracking.access import TrackingRefused
from tracking.engine.pose import Pose

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
# A service is unreachable: the database (after an `error` event, code service_unavailable), the
# process's pose estimators (server_busy) or, on the upload progress socket, the channel layer
# (Redis restarting). Reconnecting later helps: the tracking page retries with back-off, the upload
# page polls. (Daphne cannot send 1013.)
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
            upload = await database_sync_to_async(uploads.upload_for_ticket)(
                ticket, upload_id, origin=socket_origin(self.scope)[0]
            )
        except AccessError as error:  # forged or expired, or its key revoked or deleted
            await self.close(code=close_code(error))
            return
        except DATABASE_ERRORS as error:
            await self.accept()
            await _refuse_unavailable(self, error)
            return
        self.group = uploads.upload_group(upload.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # Send the current state at once, so a page that connects late misses nothing.
        await self.send_json(uploads.upload_status_event(upload))

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
CLOSE_INTERNAL_ERROR = 1011
_CLOSE_FOR_STATUS = {
    400: CLOSE_INVALID_PARAMETERS,
    401: CLOSE_UNAUTHORIZED,
    403: CLOSE_FORBIDDEN,
    429: CLOSE_QUOTA,
    503: CLOSE_SERVICE_UNAVAILABLE,
}


def close_code(error: FormTrackError) -> int:
    """The close code that follows an error ending a socket, from its HTTP status."""
    return _CLOSE_FOR_STATUS.get(error.status, CLOSE_INVALID_PARAMETERS)


IDLE_TIMEOUT_S = 60.0
MAX_INVALID_MESSAGES = 20
# Over the message rate (settings.LIVE_MAX_MESSAGES_PER_S): one `rate_limited` event a second at
# most, and a session still over it after this long (no second without drops) is closed (4422).
RATE_LIMITED_EVENT_INTERVAL_S = 1.0
RATE_LIMITED_CLOSE_S = 2.0


async def _refuse_unavailable(consumer, error) -> None:
    """On an accepted socket: the `error` event, then close (4503)."""
    logger.warning("WebSocket refused, database unavailable: %s", error)
    await consumer.send_json(service_unavailable().to_event())
    await consumer.close(code=CLOSE_SERVICE_UNAVAILABLE)


class TrackingConsumer(AsyncJsonWebsocketConsumer):
    """One live tracking session: landmarks (or JPEG frames) in, engine events out.

    At most one frame waits while another is analysed; a newer frame replaces the waiting one, so
    a slow server lowers the frame rate instead of adding latency. Whatever ends a session (the
    client leaving or finishing, an idle or abuse close, an error, the server stopping), one
    `finally` records its seconds and frees its estimator.
    """

    # No channel layer: a session talks only to its own socket and keeps its engine state in this
    # process, so it runs on when Redis restarts (the layer's receive loop would die with Redis).
    channel_layer_alias = None

    async def __call__(self, scope, receive, send):
        # Channels' own loop waits on the socket and the channel layer with a new task per
        # message; with no channel layer, reading the socket directly is cheaper per frame.
        self.scope = scope
        self.channel_layer = None
        self.server_send = send
        self.base_send = self._send_while_open
        self.socket_open = True
        self.live = None
        self.watchdog = self.drain_task = None
        try:
            with contextlib.suppress(StopConsumer):
                while True:
                    await self.dispatch(await receive())
        finally:
            await self._end_session_in_any_case()

    async def _send_while_open(self, message):
        # A client may close at any moment (right after `finish`, say): what we send after that
        # is dropped. Daphne raises autobahn's Disconnected (a RuntimeError) for such a send,
        # servers following the ASGI spec an OSError.
        if not self.socket_open:
            return
        if message["type"] == "websocket.close":
            self.socket_open = False
        try:
            await self.server_send(message)
        except (OSError, RuntimeError) as error:
            self.socket_open = False
            logger.debug("Live socket closed by the client, send dropped: %s", error)

    async def dispatch(self, message):
        # Channels closes stale database connections before every message, in a thread: a
        # thread hop per frame, a third of the server's time at 30 fps. Frames never touch the
        # database; connect and the session's end do, through database_sync_to_async, which
        # closes stale connections itself.
        # Channels' websocket_receive is skipped too: one coroutine less per frame.
        if message["type"] == "websocket.receive":
            text = message.get("text")
            if text is not None:
                await self.receive(text_data=text)
            else:
                await self.receive(bytes_data=message["bytes"])
        else:
            await super().dispatch(message)

    async def send_json(self, content, close=False):
        # Straight to the server: Channels' way (encode_json, send, then its base send) is three
        # coroutines more for every event and ack. Events may hold NumPy numbers and non-string
        # keys, which json.dumps also accepted.
        text = orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
        await self._send_while_open({"type": "websocket.send", "text": text.decode()})
        if close:
            await self.close(close)

    async def connect(self):
        await self.accept()
        origin, same_site = socket_origin(self.scope)
        try:
            session = await database_sync_to_async(live.live_session_start)(
                self.scope["query_string"].decode("latin1"),
                origin=origin,  # any browser origin but our own tracking page's is checked
                origin_required=not same_site,
                client_ip=scope_client_ip(self.scope),
            )
        except FormTrackError as error:  # refused, or the engine cannot open the session
            await self.send_json(error.to_event())
            await self.close(code=close_code(error))
            return
        except DATABASE_ERRORS as error:
            await _refuse_unavailable(self, error)
            return
        now = time.monotonic()
        self.pending = None
        self.invalid_messages = 0
        self.dropped_frames = 0
        self.last_timestamp_ms = None
        self.last_message_at = now
        self.message_rate = MessageRate(settings.LIVE_MAX_MESSAGES_PER_S, now)
        self.over_rate_since = self.over_rate_last = self.rate_limited_sent_at = -math.inf
        self.closed = False
        self.live = session
        self.watchdog = asyncio.create_task(self._close_when_idle())
        for event in self.live.opening_events():
            await self.send_json(event)

    async def disconnect(self, code):
        self.socket_open = False

    async def _end_session_in_any_case(self):
        # The server cancels every session when it stops (and again a session slow to end after
        # its client left): the end runs to completion all the same, then the cancellation goes on.
        ending = asyncio.ensure_future(self._end_session())
        cancelled = None
        while not ending.done():
            try:
                await asyncio.shield(ending)
            except asyncio.CancelledError as error:
                cancelled = error
        if cancelled is not None:
            raise cancelled

    async def _end_session(self):
        session, self.live = self.live, None
        if session is None:
            return
        self.closed = True
        tasks = [task for task in (self.watchdog, self.drain_task) if task is not None]
        for task in tasks:
            task.cancel()
        # A frame still being estimated in a thread finishes there; session.close() waits for it.
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await database_sync_to_async(live.live_session_end)(session)
        except DATABASE_ERRORS as error:  # the session's seconds cannot be recorded now
            logger.warning("Live session usage not recorded, database unavailable: %s", error)

    async def receive(self, text_data=None, bytes_data=None):
        if self.live is None or self.closed:
            return
        now = time.monotonic()
        self.last_message_at = now
        if not self.message_rate.allows(now):
            await self._drop_over_rate(now)
            return
        # A refused frame is still answered (an ack with an error), so clients that count
        # unanswered frames never stall.
        answers_frame, frame_id = bytes_data is not None, None
        try:
            if bytes_data is not None:
                if len(bytes_data) > settings.LIVE_MAX_BINARY_BYTES:
                    raise protocol.ProtocolError(
                        "message_too_large",
                        f"Binary frames are limited to {settings.LIVE_MAX_BINARY_BYTES} bytes.",
                    )
                frame = self.live.decode_jpeg_frame(bytes_data)
                if not self.live.reserve_estimator():
                    # A session that switches to server inference while the process has no
                    # estimator free: closed like one refused at its start, to come back later.
                    await self.send_json(live.server_busy().to_event())
                    await self._close_with_summary(CLOSE_SERVICE_UNAVAILABLE)
                    return
                await self._submit(frame)
                return
            message = protocol.decode_text(text_data)
            if message["type"] == "landmarks":
                answers_frame = True
                frame_id = protocol.frame_id(message)
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

    async def _drop_over_rate(self, now):
        # Dropped unanswered: answering every message of a flood would pile up output for a
        # client that may not even read it. It counts in the acks' `dropped`.
        self.dropped_frames += 1
        if now - self.over_rate_last > RATE_LIMITED_EVENT_INTERVAL_S:
            self.over_rate_since = now  # a new burst over the rate
        self.over_rate_last = now
        rate = settings.LIVE_MAX_MESSAGES_PER_S
        if now - self.over_rate_since >= RATE_LIMITED_CLOSE_S:
            await self.send_json(
                protocol.ProtocolError(
                    "too_many_messages",
                    f"Over {rate} messages a second for {RATE_LIMITED_CLOSE_S:.0f} s: "
                    "closing the session.",
                ).to_event()
            )
            await self._close_with_summary(CLOSE_ABUSE)
        elif now - self.rate_limited_sent_at >= RATE_LIMITED_EVENT_INTERVAL_S:
            self.rate_limited_sent_at = now
            event = protocol.ProtocolError(
                "rate_limited",
                f"Over {rate} messages a second: the messages over it are dropped unanswered.",
                retry_after=1,
            ).to_event()
            await self.send_json(event | {"dropped": self.dropped_frames})

    async def _refuse_message(self, error, *, answers_frame=False, frame_id=None):
        self.invalid_messages += 1
        await self.send_json(error.to_event())
        if answers_frame:
            await self.send_json(self._ack(frame_id) | {"error": error.code})
        if self.invalid_messages >= MAX_INVALID_MESSAGES:
            await self.send_json(
                protocol.ProtocolError(
                    "too_many_invalid_messages",
                    f"{MAX_INVALID_MESSAGES} invalid messages: closing the session.",
                ).to_event()
            )
            await self._close_with_summary(CLOSE_ABUSE)

    async def _take_call(self) -> bool:
        """Before the session's first frame is analysed: its monthly call (docs/protocol.md)."""
        try:
            await database_sync_to_async(live.live_session_track)(self.live)
        except TrackingRefused as refused:
            self.closed = True
            await self.send_json(refused.to_event())
            await self.close(code=close_code(refused))
            return False
        except DATABASE_ERRORS as error:
            self.closed = True
            await _refuse_unavailable(self, error)
            return False
        return True

    async def _submit(self, frame):
        if not self.live.call_taken and not await self._take_call():
            return
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
            self.drain_task = asyncio.create_task(self._drain_in_background())

    async def _drain(self):
        while self.pending is not None and not self.closed:
            frame, self.pending = self.pending, None
            try:
                events, pose = await self.live.process(frame)
            except protocol.ProtocolError as error:
                await self._refuse_message(error, answers_frame=True, frame_id=frame.frame_id)
                continue
            except FormTrackError as error:  # the session cannot go on (e.g. a model missing)
                await self.send_json(error.to_event())
                await self._close_with_summary(close_code(error))
                return
            for event in events:
                await self.send_json(event)
            ack = self._ack(pose.frame_id)
            if frame is not pose and pose.landmarks is not None:
                # Server inference: the page draws its skeleton from these.
                ack["landmarks"] = [[round(float(v), 4) for v in p] for p in pose.landmarks]
            await self.send_json(ack)

    async def _drain_in_background(self):
        try:
            await self._drain()
        except Exception:
            # As an error in the session's own task does (Daphne closes with 1011), rather than
            # a session that silently stops answering.
            logger.exception("Live session closed: error while analysing a frame")
            self.closed = True
            await self.close(code=CLOSE_INTERNAL_ERROR)

    def _ack(self, frame_id) -> dict:
        return {"type": "ack", "frameId": frame_id, "dropped": self.dropped_frames}

    async def _finish(self):
        await self._close_with_summary(CLOSE_FINISHED)

    async def _close_with_summary(self, code):
        if self.closed:
            return
        self.closed = True  # no frame is taken from here on
        self.pending = None
        if self.drain_task is not None and self.drain_task is not asyncio.current_task():
            await self.drain_task
        for event in self.live.finish():
            await self.send_json(event)
        await self.close(code=code)

    async def _close_when_idle(self):
        while not self.closed:
            await asyncio.sleep(1.0)
            if time.monotonic() - self.last_message_at > IDLE_TIMEOUT_S:
                await self.send_json(
                    protocol.ProtocolError(
                        "idle_timeout",
                        f"No message for {IDLE_TIMEOUT_S:.0f} s: closing the session.",
                    ).to_event()
                )
                await self._close_with_summary(CLOSE_IDLE)
