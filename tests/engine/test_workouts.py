"""Workouts: the inline grammar (workout=squat:10x3,rest:30,plank:45s) and the tracker that guides
a person through one, on real people's landmarks: the squat clip's sets, rests with nobody in the
picture, then the balance clip's hold."""

import uuid
from dataclasses import replace

import pytest

from tests.support.clips import BALANCE_CLIP, SQUAT_CLIP, clip_poses, half_squat_frames
from tracking.engine.pose import Pose
from tracking.engine.reference import build_signature
from tracking.engine.tracker import open_tracker
from tracking.engine.workout import (
    MAX_STEPS,
    SetPosition,
    Workout,
    WorkoutInvalid,
    WorkoutStep,
    parse_workout,
    workout_from_steps,
)
from tracking.params import ParamsError, parse_tracking_params

REFERENCE = uuid.UUID("6f1c2b44-0000-4000-8000-000000000000")
WORKOUT_EVENTS = ("workout_started", "workout_step", "rest", "workout_summary")


def squats(reps, sets=1, rest_s=0):
    return WorkoutStep("squat", None, reps, "reps", sets, rest_s)


# -- the inline grammar --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "steps", "canonical"),
    [
        (
            "squat:10x3,rest:30,plank:45s",
            [squats(10, 3, 30), WorkoutStep("plank", None, 45, "seconds")],
            "squat:10x3,rest:30,plank:45s",
        ),
        # Aliases, any case, spaces around items, minutes, a hold's plain number in seconds.
        (
            " Face_Squat:8 , REST:1m ,plank:1M,Wall_Sit:20",
            [
                squats(8, rest_s=60),
                WorkoutStep("plank", None, 60, "seconds"),
                WorkoutStep("wall_sit", None, 20, "seconds"),
            ],
            "squat:8,rest:60,plank:60s,wall_sit:20s",
        ),
        # A time target on reps; sets of a hold; a reference movement by its UUID.
        (
            f"jumping_jack:30sX2,rest:15s,plank:20sx2,{REFERENCE}:5",
            [
                WorkoutStep("jumping_jack", None, 30, "seconds", 2, 15),
                WorkoutStep("plank", None, 20, "seconds", 2),
                WorkoutStep(None, REFERENCE, 5, "reps"),
            ],
            f"jumping_jack:30sx2,rest:15,plank:20sx2,{REFERENCE}:5",
        ),
    ],
)
def test_inline_workouts_read_into_steps_and_back_to_their_canonical_text(text, steps, canonical):
    workout = parse_workout(text)
    assert list(workout.steps) == steps
    assert str(workout) == canonical
    assert parse_workout(canonical) == workout
    assert workout_from_steps([step.to_dict() for step in workout.steps]) == workout


@pytest.mark.parametrize(
    ("text", "key", "position"),
    [
        ("", "workout_syntax", 1),
        ("squat", "workout_syntax", 1),
        ("squat:ten", "workout_syntax", 1),
        ("squat:10x3;plank:45s", "workout_syntax", 1),
        ("squat:10,", "workout_syntax", 2),
        ("squat:10,rest", "workout_syntax", 2),
        ("squat:-5", "workout_syntax", 1),
        ("rest:30,squat:10", "workout_rest_misplaced", 1),
        ("squat:10,rest:30,rest:10", "workout_rest_misplaced", 3),
        ("squatz:10", "workout_exercise", 1),
        # A step's own problem names the step (rests do not count), the text's the item.
        ("squat:10,rest:30,squatz:5", "workout_exercise", 2),
        ("squat:10,rest:30,squat:10x30", "workout_sets_range", 2),
        ("squat:10,jump_analysis:3", "workout_jump", 2),
        ("squat:10,knee_rom_left:3", "workout_assessment", 2),
        ("squat:0", "workout_reps_range", 1),
        ("squat:1001", "workout_reps_range", 1),
        ("plank:3601s", "workout_seconds_range", 1),
        ("plank:61m", "workout_seconds_range", 1),
        ("squat:10x0", "workout_sets_range", 1),
        ("squat:10x21", "workout_sets_range", 1),
        ("squat:10,rest:901", "workout_rest_range", 2),
    ],
)
def test_a_malformed_inline_workout_says_where_and_what_is_wrong(text, key, position):
    with pytest.raises(WorkoutInvalid) as raised:
        parse_workout(text)
    assert raised.value.key == key
    assert raised.value.details.get("position") == position


def test_a_workout_has_at_most_its_limit_of_steps():
    assert len(parse_workout(",".join(["squat:1"] * MAX_STEPS)).steps) == MAX_STEPS
    with pytest.raises(WorkoutInvalid) as raised:
        parse_workout(",".join(["squat:1"] * (MAX_STEPS + 1)))
    assert raised.value.key == "workout_too_many_steps"


