"""Reference movement pages (list, create from a real clip, status, landmarks, rename, delete) and
upload result pages (list, detail with the annotated video, score chart and paged events)."""

import json
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from references.models import ReferenceMovement
from tests.dashboard.test_dashboard_permissions import make_reference, make_upload
from tests.support.clips import SQUAT_CLIP, clip_poses
from tracking.engine.tracker import open_tracker
from tracking.models import UploadEvent
from tracking.params import parse_tracking_params

pytestmark = pytest.mark.django_db

CLIPS = Path(__file__).parent.parent / "fixtures" / "clips"
CURL_CLIP = CLIPS / "fitness-biceps-curls.mp4"


def clip_file(path=CURL_CLIP):
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="video/mp4")


def test_create_from_an_uploaded_clip_trimmed_to_one_rep(owner_client, owner, acme):
    response = owner_client.post(
        "/dashboard/references/new/",
        {"name": "Coach curl", "video": clip_file(), "trim_start_ms": 3300, "trim_end_ms": 5700},
    )
    assert response.status_code == 302
    reference = ReferenceMovement.objects.get(organization=acme)
    assert response.url == f"/dashboard/references/{reference.pk}/"
    assert (reference.name, reference.trim_start_ms, reference.trim_end_ms) == (
        "Coach curl",
        3300,
        5700,
    )
    assert reference.created_by == owner and reference.status == "processing"
    html = owner_client.get(response.url).content.decode()
    assert str(reference.pk) in html and 'data-copy="#reference-uuid"' in html
    assert f"reference={reference.pk}" in html and "upload_tracking?token=YOUR_TOKEN" in html
    status = owner_client.get(f"/dashboard/references/{reference.pk}/status/").json()
    assert status == {"id": str(reference.pk), "status": "processing", "progress": 0, "error": None}
    assert (
        owner_client.get(f"/dashboard/references/{reference.pk}/landmarks.json").status_code == 409
    )


