"""Uploads end to end: the REST API, a real background worker, MediaPipe and the engine."""

import hashlib
import hmac
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts import services as accounts_services
from accounts.models import MonthlyUsage
from config.asgi import application
from tests.factories import held_upload, make_token
from tests.support.clips import CURL_CLIP, SQUAT_CLIP
from tests.support.servers import wait_until
from tracking import tasks, uploads
from tracking.models import Upload, UploadEvent

FIXTURES = Path(__file__).parent / "fixtures"
PERSON_PHOTO = FIXTURES / "images" / "messi5.jpg"

pytestmark = pytest.mark.django_db(transaction=True)


def post_file(client, token, path_or_bytes, name, **params):
    content = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    data = {"file": SimpleUploadedFile(name, content), **params}
    return client.post("/api/v1/uploads", data, HTTP_AUTHORIZATION=f"Bearer {token}")


def wait_until_finished(upload_id, timeout=240) -> Upload:
    return wait_until(
        lambda: (upload := Upload.objects.get(pk=upload_id)).is_finished and upload,
        timeout,
        f"upload {upload_id} to finish",
        interval=0.3,
    )


def events_of(client, token, upload_id) -> list[dict]:
    events, url = [], f"/api/v1/uploads/{upload_id}/events?page_size=1000"
    while url:
        page = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}").json()
        events.extend(page["results"])
        url = page["next"]
    return events


def nothing_stored(media_root: Path) -> bool:
    return not Upload.objects.exists() and not any(p.is_file() for p in media_root.rglob("*"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("clip", "exercise", "reps"), [(SQUAT_CLIP, "squat", 4), (CURL_CLIP, "bicep_curl", 6)]
)
def test_real_clip_is_counted_and_graded_in_the_background(
    client, worker, acme_token, clip, exercise, reps
):
    response = post_file(client, acme_token, clip, clip.name, exercise=exercise)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] in {"queued", "processing", "done"}

    upload = wait_until_finished(body["id"])
    assert upload.status == "done", upload.error_message
    events = events_of(client, acme_token, upload.pk)
    final = [e for e in events if e["type"] == "counter" and e.get("final")]
    assert final and final[-1]["current_count"] == reps
    summary = next(e for e in events if e["type"] == "exercise_summary")
    assert len(summary["history"]) == reps
    assert all(rep["grade"] in "ABCDF" for rep in summary["history"])
    detail = client.get(f"/api/v1/uploads/{upload.pk}", HTTP_AUTHORIZATION=f"Bearer {acme_token}")
    assert detail.json()["status"] == "done" and detail.json()["progress"] == 100
    assert detail.json()["summary"]
    # No export asked for: no annotated video rendered, but the timeline the pages draw from.
    assert detail.json()["annotated_url"] is None
    assert not any(e["type"] == "export_ready" for e in events)
    timeline = json.loads(fetch_link(client, detail.json()["timeline_url"]))
    assert len(timeline["frames"]) == upload.stats["frames_analyzed"]
    assert max(count or 0 for _, count, _, _ in timeline["frames"]) == reps


def fetch_link(client, url) -> bytes:
    """A signed media link's content, fetched without any token (as a <video> or fetch() is)."""
    response = client.get(url.split("127.0.0.1:8000", 1)[-1])
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.mark.slow
def test_export_renders_an_annotated_h264_video_announced_by_export_ready(
    client, worker, acme_token
):
    response = post_file(client, acme_token, SQUAT_CLIP, "squats.mp4", exercise="squat", export=1)
    assert response.status_code == 202, response.content
    upload = wait_until_finished(response.json()["id"])
    assert upload.status == "done", upload.error_message
    events = events_of(client, acme_token, upload.pk)
    (export,) = [e for e in events if e["type"] == "export_ready"]
    video = fetch_link(client, export["url"])
    assert video[4:8] == b"ftyp" and b"avc1" in video[:4096]  # MP4, H.264: plays in browsers
    detail = client.get(f"/api/v1/uploads/{upload.pk}", HTTP_AUTHORIZATION=f"Bearer {acme_token}")
    assert fetch_link(client, detail.json()["annotated_url"]) == video  # links are signed anew
    assert detail.json()["timeline_url"]
    assert upload.stats["export_codec"] == "h264"


