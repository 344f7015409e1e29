"""Single-use tracking links: POST /api/v1/sessions, opening the page once, and the page's ticket
for its WebSocket and uploads. The API token never reaches the page."""

import datetime
import hashlib
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import selectors
from accounts import services as account_services
from config.asgi import application
from config.redaction import redact
from tests.factories import make_token
from tracking import links, uploads
from tracking.access import tracking_open
from tracking.models import TrackingLink, Upload

pytestmark = pytest.mark.django_db

SQUAT_CLIP = Path(__file__).parent / "fixtures" / "clips" / "fitness-squat-counter.mp4"
ORIGIN = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


def issue(raw_token, /, **body):
    return APIClient().post(
        "/api/v1/sessions", body, format="json", HTTP_AUTHORIZATION=f"Bearer {raw_token}"
    )


def issued(raw_token, /, **body) -> dict:
    response = issue(raw_token, **body)
    assert response.status_code == 201, response.json()
    return response.json()


def page_path(link: dict) -> str:
    parts = urlsplit(link["url"])
    return f"{parts.path}?{parts.query}"


def page_config(response) -> dict:
    html = response.content.decode()
    match = re.search(r'<script id="formtrack-config" type="application/json">(.*?)</script>', html)
    assert match, "the page embeds its configuration as JSON"
    return json.loads(match.group(1))


def first_event(response) -> dict:
    return page_config(response)["initialEvents"][0]


# --- Issuing -------------------------------------------------------------------------------------


def test_issuing_answers_a_single_use_url_and_stores_only_a_hash(acme_token, settings):
    before = timezone.now()
    link = issued(acme_token, exercise="squat", keypoints=True)
    assert link["endpoint"] == "tracking"
    assert link["url"] == f"{settings.SITE_URL}/pose_tracker/tracking?session={link['id']}"
    assert link["ws_url"] == f"ws://127.0.0.1:8000/ws/pose_tracker/tracking?session={link['id']}"
    expires_at = datetime.datetime.fromisoformat(link["expires_at"])
    assert before + datetime.timedelta(minutes=5) <= expires_at
    assert expires_at <= timezone.now() + datetime.timedelta(minutes=5)
    row = TrackingLink.objects.get()
    assert row.digest == hashlib.sha256(link["id"].encode()).hexdigest()
    assert link["id"] not in row.query and acme_token not in row.query
    assert "token" not in parse_qs(row.query)
    assert parse_qs(row.query)["exercise"] == ["squat"]
    assert row.used_at is None and row.organization.name == "Acme"


def test_under_a_pepper_the_link_is_stored_keyed_and_still_opens(client, acme, settings):
    settings.API_TOKEN_PEPPER = "pepper"
    link = issued(make_token(acme, name="Peppered"), exercise="squat")
    assert TrackingLink.objects.get().digest != hashlib.sha256(link["id"].encode()).hexdigest()
    assert client.get(page_path(link)).status_code == 200


def test_the_lifetime_comes_from_the_settings(acme_token, settings):
    settings.TRACKING_LINK_MAX_AGE_S = 60
    link = issued(acme_token, exercise="squat")
    expires_at = datetime.datetime.fromisoformat(link["expires_at"])
    assert expires_at <= timezone.now() + datetime.timedelta(seconds=60)


def test_form_fields_and_the_upload_page(acme_token, settings):
    response = APIClient().post(
        "/api/v1/sessions",
        {"endpoint": "upload", "exercise": "squat", "source": "video"},
        HTTP_AUTHORIZATION=f"Bearer {acme_token}",
    )
    assert response.status_code == 201
    link = response.json()
    assert link["url"].startswith(f"{settings.SITE_URL}/pose_tracker/upload_tracking?session=")
    assert link["ws_url"] is None


