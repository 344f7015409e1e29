"""The reference tracker: one person's stream of poses in, events out, counting and scoring
repetitions of a reference movement.

Segmentation, per frame and without DTW: the pose minus the reference's rest pose is projected on
the reference's own excursion directions (weighted by how much each channel moves), which gives a
progress signal, 0 at rest and about 1 where the reference turns. The engine's adaptive hysteresis
detector (tracking.engine.counting.RepDetector) closes excursions on it, whatever the tempo, frame
rate or pauses between repetitions. Each excursion is then trimmed to the foot of its rise and its
return to rest, as the signature was. A repetition is `excursions` consecutive excursions (a dance
step left then right is two), then compared with the reference (comparison.compare).
"""

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from tracking.engine import events as contract
from tracking.engine.body import Coach, ProgressionPacer
from tracking.engine.catalog import DIFFICULTIES
from tracking.engine.counting import RepCandidate
from tracking.engine.filters import OneEuroFilter
from tracking.engine.i18n import spoken
from tracking.engine.metrics import VISIBILITY_GATE, Frame
from tracking.engine.outputs import FrameOutputs
from tracking.engine.pose import LANDMARK_INDEX, Pose
from tracking.engine.posture import READY_STABLE_MS, JointNeeds, PostureGate
from tracking.engine.reference.comparison import Comparison, compare
from tracking.engine.reference.cues import cue_for
from tracking.engine.reference.signature import (
    CHANNELS,
    MAX_TEMPO_RATIO,
    SCALE_QUANTILE,
    TRIM_LEVEL,
    Reference,
    excursion_detector,
    frame_features,
    landmarks_of,
    mirror_channels,
    scale_positions,
)

# The candidate's tail: after the detector closes a rep, wait for the return to rest (TRIM_LEVEL),
# the next movement, or SETTLE_MAX_SHARE of the reference's duration.
SETTLE_MAX_SHARE = 0.25
# The foot of a rise: walking back from the peak, the progress stops falling by RISE_STEP within
# STILL_SHARE_OF_REFERENCE of the reference's duration.
RISE_STEP = 0.05
STILL_SHARE_OF_REFERENCE = 0.15
# Torso length scale: an upper quantile over recent frames (bending forward only shortens it).
SCALE_WINDOW_MS = 3000.0


@dataclass
class _Excursion:
    """One excursion from rest closed by the detector: from its last still frame before the
    movement to the first still frame after it (still: within TRIM_LEVEL of the way from rest to
    the peak, as the signature is trimmed)."""

    candidate: RepCandidate
    start_ms: float
    rest: float  # progress where it started from
    end_ms: float | None = None

    def still_at(self, progress: float) -> bool:
        return progress <= self.rest + TRIM_LEVEL * (self.candidate.peak_progress - self.rest)


@dataclass
class _Attempt:
    start_ms: float
    end_ms: float
    reason: str  # "partial" | "different_movement" | "tempo" | "too_few_frames" | "incomplete"
    comparison: Comparison | None

    def to_dict(self) -> dict:
        details = {
            "reason": self.reason,
            "startMs": round(self.start_ms, 1),
            "endMs": round(self.end_ms, 1),
            "durationMs": round(self.end_ms - self.start_ms),
        }
        if self.comparison is not None:
            details["referenceScore"] = self.comparison.fields()
        return details


@dataclass
class _Rep:
    index: int
    start_ms: float
    end_ms: float
    comparison: Comparison

    def to_history(self) -> dict:
        comparison = self.comparison
        return {
            "index": self.index,
            "formScore": comparison.score,
            "score": comparison.score,
            "grade": comparison.grade,
            "durationMs": round(self.end_ms - self.start_ms),
            "referenceScore": round(comparison.overall, 3),
            "reference_score": comparison.fields(),
            "mirrored": comparison.mirrored,
            "startMs": round(self.start_ms, 1),
            "endMs": round(self.end_ms, 1),
        }


def _needed_landmarks(reference: Reference) -> tuple[int, ...]:
    names = {"left_shoulder", "right_shoulder", "left_hip", "right_hip"}
    for i, channel in enumerate(CHANNELS):
        if reference.movement[i] > 0 and reference.reliability[i] >= VISIBILITY_GATE:
            names.update(landmarks_of(channel))
    return tuple(sorted(LANDMARK_INDEX[name] for name in names))


