"""Burst rate limits per token and per client address on the API, the tracking pages and the live
WebSocket, apart from the monthly quota: 429 `rate_limited` with Retry-After (or `retryAfter` and
close 4429 on the socket)."""

import json
import re
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from accounts.models import MonthlyUsage
from config import ratelimit
from config.asgi import application
from tests.factories import make_token
from tests.support.clips import landmark_messages
from tracking.models import TrackingLink

pytestmark = pytest.mark.django_db

ORIGIN = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


@pytest.fixture
def limits(settings):
    """Limits on, generous, counted apart from every other test's requests."""
    settings.RATE_LIMIT_CACHE_PREFIX = f"ratelimit-test-{uuid.uuid4().hex}"
    settings.RATE_LIMIT_TOKEN_API_PER_MIN = 100
    settings.RATE_LIMIT_TOKEN_PAGE_PER_MIN = 100
    settings.RATE_LIMIT_TOKEN_WEBSOCKET_PER_MIN = 100
    settings.RATE_LIMIT_IP_PER_MIN = 100
    return settings


def bearer(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def assert_rate_limited(response):
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    return retry_after


def page_event(response) -> dict:
    html = response.content.decode()
    match = re.search(r'<script id="formtrack-config" type="application/json">(.*?)</script>', html)
    return json.loads(match.group(1))["initialEvents"][0]


# --- The counter ---------------------------------------------------------------------------------


def test_the_window_refuses_past_the_limit_and_says_when_to_retry(limits, monkeypatch):
    now = [1_000_040.0]  # 20 s into a window
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    for _ in range(3):
        ratelimit.hit("test", "k", limit=3, what="tries")
    with pytest.raises(ratelimit.RateLimited) as limited:
        ratelimit.hit("test", "k", limit=3, what="tries")
    assert limited.value.retry_after == 40
    event = limited.value.to_event()
    assert event["code"] == "rate_limited" and event["retryAfter"] == 40
    ratelimit.hit("test", "other-key", limit=3, what="tries")  # keys are counted apart
    now[0] += 40  # the next window starts afresh
    ratelimit.hit("test", "k", limit=3, what="tries")


def test_a_limit_of_zero_counts_nothing(limits):
    for _ in range(5):
        ratelimit.hit("test", "k", limit=0, what="tries")


def test_an_unreachable_cache_lets_requests_through(limits, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(ratelimit.cache, "add", broken)
    for _ in range(3):
        ratelimit.hit("test", "k", limit=1, what="tries")


def test_the_forwarded_address_counts_only_behind_a_trusted_proxy(settings, rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.RATE_LIMIT_TRUST_FORWARDED_FOR = False
    assert ratelimit.client_ip(request) == "10.0.0.1"
    settings.RATE_LIMIT_TRUST_FORWARDED_FOR = True
    assert ratelimit.client_ip(request) == "203.0.113.7"  # what our proxy saw, not the client's


# --- API -----------------------------------------------------------------------------------------


def test_api_requests_per_token(limits, acme_token, globex_token):
    limits.RATE_LIMIT_TOKEN_API_PER_MIN = 2
    acme = bearer(acme_token)
    assert acme.get("/api/v1/me").status_code == 200
    assert acme.get("/api/v1/exercises").status_code == 200
    refused = acme.get("/api/v1/me")
    assert_rate_limited(refused)
    body = refused.json()
    assert body["type"] == "error" and body["code"] == "rate_limited"
    assert body["retryAfter"] == int(refused["Retry-After"])
    assert bearer(globex_token).get("/api/v1/me").status_code == 200  # another token's bucket


def test_api_requests_per_address_count_before_authentication(limits, acme_token):
    limits.RATE_LIMIT_IP_PER_MIN = 2
    wrong = bearer("ft_live_wrong")
    assert wrong.get("/api/v1/me").status_code == 401
    assert wrong.get("/api/v1/me").status_code == 401
    refused = bearer(acme_token).get("/api/v1/me")
    assert_rate_limited(refused)
    assert refused.json()["code"] == "rate_limited"
    other = APIClient(REMOTE_ADDR="203.0.113.9")
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {acme_token}")
    assert other.get("/api/v1/me").status_code == 200


def test_the_burst_limit_is_not_the_monthly_quota(limits, globex, globex_token):
    limits.RATE_LIMIT_TOKEN_API_PER_MIN = 1
    client = bearer(globex_token)
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/me").json()["code"] == "rate_limited"
    assert not MonthlyUsage.objects.filter(organization=globex, calls__gt=0).exists()


# --- Pages ---------------------------------------------------------------------------------------


def test_page_loads_per_token(limits, client, acme, acme_token):
    limits.RATE_LIMIT_TOKEN_PAGE_PER_MIN = 2
    query = {"token": acme_token, "exercise": "squat"}
    assert client.get("/pose_tracker/tracking", query).status_code == 200
    assert client.get("/pose_tracker/upload_tracking", query).status_code == 200
    refused = client.get("/pose_tracker/tracking", query)
    assert_rate_limited(refused)
    event = page_event(refused)
    assert event["code"] == "rate_limited" and event["retryAfter"] == int(refused["Retry-After"])
    other = make_token(acme, name="other")
    assert client.get("/pose_tracker/tracking", {"token": other}).status_code == 200


def test_page_loads_per_address(limits, client, acme_token):
    limits.RATE_LIMIT_IP_PER_MIN = 1
    query = {"token": acme_token, "exercise": "squat"}
    assert client.get("/pose_tracker/tracking", query).status_code == 200
    assert_rate_limited(client.get("/pose_tracker/tracking", query))


def test_a_rate_limited_page_keeps_its_single_use_link(limits, client, acme_token):
    limits.RATE_LIMIT_TOKEN_PAGE_PER_MIN = 1
    assert client.get("/pose_tracker/tracking", {"token": acme_token}).status_code == 200
    link = bearer(acme_token).post("/api/v1/sessions", {"exercise": "squat"}, format="json")
    session = {"session": link.json()["id"]}
    assert_rate_limited(client.get("/pose_tracker/tracking", session))
    assert TrackingLink.objects.get().used_at is None


# --- WebSocket -----------------------------------------------------------------------------------


async def refused_socket(query, headers=ORIGIN) -> tuple[dict, int]:
    socket = WebsocketCommunicator(
        application, f"/ws/pose_tracker/tracking?{query}", headers=headers
    )
    connected, _ = await socket.connect()
    assert connected
    event = await socket.receive_json_from(timeout=5)
    output = await socket.receive_output(timeout=5)
    await socket.disconnect()
    return event, output.get("code")


async def started(query, headers=ORIGIN) -> None:
    """A session that starts tracking: it takes its call with its first frame."""
    socket = WebsocketCommunicator(
        application, f"/ws/pose_tracker/tracking?{query}", headers=headers
    )
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from(timeout=5))["type"] == "session_started"
    await socket.send_json_to(landmark_messages()[0])
    while (await socket.receive_json_from(timeout=5))["type"] != "ack":
        pass
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_websocket_connects_per_token(limits, acme_token):
    limits.RATE_LIMIT_TOKEN_WEBSOCKET_PER_MIN = 1
    await started(f"token={acme_token}&exercise=squat")
    event, code = await refused_socket(f"token={acme_token}&exercise=squat")
    assert event["code"] == "rate_limited" and 1 <= event["retryAfter"] <= 60
    assert code == 4429
    uses = await sync_to_async(lambda: list(MonthlyUsage.objects.values_list("calls", flat=True)))()
    assert uses == [1]  # the refused connection took no call


@pytest.mark.django_db(transaction=True)
async def test_websocket_connects_per_address(limits, acme_token):
    limits.RATE_LIMIT_IP_PER_MIN = 1
    limits.RATE_LIMIT_TRUST_FORWARDED_FOR = True
    headers = [*ORIGIN, (b"x-forwarded-for", b"203.0.113.5")]
    await started(f"token={acme_token}&exercise=squat", headers)
    event, code = await refused_socket(f"token={acme_token}&exercise=squat", headers)
    assert (event["code"], code) == ("rate_limited", 4429)
    other = [*ORIGIN, (b"x-forwarded-for", b"203.0.113.6")]
    await started(f"token={acme_token}&exercise=squat", other)
