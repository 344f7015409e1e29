"""Jump analysis (contract §4.6): `jump_analysis` (calibrated from the user's height) and
`air_time_jump` (flight time only).

    analyzer = JumpAnalyzer(params)      # exercise, user_height_cm, device_pitch_deg, language
    events = analyzer.feed(pose)         # per frame
    events = analyzer.finish()           # the final jump_summary

Flow. `posture` events until the whole body is in the frame (PLACEMENT_FRAMES frames in a row) and
then still for STILL_MS; the still window calibrates the ground line (every visible ankle, heel and
toe landmark), the noise level and the body's pixel size; `jump_analysis` also sends
`jump_calibration`. Then each jump sends `jump_started`, live `jump_height` events while in the air,
and either a final `jump_height` + `jump_result` + running `jump_summary`, or `jump_discarded`.
Timestamps drive everything: no frame rate is assumed.

Take-off and landing. The body is airborne while the lowest foot landmark of each foot is above its
ground line by more than a noise threshold. The crossing times are found to a fraction of a frame:
the first (last) airborne samples of the lowest foot point are fitted with a ballistic arc of known
curvature (g in pixels, from the body's pixel height) and the arc is followed back (forward) to the
ground line, within the bracketing frames. Height from flight time: h = g t^2 / 8.

Hip displacement. The hip midpoint's flight is fitted with a parabola; its rise from take-off to the
top, times the calibrated scale, is `hipHeightCm` (jump_analysis). It cross-checks the flight: feet
that leave the ground line while the hips do not rise (a tuck, a tracking glitch) are not a jump.
The reported `jumpHeightCm` is the flight-time height, the validated method (force plates, My Jump):
it needs no scale, where the hip height carries the calibration's error (the user's stated height,
the person's proportions) and the hip's own motion against the centre of mass.

Scale. The still window gives the person's pixel height from the eyes (or nose) to the heels; with
standard anthropometry (eyes at 0.936 of body height, nose 0.91, heel landmarks 0.009 above the
floor) that is EYE_TO_HEEL of the user's height, so cm per pixel = EYE_TO_HEEL * height / pixels,
the head-top correction included.

Camera tilt (`devicePitchDeg`, + when the camera looks up). Tilted by p, the camera sees vertical
lengths near the middle of the image foreshortened by cos p, so at first order vertical distances
scale by 1 / cos p. But that factor is in the standing height too, so it cancels out of anything
measured with the calibrated scale; what does not cancel is perspective: the tilted image plane is
not parallel to the person, the scale changes from the feet to the head, and a hip rising through
the image is read with the wrong scale (-13% at 25 degrees up, +16% at 20 degrees down, measured on
synthetic jumps). So with a pitch every landmark is re-projected to the view of a level camera at
the same place (a rotation of the viewing rays by -p, with a typical phone focal length,
ASSUMED_FOCAL); near the image centre this is exactly the 1 / cos p rule, and away from it, it also
straightens the perspective. Placement is still judged on the camera's own image. `cmPerPixel` is
the scale of that level view at the person's distance. Flight times need no scale and no correction.

Guards: a jump under MIN_HEIGHT_CM (too_small), a flight over MAX_FLIGHT_S (jump_timeout), the body
growing by more than APPROACH_GROWTH in the air or on landing (moved_toward_phone), the person lost
for over LOST_MS in the air (tracking_lost), feet up with the hips not rising (no_flight_detected).
A landing counts after STABLE_LANDING_FRAMES grounded frames; a new take-off is accepted COOLDOWN_MS
after the last landing.
"""

import math
from collections import deque
from dataclasses import dataclass, field

from tracking.engine import events as contract
from tracking.engine.i18n import N_, spoken, translate
from tracking.engine.metrics import VISIBILITY_GATE, Frame, torso_length
from tracking.engine.pose import (
    LEFT_ANKLE,
    LEFT_EYE,
    LEFT_FOOT_INDEX,
    LEFT_HEEL,
    LEFT_HIP,
    LEFT_KNEE,
    LEFT_SHOULDER,
    NOSE,
    RIGHT_ANKLE,
    RIGHT_EYE,
    RIGHT_FOOT_INDEX,
    RIGHT_HEEL,
    RIGHT_HIP,
    RIGHT_KNEE,
    RIGHT_SHOULDER,
    Pose,
)