@pytest.mark.parametrize(
    ("step", "key"),
    [
        ({"target": 10}, "workout_movement"),
        ({"exercise": "squat", "reference": str(REFERENCE), "target": 10}, "workout_movement"),
        ({"reference": "not-a-uuid", "target": 10}, "workout_reference"),
        ({"exercise": "plank", "target": 10, "unit": "reps"}, "workout_hold_reps"),
        ({"exercise": "squat", "target": 10, "unit": "minutes"}, "workout_unit"),
        ({"exercise": "squat", "target": "10"}, "workout_reps_range"),
        ({"exercise": "squat", "target": True}, "workout_reps_range"),
    ],
)
def test_steps_as_the_api_sends_them_are_checked_as_inline_ones_are(step, key):
    with pytest.raises(WorkoutInvalid) as raised:
        workout_from_steps([step])
    assert raised.value.key == key


def test_the_page_parameter_reads_a_workout_or_a_saved_workouts_uuid():
    params = parse_tracking_params("token=t&workout=squat:10x3,rest:30,plank:45s&minGrade=B")
    assert params.workout == parse_workout("squat:10x3,rest:30,plank:45s")
    assert params.exercise is None and not params.pose_only and params.min_grade == "B"
    saved = uuid.uuid4()
    assert parse_tracking_params(f"token=t&workout={saved}").workout == saved


def test_a_malformed_workout_parameter_is_refused_with_its_problem():
    with pytest.raises(ParamsError) as raised:
        parse_tracking_params("token=t&workout=squat:10,rest:x&language=en")
    (problem,) = raised.value.problems
    assert (problem.code, problem.param) == ("invalid_workout", "workout")
    assert problem.message == (
        "Workout item 2 ('rest:x') must read exercise:target, such as squat:10x3, plank:45s or "
        "rest:30."
    )
    assert raised.value.status == 400


def test_a_workout_with_an_exercise_is_refused_and_page_targets_beside_it_are_ignored():
    with pytest.raises(ParamsError) as raised:
        parse_tracking_params("token=t&workout=squat:10&exercise=squat")
    assert [(p.code, p.param) for p in raised.value.problems] == [
        ("conflicting_parameters", "workout,exercise")
    ]
    params = parse_tracking_params("token=t&workout=squat:10&reps=12&duration=60")
    assert dict(params.passthrough) == {}
    assert [(w.code, w.param) for w in params.warnings] == [
        ("ignored_parameter", "reps"),
        ("ignored_parameter", "duration"),
    ]


def test_workout_from_names_a_set_to_start_at_and_a_bad_one_starts_at_the_first_with_a_warning():
    params = parse_tracking_params("token=t&workout=squat:10x3,plank:45s&workoutFrom=1.3")
    assert params.workout_from == SetPosition(1, 3) and params.warnings == ()
    assert "workoutFrom=1.3" in params.to_query()
    assert params.for_workout(params.workout) is params
    for bad in ("2", "0.1", "1.x", "1.3.1"):
        params = parse_tracking_params(f"token=t&workout=squat:10&workoutFrom={bad}")
        (warning,) = params.warnings
        assert (warning.code, warning.param, params.workout_from) == (
            "invalid_value",
            "workoutFrom",
            None,
        )
    # Checked against the workout once it is known (a saved one is, when the page opens).
    for past in ("3.1", "1.4", "2.2"):
        params = parse_tracking_params(f"token=t&workout=squat:10x3,plank:45s&workoutFrom={past}")
        resolved = params.for_workout(params.workout)
        (warning,) = resolved.warnings
        assert (warning.code, warning.param, resolved.workout_from) == (
            "invalid_value",
            "workoutFrom",
            None,
        )
        assert warning.message == (
            "workoutFrom must name a set of the workout (step 1 to 2, then one of that step's "
            f"sets), got '{past}'. It was ignored."
        )
    params = parse_tracking_params("token=t&exercise=squat&workoutFrom=2.1&language=fr")
    (warning,) = params.warnings
    assert (warning.code, params.workout_from) == ("ignored_parameter", None)
    assert warning.message == (
        "le paramètre 'workoutFrom' a été ignoré : il désigne une série d'une séance"
    )


# -- the workout tracker, on real landmarks -------------------------------------------------------


class Stream:
    """Clips played one after another on one clock, with stretches of nobody in the picture."""

    def __init__(self):
        self.poses: list[Pose] = []
        self.t = 0.0

    def clip(self, poses: list[Pose]) -> "Stream":
        start = self.t
        self.poses += [replace(pose, timestamp_ms=start + pose.timestamp_ms) for pose in poses]
        self.t = self.poses[-1].timestamp_ms + 100.0
        return self

    def nobody(self, seconds: float) -> "Stream":
        for i in range(round(seconds * 10)):
            self.poses.append(Pose(None, self.t + 100.0 * i, 152, 248))
        self.t += seconds * 1000.0
        return self


