"""Daphne as FormTrack runs it: `python -m config.daphne [daphne options] APP`.

A token-redacting access log, and the WebSocket size limit of settings as the default. Requests
the application must never see are answered here, before they are read: a body over
REQUEST_BODY_MAX_BYTES (413), a request line or header over 16 KB (414, 431) and a request head
still unfinished after REQUEST_HEAD_TIMEOUT_S (408). A WebSocket sending control frames (ping,
pong) past WEBSOCKET_MAX_CONTROL_FRAMES_PER_S is closed (1008).
"""

import asyncio  # isort:skip
import json  # isort:skip
import os  # isort:skip
import select  # isort:skip
import time  # isort:skip
from functools import partial  # isort:skip
from http import HTTPStatus  # isort:skip

import uvloop  # isort:skip

# Before Daphne is imported: it creates its event loop (Twisted's asyncio reactor) on import.
asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

import autobahn.twisted.websocket  # noqa: E402
import autobahn.websocket.protocol  # noqa: E402
from daphne import server as daphne_server  # noqa: E402
from daphne.access import AccessLogGenerator  # noqa: E402
from daphne.cli import CommandLineInterface  # noqa: E402
from daphne.http_protocol import HTTPFactory, WebRequest  # noqa: E402
from daphne.server import Server  # noqa: E402
from daphne.ws_protocol import WebSocketProtocol  # noqa: E402
from twisted.internet import reactor, tcp  # noqa: E402
from twisted.web import http  # noqa: E402

from config.errors import FormTrackError  # noqa: E402
from config.message_rate import MessageRate  # noqa: E402
from config.redaction import redact  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from django.conf import settings  # noqa: E402


def _uncoloured(value, *args, **kwargs):
    return value


# autobahn colours the arguments of a debug line (with click) for every read and every message it
# sends, whether the line is logged or not: a twentieth of the server's time per live frame. Its
# debug lines, when logged, show the plain values.
for _module in (autobahn.twisted.websocket, autobahn.websocket.protocol):
    _module.hltype = _module.hlval = _uncoloured


class RedactingAccessLog(AccessLogGenerator):
    def write_entry(self, host, date, request, *args, **kwargs):
        super().write_entry(host, date, redact(request), *args, **kwargs)


def read_reset_connections() -> None:
    """Deliver the reads uvloop dropped. When a client resets a connection whose data is still
    unread, uvloop stops polling the socket without a word (MagicStack/uvloop#552): Twisted never
    learns that the connection is gone, its live session lives on with its pose estimator, and
    the next ping on it raises in Daphne's timeout checker, which then stops for every socket.
    A reset socket polls as an error or hang-up: reading it lets Twisted see the reset."""
    readers = {reader.fileno(): reader for reader in reactor.getReaders()}
    poller = select.poll()
    for fd in readers:
        if fd >= 0:
            poller.register(fd, select.POLLIN)
    for fd, events in poller.poll(0):
        if events & (select.POLLERR | select.POLLHUP) and readers[fd] in reactor.getReaders():
            reactor._readOrWrite(readers[fd], True)  # what the loop's read callback does


class RedactingServer(Server):
    def __init__(self, *args, action_logger=None, **kwargs):
        if isinstance(action_logger, AccessLogGenerator):
            action_logger = RedactingAccessLog(action_logger.stream)
        super().__init__(*args, action_logger=action_logger, **kwargs)

    def timeout_checker(self):  # every 2 s
        read_reset_connections()
        super().timeout_checker()

    def kill_all_applications(self):
        # On SIGTERM Daphne cancels every application and waits for them to end (live sessions
        # record their usage then), but raises KeyError and waits for none when a connection has
        # no application: a request upgraded to a WebSocket within the last second, say.
        for protocol, details in list(self.connections.items()):
            if "application_instance" not in details:
                del self.connections[protocol]
        return super().kill_all_applications()

    # Daphne creates its WebSocket factory in run(). A message over the size limit then gets a
    # close frame (1009, message too big) rather than a connection dropped without one, and
    # control frames count against a budget.
    @property
    def ws_factory(self):
        return self._ws_factory

    @ws_factory.setter
    def ws_factory(self, factory):
        factory.setProtocolOptions(failByDrop=False)
        factory.protocol = LimitedWebSocketProtocol
        self._ws_factory = factory


def write_now(transport: tcp.Server, buffered_write, data: bytes) -> None:
    """Send at once what a TCP connection with nothing waiting to go is given; Twisted would buffer
    it and send it from the event loop's next pass, asking the loop to watch the socket for that
    and to stop watching it after: two more system calls and a callback for every live frame's
    answer. What the socket does not take at once (or an error) goes Twisted's way."""
    if transport.connected and not transport.disconnecting and not transport._writeDisconnected:
        if not transport.dataBuffer and not transport._tempDataBuffer:
            sent = transport.writeSomeData(data)
            if isinstance(sent, int) and sent >= 0:
                data = data[sent:]
                if not data:
                    return
    buffered_write(data)


