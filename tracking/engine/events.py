"""The engine's events: one constructor per event type, the one place their fields are named.

What each event means, when it is sent, and examples: docs/events.md. Events are plain dicts ready
for JSON, keys in the documented order (stored upload events keep it). The engine computes the
values; these functions only give them their contract names (and their rounding: every timestampMs
in whole milliseconds, the jump events' measurements shared by the live and the final one).
"""

from tracking.engine.scoring import grade_for


def _ms(t: float) -> int:
    """A timestamp as a person would write it: whole milliseconds (10200, not 10200.000000000002
    from a 10 fps clip's frame times)."""
    return round(t)


def on_wall_clock(events: list[dict], origin_ms: float) -> list[dict]:
    """`timestampMs` as the contract has it (a Unix time in milliseconds) for a live session whose
    time 0 was at Unix time `origin_ms`. The engine counts in the tracker's own time; only these
    stamps are moved. Uploads keep the time within the video."""
    for event in events:
        if "timestampMs" in event:
            event["timestampMs"] = _ms(origin_ms + event["timestampMs"])
    return events


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
        "timestampMs": _ms(timestamp_ms),
        "score": score,
        "data": points,
        "keypoints": points,
    }


def keypoints_batch(*, frames: list[dict]) -> dict:
    return {"type": "keypoints_batch", "frames": frames}


def angles(*, frame_id: int | None, timestamp_ms: float, sides: dict) -> dict:
    return {"type": "angles", "frameId": frame_id, "timestampMs": _ms(timestamp_ms), "data": sides}


def progression(*, value: int, phase: str | None = None) -> dict:
    """`phase` (repetition exercises only) names the rep's phase in the exercise's words."""
    event = {"type": "progression", "value": value}
    if phase is not None:
        event["phase"] = phase
    return event


