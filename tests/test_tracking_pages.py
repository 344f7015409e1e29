import json
import re
import uuid
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.models import MonthlyUsage
from tests.factories import make_token
from tracking.pose.skeleton import definition

pytestmark = pytest.mark.django_db


def page_config(response) -> dict:
    html = response.content.decode()
    match = re.search(r'<script id="formtrack-config" type="application/json">(.*?)</script>', html)
    assert match, "the page embeds its configuration as JSON"
    return json.loads(match.group(1))


@pytest.mark.parametrize("path", ["/pose_tracker/tracking", "/pose_tracker/upload_tracking"])
def test_page_with_a_valid_token_embeds_the_parsed_configuration(client, acme_token, path):
    response = client.get(path, {"token": acme_token, "exercise": "face_squat", "keypoints": "yes"})
    assert response.status_code == 200
    config = page_config(response)
    assert config["params"]["exercise"] == "squat"
    assert config["params"]["keypoints"] is True
    assert config["initialEvents"] == []
    assert "X-Frame-Options" not in response.headers  # host apps embed it in an iframe


@pytest.mark.parametrize("path", ["/pose_tracker/tracking", "/pose_tracker/upload_tracking"])
def test_pages_that_draw_a_skeleton_embed_the_servers_definition(client, acme_token, path):
    html = client.get(path, {"token": acme_token, "exercise": "squat"}).content.decode()
    match = re.search(
        r'<script id="formtrack-skeleton" type="application/json">(.*?)</script>', html
    )
    assert match, "skeleton.js reads the skeleton from the page"
    assert json.loads(match.group(1)) == definition()


