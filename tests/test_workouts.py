"""Workouts end to end: saved through the API (per organisation, secret keys only), opened on the
live page by UUID or inline, and followed over the live socket with real landmarks."""

import json
import uuid
from urllib.parse import urlsplit

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.models import MonthlyUsage, UsageRecord
from config.asgi import application
from references.models import ReferenceMovement
from tests.support.clips import BALANCE_CLIP, CURL_CLIP, SQUAT_CLIP, clip_poses, landmark_messages
from tests.test_live_socket import ORIGIN, closing_code, receive_until
from tests.test_tracking_pages import page_config
from tracking.engine.reference import build_signature
from tracking.engine.workout import MAX_STEPS
from tracking.models import SavedWorkout, SessionResult

pytestmark = pytest.mark.django_db(transaction=True)

LEG_DAY = {
    "name": "Leg day",
    "steps": [
        {"exercise": "squat", "target": 10, "sets": 3, "rest_s": 30},
        {"exercise": "plank", "target": 45},
    ],
}


def save(api, body=LEG_DAY):
    return api.post("/api/v1/workouts", body, format="json")


@pytest.fixture
def leg_day(acme_api) -> dict:
    response = save(acme_api)
    assert response.status_code == 201, response.content
    return response.json()


# -- the API --------------------------------------------------------------------------------------


def test_a_saved_workout_gets_a_uuid_and_reads_back_with_its_steps_complete(acme_api, leg_day):
    assert uuid.UUID(leg_day["id"]) and leg_day["name"] == "Leg day"
    assert leg_day["steps"] == [
        {
            "exercise": "squat",
            "reference": None,
            "target": 10,
            "unit": "reps",
            "sets": 3,
            "rest_s": 30,
        },
        {
            "exercise": "plank",
            "reference": None,
            "target": 45,
            "unit": "seconds",
            "sets": 1,
            "rest_s": 0,
        },
    ]
    assert leg_day["inline"] == "squat:10x3,rest:30,plank:45s"
    assert leg_day["tracking_url"].endswith(f"workout={leg_day['id']}")
    assert acme_api.get(f"/api/v1/workouts/{leg_day['id']}").json() == leg_day
    listed = acme_api.get("/api/v1/workouts").json()
    assert listed["count"] == 1 and listed["results"] == [leg_day]


def test_a_workout_may_be_sent_inline_as_the_page_parameter_writes_it(acme_api, leg_day):
    response = save(acme_api, {"name": "Same", "inline": "Face_Squat:10X3, rest:30, plank:45"})
    assert response.status_code == 201, response.content
    assert response.json()["steps"] == leg_day["steps"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            {"name": "Bad", "inline": "squat:10,rest:x"},
            "invalid_workout",
            "Workout item 2 ('rest:x') must read exercise:target, such as squat:10x3, plank:45s "
            "or rest:30.",
        ),
        (
            {"name": "Bad", "steps": [{"exercise": "squat", "target": 5}, {"target": 5}]},
            "invalid_workout",
            "Workout step 2 must name an exercise or a reference, one.",
        ),
        (
            {"name": "Bad", "steps": [{"exercise": "plank", "target": 30, "unit": "reps"}]},
            "invalid_workout",
            "Workout step 1: plank is a hold, whose target is in seconds (such as plank:45s).",
        ),
        (
            {"name": "Bad", "steps": [{"exercise": "jump_analysis", "target": 3}]},
            "invalid_workout",
            "Workout step 1: jump_analysis is a jump exercise, which a workout cannot hold.",
        ),
        (
            {"name": "Bad", "steps": [{"exercise": "squat", "target": 0}]},
            "invalid_parameter",
            "The request has invalid fields.",
        ),
        (
            {"name": "Bad", "steps": [], "inline": "squat:10"},
            "invalid_parameter",
            "The request has invalid fields.",
        ),
        (
            {"name": "Bad", "steps": []},
            "invalid_workout",
            "A workout needs at least one exercise step.",
        ),
    ],
)
def test_a_workout_that_cannot_be_followed_is_refused_with_a_400_saying_why(
    acme_api, body, code, message
):
    response = save(acme_api, body)
    assert response.status_code == 400
    error = response.json()
    assert (error["type"], error["code"], error["message"]) == ("error", code, message)
    assert not SavedWorkout.objects.exists()


