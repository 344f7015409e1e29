"""An upload analysed for real (the squat clip through MediaPipe and the engine) shows the same
results everywhere: the uploads list, the detail page (summary, per-rep table, chart), the REST
API and the CSV export all read them through Upload.results."""

import csv
import io

import pytest

from tests.factories import held_upload
from tracking import uploads
from tracking.models import Upload

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def analysed_squats(acme_token, settings, tmp_path, monkeypatch) -> Upload:
    """The squat clip (4 squats) uploaded through the API's service and analysed in line."""
    settings.MEDIA_ROOT = tmp_path / "media"
    upload = held_upload(acme_token, monkeypatch, "garden squats.mp4")
    attempt = uploads.upload_claim(upload_id=upload.pk)
    uploads.upload_analyze(upload_id=upload.pk, attempt=attempt)
    upload.refresh_from_db()
    assert upload.status == "done", upload.error_message
    return upload


def test_an_analysed_upload_shows_the_same_results_in_the_list_detail_api_and_csv(
    analysed_squats, member_client, client, acme_token
):
    upload = analysed_squats
    results = upload.results
    # What the engine said of the clip, as it stored it.
    summary = upload.summary["exercise_summary"]
    assert results.counter == summary["counter"] == 4 and results.unit == "reps"
    assert results.average_score == summary["average_score"] is not None
    assert results.grade == summary["grade"] in {"A", "B", "C", "D", "F"}
    assert results.history == summary["history"] and len(results.history) == 4
    score = f"{results.average_score:g}"

    page = member_client.get("/dashboard/uploads/").content.decode()
    row = page.split(f'href="/dashboard/uploads/{upload.pk}/"', 1)[1].split("</tr>", 1)[0]
    cells = [cell.split(">", 1)[1] for cell in row.split("<td")[1:]]
    assert cells[2].startswith("4<") and cells[3].startswith(f"{score} ")
    assert f'<span class="muted">{results.grade}</span>' in cells[3]

    detail = member_client.get(f"/dashboard/uploads/{upload.pk}/").content.decode()
    assert "<dt>Repetitions</dt><dd>4</dd>" in detail
    assert f"<dt>Average score</dt><dd>{score}</dd>" in detail
    assert f"<dt>Grade</dt><dd>{results.grade}</dd>" in detail
    table = detail.split('id="rep-table"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr><td>") == 4
    for rep in results.history:
        assert f'<tr><td>{rep["index"]}</td><td class="num">{rep["formScore"]}</td>' in table
    assert 'aria-label="Form score per repetition"' in detail
    assert detail.count('class="score-bar"') == 4

    api = client.get(
        f"/api/v1/uploads/{upload.pk}", HTTP_AUTHORIZATION=f"Bearer {acme_token}"
    ).json()
    assert api["results"] == {
        "counter": 4,
        "unit": "reps",
        "average_score": results.average_score,
        "grade": results.grade,
        "rejected_reps": results.rejected_reps,
        "history": results.history,
        "measurements": [],  # an exercise's: an assessment's readings go here
    }

    response = member_client.get("/dashboard/uploads.csv")
    assert response["Content-Type"].startswith("text/csv")
    [line] = csv.DictReader(io.StringIO(response.content.decode()))
    assert line["id"] == str(upload.pk) and line["file"] == "garden squats.mp4"
    assert int(line["count"]) == api["results"]["counter"]
    assert line["unit"] == api["results"]["unit"]
    assert float(line["average_score"]) == api["results"]["average_score"]
    assert line["grade"] == api["results"]["grade"]
    assert int(line["rejected_reps"]) == api["results"]["rejected_reps"]
