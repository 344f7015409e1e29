"""GET /api/v1/uploads/<id>/score_chart: the dashboard's per-rep score chart of a finished video
(tracking/charts.py), which the upload page reads with the upload's own ticket, in the language
the upload asked for."""

import pytest

from tests.support.clips import SQUAT_CLIP
from tests.test_uploads import post_file, wait_until_finished
from tracking import uploads

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.slow
def test_a_finished_video_charts_its_reps_in_its_language_for_its_ticket(
    client, worker, acme_token
):
    created = post_file(
        client, acme_token, SQUAT_CLIP, "squats.mp4", exercise="squat", language="fr"
    )
    assert created.status_code == 202, created.content
    upload = wait_until_finished(created.json()["id"])
    assert upload.status == "done", upload.error_message
    history = upload.results.history

    # What the upload page does: no key, the upload's ticket.
    response = client.get(
        f"/api/v1/uploads/{upload.pk}/score_chart", {"upload_ticket": created.json()["ticket"]}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    svg = response.content.decode()
    assert svg.startswith('<svg class="chart" id="score-chart" role="img"')
    assert 'aria-label="Score de forme par répétition"' in svg
    assert svg.count('class="score-bar"') == len(history) == 4
    for rep in history:
        assert f"Répétition {rep['index']} : score {rep['formScore']}, note {rep['grade']}" in svg

    # Another upload's ticket reads nothing of this one.
    other = post_file(client, acme_token, SQUAT_CLIP, "other.mp4", exercise="squat")
    refused = client.get(
        f"/api/v1/uploads/{upload.pk}/score_chart", {"upload_ticket": other.json()["ticket"]}
    )
    assert refused.status_code in (401, 403, 404) and refused.json()["type"] == "error"


def test_an_upload_not_analysed_yet_has_no_chart_and_says_why(client, acme_token, monkeypatch):
    monkeypatch.setattr(uploads.background, "enqueue", lambda *args: None)  # it stays queued
    created = post_file(client, acme_token, SQUAT_CLIP, "squats.mp4", exercise="squat").json()
    response = client.get(
        f"/api/v1/uploads/{created['id']}/score_chart", {"upload_ticket": created["ticket"]}
    )
    assert response.status_code == 409
    assert response.json() == {
        "type": "error",
        "code": "no_results",
        "error": "no_results",
        "message": "Only a video whose analysis is done has scores to chart.",
        "details": {"uploadStatus": "queued", "kind": "video"},
    }
