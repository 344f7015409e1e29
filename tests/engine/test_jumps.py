"""Jump analysis on synthetic jumps with exactly known take-offs, landings and heights."""

from dataclasses import replace
from types import SimpleNamespace

import pytest

from tests.support import synthetic
from tracking.engine.jumps import JumpAnalyzer

HEIGHTS = [10, 20, 30, 40, 50, 60]
# air_time_jump refuses jumps under 10 cm: keep its lowest test jump clear of that line.
AIR_HEIGHTS = [12, 20, 30, 40, 50, 60]
FOOT_LANDMARKS = [27, 28, 29, 30, 31, 32]
SUMMARY_FIELDS = {
    "type",
    "totalJumps",
    "avgJumpHeight",
    "maxJumpHeight",
    "minJumpHeight",
    "avgAirTimeSeconds",
    "jumps",
    "timestampMs",
}


def analyze(take, exercise="jump_analysis", height_cm=175.0, pitch=None, language="en"):
    """Every event for the take, finish() included."""
    params = SimpleNamespace(
        exercise=exercise, user_height_cm=height_cm, device_pitch_deg=pitch, language=language
    )
    analyzer = JumpAnalyzer(params)
    events = []
    for pose in take.poses:
        events.extend(analyzer.feed(pose))
    return events + analyzer.finish()


def of(events, kind):
    return [event for event in events if event["type"] == kind]


def errors(take, events):
    results = of(events, "jump_result")
    assert len(results) == len(take.flights), of(events, "jump_discarded")
    return [r["jumpHeightCm"] - f.height_cm for r, f in zip(results, take.flights, strict=True)]


@pytest.mark.parametrize(
    ("exercise", "heights"), [("jump_analysis", HEIGHTS), ("air_time_jump", AIR_HEIGHTS)]
)
@pytest.mark.parametrize("view", ["front", "side"])
def test_heights_within_2_cm_at_60_fps(exercise, heights, view):
    take = synthetic.generate(
        exercise, fps=60, view=view, jump_heights_cm=heights, noise_px=1.0, occlusion=0.5
    )
    assert max(map(abs, errors(take, analyze(take, exercise)))) <= 2.0


@pytest.mark.parametrize("seed", range(3))
def test_heights_within_4_cm_at_30_fps_with_noise_and_uneven_frames(seed):
    take = synthetic.generate(
        "jump_analysis",
        fps=30,
        view="side" if seed % 2 else "front",
        jump_heights_cm=HEIGHTS,
        noise_px=2.0,
        occlusion=0.5,
        timing_jitter=0.3,
        drop_rate=0.05,
        seed=seed,
    )
    assert max(map(abs, errors(take, analyze(take)))) <= 4.0


def test_take_off_and_landing_are_found_between_frames():
    take = synthetic.generate("air_time_jump", fps=30, jump_heights_cm=[25, 45], noise_px=0.5)
    results = of(analyze(take, "air_time_jump"), "jump_result")
    frame_ms = 1000 / 30
    for result, flight in zip(results, take.flights, strict=True):
        assert abs(result["takeoffMs"] - flight.takeoff_s * 1000) < frame_ms / 3
        assert abs(result["landingMs"] - flight.landing_s * 1000) < frame_ms / 3
        assert result["airTimeMs"] == pytest.approx(flight.air_time_s * 1000, abs=frame_ms / 2)


def test_a_session_of_jumps_numbers_times_and_sums_them():
    take = synthetic.generate("jump_analysis", fps=60, jump_heights_cm=[20, 35, 50], tempo_s=1.0)
    events = analyze(take)
    results = of(events, "jump_result")
    assert [r["jumpNumber"] for r in results] == [1, 2, 3]
    assert results[0]["groundContactMs"] is None
    for result, before, flight in zip(results[1:], take.flights, take.flights[1:], strict=False):
        contact = (flight.takeoff_s - before.landing_s) * 1000
        assert result["groundContactMs"] == pytest.approx(contact, abs=10)
    # A running summary after every jump, and the final one from finish().
    summaries = of(events, "jump_summary")
    assert [s["totalJumps"] for s in summaries] == [1, 2, 3, 3]
    final = summaries[-1]
    heights = [r["jumpHeightCm"] for r in results]
    assert final["maxJumpHeight"] == max(heights) and final["minJumpHeight"] == min(heights)
    assert final["avgJumpHeight"] == pytest.approx(sum(heights) / 3, abs=0.05)
    assert final["avgAirTimeSeconds"] == pytest.approx(
        sum(r["airTimeSeconds"] for r in results) / 3, abs=0.001
    )
    assert [j["jumpHeightCm"] for j in final["jumps"]] == heights


@pytest.mark.parametrize("view", ["front", "side"])
@pytest.mark.parametrize("height_cm", [160.0, 190.0])
def test_calibration_scale_is_close_to_the_camera_truth(view, height_cm):
    take = synthetic.generate("jump_analysis", view=view, height_cm=height_cm, jump_heights_cm=[30])
    calibration = of(analyze(take, height_cm=height_cm), "jump_calibration")
    assert len(calibration) == 1
    assert calibration[0]["cmPerPixel"] == pytest.approx(take.camera.cm_per_px, rel=0.03)


