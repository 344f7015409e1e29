"""The engine's events: one constructor per event type, the one place their fields are named.

What each event means, when it is sent, and examples: docs/events.md. Events are plain dicts ready
for JSON, keys in the documented order (stored upload events keep it). The engine computes the
values; these functions only give them their contract names (and the jump events their rounding,
shared by the live and the final measurement).
"""

from tracking.engine.scoring import grade_for


def posture(
    *,
    message: str,
    direction: str,
    ready: bool,
    requirements: list[str],
    missing_keypoints: list[str],
) -> dict:
    # placementMessage and postureDirection: the older names PoseTracker's own HTML and Expo
    # examples read (contract §4.3), sent beside the current ones.
    return {
        "type": "posture",
        "message": message,
        "direction": direction,
        "ready": ready,
        "requirements": requirements,
        "missing_keypoints": missing_keypoints,
        "placementMessage": message,
        "postureDirection": direction,
    }


def keypoints(
    *, frame_id: int | None, timestamp_ms: float, score: float, points: list[dict]
) -> dict:
    """`data` and `keypoints` are the same list: both shapes of the contract."""
    return {
        "type": "keypoints",
        "frameId": frame_id,
        "timestampMs": timestamp_ms,
        "score": score,
        "data": points,
        "keypoints": points,
    }


def keypoints_batch(*, frames: list[dict]) -> dict:
    return {"type": "keypoints_batch", "frames": frames}


def angles(*, frame_id: int | None, timestamp_ms: float, sides: dict) -> dict:
    return {"type": "angles", "frameId": frame_id, "timestampMs": timestamp_ms, "data": sides}


def progression(*, value: int, phase: str | None = None) -> dict:
    """`phase` (repetition exercises only) names the rep's phase in the exercise's words."""
    event = {"type": "progression", "value": value}
    if phase is not None:
        event["phase"] = phase
    return event


def scores(*, score: float | None, average: float | None) -> dict:
    """The `form_score` object of counter events (and the fields of form_score): this rep's or
    hold's score (None: the average's) and the average so far; 0 and F before there is any."""
    if score is None:
        score = average
    return {
        "score": round(score) if score is not None else 0,
        "avg_score": round(average, 1) if average is not None else 0,
        "grade": grade_for(score) if score is not None else "F",
    }


def counter(
    *,
    current_count: int,
    form_score: dict | None = None,
    final: bool = False,
    reference_score: dict | None = None,
    analysis: dict | None = None,
) -> dict:
    """`analysis`: a physical test's reading of this repetition (physical_test_analysis)."""
    event = {"type": "counter", "current_count": current_count}
    if final:
        event["final"] = True
    if form_score is not None:
        event["form_score"] = form_score
    if reference_score is not None:
        event["reference_score"] = reference_score
    if analysis is not None:
        event["analysis"] = analysis
    return event


def physical_test_analysis(
    *,
    peaks: dict,
    flags: dict,
    camera: dict,
    disclaimer: str,
    method: str,
    tone: str,
    title: str,
    text: str,
) -> dict:
    """A physical test's `analysis` (contract §4.7); `flags` is added (the contract lists the
    flags without saying where they go)."""
    return {
        "peaks": peaks,
        "flags": flags,
        "camera": camera,
        "disclaimer": disclaimer,
        "method": method,
        "interpretation": {"tone": tone, "title": title, "text": text},
        "opinion": True,
    }


def form_score(*, score: int, avg_score: float, grade: str) -> dict:
    return {"type": "form_score", "score": score, "avg_score": avg_score, "grade": grade}


def recommendations(*, cues: list[str]) -> dict:
    return {"type": "recommendations", "data": cues, "recommendations": list(cues)}


def reference_score(*, comparison: dict, rep_index: int) -> dict:
    """`comparison`: the scores of one counted repetition against the reference (overallScore ...
    grade). Every matching repetition counts: minGrade does not apply to references."""
    return {"type": "reference_score", **comparison, "repIndex": rep_index, "counted": True}


def average_fields(average: float | None) -> dict:
    """The summary's average score and its grade (None before the first rep or hold)."""
    rounded = round(average, 1) if average is not None else None
    return {
        "avg_rep_score": rounded,
        "average_score": rounded,
        "grade": grade_for(average) if average is not None else None,
    }


def exercise_summary(
    *,
    exercise: str | None,
    kind: str,
    difficulty: str | None,
    results: dict,
    first_ms: float,
    last_ms: float,
    reference: str | None = None,
) -> dict:
    """`results`: the analysis' own fields (counter, reps, history...); the reference's id is
    sent by reference sessions (`kind` "reference")."""
    summary = {"type": "exercise_summary", "exercise": exercise}
    if kind == "reference":
        summary["reference"] = reference
    summary |= {"kind": kind, "difficulty": difficulty, **results}
    summary |= {
        "durationMs": round(last_ms - first_ms),
        "total_time_ms": round(last_ms - first_ms),
        "timestampMs": last_ms,
    }
    return summary