def test_create_from_a_recording_answers_json(owner_client, acme):
    response = owner_client.post(
        "/dashboard/references/new/",
        {"name": "Webcam curl", "video": clip_file(), "trim_start_ms": 3300, "trim_end_ms": 5700},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["url"] == f"/dashboard/references/{body['id']}/"


def test_create_explains_problems_next_to_the_fields(owner_client, acme):
    response = owner_client.post(
        "/dashboard/references/new/",
        {"name": "Too long", "video": clip_file(), "trim_start_ms": 0, "trim_end_ms": 100},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_trim_end_ms_error"' in html and "one repetition" in html
    response = owner_client.post(
        "/dashboard/references/new/",
        {"name": "", "trim_start_ms": 0},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "video"}
    response = owner_client.post(
        "/dashboard/references/new/",
        {"name": "Photo", "video": SimpleUploadedFile("x.txt", b"hello"), "trim_start_ms": 0},
    )
    assert response.status_code == 400
    assert not ReferenceMovement.objects.for_org(acme).exists()


def test_the_plan_limit_is_shown_before_the_form_is_filled(outsider_client, globex):
    # Globex is on the Free plan: one reference movement.
    html = outsider_client.get("/dashboard/references/new/").content.decode()
    allowance = html.index('id="reference-allowance"')
    assert "Free plan allows <strong>1</strong> reference movement and you have 0" in html
    assert "1 more can be recorded" in html and allowance < html.index('id="reference-form"')

    make_reference(globex)
    html = outsider_client.get("/dashboard/references/new/").content.decode()
    assert "allows <strong>1</strong> reference movement and you have 1" in html
    assert "delete one or" in html and "upgrade your plan" in html
    assert 'id="reference-form"' not in html and "reference-create.js" not in html
    html = outsider_client.get("/dashboard/references/").content.decode()
    assert "you have 1: delete one" in html and "/dashboard/references/new/" not in html
    # Posted anyway (an old tab): refused, and the page says why.
    response = outsider_client.post(
        "/dashboard/references/new/",
        {"name": "Second", "video": clip_file(), "trim_start_ms": 3300, "trim_end_ms": 5700},
    )
    assert response.status_code == 403
    assert "you have 1: delete one" in response.content.decode()


def test_ready_reference_serves_its_landmarks_for_the_skeleton(member_client, acme):
    landmarks = {
        "image_width": 640,
        "image_height": 480,
        "frames": [
            {"timestamp_ms": 0.0, "landmarks": [[0.5, 0.5, 0, 1]] * 33},
            {"timestamp_ms": 33.3, "landmarks": None},
        ],
    }
    reference = make_reference(acme, status="ready", progress=100, landmarks=landmarks)
    response = member_client.get(f"/dashboard/references/{reference.pk}/landmarks.json")
    assert response.status_code == 200 and response.json() == landmarks
    html = member_client.get(f"/dashboard/references/{reference.pk}/").content.decode()
    assert '<canvas id="skeleton"' in html and "reference-detail.js" in html
    assert 'id="formtrack-skeleton"' in html  # what skeleton.js draws
    # Members see references but cannot change them.
    assert "Delete reference" not in html


def test_failed_reference_shows_why(member_client, acme):
    reference = make_reference(
        acme, status="failed", error_code="no_movement_found", error_message="Nobody moved."
    )
    html = member_client.get(f"/dashboard/references/{reference.pk}/").content.decode()
    assert "no_movement_found" in html and "Nobody moved." in html
    status = member_client.get(f"/dashboard/references/{reference.pk}/status/").json()
    assert status["error"] == {"code": "no_movement_found", "message": "Nobody moved."}


def test_rename_and_delete(owner_client, acme):
    reference = make_reference(acme)
    owner_client.post(f"/dashboard/references/{reference.pk}/rename/", {"name": "Deep squat"})
    reference.refresh_from_db()
    assert reference.name == "Deep squat"
    video = reference.video.name
    response = owner_client.post(f"/dashboard/references/{reference.pk}/delete/")
    assert response.status_code == 302 and response.url == "/dashboard/references/"
    assert not ReferenceMovement.objects.filter(pk=reference.pk).exists()
    assert not reference.video.storage.exists(video)


def squat_summary() -> dict:
    """What the analysis stores for the squat clip: its exercise_summary here comes from the engine
    fed the clip's recorded landmarks (the slow test_dashboard_upload_results runs MediaPipe)."""
    params = parse_tracking_params("token=t&exercise=squat", endpoint="upload")
    tracker = open_tracker(params)
    events = [event for pose in clip_poses(SQUAT_CLIP) for event in tracker.feed(pose)]
    events += tracker.finish()
    exercise_summary = next(e for e in events if e["type"] == "exercise_summary")
    counted = exercise_summary["counter"]
    return {"media": "video", "final_count": counted, "exercise_summary": exercise_summary}


def test_uploads_list_and_detail(member_client, acme, acme_token):
    summary = squat_summary()
    history = summary["exercise_summary"]["history"]
    assert len(history) == 4
    upload = make_upload(acme, status="done", summary=summary)
    upload.annotated_file.save("annotated.mp4", ContentFile(b"\x00" * 16), save=True)
    for seq in range(1, 61):
        UploadEvent.objects.create(
            upload=upload,
            seq=seq,
            type="counter",
            payload={"type": "counter", "current_count": seq},
        )
    html = member_client.get("/dashboard/uploads/").content.decode()
    assert "squats.mp4" in html and "Squat" in html and f"/dashboard/uploads/{upload.pk}/" in html
    average = summary["exercise_summary"]["average_score"]
    assert '<td class="num">4</td>' in html and f'<td class="num">{average:g} <span' in html
    response = member_client.get(f"/dashboard/uploads/{upload.pk}/")
    html = response.content.decode()
    assert '<video src="/files/' in html
    assert "<dt>Repetitions</dt><dd>4</dd>" in html
    assert 'aria-label="Form score per repetition"' in html and "<title" in html
    assert f"4 repetitions, average score {average:.0f}" in html
    assert html.count('class="score-bar"') == 4
    second = history[1]
    assert f"Repetition 2: score {second['formScore']}, grade {second['grade']}" in html
    assert "(60)" in html and "Page 1 of 2" in html
    assert json.dumps({"type": "counter", "current_count": 50}) in html.replace("&quot;", '"')
    page2 = member_client.get(f"/dashboard/uploads/{upload.pk}/", {"page": 2}).content.decode()
    assert json.dumps({"type": "counter", "current_count": 60}) in page2.replace("&quot;", '"')
    # The annotated video's signed link works without a token.
    link = html.split('<video src="', 1)[1].split('"', 1)[0]
    assert member_client.get(link).status_code == 200


def test_an_uploads_events_and_summary_read_as_written(member_client, acme):
    """The engine's texts in the page as a person writes them, not as JSON escapes them."""
    posture = {"type": "posture", "message": "Tenez-vous immobile…"}
    upload = make_upload(acme, status="done", summary={"note": "Répétition"})
    UploadEvent.objects.create(upload=upload, seq=1, type="posture", payload=posture)
    html = member_client.get(f"/dashboard/uploads/{upload.pk}/").content.decode()
    assert "Tenez-vous immobile…" in html and "Répétition" in html
    assert "\\u2026" not in html and "\\u00e9" not in html


def test_upload_without_results_yet(member_client, acme):
    upload = make_upload(acme, status="processing", progress=40)
    html = member_client.get(f"/dashboard/uploads/{upload.pk}/").content.decode()
    assert "Available when the analysis is done" in html and "40%" in html
    assert "score-chart" not in html


def test_video_without_export_is_replayed_from_the_original_and_its_timeline(member_client, acme):
    upload = make_upload(acme, status="done", progress=100)
    upload.timeline_file.save("timeline.json", ContentFile(b'{"frames": []}'), save=True)
    html = member_client.get(f"/dashboard/uploads/{upload.pk}/").content.decode()
    assert "formtrack/replay.js" in html and 'id="formtrack-skeleton"' in html
    video = html.split('data-replay-video="', 1)[1].split('"', 1)[0]
    timeline = html.split('data-replay-timeline="', 1)[1].split('"', 1)[0]
    # Both signed links work without a token, and serve the original and the timeline.
    assert b"".join(member_client.get(video).streaming_content) == b"0" * 10
    assert b"".join(member_client.get(timeline).streaming_content) == b'{"frames": []}'
    assert "No annotated file" not in html
