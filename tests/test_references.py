"""Reference movements: create from a real clip, track anyone against them, live and uploaded."""

import datetime
import uuid
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from config.asgi import application
from references import services
from references.models import ReferenceMovement
from tests.support.clips import CURL_CLIP, SQUAT_CLIP, landmark_messages
from tests.support.servers import wait_until
from tests.test_tracking_pages import page_config
from tests.test_uploads import events_of, post_file, wait_until_finished

# One clean curl in the real clip, as a person would trim it with the dashboard's slider.
ONE_CURL_MS = (3300, 5700)

pytestmark = pytest.mark.django_db(transaction=True)


def create_reference(client, token, *, name="Curl", video=CURL_CLIP, span=ONE_CURL_MS):
    data = {
        "name": name,
        "video": SimpleUploadedFile(video.name, video.read_bytes()),
        "trim_start_ms": span[0],
        "trim_end_ms": span[1],
    }
    return client.post("/api/v1/references", data, HTTP_AUTHORIZATION=f"Bearer {token}")


def wait_until_ready(reference_id, timeout=120) -> ReferenceMovement:
    return wait_until(
        lambda: (r := ReferenceMovement.objects.get(pk=reference_id)).status != "processing" and r,
        timeout,
        f"reference {reference_id} to be processed",
        interval=0.3,
    )


@pytest.fixture
def curl_reference(client, worker, acme_token) -> ReferenceMovement:
    response = create_reference(client, acme_token)
    assert response.status_code == 202, response.content
    reference = wait_until_ready(response.json()["id"])
    assert reference.status == "ready", reference.error_message
    return reference


@pytest.mark.slow
def test_reference_from_one_real_curl_gets_a_uuid_and_a_signature(
    client, curl_reference, acme_token
):
    body = client.get(
        f"/api/v1/references/{curl_reference.pk}", HTTP_AUTHORIZATION=f"Bearer {acme_token}"
    ).json()
    assert body["status"] == "ready" and body["id"] == str(curl_reference.pk)
    assert body["signature_summary"]
    assert f"reference={curl_reference.pk}" in body["tracking_url"]
    assert curl_reference.landmarks["frames"]


@pytest.mark.slow
def test_uploaded_curl_clip_is_counted_and_graded_against_its_own_reference(
    client, curl_reference, acme_token
):
    response = post_file(
        client, acme_token, CURL_CLIP, "curls.mp4", reference=str(curl_reference.pk)
    )
    assert response.status_code == 202, response.content
    upload = wait_until_finished(response.json()["id"])
    assert upload.status == "done", upload.error_message
    events = events_of(client, acme_token, upload.pk)
    scores = [e for e in events if e["type"] == "reference_score"]
    final = [e for e in events if e["type"] == "counter" and e.get("final")][-1]
    assert final["current_count"] in (5, 6)
    assert len(scores) >= 5
    assert sum(s["grade"] in "AB" for s in scores) >= len(scores) - 1
    summary = next(e for e in events if e["type"] == "exercise_summary")
    assert summary["avg_similarity"] > 0.7


@pytest.mark.slow
def test_squats_scored_against_a_curl_reference_count_nothing(client, curl_reference, acme_token):
    response = post_file(
        client, acme_token, SQUAT_CLIP, "squats.mp4", reference=str(curl_reference.pk)
    )
    upload = wait_until_finished(response.json()["id"])
    assert upload.status == "done", upload.error_message
    events = events_of(client, acme_token, upload.pk)
    counted = [e for e in events if e["type"] == "counter" and e.get("current_count")]
    assert all(e.get("reference_score", {}).get("grade") == "F" for e in counted)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["reference", "userExercise"])
async def test_live_session_counts_curls_against_the_reference(curl_reference, acme_token, name):
    """userExercise (a Studio custom movement upstream) names a reference movement here."""
    headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]
    socket = WebsocketCommunicator(
        application,
        f"/ws/pose_tracker/tracking?token={acme_token}&{name}={curl_reference.pk}",
        headers=headers,
    )
    assert (await socket.connect())[0]
    assert (await socket.receive_json_from())["type"] == "session_started"
    events = []
    for message in landmark_messages(CURL_CLIP):
        await socket.send_json_to(message)
        while (event := await socket.receive_json_from(timeout=10))["type"] != "ack":
            events.append(event)
    await socket.send_json_to({"type": "finish"})
    while (event := await socket.receive_json_from(timeout=10))["type"] != "exercise_summary":
        events.append(event)
    counters = [e for e in events if e["type"] == "counter" and not e.get("final")]
    assert len(counters) >= 5 and all("reference_score" in c for c in counters)
    await socket.disconnect()


@pytest.mark.slow
def test_another_organisations_reference_is_reported_like_a_missing_one(
    client, curl_reference, globex_token, acme_token
):
    outsider = {"HTTP_AUTHORIZATION": f"Bearer {globex_token}"}
    url = f"/api/v1/references/{curl_reference.pk}"
    assert client.get(url, **outsider).status_code == 404
    assert (
        client.patch(url, {"name": "x"}, content_type="application/json", **outsider).status_code
        == 404
    )
    assert client.delete(url, **outsider).status_code == 404
    assert client.get("/api/v1/references", **outsider).json()["results"] == []
    theirs = client.get(
        "/pose_tracker/tracking", {"token": globex_token, "reference": str(curl_reference.pk)}
    )

    missing = client.get(
        "/pose_tracker/tracking", {"token": acme_token, "reference": str(uuid.uuid4())}
    )
    assert theirs.status_code == missing.status_code == 404
    assert b"reference_not_found" in theirs.content and b"reference_not_found" in missing.content


