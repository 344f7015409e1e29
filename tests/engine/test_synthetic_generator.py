"""The synthetic motion generator: a sound skeleton, a sound camera, and ground truth to test on."""

import math
import time

import numpy as np
import pytest

from tests.support import synthetic
from tracking.engine.catalog import EXERCISES
from tracking.engine.metrics import Frame
from tracking.engine.pose import LANDMARK_INDEX, LANDMARK_NAMES

SEGMENTS = [
    ("shoulder", "elbow"),
    ("elbow", "wrist"),
    ("wrist", "index"),
    ("hip", "knee"),
    ("knee", "ankle"),
    ("ankle", "heel"),
    ("ankle", "foot_index"),
    ("heel", "foot_index"),
]
LEFT = [i for i, name in enumerate(LANDMARK_NAMES) if name.startswith("left_")]
RIGHT = [i for i, name in enumerate(LANDMARK_NAMES) if name.startswith("right_")]


def _world(take) -> np.ndarray:
    return np.array([pose.world for pose in take.poses])


def _image(take) -> np.ndarray:
    return np.array([pose.landmarks for pose in take.poses])


def _frame_at(take, seconds: float) -> Frame:
    times = np.array([pose.timestamp_ms for pose in take.poses]) / 1000.0
    return Frame(take.poses[int(np.argmin(np.abs(times - seconds)))])


def _turn(take) -> Frame:
    """The frame at the turn of the second rep (or the middle of the first hold)."""
    if take.reps:
        return _frame_at(take, take.reps[1].peak_s)
    return _frame_at(take, sum(take.holds[0]) / 2)


# Assessments are checked on real people (tests/engine/test_rom.py): the generator has no
# range-of-motion movements.
@pytest.mark.parametrize("exercise", sorted(e.id for e in EXERCISES.values() if not e.rom))
def test_every_catalog_exercise_streams_with_ground_truth(exercise):
    take = synthetic.generate(exercise, reps=3)
    kind = EXERCISES[exercise].kind
    assert take.exercise == exercise
    assert len(take.poses) > 60
    if kind == "repetition":
        assert take.rep_count == 3
        starts = [start for start, _ in take.rep_times]
        assert starts == sorted(starts)
        assert all(rep.start_s < rep.peak_s < rep.end_s for rep in take.reps)
        assert take.reps[0].start_s == pytest.approx(1.5)
    elif kind == "duration":
        assert take.holds == [(2.5, 2.5 + synthetic.HOLD_S)]
    else:
        assert len(take.flights) == 3
        assert all(flight.height_cm == synthetic.JUMP_HEIGHT_CM for flight in take.flights)


@pytest.mark.parametrize(
    ("exercise", "fault"),
    [(e, None) for e in sorted(synthetic.FAULTS)]
    + [(e, f) for e in sorted(synthetic.FAULTS) for f in sorted(synthetic.FAULTS[e])],
)
def test_segment_lengths_stay_constant(exercise, fault):
    take = synthetic.generate(exercise, reps=2, faults={fault: 1.0} if fault else None)
    world = _world(take)
    for side in ("left", "right"):
        for a, b in SEGMENTS:
            lengths = np.linalg.norm(
                world[:, LANDMARK_INDEX[f"{side}_{a}"]] - world[:, LANDMARK_INDEX[f"{side}_{b}"]],
                axis=1,
            )
            assert np.ptp(lengths) < 1e-6, (side, a, b)
    shoulders = np.linalg.norm(
        world[:, LANDMARK_INDEX["left_shoulder"]] - world[:, LANDMARK_INDEX["right_shoulder"]],
        axis=1,
    )
    assert np.ptp(shoulders) < 1e-6


def test_segment_lengths_follow_anthropometry():
    take = synthetic.generate("squat", reps=1, height_cm=180.0)
    world = take.poses[0].world
    thigh = np.linalg.norm(world[LANDMARK_INDEX["left_hip"]] - world[LANDMARK_INDEX["left_knee"]])
    forearm = np.linalg.norm(
        world[LANDMARK_INDEX["left_elbow"]] - world[LANDMARK_INDEX["left_wrist"]]
    )
    assert thigh == pytest.approx(synthetic.THIGH * 1.8)
    assert forearm == pytest.approx(synthetic.FOREARM * 1.8)