G = 9.81
EYE_TO_HEEL = 0.927  # eyes (0.936 of height) to the heel landmarks (0.009 above the floor)
NOSE_TO_HEEL = 0.901
# The camera's focal length over the image's longer side, for levelling a tilted camera's view
# (phone cameras span 60 to 75 degrees along the long side: 0.65 to 0.85).
ASSUMED_FOCAL = 0.75
# air_time_jump has no height: this one only sets the arc's curvature in pixels for the sub-frame
# fit, where a 15% error moves the crossing times by well under a millisecond.
ASSUMED_HEIGHT_CM = 170.0
PLACEMENT_FRAMES = 8
PLACEMENT_PADDING = 0.1
STILL_MS = 1000.0
STILL_TOLERANCE = 0.01  # of the body's pixel height: how far hips and feet may drift when still
LOST_MS = 150.0
PERSON_GONE_MS = 500.0
MAX_FLIGHT_S = 1.2
APPROACH_GROWTH = 0.15
STABLE_LANDING_FRAMES = 3
MIN_HEIGHT_CM = {"jump_analysis": 3.0, "air_time_jump": 10.0}
COOLDOWN_MS = {"jump_analysis": 200.0, "air_time_jump": 900.0}
# Airborne threshold: this many noise deviations, and at least this share of the body's height.
NOISE_SIGMAS = 4.0
MIN_LIFT = 0.008
GROUND_TRACKING_MS = 300.0  # time constant of the ground line following the feet between jumps
# The ballistic fit at each end of a flight uses the samples this close to it (seconds).
EDGE_S = 0.06
# Feet off the ground while the hips rise under this share of the flight's height: no flight.
HIP_RISE_SHARE = 0.3

# Each foot's ground contact is read on its toe tip, the last point to leave the floor at take-off
# and the first back on landing; the heel, then the ankle, stand in when the toe is not seen.
FEET = {
    "left": (LEFT_FOOT_INDEX, LEFT_HEEL, LEFT_ANKLE),
    "right": (RIGHT_FOOT_INDEX, RIGHT_HEEL, RIGHT_ANKLE),
}
FOOT_POINTS = FEET["left"] + FEET["right"]
# Landmarks that must be in the frame: each pair on at least one side.
PLACEMENT_NEEDS = (
    ("shoulder", LEFT_SHOULDER, RIGHT_SHOULDER),
    ("hip", LEFT_HIP, RIGHT_HIP),
    ("knee", LEFT_KNEE, RIGHT_KNEE),
    ("ankle", LEFT_ANKLE, RIGHT_ANKLE),
    ("heel", LEFT_HEEL, RIGHT_HEEL),
    ("foot_index", LEFT_FOOT_INDEX, RIGHT_FOOT_INDEX),
)

TEXTS = {
    "move_in": N_("Move fully into the frame"),
    "hold_still": N_("Hold still..."),
    "ready": N_("Ready - tracking started"),
    "calibrated": N_("Calibration complete - ready to jump"),
    "started": N_("Jump detected - measuring height"),
    "moved_toward_phone": N_("You moved toward the phone: jump straight up, in place"),
    "jump_timeout": N_("That was too long for a jump: land on the same floor and try again"),
    "tracking_lost": N_("We lost sight of you during the jump: stay fully in the frame"),
    "no_flight_detected": N_("No flight detected: push off the floor with both feet"),
    "too_small": N_("Jump too small to measure: jump higher"),
}


@dataclass
class _Calibration:
    foot_baselines: dict[int, float]  # image y of each foot landmark on the ground, px
    hip_y: float
    body_px: float
    torso_px: float
    noise_px: float
    cm_per_px_vertical: float  # calibrated (jump_analysis) or assumed (air_time_jump)
    visible_hips: dict[str, bool]

    @property
    def lift_threshold(self) -> float:
        return max(NOISE_SIGMAS * self.noise_px, MIN_LIFT * self.body_px)

    @property
    def gravity_px(self) -> float:
        """g in pixels per second squared."""
        return G * 100.0 / self.cm_per_px_vertical


@dataclass
class _Sample:
    t: float  # ms
    lift: float | None  # px above the ground line of the lower foot; None: feet not seen
    mean_lift: float | None  # of both feet: what the crossing times are fitted on (less noise)
    hip_y: float | None
    torso: float | None


