"""The events table (tracking/event_table.py) against what FormTrack really sends: its samples are
built by the event constructors, every constructor has its row, and the events of real sessions
have no field the table (and so docs/compatibility.md) leaves out."""

import inspect
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.support import synthetic
from tests.support.clips import SQUAT_CLIP, clip_poses
from tracking.engine import events
from tracking.engine.jumps import JumpAnalyzer
from tracking.engine.tracker import open_tracker
from tracking.event_table import BY_TYPE, EVENTS, NOT_IN_CONTRACT
from tracking.management.commands import compatibility_doc
from tracking.params import parse_tracking_params

ROOT = Path(__file__).resolve().parents[1]
# Public helpers of events.py that build no event of their own: parts of events, and the live
# sessions' move of timestampMs to Unix time.
PARTS = {"scores", "average_fields", "physical_test_analysis", "on_wall_clock"}
PARTS |= {"workout_next", "workout_set", "workout_step_result"}  # of the workout events


def fields_sent(session_events) -> dict[str, set[str]]:
    sent: dict[str, set[str]] = {}
    for event in session_events:
        sent.setdefault(event["type"], set()).update(event)
    return sent


def assert_in_the_table(session_events):
    for kind, names in fields_sent(session_events).items():
        assert kind in BY_TYPE, kind
        assert names - {"type"} <= set(BY_TYPE[kind].fields), (
            kind,
            names - set(BY_TYPE[kind].fields),
        )


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: event.type)
def test_every_row_is_well_formed(event):
    assert event.sample()["type"] == event.type
    assert event.section.startswith("4.") or event.section == NOT_IN_CONTRACT
    assert event.when.endswith(".")
    if event.section == NOT_IN_CONTRACT:
        assert not event.contract and event.status == "extended"
    assert set(event.missing) | set(event.conditional) <= set(event.contract)
    assert not set(event.missing) & set(event.fields)
    unaccounted = set(event.contract) - set(event.fields) - set(event.conditional)
    assert unaccounted == set(event.missing), event.type
    assert (ROOT / event.built_by).is_file()


def test_every_event_constructor_has_its_row():
    constructors = {
        name
        for name, function in inspect.getmembers(events, inspect.isfunction)
        if function.__module__ == events.__name__ and not name.startswith("_")
    }
    built_here = {event.type for event in EVENTS if event.built_by == "tracking/engine/events.py"}
    assert constructors - PARTS == built_here


def test_the_live_pages_own_event_sends_the_fields_the_table_lists():
    script = (ROOT / BY_TYPE["environment"].built_by).read_text()
    for name in BY_TYPE["environment"].fields:
        assert f"{name}:" in script or f" {name}," in script or f" {name} " in script, name


def test_a_real_squat_session_sends_no_field_the_table_leaves_out():
    params = parse_tracking_params(
        "token=t&exercise=squat&keypoints=true&angles=true&progression=true&recommendations=true"
    )
    tracker = open_tracker(params)
    sent = [event for pose in clip_poses(SQUAT_CLIP) for event in tracker.feed(pose)]
    sent += tracker.finish()
    assert {"posture", "counter", "form_score", "keypoints", "exercise_summary"} <= {
        event["type"] for event in sent
    }
    assert_in_the_table(sent)


def test_a_jump_session_sends_no_field_the_table_leaves_out():
    take = synthetic.generate("jump_analysis", fps=60, view="front", jump_heights_cm=[20, 40])
    analyzer = JumpAnalyzer(
        SimpleNamespace(
            exercise="jump_analysis", user_height_cm=175.0, device_pitch_deg=None, language="en"
        )
    )
    sent = [event for pose in take.poses for event in analyzer.feed(pose)] + analyzer.finish()
    assert {"jump_calibration", "jump_started", "jump_height", "jump_result"} <= {
        event["type"] for event in sent
    }
    assert_in_the_table(sent)


def test_a_stale_events_section_is_caught_and_rewritten():
    text = compatibility_doc.DOC.read_text()
    stale = text.replace("| `counter` | 4.3 |", "| `counter` | 4.2 |")
    assert stale != text
    assert compatibility_doc.updated(stale) == text


def test_a_real_range_of_motion_session_sends_no_field_the_table_leaves_out():
    params = parse_tracking_params(
        "token=t&exercise=knee_rom&keypoints=true&angles=true&progression=true&recommendations=true"
    )
    tracker = open_tracker(params)
    clip = SQUAT_CLIP.with_name("health-knee-rom.mp4")
    sent = [event for pose in clip_poses(clip) for event in tracker.feed(pose)]
    sent += tracker.finish()
    assert {"posture", "rom_measurement", "rom_summary"} <= {event["type"] for event in sent}
    assert_in_the_table(sent)
