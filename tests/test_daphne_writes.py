"""Daphne's WebSocket writes (config/daphne.py, write_now): sent at once when nothing waits, and in
order, through Twisted's buffer, whenever something does or the socket takes only part."""

from twisted.internet import main

from config.daphne import write_now


class Connection:
    """A TCP transport's state as write_now reads it, and a socket taking `room` bytes at once."""

    def __init__(self, room: int | None = None, *, buffered: bytes = b"", lost: bool = False):
        self.connected, self.disconnecting, self._writeDisconnected = True, False, False
        self.dataBuffer, self._tempDataBuffer = buffered, []
        self.room, self.lost = room, lost
        self.sent = b""

    def writeSomeData(self, data):  # noqa: N802 - Twisted's name
        if self.lost:
            return main.CONNECTION_LOST
        taken = bytes(data[: self.room])
        self.sent += taken
        return len(taken)

    def write(self, data):
        self._tempDataBuffer.append(data)


def test_a_message_goes_out_at_once_when_nothing_waits():
    connection = Connection()
    write_now(connection, connection.write, b"ack")
    assert connection.sent == b"ack" and connection._tempDataBuffer == []


def test_what_the_socket_does_not_take_waits_in_twisteds_buffer():
    connection = Connection(room=2)
    write_now(connection, connection.write, b"event")
    assert connection.sent == b"ev" and connection._tempDataBuffer == [b"ent"]


def test_a_message_queues_behind_data_still_waiting():
    connection = Connection(buffered=b"earlier")
    write_now(connection, connection.write, b"later")
    assert connection.sent == b"" and connection._tempDataBuffer == [b"later"]


def test_a_lost_or_closing_connection_is_left_to_twisted():
    lost = Connection(lost=True)
    write_now(lost, lost.write, b"ack")
    closing = Connection()
    closing.disconnecting = True
    write_now(closing, closing.write, b"ack")
    assert lost._tempDataBuffer == closing._tempDataBuffer == [b"ack"]
    assert lost.sent == closing.sent == b""