def test_the_hips_cross_check_the_flight():
    take = synthetic.generate("jump_analysis", view="side", fps=60, jump_heights_cm=[20, 40, 60])
    for result, flight in zip(of(analyze(take), "jump_result"), take.flights, strict=True):
        assert result["hipHeightCm"] == pytest.approx(flight.height_cm, rel=0.05, abs=1.0)
        assert result["deltaPixels"] == pytest.approx(result["baselineY"] - result["minY"], abs=0.2)


@pytest.mark.parametrize("pitch", [20.0, -20.0])
def test_camera_tilt_is_corrected_with_the_device_pitch(pitch):
    take = synthetic.generate(
        "jump_analysis", fps=60, jump_heights_cm=[30, 60], camera_pitch_deg=pitch
    )
    level = of(analyze(take, pitch=pitch), "jump_result")
    for result, flight in zip(level, take.flights, strict=True):
        assert abs(result["jumpHeightCm"] - flight.height_cm) <= 2.0
        assert result["hipHeightCm"] == pytest.approx(flight.height_cm, rel=0.08)
    # Not levelled, the tilted perspective misreads the rising hips (looking down, it can even
    # make the body seem to come closer); flight times need no scale and stay right.
    tilted = of(analyze(take), "jump_result")
    assert tilted
    for result in tilted:
        flight = min(take.flights, key=lambda f: abs(f.takeoff_s * 1000 - result["takeoffMs"]))
        assert abs(result["jumpHeightCm"] - flight.height_cm) <= 2.0
        assert abs(result["hipHeightCm"] - flight.height_cm) > 0.06 * flight.height_cm


def test_moving_toward_the_phone_is_discarded_and_recalibrated():
    take = synthetic.generate(
        "jump_analysis", jump_heights_cm=[30, 30, 30], faults={"toward_camera": [0, 1, 0]}
    )
    events = analyze(take)
    assert [d["reason"] for d in of(events, "jump_discarded")] == ["moved_toward_phone"]
    assert len(of(events, "jump_result")) == 2
    # Standing closer now: ground line and scale are measured again.
    assert len(of(events, "jump_calibration")) == 2


def test_a_flight_too_long_to_be_a_jump_times_out():
    take = synthetic.generate("air_time_jump", jump_heights_cm=[190, 30])
    events = analyze(take, "air_time_jump")
    assert [d["reason"] for d in of(events, "jump_discarded")] == ["jump_timeout"]
    assert len(of(events, "jump_result")) == 1


def test_losing_the_person_mid_jump_discards_it():
    take = synthetic.generate("jump_analysis", jump_heights_cm=[40, 30])
    takeoff = take.flights[0].takeoff_s * 1000
    take.poses = [
        replace(pose, landmarks=None) if takeoff + 60 < pose.timestamp_ms < takeoff + 400 else pose
        for pose in take.poses
    ]
    events = analyze(take)
    assert [d["reason"] for d in of(events, "jump_discarded")] == ["tracking_lost"]
    assert len(of(events, "jump_result")) == 1


def test_a_stream_ending_in_the_air_is_discarded():
    take = synthetic.generate("jump_analysis", jump_heights_cm=[40])
    landing = take.flights[0].landing_s * 1000
    take.poses = [pose for pose in take.poses if pose.timestamp_ms < landing - 100]
    events = analyze(take)
    assert [d["reason"] for d in of(events, "jump_discarded")] == ["tracking_lost"]
    assert events[-1]["type"] == "jump_summary" and events[-1]["totalJumps"] == 0


def test_feet_that_leave_the_ground_line_without_the_hips_are_no_flight():
    take = synthetic.stand_still(5.0, exercise="jump_analysis")
    lifted = []
    for pose in take.poses:
        if 2500 < pose.timestamp_ms < 2700:
            landmarks = pose.landmarks.copy()
            landmarks[FOOT_LANDMARKS, 1] -= 40 / pose.image_height
            pose = replace(pose, landmarks=landmarks)
        lifted.append(pose)
    take.poses = lifted
    events = analyze(take)
    assert [d["reason"] for d in of(events, "jump_discarded")] == ["no_flight_detected"]


@pytest.mark.parametrize(("exercise", "small"), [("jump_analysis", 2.0), ("air_time_jump", 7.0)])
def test_jumps_under_the_minimum_are_too_small(exercise, small):
    take = synthetic.generate(exercise, jump_heights_cm=[small, 30])
    events = analyze(take, exercise)
    assert [d["reason"] for d in of(events, "jump_discarded")] == ["too_small"]
    assert len(of(events, "jump_result")) == 1


def test_air_time_jumps_wait_out_the_cooldown():
    # Played twice as fast, jumps land about 0.75 s apart: inside air_time_jump's 900 ms
    # cooldown, outside jump_analysis's 200 ms.
    take = synthetic.generate("air_time_jump", jump_heights_cm=[60, 60], tempo_s=0.0)
    take.poses = [replace(pose, timestamp_ms=pose.timestamp_ms / 2) for pose in take.poses]
    assert len(of(analyze(take, "air_time_jump"), "jump_result")) == 1
    assert len(of(analyze(take, "jump_analysis"), "jump_result")) == 2


