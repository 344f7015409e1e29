"""The requests a PoseTracker app makes for its pages, once its base URL is ours: the page URLs of
the contract (posetracker-api.md §1, "Endpoints": `…/pose_tracker/tracking?…` and
`…/pose_tracker/upload_tracking?…`) in the forms apps and their tools write them, and the error a
refused page posts (§4.8)."""

import pytest

from tests.test_tracking_links import issued, page_path
from tests.test_tracking_pages import page_config
from tracking.models import TrackingLink

pytestmark = pytest.mark.django_db

PAGES = ["/pose_tracker/tracking", "/pose_tracker/upload_tracking"]


@pytest.mark.parametrize("path", PAGES)
def test_a_page_url_with_a_trailing_slash_is_the_same_page(client, acme_token, path):
    """A base URL kept with its slash (`…/pose_tracker/tracking/?token=…`) opens the page."""
    query = {"token": acme_token, "exercise": "squat", "keypoints": "true"}
    response = client.get(f"{path}/", query)
    assert response.status_code == 200
    assert page_config(response)["params"] == page_config(client.get(path, query))["params"]


@pytest.mark.parametrize("path", PAGES)
def test_head_answers_as_get_without_a_body(client, acme_token, path):
    """Link checkers and some WebViews ask HEAD first: the page's status and headers, no body."""
    query = {"token": acme_token, "exercise": "squat"}
    get = client.get(path, query)
    head = client.head(path, query)
    assert head.status_code == get.status_code == 200
    for header in ("Content-Type", "Content-Security-Policy", "Referrer-Policy"):
        assert head[header] == get[header]
    assert head.content == b""
    refused = client.head(path, {"exercise": "squat"})
    assert refused.status_code == 401 and refused.content == b""


def test_head_does_not_use_up_a_single_use_link(client, acme_token):
    """HEAD is a safe method: only GET opens a tracking link."""
    link = issued(acme_token, exercise="squat")
    assert client.head(page_path(link)).status_code == 405
    assert TrackingLink.objects.get().used_at is None
    assert client.get(page_path(link)).status_code == 200


def test_an_unknown_exercise_error_names_the_exercise_in_its_details(client, acme_token):
    """§4.8's example: {"type": "error", "code": "invalid_exercise", "message": "Unknown exercise:
    split", "details": {"exercise": "split"}}: a host may read details.exercise."""
    response = client.get("/pose_tracker/tracking", {"token": acme_token, "exercise": "splits"})
    assert response.status_code == 400
    (event,) = page_config(response)["initialEvents"]
    assert event["type"] == "error"
    assert event["code"] == event["error"] == "invalid_exercise"
    assert event["details"]["exercise"] == "splits"
    assert "split" in event["message"]


def test_the_legacy_pixel_url_opens_the_live_page(client, acme_token):
    """§1 lists the deprecated `…/pose_tracker/pixel?…` endpoint; its exercise ids (§3.1: "The old
    pixel endpoint also had `side_squat`…") and difficulty scale (§2.3: `easy`/`normal`/`pro`)
    are read, so an app still on it keeps working."""
    query = {"token": acme_token, "exercise": "side_squat", "difficulty": "normal"}
    response = client.get("/pose_tracker/pixel", query)
    assert response.status_code == 200
    config = page_config(response)
    assert config["params"]["exercise"] == "squat"
    assert config["params"]["difficulty"] == "medium"
    assert config["params"]["endpoint"] == "tracking"
    assert config["initialEvents"] == []


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("height", ["0", "NaN", "tall", "1.80"])
def test_jump_analysis_with_an_unusable_height_is_the_contracts_missing_height(
    client, acme_token, path, height
):
    """§2.3: jump_analysis without userHeightCm is `jump_analysis_missing_height`, the code an app
    handles by asking the person's height. Apps send 0 or NaN when they have none (the page's
    check treats them as none): the same code, with a message saying what was wrong."""
    query = {"token": acme_token, "exercise": "jump_analysis", "userHeightCm": height}
    response = client.get(path, query)
    assert response.status_code == 400
    (event,) = page_config(response)["initialEvents"]
    assert event["code"] == event["error"] == "jump_analysis_missing_height"
    assert f"got '{height}'" in event["message"]


@pytest.mark.parametrize("path", PAGES)
def test_a_skeleton_preset_id_draws_the_default_look_and_says_so(client, acme_token, path):
    """§2.3: `skeleton` may be a PoseTracker dashboard preset's id (its colours). FormTrack has no
    such presets and draws its default look: the host hears that once, as it hears every other
    value it sent that was not followed."""
    preset = "6f1c2a9e-3b7d-4c1e-9a2f-0d8e5b4c3a21"
    response = client.get(path, {"token": acme_token, "exercise": "squat", "skeleton": preset})
    assert response.status_code == 200
    (warning,) = page_config(response)["initialEvents"]
    assert warning["code"] == "ignored_parameters" and warning["parameters"] == ["skeleton"]
    assert preset in warning["message"] and "default (true) is used" in warning["message"]


@pytest.mark.parametrize("style", ["true", "false", "neon", "NEON", "#4DD21D", "#fff"])
def test_a_skeleton_style_formtrack_draws_needs_no_warning(client, acme_token, style):
    query = {"token": acme_token, "exercise": "squat", "skeleton": style}
    assert page_config(client.get(PAGES[0], query))["initialEvents"] == []
