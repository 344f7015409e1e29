"""Repetition detection on one smoothed progress signal: hysteresis that adapts to the person.

Progress is 0 at the exercise's textbook start position and 1 at its textbook turn (see the
catalog). The detector measures every movement from where the person actually rests (`top`, which
follows them), so a person who stands with slightly bent knees, or lies a little differently, still
counts. One rep is: leave the rest position, go past the count threshold, come back most of the way.
A rep must also start from the person's home position (where their reps start, or where they were
when counting began), so jitter while holding the bottom of a movement is never a rep; home follows
the person when they settle somewhere still for HOME_SETTLE_MS.

Thresholds, in progress units (1.0 = the textbook range):
- leaving rest: half the exercise's floor;
- counting: the first rep needs `max(floor, difficulty.first_rep)`; later reps need
  `clamp(difficulty.adapt * median(last 5 rep depths), floor, difficulty.ceiling)`, so a
  person with a short range keeps counting, a person with a long range is not asked for more than
  the ceiling, and nothing below the floor (a twitch) ever counts;
- returning: back within 35 % of the rep's own depth (hysteresis that scales with the rep);
- starting from home: within `max(floor, threshold / 2)` of it;
- a rep shorter than the exercise's `min_rep_ms` is noise: timed from when it left rest to when it
  came back, each between the two frames around it, so that no frame rate shortens it. All timing
  is in milliseconds.

A movement that left rest and came back without reaching the count threshold, but went past the
floor, is an attempt.

Most sets start at rest at the top, so a person first seen past the count threshold is mid-rep
and that fragment is not a rep. An exercise whose sets may start at the bottom
(`Counting.bottom_start`: a deadlift from the floor) is in a rep there instead, measured from the
textbook start, and it counts when the person reaches the top: that half of a rep needs half of
`min_rep_ms`.
"""

from collections import deque
from dataclasses import dataclass
from statistics import median

from tracking.engine.catalog import Counting, Difficulty

RETURN_SHARE = 0.35
ADAPT_WINDOW = 5
MAX_REP_MS = 20_000.0
# While at rest and still, the rest position follows the person with this time constant.
REST_FOLLOW_MS = 3_000.0
STILL_SPEED = 0.25  # progress per second
HOME_SETTLE_MS = 2_000.0
# Still this long at rest before a first rep: its start was seen (not a person caught mid-rep).
SETTLED_MS = 250.0


@dataclass(frozen=True)
class RepCandidate:
    start_ms: float
    end_ms: float
    peak_ms: float
    depth: float  # deepest excursion from rest, progress units
    peak_progress: float  # progress at the deepest point (textbook scale)
    threshold: float
    reached: bool
    # False when the movement was already under way when the person was first seen (or the set
    # started at the bottom): its duration is then only a lower bound.
    start_seen: bool = True

    @property
    def duration_ms(self) -> float:
        return self.end_ms - self.start_ms

    @property
    def descent_ms(self) -> float:
        return self.peak_ms - self.start_ms

    @property
    def ascent_ms(self) -> float:
        return self.end_ms - self.peak_ms

    def overlap_share(self, other: "RepCandidate") -> float:
        """Shared time over the shorter of the two reps."""
        shorter = min(self.duration_ms, other.duration_ms)
        return self._shared_ms(other) / shorter if shorter > 0 else 0.0

    def coincidence(self, other: "RepCandidate") -> float:
        """Shared time over the longer of the two reps: 1 when they start and end together."""
        longer = max(self.duration_ms, other.duration_ms)
        return self._shared_ms(other) / longer if longer > 0 else 0.0

    def _shared_ms(self, other: "RepCandidate") -> float:
        return max(0.0, min(self.end_ms, other.end_ms) - max(self.start_ms, other.start_ms))


