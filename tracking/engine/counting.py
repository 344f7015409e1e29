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
- a rep shorter than the exercise's `min_rep_ms` is noise. All timing is in milliseconds.

A movement that left rest and came back without reaching the count threshold, but went past the
floor, is an attempt.
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


@dataclass(frozen=True)
class RepCandidate:
    start_ms: float
    end_ms: float
    peak_ms: float
    depth: float  # deepest excursion from rest, progress units
    peak_progress: float  # progress at the deepest point (textbook scale)
    threshold: float
    reached: bool

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
        shared = min(self.end_ms, other.end_ms) - max(self.start_ms, other.start_ms)
        shorter = min(self.duration_ms, other.duration_ms)
        return max(0.0, shared) / shorter if shorter > 0 else 0.0


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
        "threshold",
        "reached",
        "progression",
        "_depths",
        "last_update_ms",
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
        self.reached = False
        self.progression = 0.0
        self.last_update_ms: float | None = None
        self._last_p = 0.0

    @property
    def in_rep(self) -> bool:
        return self.phase != 0

    def seed_rest(self, progress: float, seen_ms: float) -> None:
        """Start from a known rest position: the most start-like one seen while getting ready,
        and when the person was last there (a rep may begin before counting does)."""
        self.top = self.home = progress
        self.rest_ms = seen_ms

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
        last_t = self.last_update_ms
        dt = t_ms - last_t if last_t is not None else 0.0
        speed = (progress - self._last_p) / dt * 1000.0 if dt > 0 else 0.0
        self.last_update_ms, self._last_p = t_ms, progress
        if self.rest_ms is None:
            self.rest_ms = t_ms
        if self.top is None:
            self.top = self.home = progress
            return None
        leave = self.counting.floor / 2
        excursion = progress - self.top
        if self.phase == 0:
            return self._at_rest(t_ms, progress, excursion, leave, dt, speed)
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
        if excursion <= RETURN_SHARE * self.depth:
            return self._returned(t_ms, progress)
        if self.reached:
            span = max(self.depth * (1 - RETURN_SHARE), 1e-6)
            self.progression = 50.0 + 50.0 * min(1.0, max(0.0, (self.depth - excursion) / span))
        else:
            self.progression = 50.0 * min(1.0, max(0.0, excursion / self.threshold))
        return None

    def _at_rest(self, t_ms, progress, excursion, leave, dt, speed) -> None:
        self.progression = 0.0
        still = abs(speed) < STILL_SPEED
        if excursion <= 0.0:
            self.top = progress
        elif still and dt > 0:
            self.top += excursion * min(1.0, dt / REST_FOLLOW_MS)
        self.still_ms = self.still_ms + dt if still else 0.0
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

    def _returned(self, t_ms: float, progress: float) -> RepCandidate | None:
        candidate = RepCandidate(
            start_ms=self.start_ms,
            end_ms=t_ms,
            peak_ms=self.peak_ms,
            depth=self.depth,
            peak_progress=self.peak_progress,
            threshold=self.threshold,
            reached=self.reached,
        )
        self.phase, self.top, self.rest_ms = 0, progress, t_ms
        self.depth, self.reached = 0.0, False
        too_short = candidate.duration_ms < self.counting.min_rep_ms
        if too_short or candidate.depth < self.counting.floor:
            self.progression = 0.0
            return None
        self.progression = 100.0 if candidate.reached else 0.0
        return candidate