def scores(*, score: float | None, average: float | None) -> dict | None:
    """The `form_score` object of counter events (and the fields of form_score): this rep's or
    hold's score (None: the average's) and the average so far. None while nothing was scored: a
    tracker that counted nothing has no grade, rather than an F for a person never seen."""
    if score is None:
        score = average
    if score is None:
        return None
    return {
        "score": round(score),
        "avg_score": round(average, 1) if average is not None else 0,
        "grade": grade_for(score),
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
    sent by reference trackers (`kind` "reference")."""
    summary = {"type": "exercise_summary", "exercise": exercise}
    if kind == "reference":
        summary["reference"] = reference
    summary |= {"kind": kind, "difficulty": difficulty, **results}
    summary |= {
        "durationMs": round(last_ms - first_ms),
        "total_time_ms": round(last_ms - first_ms),
        "timestampMs": _ms(last_ms),
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
        "timestampMs": _ms(timestamp_ms),
    }


def jump_started(*, message: str, timestamp_ms: float) -> dict:
    return {"type": "jump_started", "message": message, "timestampMs": _ms(timestamp_ms)}


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
        "timestampMs": _ms(timestamp_ms),
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
        "timestampMs": _ms(timestamp_ms),
    }


def jump_discarded(*, reason: str, message: str, timestamp_ms: float) -> dict:
    return {
        "type": "jump_discarded",
        "reason": reason,
        "userMessage": message,
        "timestampMs": _ms(timestamp_ms),
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
        "timestampMs": _ms(timestamp_ms),
    }


# -- range of motion --------------------------------------------------------------------------


def _rom_reading(
    *,
    joint: str,
    movement: str,
    side: str,
    view: str,
    degrees: float,
    uncertainty: float,
    normal: tuple[float, float],
    source: str,
    held_ms: float,
) -> dict:
    """One measured movement: the held peak in degrees (0 in the anatomical position) ± its
    uncertainty, the published normal range and the share of it reached."""
    low, high = normal
    return {
        "joint": joint,
        "movement": movement,
        "side": side,
        "view": view,
        "degrees": round(degrees, 1),
        "uncertainty": round(uncertainty, 1),
        "normalRange": [low, high],
        "normalSource": source,
        "shareOfNormal": round(degrees / high, 2),
        "heldMs": round(held_ms),
    }


def rom_measurement(*, assessment: str, attempt: int, timestamp_ms: float, **reading) -> dict:
    """One attempt's held peak (`attempt`: its number for this side and movement, from 1);
    `timestampMs`: when the peak was held. `reading`: _rom_reading's fields."""
    return {
        "type": "rom_measurement",
        "assessment": assessment,
        **_rom_reading(**reading),
        "attempt": attempt,
        "timestampMs": _ms(timestamp_ms),
    }


def rom_summary(
    *, assessment: str, results: list[dict], disclaimer: str, first_ms: float, last_ms: float
) -> dict:
    """The end of an assessment: its best measurement per side and movement (`results`: their
    rom_measurement events), with how many attempts each had."""
    best: dict[tuple[str, str, str], dict] = {}
    attempts: dict[tuple[str, str, str], int] = {}
    for result in results:
        key = (result["joint"], result["movement"], result["side"])
        attempts[key] = attempts.get(key, 0) + 1
        if key not in best or result["degrees"] > best[key]["degrees"]:
            best[key] = result
    keep = ("type", "assessment", "attempt", "timestampMs")
    return {
        "type": "rom_summary",
        "assessment": assessment,
        "results": [
            {name: value for name, value in result.items() if name not in keep}
            | {"attempts": attempts[key]}
            for key, result in best.items()
        ],
        "disclaimer": disclaimer,
        "durationMs": round(last_ms - first_ms),
        "timestampMs": _ms(last_ms),
    }


# Not the engine's own: the upload lifecycle (tracking.uploads) and what a page or live session
# ignored of its request (tracking.params).


def initialization(
    *,
    message: str,
    ready: bool,
    source: str,
    upload_id: str,
    status: str,
    progress: int | None = None,
) -> dict:
    """An upload's progress (contract §4.2 "initialization"): `source` video or image, `status`
    the upload's (queued, processing, done); `progress` 0-100 until it is done."""
    event = {
        "type": "initialization",
        "message": message,
        "ready": ready,
        "source": source,
        "uploadId": upload_id,
        "status": status,
    }
    if progress is not None:
        event["progress"] = progress
    return event


def export_ready(*, url: str) -> dict:
    """`url`: a signed link to the annotated MP4 (PoseTracker: a blob URL)."""
    return {"type": "export_ready", "url": url}


def image_overlay(*, url: str) -> dict:
    """`url` and `image`: the same signed link to the photo with the skeleton drawn (PoseTracker:
    a data URL)."""
    return {"type": "image_overlay", "url": url, "image": url}


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


# -- workouts (FormTrack's own: tracking.engine.tracker.WorkoutTracker) ------------------------


def workout_started(
    *,
    workout_id: str | None,
    name: str | None,
    steps: list[dict],
    timestamp_ms: float,
    start: tuple[int, int] | None = None,
) -> dict:
    """`steps`: each step's WorkoutStep.to_dict(), with its 1-based `index`. `start`: the
    (step, set), 1-based, a reconnected page continues from; None from the first set."""
    return {
        "type": "workout_started",
        "workout": workout_id,
        "name": name,
        "steps": steps,
        "from": {"index": start[0], "set": start[1]} if start else None,
        "timestampMs": _ms(timestamp_ms),
    }


def workout_next(*, index: int, set_number: int, step: dict) -> dict:
    """What comes after a set or a rest: the step (its to_dict) and which of its sets."""
    return {
        "index": index,
        "set": set_number,
        "exercise": step["exercise"],
        "reference": step["reference"],
        "target": step["target"],
        "unit": step["unit"],
    }


def workout_step(
    *,
    index: int,
    steps: int,
    set_number: int,
    step: dict,
    done: bool,
    next_step: dict | None,
    timestamp_ms: float,
    count: int | None = None,
    reps: int | None = None,
) -> dict:
    """A set starts (`done` false) or ends (`done` true, with its `count` in the target's unit;
    `reps` too when a time target counted reps). `index`, `set`: 1-based; `steps`: how many."""
    event = {
        "type": "workout_step",
        "index": index,
        "steps": steps,
        "set": set_number,
        "sets": step["sets"],
        "exercise": step["exercise"],
        "reference": step["reference"],
        "target": step["target"],
        "unit": step["unit"],
        "done": done,
    }
    if done:
        event["count"] = count
        if reps is not None:
            event["reps"] = reps
    event |= {"next": next_step, "timestampMs": _ms(timestamp_ms)}
    return event


def rest(*, seconds_left: int, seconds: int, next_step: dict, timestamp_ms: float) -> dict:
    """At the start of a rest, then each time its whole seconds left go down (never 0: the next
    set's workout_step ends it)."""
    return {
        "type": "rest",
        "secondsLeft": seconds_left,
        "seconds": seconds,
        "next": next_step,
        "timestampMs": _ms(timestamp_ms),
    }


def workout_set(
    *, set_number: int, count: int, reps: int | None, completed: bool, summary: dict
) -> dict:
    """One set of a step in workout_summary: `summary`, its tracker's exercise_summary."""
    result = {"set": set_number, "count": count}
    if reps is not None:
        result["reps"] = reps
    return result | {
        "completed": completed,
        "average_score": summary["average_score"],
        "grade": summary["grade"],
        "durationMs": summary["durationMs"],
    }


def workout_step_result(
    *, index: int, step: dict, history: list[dict], average: float | None, duration_ms: int
) -> dict:
    """One step in workout_summary: its sets (`history`, workout_set's), their total `count`
    against `target` × `sets`, the average score of their reps or holds and its grade."""
    total = {"count": sum(result["count"] for result in history)}
    if any("reps" in result for result in history):
        total["reps"] = sum(result.get("reps", 0) for result in history)
    return {
        "index": index,
        **step,
        "setsDone": sum(result["completed"] for result in history),
        **total,
        **average_fields(average),
        "durationMs": duration_ms,
        "history": history,
    }


def workout_summary(
    *,
    workout_id: str | None,
    name: str | None,
    completed: bool,
    steps: list[dict],
    first_ms: float,
    last_ms: float,
) -> dict:
    """When the last set ends (`completed`), or when the session finishes before. `steps`:
    workout_step_result's, every step of the workout (those not reached with no sets)."""
    return {
        "type": "workout_summary",
        "workout": workout_id,
        "name": name,
        "completed": completed,
        "steps": steps,
        "durationMs": round(last_ms - first_ms),
        "timestampMs": _ms(last_ms),
    }