@pytest.mark.parametrize("exercise", sorted(synthetic.FAULTS))
@pytest.mark.parametrize("view", ["front", "side"])
def test_landmarks_stay_inside_the_image(exercise, view):
    landmarks = _image(synthetic.generate(exercise, reps=2, view=view))
    assert landmarks[:, :, :2].min() > 0.05
    assert landmarks[:, :, :2].max() < 0.95


def test_moving_closer_makes_the_body_bigger():
    far = synthetic.generate("squat", reps=1, camera_distance_m=4.0)
    near = synthetic.generate("squat", reps=1, camera_distance_m=2.0)
    assert near.camera.cm_per_px == pytest.approx(far.camera.cm_per_px / 2, rel=0.05)
    spread = [np.ptp(_image(take)[0, :, 1]) for take in (far, near)]
    assert spread[1] == pytest.approx(2 * spread[0], rel=0.05)


def test_the_far_side_is_barely_visible_side_on():
    side = _image(synthetic.generate("squat", reps=1, view="side", occlusion=1.0))
    # Facing the image's right, the right side is nearest the camera.
    assert side[:, LEFT, 3].max() < 0.5
    assert side[:, RIGHT, 3].min() > 0.9
    front = _image(synthetic.generate("squat", reps=1, view="front", occlusion=1.0))
    assert front[:, LEFT + RIGHT, 3].min() > 0.9


def test_side_views_face_the_way_asked():
    for view, way in (("side", 1.0), ("side_left", -1.0)):
        frame = Frame(synthetic.generate("squat", reps=1, view=view).poses[0])
        assert frame.metric("facing") == way
    # Facing left, the left side is the near one.
    side_left = _image(synthetic.generate("squat", reps=1, view="side_left", occlusion=1.0))
    assert side_left[:, LEFT, 3].min() > 0.9


def test_mirror_swaps_the_sides_in_the_image():
    plain = synthetic.generate("squat", reps=1)
    mirrored = synthetic.generate("squat", reps=1, mirror=True)
    left, right = LANDMARK_INDEX["left_shoulder"], LANDMARK_INDEX["right_shoulder"]
    # Facing the camera, the left shoulder is on the image's right; the selfie preview swaps it.
    assert plain.poses[0].landmarks[left, 0] > plain.poses[0].landmarks[right, 0]
    assert mirrored.poses[0].landmarks[left, 0] < mirrored.poses[0].landmarks[right, 0]
    np.testing.assert_allclose(_image(mirrored)[:, :, 0], 1 - _image(plain)[:, :, 0])
    np.testing.assert_allclose(_world(mirrored)[:, :, 0], -_world(plain)[:, :, 0])


def test_a_seed_makes_a_take_reproducible():
    options = {"noise_px": 2.0, "drop_rate": 0.1, "tempo_jitter": 0.2, "timing_jitter": 0.3}
    first = synthetic.generate("lunge", seed=7, **options)
    again = synthetic.generate("lunge", seed=7, **options)
    other = synthetic.generate("lunge", seed=8, **options)
    np.testing.assert_array_equal(_image(first), _image(again))
    assert [p.timestamp_ms for p in first.poses] == [p.timestamp_ms for p in again.poses]
    assert len(first.poses) != len(other.poses) or not np.array_equal(_image(first), _image(other))


def test_noise_is_landmark_jitter_of_the_size_asked():
    clean = _image(synthetic.generate("squat", seed=3))
    noisy = synthetic.generate("squat", seed=3, noise_px=2.0)
    width, height = noisy.poses[0].image_width, noisy.poses[0].image_height
    jitter = (_image(noisy)[:, :, :2] - clean[:, :, :2]) * [width, height]
    assert np.std(jitter) == pytest.approx(2.0, rel=0.05)
    assert abs(np.mean(jitter)) < 0.05