def test_a_workout_of_too_many_steps_is_refused_at_once_with_one_error(acme_api):
    """Counted before any step is read: thousands of bad steps cost one check and one line of
    answer, not one validation and one error each (a 5 MB body holds over 100,000 of them)."""
    steps = [{"exercise": "squat", "target": 0}] * 5000
    response = save(acme_api, {"name": "Flood", "steps": steps})
    assert response.status_code == 400
    assert response.json()["details"]["steps"] == {
        "non_field_errors": [f"Ensure this field has no more than {MAX_STEPS} elements."]
    }
    assert len(response.content) < 1000
    full = [{"exercise": "squat", "target": 10}] * MAX_STEPS
    assert save(acme_api, {"name": "Long day", "steps": full}).status_code == 201
    assert save(acme_api, {"name": "Too long", "steps": [*full, full[0]]}).status_code == 400


def test_a_workouts_reference_steps_must_be_the_organisations_own(
    acme_api, globex, acme, squat_reference
):
    theirs = ReferenceMovement.objects.create(organization=globex, name="Theirs", status="ready")
    body = {"name": "Refs", "inline": f"{squat_reference.pk}:5,{theirs.pk}:5"}
    refused = save(acme_api, body)
    assert refused.status_code == 400
    assert refused.json()["message"] == (
        f"Workout step 2: reference movement {theirs.pk} was not found in your organisation."
    )
    saved = save(acme_api, {"name": "Refs", "inline": f"{squat_reference.pk}:5x2,squat:3"})
    assert saved.status_code == 201
    assert saved.json()["steps"][0]["reference"] == str(squat_reference.pk)


def test_another_organisation_neither_sees_nor_deletes_a_workout(api_client, globex_token, leg_day):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {globex_token}")
    assert api_client.get("/api/v1/workouts").json()["count"] == 0
    for method in ("get", "delete"):
        response = getattr(api_client, method)(f"/api/v1/workouts/{leg_day['id']}")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert SavedWorkout.objects.filter(pk=leg_day["id"]).exists()


def test_workouts_take_a_secret_key(api_client, acme_publishable_key):
    assert api_client.get("/api/v1/workouts").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {acme_publishable_key}")
    response = save(api_client)
    assert response.status_code == 403 and response.json()["code"] == "secret_key_required"


def test_a_deleted_workout_stops_opening_the_page(client, acme_api, acme_token, leg_day):
    assert acme_api.delete(f"/api/v1/workouts/{leg_day['id']}").status_code == 204
    assert acme_api.get(f"/api/v1/workouts/{leg_day['id']}").status_code == 404
    response = client.get("/pose_tracker/tracking", {"token": acme_token, "workout": leg_day["id"]})
    assert response.status_code == 404
    (error,) = page_config(response)["initialEvents"]
    assert (error["type"], error["code"]) == ("error", "workout_not_found")


def test_a_workout_the_catalog_no_longer_reads_still_lists_and_the_page_refuses_it(
    client, acme, acme_api, acme_token, leg_day
):
    """Saved under an earlier catalog, with an exercise it has since dropped: the list and the
    workout read back as saved (one such row must not break the list), the page says why not."""
    retired = {"exercise": "retired_move", "reference": None, "target": 10, "unit": "reps"}
    stale = SavedWorkout.objects.create(
        organization=acme, name="Old", steps=[retired | {"sets": 3, "rest_s": 30}]
    )
    listed = acme_api.get("/api/v1/workouts")
    assert listed.status_code == 200
    assert [w["inline"] for w in listed.json()["results"]] == [
        "retired_move:10x3,rest:30",
        "squat:10x3,rest:30,plank:45s",
    ]
    assert acme_api.get(f"/api/v1/workouts/{stale.pk}").json()["inline"] == (
        "retired_move:10x3,rest:30"
    )
    response = client.get("/pose_tracker/tracking", {"token": acme_token, "workout": stale.pk})
    assert response.status_code == 400
    (error,) = page_config(response)["initialEvents"]
    assert error["code"] == "invalid_workout" and "retired_move" in error["message"]


# -- the live page --------------------------------------------------------------------------------


@pytest.fixture
def squat_reference(acme) -> ReferenceMovement:
    signature = build_signature(clip_poses(SQUAT_CLIP), start_ms=200.0, end_ms=2600.0)
    return ReferenceMovement.objects.create(
        organization=acme, name="My squat", status="ready", signature=signature
    )