# -- jumps ------------------------------------------------------------------------------------


def jump_calibration(
    *,
    cm_per_pixel: float,
    baseline_y: float,
    visible_hips: dict,
    message: str,
    timestamp_ms: float,
) -> dict:
    return {
        "type": "jump_calibration",
        "calibrated": True,
        "cmPerPixel": round(cm_per_pixel, 4),
        "baselineY": round(baseline_y, 1),
        "visibleHips": visible_hips,
        "message": message,
        "timestampMs": timestamp_ms,
    }


def jump_started(*, message: str, timestamp_ms: float) -> dict:
    return {"type": "jump_started", "message": message, "timestampMs": timestamp_ms}


def _flight(height_cm: float, air_time_s: float) -> dict:
    return {
        "jumpHeightCm": round(height_cm, 1),
        "airTimeMs": round(air_time_s * 1000.0),
        "airTimeSeconds": round(air_time_s, 3),
    }


def _hips(baseline_y: float, min_y: float, side_used: str | None, visible_hips: dict) -> dict:
    """The hips' measurement in pixels: their standing line and their highest point."""
    return {
        "baselineY": round(baseline_y, 1),
        "minY": round(min_y, 1),
        "deltaPixels": round(baseline_y - min_y, 1),
        "sideUsed": side_used,
        "visibleHips": visible_hips,
    }


def jump_height(
    *,
    height_cm: float,
    air_time_s: float,
    baseline_y: float,
    min_y: float,
    side_used: str | None,
    visible_hips: dict,
    landed: bool,
    timestamp_ms: float,
) -> dict:
    """While in the air (`landed` False: the height so far), and once landed (final)."""
    return {
        "type": "jump_height",
        **_flight(height_cm, air_time_s),
        **_hips(baseline_y, min_y, side_used, visible_hips),
        "measuring": not landed,
        "landed": landed,
        "final": landed,
        "timestampMs": timestamp_ms,
    }


def jump_result(
    *,
    jump_number: int,
    height_cm: float,
    air_time_s: float,
    ground_contact_ms: float | None,
    hip_height_cm: float | None,
    takeoff_ms: float,
    landing_ms: float,
    baseline_y: float,
    min_y: float,
    side_used: str | None,
    visible_hips: dict,
    timestamp_ms: float,
) -> dict:
    return {
        "type": "jump_result",
        "jumpNumber": jump_number,
        **_flight(height_cm, air_time_s),
        "groundContactMs": None if ground_contact_ms is None else round(ground_contact_ms),
        "hipHeightCm": None if hip_height_cm is None else round(hip_height_cm, 1),
        "takeoffMs": round(takeoff_ms, 1),
        "landingMs": round(landing_ms, 1),
        **_hips(baseline_y, min_y, side_used, visible_hips),
        "timestampMs": timestamp_ms,
    }


def jump_discarded(*, reason: str, message: str, timestamp_ms: float) -> dict:
    return {
        "type": "jump_discarded",
        "reason": reason,
        "userMessage": message,
        "timestampMs": timestamp_ms,
    }


# What jump_summary lists of each jump_result.
JUMP_FIELDS = ("jumpNumber", "jumpHeightCm", "airTimeMs", "airTimeSeconds", "groundContactMs")


def jump_summary(*, results: list[dict], timestamp_ms: float) -> dict:
    """The jumps so far (`results`: their jump_result events)."""
    heights = [result["jumpHeightCm"] for result in results]
    count = len(heights)
    air_time = sum(result["airTimeSeconds"] for result in results)
    return {
        "type": "jump_summary",
        "totalJumps": count,
        "avgJumpHeight": round(sum(heights) / count, 1) if count else 0.0,
        "maxJumpHeight": max(heights, default=0.0),
        "minJumpHeight": min(heights, default=0.0),
        "avgAirTimeSeconds": round(air_time / count, 3) if count else 0.0,
        "jumps": [{key: result[key] for key in JUMP_FIELDS} for result in results],
        "timestampMs": timestamp_ms,
    }


# Not the engine's own: what a page or live session ignored of its request (tracking.params).


def warning(*, code: str, message: str, parameters: list[str], problems: list[dict]) -> dict:
    """`parameters`: the parameters concerned, as sent; `problems`: one {code, param, message}
    each. `code` and `error` hold the same value, as in the page's other warnings."""
    return {
        "type": "warning",
        "code": code,
        "error": code,
        "message": message,
        "parameters": parameters,
        "details": {"problems": problems},
    }