def run(query: str, poses: list[Pose], **kwargs) -> tuple[list[dict], list[dict]]:
    params = parse_tracking_params(f"token=t&{query}")
    tracker = open_tracker(
        params, workout=params.workout, workout_from=params.workout_from, **kwargs
    )
    return [event for pose in poses for event in tracker.feed(pose)], tracker.finish()


def of_type(events, *types):
    return [event for event in events if event["type"] in types]


@pytest.fixture(scope="module")
def squat_poses():
    return clip_poses(SQUAT_CLIP)


def test_a_workout_counts_each_set_rests_between_them_and_sums_up_against_its_targets(
    squat_poses,
):
    """Two sets of the squat clip's 4 squats with 3 s of rest, then 3 s of the balance clip's
    one-legged stand."""
    stream = Stream().clip(squat_poses).nobody(3.5).clip(squat_poses).nobody(3.5)
    stream.clip(clip_poses(BALANCE_CLIP))
    events, final = run("workout=squat:4x2,rest:3,balance_leg:3s", stream.poses)

    assert events[0]["type"] == "workout_started" and events[0]["from"] is None
    assert [step["exercise"] for step in events[0]["steps"]] == ["squat", "balance_leg"]
    sets = [(e["index"], e["set"], e["done"]) for e in of_type(events, "workout_step")]
    assert sets == [(1, 1, False), (1, 1, True), (1, 2, False), (1, 2, True)] + [
        (2, 1, False),
        (2, 1, True),
    ]
    assert [e["count"] for e in of_type(events, "workout_step") if e["done"]] == [4, 4, 3]
    assert [e["secondsLeft"] for e in of_type(events, "rest")] == [3, 2, 1, 3, 2, 1]
    nexts = [e["next"] for e in of_type(events, "rest")]
    assert [(n["exercise"], n["set"]) for n in nexts] == [("squat", 2)] * 3 + [
        ("balance_leg", 1)
    ] * 3
    # Each set counts from 0, with a grade for each rep or second held.
    counts = [e["current_count"] for e in of_type(events, "counter")]
    assert counts == [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3]
    # Rests take 3 s on the frames' clock, then the next set starts.
    ends = [e["timestampMs"] for e in of_type(events, "workout_step") if e["done"]]
    starts = [e["timestampMs"] for e in of_type(events, "workout_step") if not e["done"]]
    assert [start - end for end, start in zip(ends, starts[1:], strict=False)] == [3000, 3000]

    (summary,) = of_type(events, "workout_summary")
    assert summary is events[-1] and final == []
    assert summary["completed"] is True
    squat, balance = summary["steps"]
    assert (squat["count"], squat["setsDone"], squat["grade"]) == (8, 2, "A")
    assert [s["count"] for s in squat["history"]] == [4, 4]
    assert (balance["count"], balance["unit"], balance["setsDone"]) == (3, "seconds", 1)
    assert squat["durationMs"] + balance["durationMs"] < summary["durationMs"]
    assert not of_type(events, "exercise_summary")  # each set's is in workout_summary


def test_a_workout_started_at_a_set_goes_on_from_there_and_sums_up_the_sets_since(squat_poses):
    """A page that reconnected during the second step's second set: that set again from 0 (the
    squat clip's 4 squats), the rest, then the balance clip's hold."""
    stream = Stream().clip(squat_poses).nobody(3.5).clip(clip_poses(BALANCE_CLIP))
    events, final = run(
        "workout=squat:4,squat:4x2,rest:3,balance_leg:3s&workoutFrom=2.2", stream.poses
    )

    started = events[0]
    assert started["type"] == "workout_started" and started["from"] == {"index": 2, "set": 2}
    assert len(started["steps"]) == 3  # the whole workout, for the host's view of it
    sets = [(e["index"], e["set"], e["done"]) for e in of_type(events, "workout_step")]
    assert sets == [(2, 2, False), (2, 2, True), (3, 1, False), (3, 1, True)]
    assert [e["current_count"] for e in of_type(events, "counter")][:4] == [1, 2, 3, 4]
    assert [e["secondsLeft"] for e in of_type(events, "rest")] == [3, 2, 1]
    (summary,) = of_type(events, "workout_summary")
    assert summary["completed"] is True and final == []
    first, second, balance = summary["steps"]
    assert first["history"] == [] and first["setsDone"] == 0
    assert [(s["set"], s["count"]) for s in second["history"]] == [(2, 4)]
    assert (balance["count"], balance["setsDone"]) == (3, 1)
    with pytest.raises(ValueError, match="no set 2.3"):
        run("workout=squat:4,squat:4x2&workoutFrom=2.3", squat_poses)