def test_https_sites_get_wss_links(acme_token, settings):
    settings.SITE_URL = "https://formtrack.example.com"
    link = issued(acme_token, exercise="squat")
    assert link["url"].startswith("https://formtrack.example.com/pose_tracker/tracking?session=")
    assert link["ws_url"].startswith("wss://formtrack.example.com/ws/pose_tracker/tracking?")


def test_issuing_validates_the_parameters_with_the_shared_parser(acme_token):
    response = issue(acme_token, exercise="squats", minGrade="Z")
    assert response.status_code == 400
    problems = response.json()["details"]["problems"]
    assert [(p["param"], p["code"]) for p in problems] == [("exercise", "invalid_exercise")]
    assert "did you mean squat?" in problems[0]["message"]
    assert not TrackingLink.objects.exists()
    assert issue(acme_token, endpoint="video").status_code == 400
    loose = issued(acme_token, exercise="squat", colour="red", width=392.72727272727275)
    assert loose["warnings"] == ["unknown parameter 'colour' ignored"]


def test_the_page_of_a_link_posts_what_was_ignored_once_it_opens(client, acme_token):
    link = issued(acme_token, exercise="squat", minGrade="Z", timer="3")
    assert len(link["warnings"]) == 2
    # Left out of the link when it was issued, and said then: nothing to repeat.
    assert page_config(client.get(page_path(link)))["initialEvents"] == []
    upload_link = issued(acme_token, endpoint="upload", exercise="squat", uploadLabel="Go")
    config = page_config(client.get(page_path(upload_link)))
    assert config["initialEvents"] == []
    assert config["params"]["passthrough"]["uploadLabel"] == "Go"  # the page's own parameters


def test_issuing_takes_the_token_from_the_authorization_header_only(api_client, acme_token):
    query_token = api_client.post(f"/api/v1/sessions?token={acme_token}", {}, format="json")
    assert query_token.status_code == 401
    assert query_token.json()["code"] == "missing_token"
    in_body = issue(acme_token, token=acme_token, exercise="squat")
    assert in_body.status_code == 400
    chained = issue(acme_token, session="abc")
    assert chained.status_code == 400
    assert not TrackingLink.objects.exists()