@dataclass
class _Flight:
    samples: list[_Sample] = field(default_factory=list)  # from the last grounded one on
    lost_since: float | None = None
    grounded_frames: int = 0


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _visible(frame: Frame, index: int) -> bool:
    return frame.v[index] >= VISIBILITY_GATE


def _hips(frame: Frame) -> tuple[float | None, str | None, dict[str, bool]]:
    seen = {"left": _visible(frame, LEFT_HIP), "right": _visible(frame, RIGHT_HIP)}
    indices = [i for i, side in ((LEFT_HIP, "left"), (RIGHT_HIP, "right")) if seen[side]]
    if not indices:
        return None, None, seen
    side = "both" if len(indices) == 2 else ("left" if seen["left"] else "right")
    return sum(frame.y[i] for i in indices) / len(indices), side, seen


def _ballistic_crossing(points: list[tuple[float, float]], curvature: float, first: bool) -> float:
    """Where a fall of known curvature (px/s^2 / 2) through `points` (t s, lift px) meets lift 0:
    the earlier root for a take-off, the later for a landing."""
    reference = points[0][0]
    taus = [t - reference for t, _ in points]
    # lift + k tau^2 = c + b tau: a straight line, fitted by least squares.
    values = [lift + curvature * tau * tau for tau, (_, lift) in zip(taus, points, strict=True)]
    count = len(points)
    mean_tau, mean_value = sum(taus) / count, sum(values) / count
    spread = sum((tau - mean_tau) ** 2 for tau in taus)
    slope = (
        sum((tau - mean_tau) * (v - mean_value) for tau, v in zip(taus, values, strict=True))
        / spread
    )
    intercept = mean_value - slope * mean_tau
    root = math.sqrt(max(slope * slope + 4 * curvature * intercept, 0.0))
    tau = (slope - root if first else slope + root) / (2 * curvature)
    return reference + tau