@pytest.mark.slow
def test_rename_and_delete_take_effect_at_once(client, curl_reference, acme_token):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {acme_token}"}
    url = f"/api/v1/references/{curl_reference.pk}"
    renamed = client.patch(url, {"name": "Hammer"}, content_type="application/json", **auth)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Hammer"
    page = {"token": acme_token, "reference": str(curl_reference.pk)}
    assert client.get("/pose_tracker/tracking", page).status_code == 200
    assert client.delete(url, **auth).status_code == 204
    assert client.get("/pose_tracker/tracking", page).status_code == 404
    assert client.get(url, **auth).status_code == 404


def test_a_reference_still_processing_or_failed_gets_its_own_error(client, acme, acme_token):
    processing = ReferenceMovement.objects.create(
        organization=acme, name="p", video="x.mp4", status="processing"
    )
    failed = ReferenceMovement.objects.create(
        organization=acme, name="f", video="y.mp4", status="failed", error_message="no person"
    )
    for reference, code in ((processing, b"reference_not_ready"), (failed, b"reference_failed")):
        response = client.get(
            "/pose_tracker/tracking", {"token": acme_token, "reference": str(reference.pk)}
        )
        assert response.status_code == 409 and code in response.content


@pytest.mark.parametrize("name", ["reference", "userExercise"])
def test_a_custom_movement_is_checked_like_a_reference(
    client, acme, acme_token, globex_token, name
):
    """userExercise goes through the same tenant check: another organisation's movement is a
    missing one, and one still processing says so; the problem names the parameter sent."""
    ready = ReferenceMovement.objects.create(
        organization=acme, name="r", video="r.mp4", status="ready", signature={"frames": []}
    )
    processing = ReferenceMovement.objects.create(
        organization=acme, name="p", video="p.mp4", status="processing"
    )
    cases = (
        (globex_token, ready, 404, "reference_not_found"),
        (acme_token, processing, 409, "reference_not_ready"),
    )
    for token, reference, status, code in cases:
        response = client.get("/pose_tracker/tracking", {"token": token, name: str(reference.pk)})
        assert response.status_code == status
        event = page_config(response)["initialEvents"][0]
        assert event["code"] == code
        assert f"<code>{name}</code>" in response.content.decode()


def test_the_plan_limits_the_number_of_references(client, globex, globex_token, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ReferenceMovement.objects.create(organization=globex, name="one", video="a.mp4")
    response = create_reference(client, globex_token)
    assert response.status_code == 403
    assert response.json()["code"] == "reference_limit_reached"
    assert ReferenceMovement.objects.filter(organization=globex).count() == 1


@pytest.mark.parametrize(
    ("content", "span", "code"),
    [
        (b"", ONE_CURL_MS, "empty_file"),
        (b"not a video\n" * 50, ONE_CURL_MS, None),
        (CURL_CLIP.read_bytes(), (5000, 4000), "invalid_trim"),
        (CURL_CLIP.read_bytes(), (0, 100), "invalid_trim"),
    ],
)
def test_bad_reference_videos_are_refused_and_nothing_is_stored(
    client, acme_token, settings, tmp_path, content, span, code
):
    settings.MEDIA_ROOT = tmp_path / "media"
    data = {
        "name": "Bad",
        "video": SimpleUploadedFile("bad.mp4", content),
        "trim_start_ms": span[0],
        "trim_end_ms": span[1],
    }
    response = client.post("/api/v1/references", data, HTTP_AUTHORIZATION=f"Bearer {acme_token}")
    assert response.status_code == 400
    assert response.json()["type"] == "error"
    if code:
        assert response.json()["code"] == code
    assert not ReferenceMovement.objects.exists()
    assert not any(p.is_file() for p in Path(settings.MEDIA_ROOT).rglob("*"))


def test_reference_create_service_needs_a_name(acme):
    with pytest.raises(services.ReferenceRejected):
        services.reference_create(organization=acme, name=" ", file=None)


@pytest.mark.slow
def test_an_extraction_taken_over_by_another_worker_keeps_the_newer_attempts_result(
    acme, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(services.background, "enqueue", lambda *args: None)  # the test works it
    reference = services.reference_create(
        organization=acme,
        name="Curl",
        file=SimpleUploadedFile(CURL_CLIP.name, CURL_CLIP.read_bytes()),
        trim_start_ms=ONE_CURL_MS[0],
        trim_end_ms=ONE_CURL_MS[1],
    )
    stale = services.reference_claim(reference_id=reference.pk)
    # The first worker stalls past its lease; a second one takes the job over and finishes it.
    ReferenceMovement.objects.filter(pk=reference.pk).update(
        lease_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    current = services.reference_claim(reference_id=reference.pk)
    assert current == stale + 1
    services.reference_extract(reference_id=reference.pk, attempt=current)
    ready = ReferenceMovement.objects.get(pk=reference.pk)
    assert ready.status == "ready" and ready.signature, ready.error_message

    # The first worker wakes up: its time limit strikes, then it completes its own extraction.
    services.reference_fail(
        reference_id=reference.pk,
        attempt=stale,
        code="extraction_timeout",
        message="Extracting the movement took too long. The video is kept.",
    )
    services.reference_extract(reference_id=reference.pk, attempt=stale)
    after = ReferenceMovement.objects.get(pk=reference.pk)
    assert (after.status, after.error_code, after.attempts) == ("ready", "", 2)
    assert after.updated_at == ready.updated_at and after.finished_at == ready.finished_at