def test_issuing_with_a_revoked_token_or_from_a_foreign_origin_is_refused(acme):
    raw = make_token(acme, allowed_origins=["https://app.example.com"])
    foreign = APIClient().post(
        "/api/v1/sessions",
        {"exercise": "squat"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        HTTP_ORIGIN="https://evil.example.com",
    )
    assert foreign.status_code == 403 and foreign.json()["code"] == "origin_not_allowed"
    account_services.token_revoke(
        token=account_services.token_authenticate(raw, origin_required=False)
    )
    assert issue(raw, exercise="squat").status_code == 401


def test_a_link_takes_no_call_of_the_quota(acme, acme_token):
    issued(acme_token, exercise="squat")
    assert selectors.quota_status(organization=acme).used == 0


# --- Opening the page ----------------------------------------------------------------------------


def test_the_page_opens_once_with_the_issued_parameters_and_no_token(client, acme_token):
    link = issued(acme_token, exercise="squat", keypoints=True, language="fr")
    response = client.get(page_path(link))
    assert response.status_code == 200
    html = response.content.decode()
    assert acme_token not in html and acme_token[:16] not in html
    config = page_config(response)
    assert config["params"]["exercise"] == "squat"
    assert config["params"]["keypoints"] is True and config["params"]["language"] == "fr"
    assert config["params"]["token"] == ""
    access = parse_qs(config["accessQuery"])
    assert config["ticket"] and access.pop("ticket") == [config["ticket"]]
    assert list(access) == ["pageSession"]  # what makes its reconnects one call
    assert response["Cache-Control"] == "no-store"
    assert TrackingLink.objects.get().used_at is not None

    again = client.get(page_path(link))
    assert again.status_code == 401
    assert first_event(again)["code"] == "session_used"


def test_an_expired_link_answers_401_session_expired(client, acme_token):
    link = issued(acme_token, exercise="squat")
    TrackingLink.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get(page_path(link))
    assert response.status_code == 401
    assert first_event(response)["code"] == "session_expired"
    assert TrackingLink.objects.get().used_at is None


@pytest.mark.parametrize("session", ["", "not-a-link", "x" * 43])
def test_an_unknown_link_answers_401_invalid_session(client, session):
    response = client.get("/pose_tracker/tracking", {"session": session})
    assert response.status_code == 401
    assert first_event(response)["code"] == "invalid_session"


def test_a_link_opens_only_the_page_it_was_issued_for(client, acme_token):
    link = issued(acme_token, exercise="squat")
    response = client.get("/pose_tracker/upload_tracking", {"session": link["id"]})
    assert response.status_code == 401
    assert first_event(response)["code"] == "invalid_session"
    assert client.get(page_path(link)).status_code == 200


@pytest.mark.parametrize(
    "extra", [{"exercise": "lunge"}, {"keypoints": "true"}, {"token": "ft_live_x"}, {"a": "b"}]
)
def test_any_extra_parameter_is_refused_and_keeps_the_link(client, acme_token, extra):
    link = issued(acme_token, exercise="squat")
    response = client.get("/pose_tracker/tracking", {"session": link["id"], **extra})
    assert response.status_code == 400
    assert first_event(response)["code"] == "session_parameters_fixed"
    assert TrackingLink.objects.get().used_at is None
    assert client.get(page_path(link)).status_code == 200


def test_a_ticket_does_not_open_a_page(client, acme_token):
    link = issued(acme_token, exercise="squat")
    ticket = page_config(client.get(page_path(link)))["ticket"]
    response = client.get("/pose_tracker/tracking", {"ticket": ticket})
    assert response.status_code == 401
    assert first_event(response)["code"] == "invalid_session"


def test_the_tokens_allowed_origins_still_apply(client, acme):
    raw = make_token(acme, allowed_origins=["https://app.example.com"])
    link = issued(raw, exercise="squat")
    refused = client.get(page_path(link), HTTP_REFERER="https://evil.example.com/")
    assert refused.status_code == 403
    assert first_event(refused)["code"] == "origin_not_allowed"
    assert TrackingLink.objects.get().used_at is None  # a refused load does not use the link
    ok = client.get(page_path(link), HTTP_REFERER="https://app.example.com/workout")
    assert ok.status_code == 200
    assert ok["Content-Security-Policy"] == "frame-ancestors https://app.example.com"


def test_a_link_of_a_revoked_token_does_not_open(client, acme_token):
    link = issued(acme_token, exercise="squat")
    account_services.token_revoke(token=account_services.token_authenticate(acme_token))
    response = client.get(page_path(link))
    assert response.status_code == 401
    assert first_event(response)["code"] == "invalid_token"


def test_only_one_of_two_concurrent_openings_uses_the_link(acme_token):
    issued(acme_token, exercise="squat")
    first, second = TrackingLink.objects.get(), TrackingLink.objects.get()
    links.link_consume(first)
    with pytest.raises(links.AccessError) as refused:
        links.link_consume(second)  # read before the first opening, as a concurrent request would
    assert refused.value.code == "session_used"


def test_the_plan_still_gates_what_the_link_asks_for(client, globex_token):
    link = issued(globex_token, exercise="squat", keypoints=True)
    response = client.get(page_path(link))
    assert response.status_code == 200
    config = page_config(response)
    assert config["params"]["keypoints"] is False
    assert first_event(response)["code"] == "developer_features_not_allowed"


def test_links_and_tickets_are_redacted_from_logs():
    line = "GET /pose_tracker/tracking?session=abcDEF123 HTTP/1.1 /ws?ticket=xyz:1:2"
    assert "abcDEF123" not in redact(line) and "xyz" not in redact(line)


def test_old_links_are_purged_when_new_ones_are_issued(acme_token, settings):
    issued(acme_token, exercise="squat")
    old = timezone.now() - datetime.timedelta(days=3)
    TrackingLink.objects.update(expires_at=old, created_at=old)
    issued(acme_token, exercise="squat")
    assert TrackingLink.objects.count() == 1


# --- The live page's WebSocket -------------------------------------------------------------------


async def connect(query, headers=ORIGIN):
    socket = WebsocketCommunicator(
        application, f"/ws/pose_tracker/tracking?{query}", headers=headers
    )
    connected, _ = await socket.connect()
    assert connected
    return socket


async def refusal(socket) -> tuple[dict, int]:
    event = await socket.receive_json_from(timeout=5)
    output = await socket.receive_output(timeout=5)
    assert output["type"] == "websocket.close"
    await socket.disconnect()
    return event, output["code"]


def open_page_sync(client, token, **params) -> str:
    link = issued(token, **params)
    return page_config(client.get(page_path(link)))["ticket"]


@pytest.mark.django_db(transaction=True)
async def test_the_pages_socket_works_with_its_ticket_and_the_links_parameters(client, acme_token):
    ticket = await sync_to_async(open_page_sync)(client, acme_token, exercise="lunge")
    for inference in ("browser", "server"):  # the page may fall back to server inference
        socket = await connect(f"ticket={ticket}&inference={inference}")
        started = await socket.receive_json_from(timeout=5)
        assert started["type"] == "session_started"
        assert started["exercise"] == "lunge" and started["inference"] == inference
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("query", "code", "close"),
    [
        ("ticket={ticket}&exercise=squat", "session_parameters_fixed", 4400),
        ("ticket={ticket}x", "invalid_session", 4401),
        ("ticket=forged", "invalid_session", 4401),
    ],
)
async def test_the_ticket_fixes_the_parameters(client, acme_token, query, code, close):
    ticket = await sync_to_async(open_page_sync)(client, acme_token, exercise="squat")
    event, closed = await refusal(await connect(query.format(ticket=ticket)))
    assert (event["code"], closed) == (code, close)