class RepDetector:
    """Phases: 0 top (at rest), 1 descent, 2 bottom (past the threshold), 3 ascent."""

    __slots__ = (
        "counting",
        "difficulty",
        "phase",
        "top",
        "home",
        "still_ms",
        "depth",
        "peak_ms",
        "peak_progress",
        "start_ms",
        "rest_ms",
        "left_ms",
        "threshold",
        "reached",
        "progression",
        "_depths",
        "last_update_ms",
        "from_bottom",
        "settled",
        "_last_p",
    )

    def __init__(self, counting: Counting, difficulty: Difficulty):
        self.counting = counting
        self.difficulty = difficulty
        self._depths: deque[float] = deque(maxlen=ADAPT_WINDOW)
        self.threshold = self._next_threshold()
        self.reset()

    def reset(self) -> None:
        """Forget the rest position and any rep in progress (the person was lost)."""
        self.phase = 0
        self.top: float | None = None
        self.home: float | None = None
        self.still_ms = 0.0
        self.depth = 0.0
        self.peak_ms = 0.0
        self.peak_progress = 0.0
        self.start_ms = 0.0
        self.rest_ms: float | None = None
        self.left_ms = 0.0
        self.reached = False
        self.progression = 0.0
        self.last_update_ms: float | None = None
        self.from_bottom = False
        self.settled = False  # seen at rest (still, or back from a movement) since first seen
        self._last_p = 0.0

    @property
    def in_rep(self) -> bool:
        return self.phase != 0

    def counted(self, depth: float) -> None:
        """A rep from this detector counted: learn the person's range of motion."""
        self._depths.append(depth)
        self.threshold = self._next_threshold()

    def _next_threshold(self) -> float:
        counting, difficulty = self.counting, self.difficulty
        if not self._depths:
            return max(counting.floor, difficulty.first_rep)
        adapted = difficulty.adapt * median(self._depths)
        return min(max(adapted, counting.floor), max(difficulty.ceiling, counting.floor))

    def update(self, t_ms: float, progress: float) -> RepCandidate | None:
        last_t, last_p = self.last_update_ms, self._last_p
        dt = t_ms - last_t if last_t is not None else 0.0
        speed = (progress - last_p) / dt * 1000.0 if dt > 0 else 0.0
        self.last_update_ms, self._last_p = t_ms, progress
        if self.rest_ms is None:
            self.rest_ms = t_ms
        if self.top is None:
            self.top = self.home = progress
            if self.counting.bottom_start and progress >= self.threshold:
                self.top = self.home = 0.0
                self.phase, self.start_ms, self.from_bottom = 2, t_ms, True
                self.depth, self.peak_ms, self.peak_progress = progress, t_ms, progress
                self.reached = True
            return None
        leave = self.counting.floor / 2
        excursion = progress - self.top
        if self.phase == 0:
            return self._at_rest(t_ms, progress, excursion, leave, dt, speed, last_t, last_p)
        if t_ms - self.start_ms > MAX_REP_MS:
            # Stayed away far too long (sat down, walked off): start over from here.
            self.phase, self.top, self.progression = 0, progress, 0.0
            return None
        if excursion > self.depth:
            self.depth, self.peak_ms, self.peak_progress = excursion, t_ms, progress
        if self.depth >= self.threshold:
            self.reached = True
        back = max(0.05, 0.15 * self.depth)
        if excursion >= self.depth - back:
            self.phase = 2 if self.reached else 1
        else:
            self.phase = 3
        returned = RETURN_SHARE * self.depth
        if excursion <= returned:
            back_ms = _crossing(last_t, last_p - self.top, t_ms, excursion, returned)
            return self._returned(t_ms, progress, back_ms)
        if self.reached:
            span = max(self.depth * (1 - RETURN_SHARE), 1e-6)
            self.progression = 50.0 + 50.0 * min(1.0, max(0.0, (self.depth - excursion) / span))
        else:
            self.progression = 50.0 * min(1.0, max(0.0, excursion / self.threshold))
        return None

    def _at_rest(self, t_ms, progress, excursion, leave, dt, speed, last_t, last_p) -> None:
        self.progression = 0.0
        if excursion > leave / 4 and self.rest_ms == last_t:
            # Leaving rest: when, between the last frame at rest and this one.
            self.left_ms = _crossing(last_t, last_p - self.top, t_ms, excursion, leave / 4)
        still = abs(speed) < STILL_SPEED
        if excursion <= 0.0:
            self.top = progress
        elif still and dt > 0:
            self.top += excursion * min(1.0, dt / REST_FOLLOW_MS)
        self.still_ms = self.still_ms + dt if still else 0.0
        self.settled = self.settled or self.still_ms >= SETTLED_MS
        if self.top < self.home or self.still_ms >= HOME_SETTLE_MS:
            self.home = self.top
        if excursion <= leave / 4:
            self.rest_ms = t_ms
        near_home = self.top - self.home <= max(self.counting.floor, self.threshold / 2)
        if excursion > leave and near_home:
            self.phase = 1
            self.start_ms = self.rest_ms
            self.depth, self.peak_ms, self.peak_progress = excursion, t_ms, progress
            self.reached = excursion >= self.threshold
        return None

    def _returned(self, t_ms: float, progress: float, back_ms: float) -> RepCandidate | None:
        candidate = RepCandidate(
            start_ms=self.start_ms,
            end_ms=t_ms,
            peak_ms=self.peak_ms,
            depth=self.depth,
            peak_progress=self.peak_progress,
            threshold=self.threshold,
            reached=self.reached,
            start_seen=self.settled and not self.from_bottom,
        )
        self.settled = True
        self.phase, self.top, self.rest_ms = 0, progress, t_ms
        self.depth, self.reached = 0.0, False
        # How long the movement took, from the moment it left rest to the moment it came back,
        # each between the two frames around it: the same at any frame rate.
        if self.from_bottom:
            took_ms, min_ms = back_ms - self.start_ms, self.counting.min_rep_ms / 2
        else:
            took_ms, min_ms = back_ms - self.left_ms, self.counting.min_rep_ms
        self.from_bottom = False
        too_short = took_ms < min_ms
        if too_short or candidate.depth < self.counting.floor:
            self.progression = 0.0
            return None
        self.progression = 100.0 if candidate.reached else 0.0
        return candidate


def _crossing(t0: float | None, value0: float, t1: float, value1: float, level: float) -> float:
    """When a signal sampled at t0 and t1 crossed `level`, linearly between the two samples."""
    if t0 is None or value1 == value0:
        return t1
    share = (level - value0) / (value1 - value0)
    return t0 + min(1.0, max(0.0, share)) * (t1 - t0)