def test_photo_of_a_person_gives_33_keypoints_and_an_overlay(client, worker, acme_token):
    response = post_file(
        client,
        acme_token,
        PERSON_PHOTO,
        "photo.bin",
        source="image",
        blazepose="true",
        keypoints="true",
    )
    assert response.status_code == 202, response.content
    upload = wait_until_finished(response.json()["id"])
    assert upload.status == "done", upload.error_message
    events = events_of(client, acme_token, upload.pk)
    keypoints = next(e for e in events if e["type"] == "keypoints")
    assert len(keypoints["keypoints"]) == 33 and keypoints["data"] == keypoints["keypoints"]
    overlay = next(e for e in events if e["type"] == "image_overlay")
    image = client.get(overlay["url"].split("127.0.0.1:8000", 1)[-1])
    assert image.status_code == 200
    assert b"".join(image.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"


def test_photo_without_a_person_says_so_in_a_posture_event(client, worker, acme_token):
    gradient = np.tile(np.linspace(0, 255, 320, dtype=np.uint8), (240, 1))
    ok, png = cv2.imencode(".png", cv2.cvtColor(gradient, cv2.COLOR_GRAY2BGR))
    response = post_file(client, acme_token, png.tobytes(), "empty.png", source="image")
    assert response.status_code == 202, response.content
    upload = wait_until_finished(response.json()["id"])
    assert upload.status == "done"
    posture = next(e for e in events_of(client, acme_token, upload.pk) if e["type"] == "posture")
    assert posture["ready"] is False and posture["message"]


def _truncated_clip() -> bytes:
    data = SQUAT_CLIP.read_bytes()
    return data[: len(data) // 3]


def _png_bomb() -> bytes:
    """A 110 KB PNG that would decode to 900 megapixels."""
    out = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(out, "PNG")
    return out.getvalue()


def _wrong_magic() -> bytes:
    data = bytearray(SQUAT_CLIP.read_bytes())
    data[4:8] = b"junk"  # the MP4 'ftyp' box type
    return bytes(data)


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"", "empty.mp4", "empty_file"),
        (b"just some text, not a video at all\n" * 20, "notes.mp4", None),
        (_truncated_clip(), "cut.mp4", None),
        (PERSON_PHOTO.read_bytes(), "photo.mp4", "media_type_mismatch"),
        (_wrong_magic(), "clip.mp4", None),
        (_png_bomb(), "bomb.png", "image_too_large"),
    ],
)
def test_bad_files_get_a_clear_4xx_and_nothing_is_stored(
    client, acme, acme_token, settings, tmp_path, content, name, code
):
    settings.MEDIA_ROOT = tmp_path / "media"
    response = post_file(client, acme_token, content, name, exercise="squat")
    assert 400 <= response.status_code < 500
    body = response.json()
    assert body["type"] == "error" and body["message"]
    if code:
        assert body["code"] == code
    assert nothing_stored(settings.MEDIA_ROOT)
    assert not MonthlyUsage.objects.filter(organization=acme, calls__gt=0).exists()