def _edge(run: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The samples near one end of an airborne run (its start; pass it reversed for the end):
    within EDGE_S of the first, at least two, at most half the run."""
    near = [p for p in run[: max(len(run) // 2, 2)] if abs(p[0] - run[0][0]) <= EDGE_S]
    return near if len(near) >= 2 else run[:2]


def _parabola(points: list[tuple[float, float]]) -> tuple[float, float, float] | None:
    """Least-squares y = a t^2 + b t + c through (t, y) points; None when under-determined."""
    if len(points) < 3:
        return None
    reference = points[0][0]
    sums = [0.0] * 5
    rhs = [0.0] * 3
    for t, y in points:
        tau = t - reference
        powers = [1.0, tau, tau * tau, tau**3, tau**4]
        for k in range(5):
            sums[k] += powers[k]
        for k in range(3):
            rhs[k] += powers[k] * y
    # Normal equations for (c, b, a), solved by Cramer's rule.
    m = [[sums[0], sums[1], sums[2]], [sums[1], sums[2], sums[3]], [sums[2], sums[3], sums[4]]]

    def det(x):
        return (
            x[0][0] * (x[1][1] * x[2][2] - x[1][2] * x[2][1])
            - x[0][1] * (x[1][0] * x[2][2] - x[1][2] * x[2][0])
            + x[0][2] * (x[1][0] * x[2][1] - x[1][1] * x[2][0])
        )

    base = det(m)
    if abs(base) < 1e-18:
        return None
    solved = []
    for column in range(3):
        replaced = [row[:] for row in m]
        for row in range(3):
            replaced[row][column] = rhs[row]
        solved.append(det(replaced) / base)
    c, b, a = solved
    # Back to absolute time: a (t - r)^2 + b (t - r) + c.
    return a, b - 2 * a * reference, a * reference * reference - b * reference + c


class JumpAnalyzer:
    def __init__(self, params):
        self.exercise = params.exercise if params.exercise == "jump_analysis" else "air_time_jump"
        self.language = spoken(params.language)
        self.calibrated_height = self.exercise == "jump_analysis"
        if self.calibrated_height and not params.user_height_cm:
            raise ValueError("jump_analysis needs user_height_cm")
        self.user_height_cm = params.user_height_cm
        self.pitch = math.radians(params.device_pitch_deg or 0.0)
        self.min_height_cm = MIN_HEIGHT_CM[self.exercise]
        self.cooldown_ms = COOLDOWN_MS[self.exercise]
        self.state = "placement"  # placement -> still -> ready <-> airborne
        self.calibration: _Calibration | None = None
        self._placed_frames = 0
        self._still: deque[tuple[float, Frame]] = deque()
        self._gone_since: float | None = None
        self._last_posture: tuple | None = None
        self._last_t: float | None = None
        self._recent: deque[_Sample] = deque(maxlen=8)
        self._flight: _Flight | None = None
        self._armed_at = 0.0
        self._last_landing_ms: float | None = None
        self.jumps: list[dict] = []  # the jump_result of each jump

    # -- per frame ----------------------------------------------------------------------------

    def feed(self, pose: Pose) -> list[dict]:
        t = pose.timestamp_ms
        if self._last_t is not None and t <= self._last_t:
            return []  # a repeated or out-of-order frame
        self._last_t = t
        frame = Frame(pose) if pose.landmarks is not None else None
        # Placement is judged on the camera's own image, everything else as if it were level.
        missing = self._missing(frame) if self.state in ("placement", "still") else []
        if frame is not None and self.pitch:
            self._level(frame)
        if self.state in ("placement", "still"):
            return self._place(t, frame, missing)
        sample = self._sample(t, frame)
        if self.state == "airborne":
            return self._in_the_air(sample, frame)
        return self._on_the_ground(sample, frame)

    def finish(self) -> list[dict]:
        events = []
        if self.state == "airborne" and self._last_t is not None:
            events += self._discard("tracking_lost", self._last_t)
        events.append(self._summary(self._last_t or 0.0))
        return events

    # -- placement and calibration ------------------------------------------------------------

    def _missing(self, frame: Frame | None) -> list[str]:
        if frame is None:
            return ["full_body"]
        pad = PLACEMENT_PADDING
        low_x, high_x = pad * frame.width, (1 - pad) * frame.width
        low_y, high_y = pad * frame.height, (1 - pad) * frame.height

        def inside(i: int) -> bool:
            return (
                _visible(frame, i)
                and low_x <= frame.x[i] <= high_x
                and low_y <= frame.y[i] <= high_y
            )

        missing = [] if inside(NOSE) else ["nose"]
        for name, left, right in PLACEMENT_NEEDS:
            if not (inside(left) or inside(right)):
                missing += [f"left_{name}", f"right_{name}"]
        return missing

    def _place(self, t: float, frame: Frame | None, missing: list[str]) -> list[dict]:
        if missing:
            self.state, self._placed_frames = "placement", 0
            self._still.clear()
            return self._posture("move_in", False, ["full_body_visible"], missing)
        self._placed_frames += 1
        self._still.append((t, frame))
        while self._still and not self._steady(self._still):
            self._still.popleft()
        spans = t - self._still[0][0] if self._still else 0.0
        if self._placed_frames < PLACEMENT_FRAMES or spans < STILL_MS:
            self.state = "still"
            return self._posture("hold_still", False, ["hold_still"], [])
        self.calibration = self._calibrate([f for _, f in self._still])
        self._still.clear()
        self._recent.clear()
        self.state = "ready"
        self._armed_at = t
        events = self._posture("ready", True, [], [])
        if self.calibrated_height:
            c = self.calibration
            events.append(
                contract.jump_calibration(
                    cm_per_pixel=c.cm_per_px_vertical,
                    baseline_y=c.hip_y,
                    visible_hips=c.visible_hips,
                    message=self._text("calibrated"),
                    timestamp_ms=t,
                )
            )
        return events

    def _steady(self, window: deque) -> bool:
        """Hips and feet did not drift over the window: the medians of its two halves agree within
        STILL_TOLERANCE of the body's height (medians, so landmark noise does not count)."""
        frames = [f for _, f in window]
        height = _median([_body_px(f) or 0.0 for f in frames])
        if height <= 0:
            return False
        middle = len(frames) // 2
        for index in (LEFT_HIP, RIGHT_HIP) + FOOT_POINTS:
            halves = [
                [f.y[index] for f in part if _visible(f, index)]
                for part in (frames[:middle], frames[middle:])
            ]
            if (
                all(halves)
                and abs(_median(halves[0]) - _median(halves[1])) > STILL_TOLERANCE * height
            ):
                return False
        return True

    def _calibrate(self, frames: list[Frame]) -> _Calibration:
        baselines, noise = {}, []
        for index in FOOT_POINTS:
            ys = [f.y[index] for f in frames if _visible(f, index)]
            if len(ys) >= 3:
                baselines[index] = _median(ys)
                steps = [abs(b - a) for a, b in zip(ys, ys[1:], strict=False)]
                # Frame-to-frame differences of white noise spread sqrt(2) sigma; MAD -> sigma.
                noise.append(_median(steps) / 0.6745 / math.sqrt(2))
        hips = [_hips(f) for f in frames]
        body_px = _median([b for b in (_body_px(f) for f in frames) if b])
        if self.calibrated_height:
            scale = EYE_TO_HEEL * self.user_height_cm / body_px
        else:
            scale = EYE_TO_HEEL * ASSUMED_HEIGHT_CM / body_px
        return _Calibration(
            foot_baselines=baselines,
            hip_y=_median([y for y, _, _ in hips if y is not None]),
            body_px=body_px,
            torso_px=_median([v for v in (torso_length(f) for f in frames) if v]),
            noise_px=_median(noise) if noise else 0.0,
            cm_per_px_vertical=scale,
            visible_hips=hips[-1][2],
        )

    def _level(self, frame: Frame) -> None:
        """Re-project the landmarks to what a level camera at the same place would see."""
        focal = ASSUMED_FOCAL * max(frame.width, frame.height)
        cx, cy = frame.width / 2, frame.height / 2
        cos_p, sin_p = math.cos(self.pitch), math.sin(self.pitch)
        xs, ys = frame.x, frame.y
        for i in range(len(xs)):
            up = cy - ys[i]
            level_up = up * cos_p + focal * sin_p
            ahead = focal * cos_p - up * sin_p
            xs[i] = cx + focal * (xs[i] - cx) / ahead
            ys[i] = cy - focal * level_up / ahead

    # -- on the ground ------------------------------------------------------------------------

    def _sample(self, t: float, frame: Frame | None) -> _Sample:
        if frame is None:
            return _Sample(t, None, None, None, None)
        baselines = self.calibration.foot_baselines
        feet = []
        for points in FEET.values():
            seen = [i for i in points if i in baselines and _visible(frame, i)]
            if seen:
                feet.append(baselines[seen[0]] - frame.y[seen[0]])
        hip_y, _, _ = _hips(frame)
        if not feet:
            return _Sample(t, None, None, hip_y, torso_length(frame))
        # Airborne only when both feet are up: the lower foot decides.
        return _Sample(t, min(feet), sum(feet) / len(feet), hip_y, torso_length(frame))

    def _on_the_ground(self, sample: _Sample, frame: Frame | None) -> list[dict]:
        c = self.calibration
        t = sample.t
        if sample.lift is None:
            if self._gone_since is None:
                self._gone_since = t
            if t - self._gone_since >= PERSON_GONE_MS:
                return self._restart("placement", t)
            return []
        self._gone_since = None
        # A take-off needs the feet seen on the ground just before (not a flight begun in the
        # cooldown, nor one the person was lost in).
        grounded = bool(self._recent) and self._recent[-1].lift <= c.lift_threshold
        if sample.lift > c.lift_threshold and t >= self._armed_at and grounded:
            self.state = "airborne"
            self._flight = _Flight(samples=list(self._recent) + [sample])
            return [contract.jump_started(message=self._text("started"), timestamp_ms=t)]
        self._follow_ground(frame, t)
        self._recent.append(sample)
        return []

    def _follow_ground(self, frame: Frame, t: float) -> None:
        """Between jumps the ground line follows the feet (a small step, the camera settling)."""
        c = self.calibration
        last = self._recent[-1].t if self._recent else t
        weight = 1 - math.exp(-(t - last) / GROUND_TRACKING_MS)
        for index, baseline in c.foot_baselines.items():
            if _visible(frame, index) and baseline - frame.y[index] < c.lift_threshold:
                c.foot_baselines[index] = baseline + (frame.y[index] - baseline) * weight

    def _restart(self, state: str, t: float) -> list[dict]:
        """Back to placement or to holding still: the scale or the ground line is not known now."""
        self.state, self._placed_frames, self._gone_since = state, 0, None
        self._still.clear()
        self._flight = None
        if state == "placement":
            return self._posture("move_in", False, ["full_body_visible"], ["full_body"])
        return self._posture("hold_still", False, ["hold_still"], [])

    # -- in the air ---------------------------------------------------------------------------

    def _in_the_air(self, sample: _Sample, frame: Frame | None) -> list[dict]:
        c, flight, t = self.calibration, self._flight, sample.t
        airborne = [s for s in flight.samples if s.lift is not None and s.lift > c.lift_threshold]
        took_off = airborne[0].t
        if sample.lift is None:
            if flight.lost_since is None:
                flight.lost_since = t
            if t - flight.lost_since > LOST_MS:
                return self._discard("tracking_lost", t)
            return []
        gap = t - flight.samples[-1].t
        flight.lost_since = None
        flight.samples.append(sample)
        if gap > LOST_MS:
            return self._discard("tracking_lost", t)
        if sample.torso and sample.torso > c.torso_px * (1 + APPROACH_GROWTH):
            return self._discard("moved_toward_phone", t)
        if t - took_off > MAX_FLIGHT_S * 1000.0:
            return self._discard("jump_timeout", t)
        if sample.lift > c.lift_threshold:
            flight.grounded_frames = 0
            return [self._live_height(flight, t, frame)]
        flight.grounded_frames += 1
        if flight.grounded_frames < STABLE_LANDING_FRAMES:
            return []
        return self._landed(flight, t, frame)

    def _live_height(self, flight: _Flight, t: float, frame: Frame | None) -> dict:
        c = self.calibration
        airborne = [s for s in flight.samples if s.lift is not None and s.lift > c.lift_threshold]
        before = [s for s in flight.samples if s.t < airborne[0].t and s.hip_y is not None]
        base = before[-1].hip_y if before else c.hip_y
        top = min((s.hip_y for s in airborne if s.hip_y is not None), default=base)
        elapsed_s = (t - airborne[0].t) / 1000.0
        if self.calibrated_height:
            height = (base - top) * c.cm_per_px_vertical
        else:
            height = G * elapsed_s**2 / 8 * 100.0
        return contract.jump_height(
            height_cm=max(height, 0.0),
            air_time_s=elapsed_s,
            **_hip_pixels(base, top, frame),
            landed=False,
            timestamp_ms=t,
        )

    def _landed(self, flight: _Flight, t: float, frame: Frame | None) -> list[dict]:
        c = self.calibration
        threshold = c.lift_threshold
        samples = flight.samples
        air = [i for i, s in enumerate(samples) if s.lift is not None and s.lift > threshold]
        if len(air) < 2:
            return self._discard("no_flight_detected", t)
        first, last = air[0], air[-1]
        if any(s.torso and s.torso > c.torso_px * (1 + APPROACH_GROWTH) for s in samples):
            return self._discard("moved_toward_phone", t)
        takeoff, landing = self._crossings(samples, first, last)
        air_s = (landing - takeoff) / 1000.0
        if air_s > MAX_FLIGHT_S:
            return self._discard("jump_timeout", t)
        flight_cm = G * air_s**2 / 8 * 100.0
        hip = self._hip_rise(samples[first : last + 1], takeoff)
        if hip is not None and hip[0] * c.cm_per_px_vertical < HIP_RISE_SHARE * flight_cm:
            return self._discard("no_flight_detected", t)
        height = flight_cm
        if height < self.min_height_cm:
            return self._discard("too_small", t)
        contact = None if self._last_landing_ms is None else takeoff - self._last_landing_ms
        self._end_flight(landing)
        number = len(self.jumps) + 1
        base, top = hip[1:] if hip is not None else (c.hip_y, c.hip_y)
        flight = {"height_cm": height, "air_time_s": air_s}
        pixels = _hip_pixels(base, top, frame)
        result = contract.jump_result(
            jump_number=number,
            **flight,
            ground_contact_ms=contact,
            hip_height_cm=(
                hip[0] * c.cm_per_px_vertical
                if self.calibrated_height and hip is not None
                else None
            ),
            takeoff_ms=takeoff,
            landing_ms=landing,
            **pixels,
            timestamp_ms=t,
        )
        self.jumps.append(result)
        return [
            contract.jump_height(**flight, **pixels, landed=True, timestamp_ms=t),
            result,
            self._summary(t),
        ]

    def _crossings(self, samples: list[_Sample], first: int, last: int) -> tuple[float, float]:
        """Sub-frame take-off and landing times (ms) from the airborne run samples[first:last+1]."""
        c = self.calibration
        curvature = c.gravity_px / 2
        quiet = c.lift_threshold / 2
        run = [(s.t / 1000.0, s.mean_lift) for s in samples[first : last + 1]]
        # The crossings are kept within one frame beyond the quiet frames around the run: a quiet
        # frame may still be just airborne, hidden by noise.
        before = [s.t for s in samples[:first] if s.lift is not None and s.lift <= quiet]
        after = [s.t for s in samples[last + 1 :] if s.lift is not None and s.lift <= quiet]
        step = (run[1][0] - run[0][0]) * 1000.0
        low = before[-2] if len(before) >= 2 else samples[first].t - 2 * step
        high = after[1] if len(after) >= 2 else samples[last].t + 2 * step
        takeoff = _ballistic_crossing(_edge(run), curvature, first=True) * 1000.0
        landing = _ballistic_crossing(_edge(run[::-1])[::-1], curvature, first=False) * 1000.0
        return (
            min(max(takeoff, low), samples[first].t),
            min(max(landing, samples[last].t), high),
        )

    def _hip_rise(
        self, airborne: list[_Sample], takeoff_ms: float
    ) -> tuple[float, float, float] | None:
        """The hips' rise from take-off to the top (px), with their y at take-off and at the top."""
        points = [(s.t / 1000.0, s.hip_y) for s in airborne if s.hip_y is not None]
        fit = _parabola(points)
        if fit is not None and fit[0] > 0:
            a, b, c0 = fit
            start_t = takeoff_ms / 1000.0
            start_y = a * start_t * start_t + b * start_t + c0
            top_y = c0 - b * b / (4 * a)
            return start_y - top_y, start_y, top_y
        if not points:
            return None
        start = points[0][1]
        top = min(y for _, y in points)
        return start - top, start, top

    # -- endings ------------------------------------------------------------------------------

    def _end_flight(self, landing_ms: float) -> None:
        self.state = "ready"
        self._flight = None
        self._recent.clear()
        self._last_landing_ms = landing_ms
        self._armed_at = landing_ms + self.cooldown_ms

    def _discard(self, reason: str, t: float) -> list[dict]:
        discarded = contract.jump_discarded(
            reason=reason, message=self._text(reason), timestamp_ms=t
        )
        if reason in ("moved_toward_phone", "jump_timeout"):
            # Standing somewhere else now: ground line and scale must be measured again.
            return [discarded] + self._restart("still", t)
        self.state = "ready"
        self._flight = None
        self._recent.clear()
        self._armed_at = t + self.cooldown_ms
        return [discarded]

    def _summary(self, t: float) -> dict:
        return contract.jump_summary(results=self.jumps, timestamp_ms=t)

    # -- messages -----------------------------------------------------------------------------

    def _text(self, key: str) -> str:
        return translate(TEXTS[key], self.language)

    def _posture(
        self, key: str, ready: bool, requirements: list[str], missing: list[str]
    ) -> list[dict]:
        """A posture event when the message or readiness changes."""
        state = (key, ready)
        if state == self._last_posture:
            return []
        self._last_posture = state
        return [
            contract.posture(
                message=self._text(key),
                direction="in-frame",
                ready=ready,
                requirements=requirements,
                missing_keypoints=missing,
            )
        ]


def _hip_pixels(base: float, top: float, frame: Frame | None) -> dict:
    """The hips' measurement in pixels, as jump_height and jump_result take it."""
    _, side, seen = _hips(frame)
    return {"baseline_y": base, "min_y": top, "side_used": side, "visible_hips": seen}


def _body_px(frame: Frame) -> float | None:
    """Vertical pixels from the eyes (or the nose) down to the heels (or ankles)."""
    eyes = [frame.y[i] for i in (LEFT_EYE, RIGHT_EYE) if _visible(frame, i)]
    heels = [frame.y[i] for i in (LEFT_HEEL, RIGHT_HEEL) if _visible(frame, i)]
    if not heels:
        return None
    bottom = sum(heels) / len(heels)
    if eyes:
        return bottom - sum(eyes) / len(eyes)
    if _visible(frame, NOSE):
        return (bottom - frame.y[NOSE]) * EYE_TO_HEEL / NOSE_TO_HEEL
    return None