def test_the_page_opens_on_a_saved_workouts_first_step(client, acme_token, leg_day):
    response = client.get(
        "/pose_tracker/tracking",
        {"token": acme_token, "workout": leg_day["id"], "language": "fr"},
    )
    assert response.status_code == 200
    config = page_config(response)
    assert config["params"]["workout"] == leg_day["id"]
    workout = config["workout"]
    assert (workout["id"], workout["name"]) == (leg_day["id"], "Leg day")
    assert [(s["index"], s["label"], s["kind"]) for s in workout["steps"]] == [
        (1, "Squat", "repetition"),
        (2, "Plank", "duration"),
    ]
    html = response.content.decode()
    assert '<p class="ft-title" id="formtrack-status">Squat</p>' in html
    assert 'id="ft-step"' in html and 'id="ft-next"' in html and 'id="ft-count"' in html
    text = json.loads(html.split('id="formtrack-text" type="application/json">')[1].split("<")[0])
    assert {"step_of", "set_of", "rest", "next", "workout_done", "reps", "held"} <= set(text)


def test_a_page_opened_at_a_set_of_the_workout_shows_that_step(client, acme_token, leg_day):
    response = client.get(
        "/pose_tracker/tracking",
        {"token": acme_token, "workout": leg_day["id"], "workoutFrom": "2.1"},
    )
    config = page_config(response)
    assert config["params"]["workout_from"] == "2.1" and config["initialEvents"] == []
    assert "workoutFrom=2.1" in config["accessQuery"]
    assert '<p class="ft-title" id="formtrack-status">Plank</p>' in response.content.decode()


def test_an_inline_workout_with_a_reference_step_names_it_on_the_page(
    client, acme_token, squat_reference
):
    query = {"token": acme_token, "workout": f"plank:30s,{squat_reference.pk}:5"}
    response = client.get("/pose_tracker/tracking", query)
    assert response.status_code == 200
    steps = page_config(response)["workout"]["steps"]
    assert [s["label"] for s in steps] == ["Plank", "Reference movement"]
    assert '<p id="ft-unit" class="ft-tally-label">held</p>' in response.content.decode()


@pytest.mark.parametrize(
    ("workout", "code", "status"),
    [
        ("squat:10,rest:30,rest:10", "invalid_workout", 400),
        ("squat:10x99", "invalid_workout", 400),
        ("5e8b0c1a-0000-4000-8000-000000000000", "workout_not_found", 404),
    ],
)
def test_a_workout_the_page_cannot_follow_is_refused_with_an_error_event(
    client, acme_token, workout, code, status
):
    response = client.get("/pose_tracker/tracking", {"token": acme_token, "workout": workout})
    assert response.status_code == status
    (error,) = page_config(response)["initialEvents"]
    assert (error["type"], error["code"]) == ("error", code) and error["message"]


def test_another_organisations_workout_is_not_found_on_the_page(client, globex_token, leg_day):
    response = client.get(
        "/pose_tracker/tracking", {"token": globex_token, "workout": leg_day["id"]}
    )
    assert response.status_code == 404
    assert page_config(response)["initialEvents"][0]["code"] == "workout_not_found"


