import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

CLIPS = Path(__file__).parent / "fixtures" / "clips"
pytestmark = pytest.mark.django_db


def analyze(*args) -> str:
    out = io.StringIO()
    call_command("analyze", *args, stdout=out)
    return out.getvalue()


@pytest.mark.slow
def test_analyze_prints_the_summary_of_a_real_clip():
    output = analyze(str(CLIPS / "fitness-squat-counter.mp4"), "--exercise", "squat")
    assert output.startswith("squat: 4 reps, grade ")
    assert output.count("  rep ") == 4


@pytest.mark.slow
def test_analyze_json_prints_every_event_as_a_json_line():
    lines = analyze(str(CLIPS / "fitness-biceps-curls.mp4"), "--exercise", "bicep_curl", "--json")
    events = [json.loads(line) for line in lines.splitlines()]
    assert all("type" in e for e in events)
    assert events[-1]["type"] == "exercise_summary" and events[-1]["counter"] == 6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/file.mp4", "--exercise", "squat"], "is not a file"),
        ([str(CLIPS / "fitness-squat-counter.mp4"), "--exercise", "squatz"], "squatz"),
        ([str(CLIPS / "fitness-squat-counter.mp4"), "--param", "minGrade"], "NAME=VALUE"),
        (
            [
                str(CLIPS / "fitness-squat-counter.mp4"),
                "--reference",
                "1c8a7b2e-0000-4000-8000-0000000000aa",
            ],
            "No ready reference",
        ),
    ],
)
def test_analyze_reports_bad_input_clearly(args, message):
    with pytest.raises(CommandError, match=message):
        analyze(*args)