def test_timestamps_drops_and_jitter():
    steady = synthetic.generate("squat", fps=60.0, reps=2)
    times = np.diff([pose.timestamp_ms for pose in steady.poses])
    np.testing.assert_allclose(times, 1000.0 / 60.0)
    dropped = synthetic.generate("squat", fps=60.0, reps=2, drop_rate=0.3)
    assert 0.6 < len(dropped.poses) / len(steady.poses) < 0.8
    ids = [pose.frame_id for pose in dropped.poses]
    assert ids == sorted(ids) and ids[-1] > len(ids)
    jittered = synthetic.generate("squat", fps=60.0, reps=2, timing_jitter=0.5)
    gaps = np.diff([pose.timestamp_ms for pose in jittered.poses])
    assert gaps.min() > 0 and np.ptp(gaps) > 5.0


def test_reps_alternate_sides_where_the_exercise_does():
    lunge = synthetic.generate("lunge", reps=4)
    assert [rep.side for rep in lunge.reps] == ["left", "right", "left", "right"]
    assert all(rep.side is None for rep in synthetic.generate("squat", reps=2).reps)


def test_depth_and_tempo_shape_each_rep():
    take = synthetic.generate("squat", reps=3, view="side", depth=[1.0, 0.4, 1.0], tempo_s=2.0)
    assert [round(end - start, 6) for start, end in take.rep_times] == [2.0, 2.0, 2.0]
    knees = [_frame_at(take, rep.peak_s).metric("knee_angle", "right") for rep in take.reps]
    assert knees[0] < 80 and knees[2] < 80
    assert knees[1] > 120


# What each fault does, read with the engine's own measurements: (exercise, view, fault,
# metric, side, the clean take's value must be on this side of `limit` and the faulty one beyond).
FAULT_EFFECTS = [
    ("squat", "front", "knees_caving", "knee_feet_ratio", None, 0.7),
    ("squat", "side", "forward_lean", "torso_lean", "right", 45.0),
    ("squat", "side", "shallow", "knee_angle", "right", 100.0),
    ("push_up", "side", "hips_sagging", "body_line", "right", 165.0),
    ("push_up", "side", "hips_piking", "body_line", "right", 200.0),
    ("lunge", "side", "knee_over_toe", "front_shin_lean", None, 20.0),
    ("bicep_curl", "side", "elbows_drifting", "upper_arm_angle", "right", 30.0),
    ("bicep_curl", "side", "leaning_back", "torso_lean", "right", -12.0),
    ("shoulder_press", "front", "incomplete_lockout", "elbow_angle", "left", 150.0),
    ("lateral_raise", "front", "too_high", "wrist_height", "left", 0.4),
    ("glute_bridge", "side", "feet_too_far", "knee_angle", "right", 130.0),
    ("calf_raise", "side", "bent_knees", "knee_angle", "right", 155.0),
    ("sit_up", "side", "partial_range", "torso_elevation", "right", 45.0),
    ("plank", "side", "hips_low", "body_line", "right", 165.0),
    ("plank", "side", "hips_high", "body_line", "right", 200.0),
    ("wall_sit", "side", "too_high", "knee_angle", "right", 105.0),
    ("deadlift", "side", "knees_too_bent", "knee_angle", "right", 110.0),
    ("tricep_dip", "side", "torso_leaning_forward", "torso_lean", "right", 25.0),
]


@pytest.mark.parametrize(("exercise", "view", "fault", "metric", "side", "limit"), FAULT_EFFECTS)
def test_faults_show_in_the_measurements_peers_use(exercise, view, fault, metric, side, limit):
    clean = _turn(synthetic.generate(exercise, reps=2, view=view)).metric(metric, side)
    faulty = _turn(synthetic.generate(exercise, reps=2, view=view, faults={fault: 1.0}))
    faulty = faulty.metric(metric, side)
    assert (clean - limit) * (faulty - limit) < 0, (clean, faulty)


def test_a_fault_can_hit_one_rep_only():
    take = synthetic.generate("push_up", reps=3, view="side", faults={"hips_sagging": [0, 1, 0]})
    lines = [_frame_at(take, rep.peak_s).metric("body_line", "right") for rep in take.reps]
    assert lines[0] > 170 and lines[2] > 170 and lines[1] < 160
    assert [rep.faults["hips_sagging"] for rep in take.reps] == [0, 1, 0]