@pytest.mark.django_db(transaction=True)
async def test_a_loose_inference_on_the_ticket_starts_in_the_browser_with_a_warning(
    client, acme_token
):
    ticket = await sync_to_async(open_page_sync)(client, acme_token, exercise="squat")
    socket = await connect(f"ticket={ticket}&inference=gpu")
    started = await socket.receive_json_from(timeout=5)
    assert (started["type"], started["inference"]) == ("session_started", "browser")
    warning = await socket.receive_json_from(timeout=5)
    assert (warning["type"], warning["parameters"]) == ("warning", ["inference"])
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_an_expired_ticket_or_revoked_token_closes_4401(client, acme_token, settings):
    ticket = await sync_to_async(open_page_sync)(client, acme_token, exercise="squat")
    settings.TRACKING_TICKET_MAX_AGE_S = -1
    event, closed = await refusal(await connect(f"ticket={ticket}"))
    assert (event["code"], closed) == ("session_expired", 4401)
    settings.TRACKING_TICKET_MAX_AGE_S = 3600
    await sync_to_async(account_services.token_revoke)(
        token=await sync_to_async(account_services.token_authenticate)(acme_token)
    )
    event, closed = await refusal(await connect(f"ticket={ticket}"))
    assert (event["code"], closed) == ("invalid_token", 4401)


@pytest.mark.django_db(transaction=True)
async def test_a_native_app_connects_once_with_the_ws_url(acme_token):
    link = await sync_to_async(issued)(acme_token, exercise="squat")
    query = urlsplit(link["ws_url"]).query
    socket = await connect(query, headers=[])
    started = await socket.receive_json_from(timeout=5)
    assert started["type"] == "session_started" and started["exercise"] == "squat"
    await socket.disconnect()
    event, closed = await refusal(await connect(query, headers=[]))
    assert (event["code"], closed) == ("session_used", 4401)


