"""Counting on real clips: landmarks extracted once with MediaPipe (tests/fixtures/clips/).

fitness-squat-counter: 4 squats, front view, 10 fps; fitness-biceps-curls: 6 curls, 10 fps.
"""

import random
from dataclasses import replace

import pytest

CLIPS = [("squat", "squat_clip", 4), ("bicep_curl", "curl_clip", 6)]


def _counters(events: list[dict]) -> list[dict]:
    return [e for e in events if e["type"] == "counter"]


@pytest.mark.parametrize(("exercise", "clip", "reps"), CLIPS)
def test_counts_every_rep_of_the_clip_with_a_grade_for_each(engine, request, exercise, clip, reps):
    events, final = engine.run(f"exercise={exercise}", request.getfixturevalue(clip))
    counters = _counters(events)
    assert [c["current_count"] for c in counters] == list(range(1, reps + 1))
    for counter in counters:
        assert counter["form_score"]["grade"] in {"A", "B", "C", "D", "F"}
        assert 0 <= counter["form_score"]["score"] <= 100
    final_counter, summary = final
    assert final_counter == {**final_counter, "type": "counter", "final": True}
    assert final_counter["current_count"] == reps
    assert summary["counter"] == reps
    assert [h["index"] for h in summary["history"]] == list(range(1, reps + 1))
    assert all(h["grade"] and h["durationMs"] > 0 for h in summary["history"])
    assert summary["attempts"] == 0


@pytest.mark.parametrize(("exercise", "clip", "reps"), CLIPS)
@pytest.mark.parametrize("speed", [2.0, 1.5, 0.5])
def test_count_survives_faster_and_slower_playback(engine, request, exercise, clip, reps, speed):
    poses = engine.retimed(request.getfixturevalue(clip), 1.0 / speed)
    assert engine.summary(f"exercise={exercise}", poses)["counter"] == reps


@pytest.mark.parametrize(("exercise", "clip", "reps"), CLIPS)
def test_count_survives_dropped_frames(engine, request, exercise, clip, reps):
    poses = request.getfixturevalue(clip)
    assert engine.summary(f"exercise={exercise}", poses[::2])["counter"] == reps
    rng = random.Random(7)
    for _ in range(5):
        kept = [pose for pose in poses if rng.random() > 0.3]
        assert engine.summary(f"exercise={exercise}", kept)["counter"] == reps


@pytest.mark.parametrize(("exercise", "clip", "reps"), CLIPS)
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_count_holds_at_every_difficulty(engine, request, exercise, clip, reps, difficulty):
    poses = request.getfixturevalue(clip)
    summary = engine.summary(f"exercise={exercise}&difficulty={difficulty}", poses)
    assert summary["counter"] == reps


def test_lost_frames_pause_and_resume_counting(engine, squat_clip):
    # The person vanishes for 0.7 s while standing between the second and third squat.
    poses = [
        replace(pose, landmarks=None, world=None) if 48 <= pose.frame_id < 55 else pose
        for pose in squat_clip
    ]
    events, final = engine.run("exercise=squat", poses)
    postures = [e for e in events if e["type"] == "posture"]
    assert any(not p["ready"] and p["direction"] == "in-frame" for p in postures[2:])
    assert postures[-1]["ready"] is True
    assert final[-1]["counter"] == 4


def test_min_grade_rejects_reps_below_it(engine, squat_clip):
    everything = engine.summary("exercise=squat", squat_clip)
    grades = [h["grade"] for h in everything["history"]]
    strict_events, strict_final = engine.run("exercise=squat&minGrade=A", squat_clip)
    strict = strict_final[-1]
    kept = sum(grade == "A" for grade in grades)
    assert strict["counter"] == kept
    assert strict["rejected_reps"] == len(grades) - kept
    assert len(_counters(strict_events)) == kept


def test_wrong_exercise_for_the_clip_counts_nothing(engine, curl_clip):
    # Curling the arms is not a squat.
    assert engine.summary("exercise=squat", curl_clip)["counter"] == 0


@pytest.mark.parametrize(("exercise", "clip", "reps"), CLIPS)
def test_counts_without_world_landmarks(engine, request, exercise, clip, reps):
    # Browsers may send image landmarks only.
    poses = [replace(pose, world=None) for pose in request.getfixturevalue(clip)]
    assert engine.summary(f"exercise={exercise}", poses)["counter"] == reps
