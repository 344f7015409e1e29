"""The whole PoseTracker catalog: the 42 exercise ids of the contract (posetracker-api.md §3.1)
and its legacy aliases are accepted by the tracking page and listed by the API with their kind,
view and outputs (the dashboard playground offers them: tests/dashboard)."""

from pathlib import Path

import pytest

from tests.support.contract import ALIASES, CONTRACT_IDS, DURATION, REPETITION
from tests.test_tracking_pages import page_config
from tracking.engine.catalog import EXERCISES

pytestmark = pytest.mark.django_db


def test_the_contract_lists_42_exercises():
    assert len(CONTRACT_IDS) == len(set(CONTRACT_IDS)) == 42


@pytest.mark.parametrize("exercise", CONTRACT_IDS + sorted(ALIASES))
def test_the_tracking_page_accepts_every_contract_id_and_alias(
    client, acme_publishable_key, exercise
):
    params = {"token": acme_publishable_key, "exercise": exercise}
    if exercise == "jump_analysis":
        params["userHeightCm"] = "175"  # required by the contract
    response = client.get("/pose_tracker/tracking", params)
    assert response.status_code == 200
    assert page_config(response)["params"]["exercise"] == ALIASES.get(exercise, exercise)


def test_the_api_lists_every_contract_id_with_its_kind_view_and_outputs(acme_api):
    rows = {row["id"]: row for row in acme_api.get("/api/v1/exercises").json()}
    assert set(CONTRACT_IDS) <= set(rows)
    kinds = {**dict.fromkeys(REPETITION, "repetition"), **dict.fromkeys(DURATION, "duration")}
    for exercise in CONTRACT_IDS:
        row = rows[exercise]
        assert row["kind"] == kinds.get(exercise, "jump"), exercise
        assert row["view"] in ("front", "side", "either")
        assert row["outputs"] and set(row["outputs"]) >= {"posture", "keypoints", "angles"}
    for alias, canonical in ALIASES.items():
        assert alias in rows[canonical]["aliases"]
    assert "counter.analysis" in rows["back_flexibility_test"]["outputs"]
    assert rows["back_flexibility_test"]["category"] == "physical_test"
    assert rows["split"]["category"] == "flexibility" and rows["split"]["view"] == "side"
    assert rows["facial_split"]["view"] == "front"
    assert rows["shoulder_roll"]["category"] == "wellness"
    assert "form_score" in rows["squat"]["outputs"] and "form_score" not in rows["plank"]["outputs"]
    assert "jump_calibration" in rows["jump_analysis"]["outputs"]
    assert "jump_calibration" not in rows["air_time_jump"]["outputs"]


def test_docs_describe_every_exercise():
    events_doc = (Path(__file__).resolve().parents[2] / "docs" / "events.md").read_text()
    for exercise in EXERCISES:
        assert f"`{exercise}`" in events_doc, exercise