class LimitedWebSocketProtocol(WebSocketProtocol):
    """A WebSocket whose pings and pongs count against a budget. autobahn answers every ping
    itself, so a flood of them never reaches the application (and its message rate) but costs
    the whole process: past the budget the connection is closed with 1008 (policy violation).
    Keep-alives (Daphne pings every 20 s, clients rarely more) stay far below it."""

    def dataReceived(self, data):
        self._dataReceived(data)  # autobahn's own first makes a debug line, logged or not

    def onOpen(self):
        rate = settings.WEBSOCKET_MAX_CONTROL_FRAMES_PER_S
        self.control_frames = MessageRate(rate, time.monotonic())
        if type(self.transport) is tcp.Server:
            self.transport.write = partial(write_now, self.transport, self.transport.write)
        super().onOpen()

    def onPing(self, payload):
        if self.control_frame_allowed():
            super().onPing(payload)

    def onPong(self, payload):
        if self.control_frame_allowed():
            super().onPong(payload)

    def control_frame_allowed(self) -> bool:
        if self.state != self.STATE_OPEN:  # closing: answered by nothing, counted by nothing
            return False
        if self.control_frames.allows(time.monotonic()):
            return True
        rate = settings.WEBSOCKET_MAX_CONTROL_FRAMES_PER_S
        self.sendCloseFrame(code=1008, reasonUtf8=f"Over {rate} pings or pongs a second.".encode())
        return False


def refuse(channel: http.HTTPChannel, error: FormTrackError) -> None:
    """Answer with the API's error envelope, then close: nothing more of the request is read."""
    body = json.dumps(error.to_event()).encode()
    head = (
        f"HTTP/1.1 {error.status} {HTTPStatus(error.status).phrase}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    channel.write(head.encode() + body)
    channel.loseConnection()


class LimitedRequest(WebRequest):
    """A request whose body is refused (413) as soon as it is known to pass the limit: from its
    Content-Length before any of it is read, or as a chunked body streams past it. Twisted would
    otherwise take it all in before Django's own size checks run."""

    def __init__(self, *args, **kwargs):
        # Twisted's parsing of form bodies into `args` (all in memory, blocking every other
        # request) is for twisted.web resources; Daphne passes the raw body on to Django.
        super().__init__(*args, parsePOSTFormSubmission=False, **kwargs)
        self.body_bytes = 0
        self.refused = False

    def gotLength(self, length):
        if length is not None and length > settings.REQUEST_BODY_MAX_BYTES:
            self.refuse_too_large()
        else:
            super().gotLength(length)

    def handleContentChunk(self, data):
        if self.refused:
            return
        self.body_bytes += len(data)
        if self.body_bytes > settings.REQUEST_BODY_MAX_BYTES:
            self.refuse_too_large()
        else:
            super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if not self.refused:  # else it never reaches the application
            super().requestReceived(command, path, version)

    def refuse_too_large(self):
        self.refused = True
        # A client waiting for "100 Continue" before it sends the body gets the 413 instead.
        self.requestHeaders.removeHeader(b"Expect")
        limit_mb = settings.REQUEST_BODY_MAX_BYTES // (1024 * 1024)
        upload_mb = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
        refuse(
            self.channel,
            FormTrackError(
                "payload_too_large",
                f"Request bodies are limited to {limit_mb} MB, uploaded files to {upload_mb} MB.",
                413,
            ),
        )


class LimitedChannel(http.HTTPChannel):
    """An HTTP/1.1 connection that answers a line over MAX_LENGTH (16 KB) instead of dropping it,
    and a request head (its line and headers) still unfinished REQUEST_HEAD_TIMEOUT_S after its
    first byte with 408: Twisted's idle timeout restarts with every byte, so a client sending one
    byte a minute would otherwise hold its connection for good."""

    head_deadline = None

    def dataReceived(self, data):
        # Line mode: a request head is being read (Twisted reads bodies, and buffers the next
        # request while one is handled, in raw mode).
        if self.line_mode and self.head_deadline is None and not self.transport.disconnecting:
            self.head_deadline = self.callLater(settings.REQUEST_HEAD_TIMEOUT_S, self.head_too_slow)
        super().dataReceived(data)

    def allHeadersReceived(self):
        self.cancel_head_deadline()
        super().allHeadersReceived()

    def connectionLost(self, reason):
        self.cancel_head_deadline()
        super().connectionLost(reason)

    def cancel_head_deadline(self):
        if self.head_deadline is not None and self.head_deadline.active():
            self.head_deadline.cancel()
        self.head_deadline = None

    def head_too_slow(self):
        self.head_deadline = None
        refuse(
            self,
            FormTrackError(
                "request_timeout",
                "A request's line and headers must arrive within "
                f"{settings.REQUEST_HEAD_TIMEOUT_S:g} s of its first byte.",
                408,
            ),
        )

    def lineLengthExceeded(self, line):
        if self.requests:  # a request has begun: this is one of its headers
            message = "Each request header is limited to 16 KB."
            refuse(self, FormTrackError("header_too_large", message, 431))
        else:
            message = "Request lines are limited to 16 KB: send long parameters in a POST body."
            refuse(self, FormTrackError("uri_too_long", message, 414))


class LimitedHTTPFactory(HTTPFactory):
    """Daphne's HTTP factory with the limited channel and request."""

    def protocol(self):
        # Twisted's own wrapper (it would negotiate HTTP/2 over TLS) around our channel.
        return http._GenericHTTPChannelProtocol(LimitedChannel())

    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = LimitedRequest
        return protocol


# Daphne's Server.run() builds its HTTP factory from this name.
daphne_server.HTTPFactory = LimitedHTTPFactory


class RedactingCommandLine(CommandLineInterface):
    server_class = RedactingServer

    def __init__(self):
        super().__init__()
        # The WebSocket size limit of settings (docs/protocol.md), so no command line forgets it.
        self.parser.set_defaults(
            websocket_max_message_size=settings.WEBSOCKET_MAX_MESSAGE_BYTES,
            websocket_max_frame_size=settings.WEBSOCKET_MAX_MESSAGE_BYTES,
        )


if __name__ == "__main__":
    RedactingCommandLine.entrypoint()