def test_a_set_sends_the_cues_and_grades_of_the_same_exercise_alone(squat_poses):
    """Half squats: the same counters, grades and cue in a workout's set as in a squat session,
    and the set's grade in the summary is that session's."""
    half = [squat_poses[i] for i in half_squat_frames()]
    alone = open_tracker(parse_tracking_params("token=t&exercise=squat&recommendations=true"))
    expected = [event for pose in half for event in alone.feed(pose)]
    single_summary = alone.finish()[-1]

    events, final = run("workout=squat:4,plank:30s&recommendations=true", half)
    (set_done,) = [e for e in of_type(events, "workout_step") if e["done"]]
    during_set = events[: events.index(set_done)]
    assert [e for e in during_set if e["type"] not in WORKOUT_EVENTS] == expected
    assert {e["form_score"]["grade"] for e in of_type(during_set, "counter")} >= {"B", "C"}
    assert of_type(during_set, "recommendations")
    (squat, _plank) = final[0]["steps"]
    assert squat["grade"] == squat["history"][0]["grade"] == single_summary["grade"]
    assert squat["average_score"] == single_summary["average_score"]
    # No rest: the plank starts at once, and asks the person to turn sideways.
    assert set_done["next"]["exercise"] == "plank"
    assert of_type(events, "workout_step")[-1]["exercise"] == "plank"


def test_finishing_during_a_set_sums_up_what_was_done(squat_poses):
    events, final = run("workout=squat:10x2,rest:30,plank:30s", squat_poses[:50])
    assert [e["current_count"] for e in of_type(events, "counter")] == [1, 2]
    (summary,) = final
    assert summary["type"] == "workout_summary" and summary["completed"] is False
    squat, plank = summary["steps"]
    (unfinished,) = squat["history"]
    assert (unfinished["count"], unfinished["completed"], squat["setsDone"]) == (2, False, 0)
    assert plank["history"] == [] and plank["count"] == 0 and plank["grade"] is None


def test_a_time_target_on_reps_lasts_that_long_from_when_the_person_is_ready(squat_poses):
    events, final = run("workout=squat:5s", squat_poses)
    (done,) = [e for e in of_type(events, "workout_step") if e["done"]]
    ready = next(e for e in events if e["type"] == "posture" and e["ready"])
    assert ready and (done["count"], done["reps"], done["unit"]) == (5, 2, "seconds")
    assert 5000 <= done["timestampMs"] < 5600  # ready at 0.3 s
    (summary,) = of_type(events, "workout_summary")
    assert (summary["steps"][0]["count"], summary["steps"][0]["reps"]) == (5, 2)
    assert final == []


def test_keypoints_stream_through_the_rests(squat_poses):
    stream = Stream().clip(squat_poses[:45]).clip(squat_poses)
    events, _ = run("workout=squat:1,rest:5,squat:1&keypoints=true", stream.poses)
    rest = of_type(events, "rest")
    assert rest and len(of_type(events, "keypoints")) == len(stream.poses)


def test_a_reference_step_counts_against_its_reference(squat_poses):
    signature = build_signature(squat_poses, start_ms=200.0, end_ms=2600.0)
    events, _ = run(
        f"workout={REFERENCE}:3,rest:2",
        squat_poses,
        signatures={REFERENCE: signature},
    )
    (done,) = [e for e in of_type(events, "workout_step") if e["done"]]
    assert (done["reference"], done["count"]) == (str(REFERENCE), 3)
    assert of_type(events, "reference_score")
    assert of_type(events, "workout_summary")[0]["completed"] is True
    with pytest.raises(ValueError, match="signatures"):
        run(f"workout={REFERENCE}:3", squat_poses)


def test_a_saved_workout_names_itself_in_its_events(squat_poses):
    saved = Workout((squats(1),), id=uuid.uuid4(), name="Leg day")
    tracker = open_tracker(parse_tracking_params("token=t"), workout=saved)
    events = [event for pose in squat_poses for event in tracker.feed(pose)]
    started, summary = events[0], of_type(events, "workout_summary")[0]
    assert (started["workout"], started["name"]) == (str(saved.id), "Leg day")
    assert (summary["workout"], summary["name"]) == (str(saved.id), "Leg day")


def test_a_hold_steps_progression_counts_towards_the_steps_own_seconds():
    """balance_leg:3s: progression reaches 100 once 3 s are held, not the catalog's own target."""
    events, _ = run("workout=balance_leg:3s&progression=true", clip_poses(BALANCE_CLIP))
    progress = [e["value"] for e in of_type(events, "progression")]
    assert progress and max(progress) == 100
    (summary,) = of_type(events, "workout_summary")
    (balance,) = summary["steps"]
    assert balance["count"] == 3
