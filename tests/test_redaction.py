import io
import logging
from datetime import datetime

import pytest

from config.daphne import RedactingAccessLog
from config.redaction import RedactTokensFilter, redact
from tests.factories import make_token

SECRET = "ft_live_Zq8kVh3nXe4Rt5Yu6Io7Pa8Sd9Fg0HjKlMnBvCxZaQw"
PUBLISHABLE = "ft_pub_Qw8kVh3nXe4Rt5Yu6Io7Pa8Sd9Fg0HjKlMnBvCxZaZq"


@pytest.mark.parametrize(
    "line",
    [
        f"GET /pose_tracker/tracking?token={SECRET}&exercise=squat",
        f"WSCONNECT /ws/pose_tracker/tracking?exercise=squat&token={SECRET}",
        f"Authorization: Bearer {SECRET}",
        f"/ws/uploads/abc?ticket={SECRET}",
        f"GET /api/v1/uploads/abc?upload_ticket={SECRET}",
    ],
)
def test_tokens_never_reach_a_log_line(line):
    cleaned = redact(line)
    assert SECRET not in cleaned and "[redacted]" in cleaned


def test_publishable_keys_are_redacted_too():
    assert redact(f"key {PUBLISHABLE} used") == "key ft_pub_[redacted] used"


def test_redaction_keeps_the_rest_of_the_line():
    assert redact("GET /pose_tracker/tracking?token=abc&exercise=squat") == (
        "GET /pose_tracker/tracking?token=[redacted]&exercise=squat"
    )


def test_daphne_access_log_is_redacted():
    stream = io.StringIO()
    RedactingAccessLog(stream).write_entry(
        "127.0.0.1", datetime.now(), f"GET /pose_tracker/tracking?token={SECRET}", 200, 10
    )
    assert SECRET not in stream.getvalue() and "token=[redacted]" in stream.getvalue()


def test_log_records_are_redacted_by_the_filter():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "Bad request %s", (SECRET,), None)
    RedactTokensFilter().filter(record)
    assert SECRET not in record.getMessage()


@pytest.mark.django_db
def test_tracking_pages_send_no_referrer_and_limit_framing(client, acme):
    open_token = make_token(acme)
    page = client.get("/pose_tracker/tracking", {"token": open_token, "exercise": "squat"})
    assert page["Referrer-Policy"] == "no-referrer"
    assert page["Content-Security-Policy"] == "frame-ancestors *"
    limited = make_token(acme, allowed_origins=["https://app.example.com"])
    page = client.get(
        "/pose_tracker/tracking",
        {"token": limited, "exercise": "squat"},
        HTTP_REFERER="https://app.example.com/",
    )
    assert page["Content-Security-Policy"] == "frame-ancestors https://app.example.com"


def test_signed_media_links_are_redacted():
    signed = "InVwbG9hZHMvb3JnXzEvM2YyYS9zb3VyY2UubXA0Ig:1uQ7xS:AbCdEf-GhIjKl_MnOpQr"
    assert redact(f"GET /files/{signed} 200") == "GET /files/[redacted] 200"
    assert redact(f"Not Found: https://media.example.net/files/{signed}?x=1") == (
        "Not Found: https://media.example.net/files/[redacted]?x=1"
    )


def test_daphne_access_log_redacts_media_links():
    stream = io.StringIO()
    RedactingAccessLog(stream).write_entry(
        "127.0.0.1", datetime.now(), "GET /files/InVwbG9hZHMi:1uQ7xS:AbCdEf", 200, 10
    )
    assert "InVwbG9hZHMi" not in stream.getvalue() and "/files/[redacted]" in stream.getvalue()