def test_file_over_the_size_limit_is_413(client, acme_token, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.UPLOAD_MAX_BYTES = 1000
    response = post_file(client, acme_token, SQUAT_CLIP, "big.mp4", exercise="squat")
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert nothing_stored(settings.MEDIA_ROOT)


def test_video_over_the_duration_limit_is_refused(client, acme_token, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.UPLOAD_MAX_DURATION_S = 3
    response = post_file(client, acme_token, SQUAT_CLIP, "long.mp4", exercise="squat")
    assert response.status_code == 400
    assert response.json()["code"] == "video_too_long"
    assert nothing_stored(settings.MEDIA_ROOT)


def test_upload_parameters_go_through_the_shared_parser(client, acme_token, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    response = post_file(client, acme_token, SQUAT_CLIP, "a.mp4", exercise="squats", minGrade="Z")
    assert response.status_code == 400
    problems = response.json()["details"]["problems"]
    assert [(p["param"], p["code"]) for p in problems] == [("exercise", "invalid_exercise")]
    assert nothing_stored(settings.MEDIA_ROOT)


def test_upload_over_quota_is_429_and_nothing_is_stored(
    client, globex, globex_token, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    MonthlyUsage.objects.create(
        organization=globex, month=timezone.localdate().replace(day=1), calls=500
    )
    response = post_file(client, globex_token, SQUAT_CLIP, "a.mp4", exercise="squat")
    assert response.status_code == 429
    assert response.json()["code"] == "quota_exceeded"
    assert nothing_stored(settings.MEDIA_ROOT)


def test_other_organisations_cannot_read_list_or_delete_an_upload(
    client, acme_token, globex_token, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path / "media"
    upload = held_upload(acme_token, monkeypatch)
    outsider = {"HTTP_AUTHORIZATION": f"Bearer {globex_token}"}
    assert client.get(f"/api/v1/uploads/{upload.pk}", **outsider).status_code == 404
    assert client.get(f"/api/v1/uploads/{upload.pk}/events", **outsider).status_code == 404
    assert client.delete(f"/api/v1/uploads/{upload.pk}", **outsider).status_code == 404
    assert client.get("/api/v1/uploads", **outsider).json()["results"] == []
    owner = {"HTTP_AUTHORIZATION": f"Bearer {acme_token}"}
    assert [u["id"] for u in client.get("/api/v1/uploads", **owner).json()["results"]] == [
        str(upload.pk)
    ]
    assert client.delete(f"/api/v1/uploads/{upload.pk}", **owner).status_code == 204
    assert not Upload.objects.exists()
    assert not any(p.is_file() for p in Path(settings.MEDIA_ROOT).rglob("*"))


@pytest.mark.slow
def test_a_task_delivered_twice_analyses_once(acme_token, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    upload = held_upload(acme_token, monkeypatch)
    tasks.analyze_upload.apply(args=[str(upload.pk)])
    first = list(UploadEvent.objects.filter(upload=upload).values_list("type", flat=True))
    tasks.analyze_upload.apply(args=[str(upload.pk)])
    upload.refresh_from_db()
    assert upload.status == "done" and upload.attempts == 1
    assert list(UploadEvent.objects.filter(upload=upload).values_list("type", flat=True)) == first


@pytest.mark.slow
def test_a_job_abandoned_by_a_dead_worker_is_taken_over_after_its_lease(
    acme_token, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path / "media"
    upload = held_upload(acme_token, monkeypatch)
    Upload.objects.filter(pk=upload.pk).update(
        status="processing", lease_until=timezone.now() - Upload.LEASE
    )
    tasks.analyze_upload.apply(args=[str(upload.pk)])
    upload.refresh_from_db()
    assert upload.status == "done" and upload.attempts == 1


class _CallbackReceiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.headers, body))  # header names are case-insensitive here
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.slow
def test_callback_url_receives_the_summary_signed_with_hmac(client, acme, acme_token, worker):
    server = HTTPServer(("127.0.0.1", 0), _CallbackReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _CallbackReceiver.received = []
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        response = post_file(
            client, acme_token, SQUAT_CLIP, "s.mp4", exercise="squat", callback_url=url
        )
        assert response.status_code == 202, response.content
        wait_until_finished(response.json()["id"])
        wait_until(lambda: _CallbackReceiver.received, 20, "the callback to arrive")
    finally:
        server.shutdown()
    headers, body = _CallbackReceiver.received[0]
    expected = hmac.new(acme.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-FormTrack-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["status"] == "done" and payload["summary"]


def test_free_plan_export_is_blocked_and_reported(client, globex_token, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    page = client.get(
        "/pose_tracker/upload_tracking", {"token": globex_token, "exercise": "squat", "export": "1"}
    )
    assert page.status_code == 200
    assert "export" in page.content.decode() and 'id="blocked-outputs"' in page.content.decode()


async def test_progress_socket_needs_the_upload_ticket(acme_token, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    upload = await sync_to_async(held_upload)(acme_token, monkeypatch)
    headers = [(b"origin", b"http://127.0.0.1")]
    ticket = uploads.upload_progress_ticket(upload)
    good = WebsocketCommunicator(
        application, f"/ws/uploads/{upload.pk}?ticket={ticket}", headers=headers
    )
    connected, _ = await good.connect()
    assert connected
    first = await good.receive_json_from(timeout=5)
    assert first["type"] == "initialization" and first["status"] == "queued"
    await good.disconnect()
    bad = WebsocketCommunicator(
        application, f"/ws/uploads/{upload.pk}?ticket=forged", headers=headers
    )
    connected, code = await bad.connect()
    assert not connected and code == 4401


async def _socket_says(upload) -> dict:
    socket = WebsocketCommunicator(
        application,
        f"/ws/uploads/{upload.pk}?ticket={uploads.upload_progress_ticket(upload)}",
        headers=[(b"origin", b"http://127.0.0.1")],
    )
    assert (await socket.connect())[0]
    event = await socket.receive_json_from(timeout=5)
    await socket.disconnect()
    return event


async def test_the_api_gives_the_event_the_progress_socket_sends_in_every_state(
    async_client, acme_token, settings, tmp_path, monkeypatch
):
    """The upload page polls the API while its socket is down: the host gets the same events."""
    settings.MEDIA_ROOT = tmp_path / "media"
    upload = await sync_to_async(held_upload)(acme_token, monkeypatch)
    auth = {"Authorization": f"Bearer {acme_token}"}

    async def both() -> tuple[dict, dict]:
        read = await async_client.get(f"/api/v1/uploads/{upload.pk}", headers=auth)
        return read.json()["status_event"], await _socket_says(upload)

    polled, pushed = await both()
    assert polled == pushed and pushed["status"] == "queued"
    attempt = await sync_to_async(uploads.upload_claim)(upload_id=upload.pk)
    await sync_to_async(upload.report_progress)(attempt, 40)
    polled, pushed = await both()
    assert polled == pushed and pushed["progress"] == 40 and pushed["uploadId"] == str(upload.pk)
    await sync_to_async(uploads.upload_fail)(
        upload_id=upload.pk, attempt=attempt, code="analysis_failed", message="It failed."
    )
    polled, pushed = await both()
    assert polled == pushed and pushed["type"] == "error" and pushed["code"] == "analysis_failed"


@pytest.mark.parametrize("key_fate", ["revoked", "deleted"])
async def test_progress_socket_refuses_the_ticket_once_its_key_is_gone(
    acme_token, settings, tmp_path, monkeypatch, key_fate
):
    """The same rule as the API's `?upload_ticket=`: a ticket lives no longer than its key."""
    settings.MEDIA_ROOT = tmp_path / "media"
    upload = await sync_to_async(held_upload)(acme_token, monkeypatch)
    ticket = uploads.upload_progress_ticket(upload)
    if key_fate == "revoked":
        await sync_to_async(accounts_services.token_revoke)(token=upload.token)
    else:
        await upload.token.adelete()
    socket = WebsocketCommunicator(
        application,
        f"/ws/uploads/{upload.pk}?ticket={ticket}",
        headers=[(b"origin", b"http://127.0.0.1")],
    )
    connected, code = await socket.connect()
    assert not connected and code == 4401


async def test_progress_socket_keeps_to_the_keys_allowed_origins(
    acme, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path / "media"
    key = await sync_to_async(make_token)(acme, allowed_origins=["https://shop.example"])
    upload = await sync_to_async(held_upload)(key, monkeypatch)
    url = f"/ws/uploads/{upload.pk}?ticket={uploads.upload_progress_ticket(upload)}"
    allowed = WebsocketCommunicator(
        application, url, headers=[(b"origin", b"https://shop.example")]
    )
    assert (await allowed.connect())[0]
    assert (await allowed.receive_json_from(timeout=5))["type"] == "initialization"
    await allowed.disconnect()
    other = WebsocketCommunicator(application, url, headers=[(b"origin", b"https://evil.example")])
    connected, code = await other.connect()
    assert not connected and code == 4403


def test_upload_page_is_served_with_the_picker(client, acme_token):
    response = client.get(
        "/pose_tracker/upload_tracking", {"token": acme_token, "exercise": "squat"}
    )
    assert response.status_code == 200
    assert 'id="file-input"' in response.content.decode()