def test_exercise_with_reference_answers_400_naming_both(client, acme_token):
    response = client.get(
        "/pose_tracker/tracking",
        {"token": acme_token, "exercise": "squat", "reference": str(uuid.uuid4())},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "<code>exercise</code>" in html or "exercise" in html
    assert "reference" in html
    event = page_config(response)["initialEvents"][0]
    assert event["type"] == "error" and event["code"]


def test_every_parameter_problem_is_listed(client, acme_token):
    response = client.get(
        "/pose_tracker/tracking",
        {"token": acme_token, "exercise": "squats", "reference_movement": "nope"},
    )
    assert response.status_code == 400
    problems = page_config(response)["initialEvents"][0]["details"]["problems"]
    assert [p["code"] for p in problems] == [
        "invalid_exercise",
        "invalid_reference",
        "conflicting_parameters",
    ]
    assert "did you mean squat?" in problems[0]["message"]


@pytest.mark.parametrize("path", ["/pose_tracker/tracking", "/pose_tracker/upload_tracking"])
def test_what_a_page_ignored_is_posted_to_the_host_as_one_warning(client, acme_token, path):
    """PoseTracker's Expo example sends its screen size as is, and demo apps send placement
    parameters: the page starts, and says once what it ignored."""
    query = {
        "token": acme_token,
        "exercise": "squat",
        "width": "392.72727272727275",
        "height": "undefined",
        "minGrade": "Z",
        "placement": "1",
        "exercize": "lunge",
    }
    response = client.get(path, query)
    assert response.status_code == 200
    config = page_config(response)
    assert config["params"]["width"] == 393 and config["params"]["height"] is None
    (event,) = config["initialEvents"]
    assert (event["type"], event["code"]) == ("warning", "ignored_parameters")
    assert event["parameters"] == ["placement", "exercize", "height", "minGrade"]
    assert "did you mean 'exercise'?" in event["message"]


def test_missing_token_answers_401(client):
    response = client.get("/pose_tracker/tracking", {"exercise": "squat"})
    assert response.status_code == 401
    assert page_config(response)["initialEvents"][0]["code"] == "missing_token"


def test_revoked_token_answers_401(client, acme_token):
    services.token_revoke(token=services.token_authenticate(acme_token))
    response = client.get("/pose_tracker/tracking", {"token": acme_token, "exercise": "squat"})
    assert response.status_code == 401
    assert page_config(response)["initialEvents"][0]["code"] == "invalid_token"


def test_origin_outside_the_allow_list_answers_403(client, acme):
    raw = make_token(acme, allowed_origins=["https://app.example.com"])
    ok = client.get(
        "/pose_tracker/tracking",
        {"token": raw, "exercise": "squat"},
        HTTP_REFERER="https://app.example.com/workout",
    )
    assert ok.status_code == 200
    assert page_config(ok)["parentOrigin"] == "https://app.example.com"
    refused = client.get(
        "/pose_tracker/tracking",
        {"token": raw, "exercise": "squat"},
        HTTP_REFERER="https://evil.example.com/",
    )
    assert refused.status_code == 403


def test_exhausted_quota_answers_429(client, globex, globex_token):
    MonthlyUsage.objects.create(
        organization=globex, month=timezone.localdate().replace(day=1), calls=500
    )
    response = client.get("/pose_tracker/tracking", {"token": globex_token, "exercise": "squat"})
    assert response.status_code == 429
    assert page_config(response)["initialEvents"][0]["code"] == "quota_exceeded"


def _person_reads(response) -> str:
    """The refused page's sentence for the person (the problems for the developer are folded
    away below it)."""
    html = response.content.decode()
    return re.search(r'<p class="refused-reason">(.*?)</p>', html)[1]


def test_a_refused_page_tells_the_person_what_they_can_do(client, acme, acme_token):
    missing = client.get("/pose_tracker/tracking", {"exercise": "squat"})
    assert _person_reads(missing) == (
        "This app isn't set up for tracking yet. Please let the app's team know."
    )
    assert "<summary>Details for the app's developer</summary>" in missing.content.decode()

    link = APIClient().post(
        "/api/v1/sessions", {"exercise": "squat"}, HTTP_AUTHORIZATION=f"Bearer {acme_token}"
    )
    path = urlsplit(link.json()["url"])
    client.get(f"{path.path}?{path.query}")
    used = client.get(f"{path.path}?{path.query}")
    assert used.status_code == 401
    assert _person_reads(used) == (
        "This link has already been used or has expired. Go back to the app and start again."
    )

    MonthlyUsage.objects.create(
        organization=acme, month=timezone.localdate().replace(day=1), calls=5_000
    )
    later = client.get("/pose_tracker/tracking", {"token": acme_token, "exercise": "squat"})
    assert later.status_code == 429
    assert _person_reads(later) == (
        "Tracking isn't available right now. Please try again in a few minutes."
    )
    assert '<a class="button" href="">Try again</a>' in later.content.decode()


def test_free_plan_page_tells_the_host_not_the_person_which_outputs_were_blocked(
    client, globex_token
):
    response = client.get(
        "/pose_tracker/tracking",
        {"token": globex_token, "exercise": "squat", "keypoints": "true", "angles": "1"},
    )
    assert response.status_code == 200
    assert "Developer outputs" not in response.content.decode()
    config = page_config(response)
    assert config["params"]["keypoints"] is False
    event = config["initialEvents"][0]
    assert event["code"] == "developer_features_not_allowed"
    assert set(event["details"]["blocked"]) == {"keypoints", "angles"}


def test_free_plan_keeps_keypoints_in_pose_only_mode(client, globex_token):
    response = client.get("/pose_tracker/tracking", {"token": globex_token, "keypoints": "true"})
    assert response.status_code == 200
    assert page_config(response)["params"]["keypoints"] is True


def test_page_does_not_take_a_call(client, acme, acme_token):
    client.get("/pose_tracker/tracking", {"token": acme_token, "exercise": "squat"})
    assert not MonthlyUsage.objects.filter(organization=acme, calls__gt=0).exists()


def test_the_upload_page_reads_its_own_parameters(client, acme_token):
    """PoseTracker's upload page parameters (§2.6): the picker's presence, label and place are in
    the HTML; the player's sizes and fit reach upload.js, which sets them as CSS properties; the
    page fetches videoSrc at once (upload.js)."""
    query = {
        "token": acme_token,
        "exercise": "squat",
        "showUpload": "false",
        "uploadLabel": "Film your squats",
        "uploadButtonPosition": "bottom",
        "uploadAreaPadding": "24",
        "videoSrc": "https://cdn.example.com/squats.mp4",
        "containerMinHeight": "320",
        "containerMaxWidth": "480",
        "containerMaxHeight": "640",
        "objectFit": "cover",
        "eventTiming": "immediate",
    }
    response = client.get("/pose_tracker/upload_tracking", query)
    assert response.status_code == 200
    config = page_config(response)
    assert config["initialEvents"] == []  # every parameter was read
    assert config["params"]["passthrough"] == {
        "loading_message": None,
        "videoSrc": "https://cdn.example.com/squats.mp4",
        "imageSrc": None,
        "showUpload": False,
        "uploadLabel": "Film your squats",
        "containerMinHeight": 320.0,
        "containerMaxWidth": 480.0,
        "containerMaxHeight": 640.0,
        "objectFit": "cover",
        "uploadButtonPosition": "bottom",
        "uploadAreaPadding": 24.0,
        "eventTiming": "immediate",
    }
    assert "videoSrc=https%3A%2F%2Fcdn.example.com%2Fsquats.mp4" in config["accessQuery"]
    html = response.content.decode()
    picker = re.search(r'<div class="upload-picker" id="picker"[^>]*>', html)[0]
    assert 'data-position="bottom"' in picker and picker.endswith(" hidden>")
    assert '<label for="file-input" id="upload-label">Film your squats</label>' in html


def test_the_upload_pages_defaults_show_the_picker(client, acme_token):
    response = client.get(
        "/pose_tracker/upload_tracking",
        {"token": acme_token, "source": "image", "uploadLabel": "<b>Photo</b>"},
    )
    html = response.content.decode()
    picker = re.search(r'<div class="upload-picker" id="picker"[^>]*>', html)[0]
    assert 'data-position="center"' in picker and "hidden" not in picker
    assert "&lt;b&gt;Photo&lt;/b&gt;</label>" in html  # the host's text, never its markup