def test_a_single_use_link_carries_a_saved_or_inline_workout(client, acme_api, leg_day):
    for workout in (leg_day["id"], "squat:10x3,rest:30,plank:45s"):
        link = acme_api.post("/api/v1/sessions", {"workout": workout}, format="json")
        assert link.status_code == 201, link.content
        parts = urlsplit(link.json()["url"])
        page = client.get(f"{parts.path}?{parts.query}")
        assert page.status_code == 200
        assert [s["exercise"] for s in page_config(page)["workout"]["steps"]] == ["squat", "plank"]
    refused = acme_api.post("/api/v1/sessions", {"workout": "squat:0"}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_workout"


# -- the live socket ------------------------------------------------------------------------------


async def open_socket(query):
    socket = WebsocketCommunicator(
        application, f"/ws/pose_tracker/tracking?{query}", headers=ORIGIN
    )
    connected, _ = await socket.connect()
    assert connected
    return socket


async def stream(socket, messages) -> list[dict]:
    events = []
    for message in messages:
        await socket.send_json_to(message)
        events += await receive_until(socket, lambda e: e["type"] == "ack")
    return events


def shifted(messages, by_ms, first_frame_id):
    return [
        message | {"t": message["t"] + by_ms, "frameId": first_frame_id + i}
        for i, message in enumerate(messages)
    ]


async def test_a_live_session_guides_the_person_through_an_inline_workout(
    acme, acme_token, settings
):
    """The squat clip's 4 squats, a rest, then the balance clip held 2 s: the socket sends the
    workout's events around each set's own, and the summary once the last set is done."""
    # Two clips streamed as fast as their acks come: faster than a camera, past the message rate.
    settings.LIVE_MAX_MESSAGES_PER_S = 0
    socket = await open_socket(f"token={acme_token}&workout=squat:4,rest:2,balance_leg:2s")
    started = await socket.receive_json_from()
    assert started["type"] == "session_started"
    assert (started["exercise"], started["workout"]) == (None, "squat:4,rest:2,balance_leg:2s")
    squats = landmark_messages(SQUAT_CLIP)
    events = await stream(socket, squats)
    events += await stream(socket, shifted(landmark_messages(BALANCE_CLIP), 12000, len(squats)))
    types = [e["type"] for e in events if e["type"] != "ack"]
    assert types[:2] == ["workout_started", "workout_step"]
    steps = [(e["exercise"], e["done"]) for e in events if e["type"] == "workout_step"]
    assert steps == [
        ("squat", False),
        ("squat", True),
        ("balance_leg", False),
        ("balance_leg", True),
    ]
    rests = [e for e in events if e["type"] == "rest"]
    assert rests and rests[0]["secondsLeft"] == 2 and rests[0]["next"]["exercise"] == "balance_leg"
    (summary,) = [e for e in events if e["type"] == "workout_summary"]
    assert summary["completed"] is True
    assert [(s["count"], s["target"]) for s in summary["steps"]] == [(4, 4), (2, 2)]
    assert summary["timestampMs"] > 1_600_000_000_000  # Unix time, as every live event
    await socket.send_json_to({"type": "finish"})
    assert await closing_code(socket) == 1000
    await socket.disconnect()
    usage = await UsageRecord.objects.aget(organization=acme, kind="live")
    assert usage.calls == 1 and usage.exercise == "workout"


async def test_a_session_ending_mid_workout_sums_up_a_saved_workout_so_far(acme_token, leg_day):
    socket = await open_socket(f"token={acme_token}&workout={leg_day['id']}")
    assert (await socket.receive_json_from())["workout"] == leg_day["id"]
    await stream(socket, landmark_messages(SQUAT_CLIP))
    await socket.send_json_to({"type": "finish"})
    events = await receive_until(socket, lambda e: e["type"] == "workout_summary")
    summary = events[-1]
    assert (summary["workout"], summary["name"], summary["completed"]) == (
        leg_day["id"],
        "Leg day",
        False,
    )
    squat, plank = summary["steps"]
    assert squat["count"] == 4 and squat["history"][0]["completed"] is False
    assert plank["history"] == []
    assert await closing_code(socket) == 1000
    await socket.disconnect()


async def test_a_session_finished_mid_rest_stores_the_sets_done_for_its_end_user(acme_token):
    """Finished during the rest after the squats: the summary has the set done and the step not
    started, and the end user's result is a workout's, kept as incomplete."""
    socket = await open_socket(
        f"token={acme_token}&workout=squat:4,rest:30,plank:10s&externalUserId=u-7"
    )
    await socket.receive_json_from()
    events = await stream(socket, landmark_messages(SQUAT_CLIP))
    assert [e["type"] for e in events if e["type"] in ("workout_step", "rest")][-1] == "rest"
    await socket.send_json_to({"type": "finish"})
    summary = (await receive_until(socket, lambda e: e["type"] == "workout_summary"))[-1]
    assert summary["completed"] is False
    assert [(s["exercise"], s["setsDone"], s["count"]) for s in summary["steps"]] == [
        ("squat", 1, 4),
        ("plank", 0, 0),
    ]
    assert await closing_code(socket) == 1000
    await socket.disconnect()
    result = await SessionResult.objects.aget(external_user_id="u-7")
    assert (result.kind, result.exercise) == ("workout", "workout")
    assert result.summary == summary


@pytest.mark.parametrize(
    ("workout", "code", "close"),
    [
        ("squat:10,pushup", "invalid_workout", 4400),
        ("5e8b0c1a-0000-4000-8000-000000000000", "workout_not_found", 4400),
    ],
)
async def test_a_socket_asking_for_a_workout_it_cannot_follow_gets_an_error_then_a_close(
    acme_token, workout, code, close
):
    socket = await open_socket(f"token={acme_token}&workout={workout}")
    error = await socket.receive_json_from()
    assert (error["type"], error["code"]) == ("error", code) and error["message"]
    assert await closing_code(socket) == close


async def test_a_stale_reference_in_a_workout_is_refused_as_the_session_opens(acme, acme_token):
    signature = build_signature(clip_poses(CURL_CLIP), start_ms=3300, end_ms=5700)
    stale = await ReferenceMovement.objects.acreate(
        organization=acme, name="Curl", status="ready", signature={**signature, "version": 0}
    )
    socket = await open_socket(f"token={acme_token}&workout=squat:5,{stale.pk}:5")
    error = await socket.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "reference_unreadable")
    assert await closing_code(socket) == 4400