class ReferenceTracker:
    """One person's stream of poses in, events out, counting and scoring repetitions of a
    reference movement. Same interface as ExerciseTracker: feed(pose) per frame, then finish().

    `params` is duck-typed (tracking.params.TrackingParams or any object with its fields):
    reference, recommendations, progression, keypoints, angles, blazepose, language,
    difficulty. `mirrored` and `screen`: as open_tracker's."""

    def __init__(self, params, signature: dict, *, mirrored: bool = False, screen: bool = False):
        self.params = params
        self.reference = Reference(signature)
        language = getattr(params, "language", "en")
        self.language = spoken(language)
        difficulty = getattr(params, "difficulty", None) or "medium"
        self.difficulty = DIFFICULTIES.get(difficulty) or DIFFICULTIES["medium"]
        # Easy accepts deviations a fifth larger, hard a fifth smaller.
        self.leniency = 1.0 + 0.2 * self.difficulty.tolerance
        self.want_progression = bool(getattr(params, "progression", False))
        self.outputs = FrameOutputs(
            keypoints=bool(getattr(params, "keypoints", False)),
            angles=bool(getattr(params, "angles", False)),
            blazepose=bool(getattr(params, "blazepose", False)),
            mirrored=mirrored,
        )
        heard = screen or bool(getattr(params, "recommendations", False))
        self.coach = Coach(self.language, heard=heard)
        self.gate = PostureGate(JointNeeds(_needed_landmarks(self.reference)), self.language)

        reference = self.reference
        # Only twitches are too short for an excursion: the tempo is judged on the whole
        # repetition, its lead-in and tail included as in the reference's duration (`_verify`).
        self.detector = excursion_detector(reference.duration_ms, 0.0, self.difficulty)
        self.smoother = OneEuroFilter()
        self._buffer_ms = MAX_TEMPO_RATIO * reference.duration_ms + 1000.0
        # (time, channel values, channel visibility, smoothed progress) of recent frames.
        self._frames: deque[tuple[float, np.ndarray, np.ndarray, float]] = deque()
        self._torso: deque[tuple[float, float]] = deque()
        # Channels not seen yet read as the reference's rest: neutral for the progress.
        self._last_seen = reference.rest.copy()
        self._settling: _Excursion | None = None
        self._settle_low: tuple[float, float] = (math.inf, 0.0)  # (progress, t)
        self._excursions: list[_Excursion] = []

        self.reps: list[_Rep] = []
        self.attempts: list[_Attempt] = []
        self._first_t: float | None = None
        self._last_t: float | None = None
        self._progression = ProgressionPacer()
        self.finished = False

    # -- per frame ----------------------------------------------------------------------------

    def feed(self, pose: Pose) -> list[dict]:
        t = pose.timestamp_ms
        if self._first_t is None:
            self._first_t = t
        self._last_t = t
        features = frame_features(pose)
        frame = Frame(pose) if pose.landmarks is not None else None
        events: list[dict] = []
        was_ready = self.gate.ready
        posture, _ = self.gate.update(t, frame)
        if posture is not None:
            events.append(posture)
        if was_ready and not self.gate.ready:
            self._abandon()
        events.extend(self.outputs.events(frame, pose.frame_id, t))
        if features is not None and self.gate.state != "lost":
            events.extend(self._track(t, *features))
        return events

    def _scale(self, t: float, torso: float) -> float:
        window = self._torso
        window.append((t, torso))
        while window[0][0] < t - SCALE_WINDOW_MS:
            window.popleft()
        lengths = sorted(length for _, length in window)
        return lengths[int(SCALE_QUANTILE * (len(lengths) - 1))]

    def _track(self, t: float, values: np.ndarray, seen: np.ndarray, torso: float) -> list[dict]:
        if self._frames and t <= self._frames[-1][0]:
            return []  # a repeated or out-of-order timestamp carries no new movement
        values = scale_positions(values, self._scale(t, torso))
        # Channels unseen this frame keep their last seen value: a wrist briefly hidden at the top
        # of a raise must not look like a return to rest.
        values = np.where(seen > 0, values, self._last_seen)
        self._last_seen = values
        both_ways = np.stack((values, mirror_channels(values)))
        progress = float(self.reference.progress_of(both_ways).max())
        progress = self.smoother(progress, t)
        frames = self._frames
        frames.append((t, values, seen, progress))
        while frames[0][0] < t - self._buffer_ms:
            frames.popleft()
        detector = self.detector
        candidate = detector.update(t, progress)
        if not self.gate.ready:
            # Warming up: the detector learns the rest position, nothing counts yet.
            self._settling = None
            return []
        events: list[dict] = []
        if self._settling is not None:
            events.extend(self._settle(t, progress, detector.in_rep))
        if candidate is not None:
            self._settling = self._lead_in(candidate)
            self._settle_low = (math.inf, t)
            events.extend(self._settle(t, progress, False))
        if self.want_progression:
            event = self._progression_event(t)
            if event is not None:
                events.insert(0, event)
        return events

    def _lead_in(self, candidate: RepCandidate) -> _Excursion:
        """Where the excursion really started: the foot of the rise to its peak.

        Walking back from the peak to the lower half of the excursion, then on until the progress
        stops falling (by RISE_STEP within STILL_SHARE_OF_REFERENCE of the reference's duration)
        or rises again: the rest level is the lowest progress seen, and the start the last frame
        within TRIM_LEVEL of it. The detector's own start can lie much earlier, when the person
        paused a little way from rest before the repetition."""
        before = [
            (t, progress)
            for t, _, _, progress in self._frames
            if candidate.start_ms <= t <= candidate.peak_ms
        ]
        if not before:
            rest = candidate.peak_progress - candidate.depth
            return _Excursion(candidate, candidate.start_ms, rest)
        still_ms = max(READY_STABLE_MS, STILL_SHARE_OF_REFERENCE * self.reference.duration_ms)
        half_way = candidate.peak_progress - candidate.depth / 2
        lowest = step_level = candidate.peak_progress
        step_t = candidate.peak_ms
        foot = []
        for t, progress in reversed(before):
            if progress < step_level - RISE_STEP:
                step_level, step_t = progress, t
            elif progress <= half_way and (progress > lowest + RISE_STEP or step_t - t > still_ms):
                break
            lowest = min(lowest, progress)
            foot.append((t, progress))
        excursion = _Excursion(candidate, foot[-1][0], lowest)
        for t, progress in foot:
            if excursion.still_at(progress):
                excursion.start_ms = t
                break
        return excursion

    def _settle(self, t: float, progress: float, moving_again: bool) -> list[dict]:
        """Follow a closed excursion's tail back to rest, then judge it."""
        excursion = self._settling
        if progress < self._settle_low[0]:
            self._settle_low = (progress, t)
        waited = t - excursion.candidate.end_ms >= SETTLE_MAX_SHARE * self.reference.duration_ms
        if excursion.still_at(progress):
            excursion.end_ms = t
        elif waited or moving_again:
            excursion.end_ms = self._settle_low[1]
        else:
            return []
        self._settling = None
        self._excursions.append(excursion)
        return self._judge()

    def _judge(self) -> list[dict]:
        """Enough excursions for one repetition of the reference: compare them with it. An
        excursion that ends up in no repetition is an attempt."""
        needed = self.reference.excursions
        pending = self._excursions
        # Excursions too long before the latest cannot be in the same repetition.
        limit = MAX_TEMPO_RATIO * self.reference.duration_ms
        while len(pending) > 1 and pending[-1].end_ms - pending[0].start_ms > limit:
            self._attempt(pending.pop(0), "incomplete", None)
        if len(pending) < needed:
            return []
        events, failure = self._verify(pending[-needed:])
        if failure is None:
            pending.clear()
        else:
            # The oldest may have been the end of something else: slide by one excursion.
            reason, comparison = failure
            self._attempt(pending.pop(0), reason, comparison)
        return events

    def _verify(self, group: list[_Excursion]) -> tuple[list[dict], tuple | None]:
        """Events for a candidate repetition; None when it was the movement, else why not (a
        reason and the comparison, when one was made)."""
        start_ms, end_ms = group[0].start_ms, group[-1].end_ms
        reference = self.reference
        tempo = (end_ms - start_ms) / reference.duration_ms
        if not 1 / MAX_TEMPO_RATIO <= tempo <= MAX_TEMPO_RATIO:
            return [], ("tempo", None)
        window = [frame for frame in self._frames if start_ms <= frame[0] <= end_ms]
        if len(window) < 3:
            return [], ("too_few_frames", None)
        times = np.array([frame[0] for frame in window])
        values = np.array([frame[1] for frame in window])
        visibility = np.array([frame[2] for frame in window])
        comparison = compare(reference, times, values, visibility, self.leniency)
        events: list[dict] = []
        failure = None
        if not all(excursion.candidate.reached for excursion in group):
            failure = ("partial", comparison)
        elif not comparison.matches:
            failure = ("different_movement", comparison)
        else:
            for excursion in group:
                self.detector.counted(excursion.candidate.depth)
            events.extend(self._count(_Rep(len(self.reps) + 1, start_ms, end_ms, comparison)))
        cue = cue_for(reference, comparison)
        events.extend(self.coach.event(end_ms, [cue] if cue is not None else []))
        return events, failure

    def _count(self, rep: _Rep) -> list[dict]:
        self.reps.append(rep)
        fields = rep.comparison.fields()
        form_score = contract.scores(score=rep.comparison.score, average=self.average_score)
        events = []
        if self.want_progression:
            events.append(self._progression_value(rep.end_ms, 100, force=True))
        events.extend(
            [
                contract.counter(
                    current_count=len(self.reps), form_score=form_score, reference_score=fields
                ),
                contract.form_score(**form_score),
                contract.reference_score(comparison=fields, rep_index=rep.index),
            ]
        )
        return [event for event in events if event is not None]

    def _attempt(self, excursion: _Excursion, reason: str, comparison) -> None:
        self.attempts.append(_Attempt(excursion.start_ms, excursion.end_ms, reason, comparison))

    def _abandon(self) -> None:
        """The person was lost: forget the movement in progress."""
        self.detector.reset()
        self.smoother.reset()
        self._settling = None
        self._excursions.clear()
        self._frames.clear()
        self._progression.reset()

    # -- progression --------------------------------------------------------------------------

    def _progression_event(self, t: float) -> dict | None:
        """0-100 through the current repetition (all its excursions); 100 is sent when it counts."""
        done = len(self._excursions) % self.reference.excursions
        if self._settling is not None:
            done += 1
            current = 0.0
        else:
            current = self.detector.progression if self.detector.in_rep else 0.0
        value = 100.0 * (done + min(current, 99.0) / 100.0) / self.reference.excursions
        return self._progression_value(t, min(99, round(value)))

    def _progression_value(self, t: float, value: int, force: bool = False) -> dict | None:
        if not self._progression.due(t, value, force):
            return None
        return contract.progression(value=value)

    # -- reporting ----------------------------------------------------------------------------

    @property
    def average_score(self) -> float | None:
        if not self.reps:
            return None
        return sum(rep.comparison.score for rep in self.reps) / len(self.reps)

    def finish(self) -> list[dict]:
        if self.finished:
            return []
        self.finished = True
        events: list[dict] = []
        if self._settling is not None and self.gate.ready:
            # The stream ended during the tail of a repetition: judge what was seen.
            self._settling.end_ms = self._settle_low[1]
            self._excursions.append(self._settling)
            self._settling = None
            events.extend(event for event in self._judge() if event["type"] not in ("progression",))
        first = self._first_t if self._first_t is not None else 0.0
        last = self._last_t if self._last_t is not None else first
        reps = self.reps
        similarity = sum(rep.comparison.overall for rep in reps) / len(reps) if reps else None
        events.append(
            contract.counter(
                current_count=len(reps),
                final=True,
                form_score=contract.scores(score=None, average=self.average_score),
            )
        )
        reference_id = getattr(self.params, "reference", None)
        results = {
            "counter": len(reps),
            "reps": len(reps),
            "attempts": len(self.attempts),
            "rejected_reps": 0,  # minGrade does not apply to references (contract §2.3)
            "avg_similarity": round(similarity, 3) if similarity is not None else None,
            **contract.average_fields(self.average_score),
            "history": [rep.to_history() for rep in reps],
            "rejected": [],
            "attempt_details": [attempt.to_dict() for attempt in self.attempts],
            "reference_duration_ms": round(self.reference.duration_ms),
            "unit": "reps",
        }
        events.append(
            contract.exercise_summary(
                exercise=None,
                reference=str(reference_id) if reference_id is not None else None,
                kind="reference",
                difficulty=getattr(self.params, "difficulty", None),
                results=results,
                first_ms=first,
                last_ms=last,
            )
        )
        return events