# --- The upload page's API calls -----------------------------------------------------------------


def open_upload_page(client, token, **params) -> str:
    link = issued(token, endpoint="upload", **params)
    response = client.get(page_path(link))
    assert response.status_code == 200
    config = page_config(response)
    assert config["params"]["token"] == "" and token not in response.content.decode()
    return config["ticket"]


def post_with_ticket(client, ticket, **fields):
    data = {"file": SimpleUploadedFile("squat.mp4", SQUAT_CLIP.read_bytes()), **fields}
    return client.post(f"/api/v1/uploads?ticket={ticket}", data)


@pytest.fixture
def no_analysis(monkeypatch):
    monkeypatch.setattr(uploads.background, "enqueue", lambda *args: None)


def test_the_upload_page_uploads_and_reads_back_only_its_own(client, acme_token, no_analysis):
    ticket = open_upload_page(client, acme_token, exercise="squat")
    created = post_with_ticket(client, ticket)
    assert created.status_code == 202, created.json()
    upload = Upload.objects.get(pk=created.json()["id"])
    assert upload.exercise == "squat" and upload.link is not None
    assert acme_token not in upload.query

    assert client.get(f"/api/v1/uploads/{upload.pk}?ticket={ticket}").status_code == 200
    events = client.get(f"/api/v1/uploads/{upload.pk}/events?ticket={ticket}")
    assert events.status_code == 200

    other = uploads.upload_create(
        access=tracking_open(
            {"token": acme_token, "exercise": "squat"}, endpoint="upload", origin=None
        ),
        file=SimpleUploadedFile("b.mp4", SQUAT_CLIP.read_bytes()),
    )
    assert client.get(f"/api/v1/uploads/{other.pk}?ticket={ticket}").status_code == 404
    assert client.get(f"/api/v1/uploads?ticket={ticket}").status_code == 403
    assert client.delete(f"/api/v1/uploads/{upload.pk}?ticket={ticket}").status_code == 403
    assert client.get(f"/api/v1/me?ticket={ticket}").status_code == 401


def test_the_upload_ticket_fixes_the_parameters(client, acme_token, no_analysis):
    ticket = open_upload_page(client, acme_token, exercise="squat")
    changed = post_with_ticket(client, ticket, exercise="lunge")
    assert changed.status_code == 400
    assert changed.json()["code"] == "session_parameters_fixed"
    callback = post_with_ticket(client, ticket, callback_url="https://hooks.example.com/x")
    assert callback.status_code == 400
    assert not Upload.objects.exists()


def test_a_live_pages_ticket_cannot_upload(client, acme_token, no_analysis):
    link = issued(acme_token, exercise="squat")
    ticket = page_config(client.get(page_path(link)))["ticket"]
    response = post_with_ticket(client, ticket)
    assert response.status_code == 401 and response.json()["code"] == "invalid_session"


def test_the_upload_page_of_a_token_with_allowed_origins_uploads_from_our_site(
    client, acme, no_analysis
):
    raw = make_token(acme, allowed_origins=["https://app.example.com"])
    link = issued(raw, endpoint="upload", exercise="squat")
    response = client.get(page_path(link), HTTP_REFERER="https://app.example.com/")
    ticket = page_config(response)["ticket"]
    data = {"file": SimpleUploadedFile("squat.mp4", SQUAT_CLIP.read_bytes())}
    ours = client.post(f"/api/v1/uploads?ticket={ticket}", data, HTTP_ORIGIN="http://testserver")
    assert ours.status_code == 202, ours.json()
    data = {"file": SimpleUploadedFile("squat.mp4", SQUAT_CLIP.read_bytes())}
    foreign = client.post(
        f"/api/v1/uploads?ticket={ticket}", data, HTTP_ORIGIN="https://evil.example.com"
    )
    assert foreign.status_code == 403