def position_after(events) -> str:
    """Where the live page continues after a lost connection (static/formtrack/live/workout.js):
    the set under way, or the one after a set that ended, from the last workout_step."""
    step = [e for e in events if e["type"] == "workout_step"][-1]
    position = step["next"] if step["done"] else step
    return f"{position['index']}.{position['set']}"


async def test_a_page_that_reconnects_mid_workout_continues_at_its_next_set(
    client, acme, acme_token
):
    """The squat clip's 4 squats end the first set; the connection drops during the rest. The
    page's new session (the same page visit, the same call) goes on with the second set, not
    the first, and sums up the sets since."""
    page = await sync_to_async(client.get)(
        "/pose_tracker/tracking",
        {"token": acme_token, "workout": "squat:4x2,rest:30,plank:10s"},
    )
    access_query = page_config(page)["accessQuery"]
    socket = await open_socket(access_query)
    await socket.receive_json_from()
    squats = landmark_messages(SQUAT_CLIP)
    events = await stream(socket, squats)
    assert [e["type"] for e in events if e["type"] in ("workout_step", "rest")][-1] == "rest"
    await socket.disconnect()  # a network blip

    resumed = await open_socket(f"{access_query}&workoutFrom={position_after(events)}")
    assert (await resumed.receive_json_from())["type"] == "session_started"
    events = await stream(resumed, squats)
    started = next(e for e in events if e["type"] == "workout_started")
    assert started["from"] == {"index": 1, "set": 2}
    steps = [(e["index"], e["set"], e["done"]) for e in events if e["type"] == "workout_step"]
    assert steps == [(1, 2, False), (1, 2, True)]
    await resumed.send_json_to({"type": "finish"})
    summary = (await receive_until(resumed, lambda e: e["type"] == "workout_summary"))[-1]
    squat, plank = summary["steps"]
    assert [(s["set"], s["count"]) for s in squat["history"]] == [(2, 4)]
    assert summary["completed"] is False and plank["history"] == []
    assert await closing_code(resumed) == 1000
    await resumed.disconnect()
    assert (await MonthlyUsage.objects.aget(organization=acme)).calls == 1


@pytest.mark.parametrize("workout_from", ["3.1", "1.4", "2", "last"])
async def test_a_set_the_workout_does_not_have_warns_and_starts_at_the_first(
    acme_token, leg_day, workout_from
):
    """Checked against the saved workout (3 sets of squats, then a plank) once it is read."""
    socket = await open_socket(
        f"token={acme_token}&workout={leg_day['id']}&workoutFrom={workout_from}"
    )
    assert (await socket.receive_json_from())["type"] == "session_started"
    warning = await socket.receive_json_from()
    assert (warning["type"], warning["parameters"]) == ("warning", ["workoutFrom"])
    assert warning["message"].endswith("It was ignored.")
    events = await stream(socket, landmark_messages(SQUAT_CLIP)[:1])
    started, step = [e for e in events if e["type"].startswith("workout_")]
    assert started["from"] is None and (step["index"], step["set"]) == (1, 1)
    await socket.disconnect()


async def test_a_page_opened_from_a_link_continues_its_workout_too(client, acme_api):
    """Its socket presents a ticket, with only the page's own choices beside it: workoutFrom is
    one."""
    link = await sync_to_async(acme_api.post)(
        "/api/v1/sessions", {"workout": "squat:4x2,rest:30,plank:10s"}, format="json"
    )
    parts = urlsplit(link.json()["url"])
    page = await sync_to_async(client.get)(f"{parts.path}?{parts.query}")
    socket = await open_socket(f"{page_config(page)['accessQuery']}&workoutFrom=1.2")
    assert (await socket.receive_json_from())["type"] == "session_started"
    events = await stream(socket, landmark_messages(SQUAT_CLIP)[:1])
    step = next(e for e in events if e["type"] == "workout_step")
    assert (step["index"], step["set"]) == (1, 2)
    await socket.disconnect()