@pytest.mark.parametrize("exercise", ["jump_analysis", "air_time_jump"])
def test_no_jumps_from_standing_still_or_from_noise(exercise):
    for take in (
        synthetic.stand_still(15.0, exercise=exercise, noise_px=3.0, occlusion=0.5, seed=1),
        synthetic.generate("squat", reps=4, noise_px=2.0),
        synthetic.noise_only(10.0),
    ):
        events = analyze(take, exercise)
        assert not of(events, "jump_started") and not of(events, "jump_discarded")
        assert events[-1] == {**events[-1], "type": "jump_summary", "totalJumps": 0}


def test_events_are_shaped_as_the_contract():
    take = synthetic.generate("jump_analysis", jump_heights_cm=[30])
    events = analyze(take)
    postures = of(events, "posture")
    assert postures[0]["ready"] is False and postures[-1]["ready"] is True
    assert set(postures[0]) == {
        "type",
        "message",
        "direction",
        "ready",
        "requirements",
        "missing_keypoints",
        "placementMessage",
        "postureDirection",
    }
    (calibration,) = of(events, "jump_calibration")
    assert calibration["calibrated"] is True
    assert calibration["message"] == "Calibration complete - ready to jump"
    assert set(calibration["visibleHips"]) == {"left", "right"}
    assert {"cmPerPixel", "baselineY"} <= set(calibration)
    (started,) = of(events, "jump_started")
    assert started["message"] == "Jump detected - measuring height"
    heights = of(events, "jump_height")
    live, final = heights[:-1], heights[-1]
    assert live and all(h["measuring"] and not h["landed"] and not h["final"] for h in live)
    assert not final["measuring"] and final["landed"] and final["final"]
    for height in heights:
        assert {
            "jumpHeightCm",
            "baselineY",
            "minY",
            "deltaPixels",
            "sideUsed",
            "airTimeMs",
            "airTimeSeconds",
            "visibleHips",
            "timestampMs",
        } <= set(height)
    (result,) = of(events, "jump_result")
    assert {
        "jumpNumber",
        "jumpHeightCm",
        "airTimeMs",
        "airTimeSeconds",
        "groundContactMs",
        "hipHeightCm",
    } <= set(result)
    assert result["airTimeSeconds"] == pytest.approx(result["airTimeMs"] / 1000, abs=0.001)
    assert set(events[-1]) == SUMMARY_FIELDS
    order = [e["type"] for e in events if e["type"].startswith("jump_")]
    assert order[:2] == ["jump_calibration", "jump_started"]
    assert order[-4:] == ["jump_height", "jump_result", "jump_summary", "jump_summary"]


def test_air_time_jumps_are_not_calibrated():
    events = analyze(synthetic.generate("air_time_jump", jump_heights_cm=[30]), "air_time_jump")
    assert not of(events, "jump_calibration")
    (result,) = of(events, "jump_result")
    assert result["hipHeightCm"] is None


def test_messages_in_french():
    take = synthetic.generate("jump_analysis", jump_heights_cm=[2])
    events = analyze(take, language="fr")
    assert of(events, "jump_calibration")[0]["message"] == "Calibration terminée - prêt à sauter"
    assert of(events, "jump_discarded")[0]["userMessage"].startswith("Saut trop petit")
    assert of(events, "posture")[0]["message"] == "Ne bougez plus..."


def test_posture_until_the_whole_body_is_in_the_frame():
    take = synthetic.generate("jump_analysis", jump_heights_cm=[30])
    empty = synthetic.noise_only(1.0, detection_rate=0.0)
    take.poses = [
        replace(pose, timestamp_ms=pose.timestamp_ms - 1100) for pose in empty.poses
    ] + take.poses
    events = analyze(take)
    first = events[0]
    assert first["type"] == "posture" and first["message"] == "Move fully into the frame"
    assert first["requirements"] == ["full_body_visible"]
    assert len(of(events, "jump_result")) == 1


def test_jump_analysis_needs_the_users_height():
    with pytest.raises(ValueError, match="user_height_cm"):
        JumpAnalyzer(
            SimpleNamespace(
                exercise="jump_analysis", user_height_cm=None, device_pitch_deg=None, language="en"
            )
        )


@pytest.mark.parametrize(
    "query", ["exercise=jump_analysis&userHeightCm=180&devicePitchDeg=5", "exercise=jump"]
)
def test_the_exercise_tracker_sends_jump_events(engine, query):
    take = synthetic.generate("jump_analysis", jump_heights_cm=[25, 45], height_cm=180.0)
    events, final = engine.run(query, take.poses)
    results = of(events, "jump_result")
    assert [r["jumpNumber"] for r in results] == [1, 2]
    for result, flight in zip(results, take.flights, strict=True):
        assert abs(result["jumpHeightCm"] - flight.height_cm) <= 2.0
    assert final[-1]["type"] == "jump_summary" and final[-1]["totalJumps"] == 2