def test_bad_requests_are_refused():
    with pytest.raises(ValueError, match="no fault"):
        synthetic.generate("squat", faults={"hips_sagging": 1.0})
    with pytest.raises(ValueError, match="unknown exercise"):
        synthetic.generate("moonwalk")
    with pytest.raises(ValueError, match="3 repetitions"):
        synthetic.generate("squat", reps=3, depth=[1.0, 0.5])
    with pytest.raises(ValueError, match="0..1"):
        synthetic.generate("squat", faults={"shallow": 1.5})


@pytest.mark.parametrize(
    ("exercise", "low", "high"),
    [
        ("squat", 80, 95),
        ("push_up", 0, 30),
        ("plank", 0, 30),
        ("mountain_climber", 0, 30),
        ("glute_bridge", -30, 10),
        ("leg_raise", -30, 10),
        ("sit_up", -30, 10),
        ("tricep_dip", 70, 95),
    ],
)
def test_bodies_lie_or_stand_as_the_exercise_starts(exercise, low, high):
    """Torso above the horizontal (side-on, degrees) in the start position."""
    take = synthetic.generate(exercise, reps=1, view="side")
    frame = Frame(take.poses[0])
    shoulder, hip = LANDMARK_INDEX["right_shoulder"], LANDMARK_INDEX["right_hip"]
    rise = math.degrees(
        math.atan2(frame.y[hip] - frame.y[shoulder], abs(frame.x[shoulder] - frame.x[hip]))
    )
    assert low <= rise <= high


def test_a_balance_touchdown_splits_the_hold():
    take = synthetic.generate("balance_leg_left", hold_s=10.0, faults={"touchdown": 1.0})
    assert len(take.holds) == 2
    (start, first_end), (second_start, end) = take.holds
    assert start == 2.5 and end == 12.5
    assert second_start - first_end == pytest.approx(synthetic.TOUCHDOWN_S + 0.6)
    middle = _frame_at(take, (first_end + second_start) / 2)
    held = _frame_at(take, (start + first_end) / 2)
    assert middle.metric("foot_lift", "right") < 0.05 < 0.3 < held.metric("foot_lift", "right")


def test_jumps_fly_exactly_as_long_as_their_height_needs():
    take = synthetic.generate("jump_analysis", jump_heights_cm=[20, 45], view="side", fps=240)
    times = np.array([pose.timestamp_ms for pose in take.poses]) / 1000.0
    hips = _image(take)[:, [LANDMARK_INDEX["left_hip"], LANDMARK_INDEX["right_hip"]], 1]
    hip_px = hips.mean(axis=1) * take.poses[0].image_height
    for flight in take.flights:
        assert flight.air_time_s == pytest.approx(math.sqrt(8 * flight.height_cm / 100 / 9.81))
        # The hips rise by the jump's height from take-off to the top of the flight (they stay at
        # one depth from a level camera, so the scale at the hips holds).
        top = flight.takeoff_s + flight.air_time_s / 2
        rise_px = np.interp(flight.takeoff_s, times, hip_px) - np.interp(top, times, hip_px)
        assert rise_px * take.camera.cm_per_px == pytest.approx(flight.height_cm, abs=0.3)


def test_stand_still_and_noise_only():
    still = synthetic.stand_still(4.0, exercise="jump_analysis", noise_px=0.0)
    landmarks = _image(still)
    assert np.ptp(landmarks[:, :, :2], axis=0).max() < 1e-9
    assert not still.reps and not still.flights
    empty = synthetic.noise_only(4.0, detection_rate=0.3)
    seen = [pose for pose in empty.poses if pose.landmarks is not None]
    assert 0.15 < len(seen) / len(empty.poses) < 0.45
    assert max(pose.landmarks[:, 3].max() for pose in seen) <= 0.4


def test_a_long_take_is_fast():
    started = time.perf_counter()
    take = synthetic.generate("squat", reps=60, fps=60.0, noise_px=1.0)
    assert len(take.poses) > 9000
    assert time.perf_counter() - started < 2.0
