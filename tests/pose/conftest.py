import socket
from pathlib import Path

import cv2
import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PHOTO = FIXTURES / "images" / "messi5.jpg"


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails, as on a machine without internet access."""

    def refuse(*args, **kwargs):
        raise OSError("network access is blocked in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="session")
def photo_rgb():
    return cv2.cvtColor(cv2.imread(str(PHOTO)), cv2.COLOR_BGR2RGB)
