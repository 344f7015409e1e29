"""The exercise catalog: one declarative definition per exercise, data only.

Interface used outside the engine (parser, API):
- EXERCISES: dict[str, Exercise], keyed by canonical id; Exercise has .id, .kind
  ("repetition" | "duration" | "jump" | "assessment"), .view ("front" | "side" | "either"), .label,
  .category (strength | hold | flexibility | wellness | physical_test | jump | range_of_motion)
  and .outputs (the events its trackers send).
- ALIASES: legacy id -> canonical id.
- resolve_exercise(name) -> canonical id or None.

What a definition holds, and how the engine reads it:
- `signals`: per camera view, the measurement(s) a repetition is counted on. Each component maps a
  metric (tracking/engine/metrics.py) to progress: 0 at the textbook start position (`top`), 1 at
  the textbook turn (`target`). Several components are averaged (a jumping jack = arms + legs).
  `per_side` signals run one counter per limb; reps of both limbs that overlap in time are one rep.
- `counting`: the smallest movement that can be a rep (`floor`, in progress units: the twitch
  guard), the shortest rep, the tempo band that scores full marks, and `alternating` for exercises
  whose limbs take turns (both sides are then read in every view), and `both_sides` for movements
  both sides make together (facing the camera, one knee bending alone is not a squat).
- `checks`: form checks. Each names a metric, the fault condition (`op`, `value`), the phase it is
  judged in ("bottom": at the turn of the rep; "rep": over the rep; "hold": while holding), the
  views it applies to, the points it costs (`weight`) and its cue. `slack` is how far difficulty
  moves the threshold (easy: one slack more lenient, hard: one stricter).
- `requires`: what must hold at the turn for the movement to be this exercise at all (a lateral
  raise is not a front raise), or over the whole rep (`Travel`: a curl's forearm does not swing
  out to the side); a rep that fails it is reported as an attempt.
- `start`: the position that must be held before counting starts (standing, lying...).
- `hold`: for duration exercises, the conditions of a valid hold and the target time; a pose's
  `targets` (joint angles with an accepted range, an ideal, and cues toward it) also score the hold
  and guide the person into the pose (tracking/engine/holds.py).
- `test`: a physical test's measurement of its one repetition (tracking/engine/physical_tests.py).
- `rom`: a range-of-motion assessment's movements (kind "assessment"), each read in its own camera
  view; `side`: the one side an assessment measures ("left"/"right"), else whichever is shown
  (tracking/engine/rom.py).
- `needs`: the joints (per side) that must be visible; side-on, one side is enough.
- `progression`: what the 0-100 progression value follows: "rep" (through each repetition, 100
  when it counts) or "hold" (share of `hold.target_s` held).

Cues are English, marked with N_ for the catalogs and said in the tracker's language
(tracking/engine/i18n.py).
"""

from dataclasses import dataclass, field

from tracking.engine.i18n import N_


@dataclass(frozen=True)
class Component:
    metric: str
    top: float
    target: float


@dataclass(frozen=True)
class Signal:
    components: tuple[Component, ...]
    per_side: bool = True
    # "mean" of the components' progress, or "max": the component that moves most, for a view
    # where each component fails at some camera angle and another then carries the movement.
    combine: str = "mean"
    # A rep's depth is scored from the person's own rest, not from the textbook start: for a
    # position with no textbook value (how high shoulders sit differs from person to person).
    from_rest: bool = False


@dataclass(frozen=True)
class Counting:
    floor: float = 0.25
    min_rep_ms: float = 500.0
    tempo_ms: tuple[float, float] = (1000.0, 6000.0)
    alternating: bool = False
    both_sides: bool = False  # both sides make the movement: facing the camera, a rep needs both
    alike: bool = False  # ...and about as far: one side bending far deeper is another movement
    # A set may start at the bottom of the movement (a deadlift from the floor): its first rise
    # is a rep (tracking/engine/counting.py).
    bottom_start: bool = False
    limit: int | None = None  # a test: counting stops after this many reps


@dataclass(frozen=True)
class Check:
    id: str
    metric: str
    op: str  # the fault is `metric op value`: "<" or ">"
    value: float
    phase: str  # "bottom" | "rep" | "hold"
    message: str
    weight: float = 10.0
    slack: float = 0.0
    views: tuple[str, ...] = ("front", "side")

    def __hash__(self) -> int:
        # Checks key the fault readings of every frame: the id alone, not a tuple of all fields.
        return hash(self.id)

    def threshold(self, tolerance: float) -> float:
        """The fault threshold once difficulty is applied (tolerance +1 easy, 0 medium, -1 hard)."""
        lenient = -1.0 if self.op == "<" else 1.0
        return self.value + lenient * tolerance * self.slack

    def is_fault(self, measured: float, tolerance: float) -> bool:
        limit = self.threshold(tolerance)
        return measured < limit if self.op == "<" else measured > limit


@dataclass(frozen=True)
class Condition:
    """`low <= metric <= high` (either bound may be None). `side`: None = the side being read,
    "left"/"right" = that side, "any" = either side; in holds also "both" = each side, and
    "upper"/"lower" = the leg whose ankle is higher/lower (the raised or the standing leg)."""

    metric: str
    low: float | None = None
    high: float | None = None
    side: str | None = None

    def holds(self, value: float | None) -> bool:
        if value is None:
            return False
        if self.low is not None and value < self.low:
            return False
        return self.high is None or value <= self.high


@dataclass(frozen=True)
class Travel(Condition):
    """A requirement on how far the metric moves over the whole rep (its largest reading less
    its smallest), where a plain Condition in `requires` reads it at the turn."""


@dataclass(frozen=True)
class AnyOf:
    """Alternative evidence for one part of a hold: it holds when every condition of one of the
    `options` does (the body held up on the arms, or, when the arms are not read so, seen off
    the floor)."""

    options: tuple[tuple[Condition, ...], ...]


@dataclass(frozen=True)
class Target(Condition):
    """A joint-angle (or position) target of a held pose. The hold counts while the metric is
    within [low, high]; it is held perfectly within [ideal_low, ideal_high] and scores less toward
    the edges. `below` / `above`: the cue for a person short of / past the ideal, saying which
    joint to move which way. A bound with an ideal has an accepted limit beyond it."""

    ideal_low: float | None = None
    ideal_high: float | None = None
    below: str | None = None
    above: str | None = None

    def shortfall(self, value: float) -> float:
        """0 within the ideal band, 1 at the edge of the accepted range, more beyond it."""
        if self.ideal_low is not None and value < self.ideal_low:
            return (self.ideal_low - value) / (self.ideal_low - self.low)
        if self.ideal_high is not None and value > self.ideal_high:
            return (value - self.ideal_high) / (self.high - self.ideal_high)
        return 0.0

    def cue(self, value: float) -> str | None:
        if self.ideal_low is not None and value < self.ideal_low:
            return self.below
        if self.ideal_high is not None and value > self.ideal_high:
            return self.above
        return None


@dataclass(frozen=True)
class Hold:
    """A valid hold: every condition (one option of an AnyOf) and every target within range.
    `targets` also score the hold by how close to their ideal it is held, and cue the person
    toward the pose."""

    conditions: tuple[Condition | AnyOf, ...]
    target_s: float
    targets: tuple[Target, ...] = ()


@dataclass(frozen=True)
class Peak:
    """A measurement a physical test reports of its repetition: the metric's `mode` ("max" or
    "min") over the rep, named `key` as in the contract's `analysis.peaks`."""

    key: str
    metric: str
    mode: str


@dataclass(frozen=True)
class Flag:
    """A yes/no reading of a test's peak: `peak op value` with op ">=" or "<="."""

    key: str
    peak: str
    op: str
    value: float

    def reads(self, peaks: dict) -> bool | None:
        measured = peaks.get(self.peak)
        if measured is None:
            return None
        return measured >= self.value if self.op == ">=" else measured <= self.value


@dataclass(frozen=True)
class PhysicalTest:
    """What a physical test adds to its repetition (contract §4.7): the `analysis` object.
    `reading` names the interpretation in tracking/engine/physical_tests.py."""

    peaks: tuple[Peak, ...]
    flags: tuple[Flag, ...]
    method: str
    reading: str


@dataclass(frozen=True)
class Movement:
    """One movement a range-of-motion assessment measures, in the camera `view` it is seen in:
    `metric` reads it in degrees as a goniometer would (0 in the anatomical position), `normal`
    is the published normal range (docs/events.md, "Range of motion", cites it), `cue` tells the
    person what to do, `label` names it for people (a result's card). `lifted_leg`: only the leg
    whose ankle is higher moves (a hip abduction: the standing hip tilts with the pelvis, which
    is not its movement)."""

    joint: str
    movement: str
    view: str
    metric: str
    normal: tuple[int, int]
    cue: str
    label: str
    lifted_leg: bool = False


@dataclass(frozen=True)
class Difficulty:
    first_rep: float  # share of the textbook range the first rep must cover
    adapt: float  # share of the person's own range later reps must cover
    ceiling: float  # never ask more than this share of the textbook range
    ideal_depth: float  # progress that scores full depth marks
    tolerance: float  # form-check slack multiplier


DIFFICULTIES: dict[str, Difficulty] = {
    "easy": Difficulty(first_rep=0.25, adapt=0.5, ceiling=0.65, ideal_depth=0.8, tolerance=1.0),
    "medium": Difficulty(first_rep=0.3, adapt=0.6, ceiling=0.75, ideal_depth=0.9, tolerance=0.0),
    "hard": Difficulty(first_rep=0.4, adapt=0.7, ceiling=0.85, ideal_depth=1.0, tolerance=-1.0),
}


@dataclass(frozen=True)
class Start:
    """The position counting starts from, and the cue that asks for it."""

    conditions: tuple[Condition, ...]
    cue: str


STANDING = Start(
    (Condition("torso_elevation", low=55.0), Condition("knee_angle", low=145.0)),
    N_("Stand up straight to start"),
)
UPRIGHT = Start(
    (Condition("torso_elevation", low=45.0),),
    N_("Sit or stand upright to start"),
)
# A set may start anywhere on the feet, at the bottom of a lunge too (knees bent, the torso up to
# 45 degrees forward in real lunges): counting starts from where the person is.
UPRIGHT_ON_FEET = Start(
    (Condition("torso_elevation", low=30.0),),
    N_("Stand up to start"),
)
LYING = Start(
    (Condition("torso_elevation", low=-30.0, high=40.0),),
    N_("Get into position on the floor"),
)
PUSH_UP_POSITION = N_("Get into push-up position, arms straight")
# The body held up on straight arms, the wrists under the shoulders (real people side-on: 0.8 to
# 1.4 torso lengths below them; lying on the floor with the arms beside the body, under 0.4).
ARMS_HOLD_THE_BODY = Condition("wrist_height", high=-0.6)
# A body in one line from shoulders to ankles, the range a plank is held in (hips piked up into a
# downward dog bend it past 260 degrees).
BODY_IN_LINE = Condition("body_line", low=140.0, high=235.0)
# A plank is held up on the arms: the elbows a good way below the shoulders (about 0.5 torso
# lengths on real forearm planks, near 0 lying on the floor)...
PLANK_ARMS = (Condition("elbow_drop", low=0.25),)
# ...or, where the arms are not read so (a low forearm plank side-on: the near elbow placed at
# shoulder height, the far arm hidden), the body seen off the floor on the toes: hips 0.2-0.5 leg
# lengths above the feet on real planks, 0.15 at a deep sag, under 0.13 lying prone; not sagging
# (without the arms a sag looks like lying down); shoulders level, face down (rolled onto one side
# they stack, 0.4-0.55 torso lengths apart).
PLANK_OFF_THE_FLOOR = (
    Condition("hip_above_feet", low=0.2),
    Condition("body_line", low=165.0),
    Condition("shoulder_stack", high=0.3),
)


@dataclass(frozen=True)
class FrontView:
    """What changes when an exercise is filmed facing the camera (a head-on push-up): the joints
    it needs, its start position and what its reps require, in place of the side-on ones."""

    needs: tuple[str, ...]
    start: Start | None = None
    requires: tuple[Condition, ...] = ()


REPETITION_OUTPUTS = (
    "posture",
    "counter",
    "form_score",
    "progression",
    "recommendations",
    "keypoints",
    "angles",
    "exercise_summary",
)
DURATION_OUTPUTS = tuple(name for name in REPETITION_OUTPUTS if name != "form_score")
JUMP_OUTPUTS = (
    "jump_started",
    "jump_height",
    "jump_discarded",
    "jump_result",
    "jump_summary",
    "keypoints",
    "angles",
)
ASSESSMENT_OUTPUTS = (
    "posture",
    "rom_measurement",
    "rom_summary",
    "recommendations",
    "keypoints",
    "angles",
)

LEGS = ("shoulder", "hip", "knee", "ankle")
ARMS = ("shoulder", "elbow", "wrist", "hip")
BODY = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
FEET = ("hip", "knee", "ankle", "heel", "foot")

REP_PHASES = ("top", "descent", "bottom", "ascent")


@dataclass(frozen=True)
class Exercise:
    id: str
    kind: str
    view: str
    label: str
    signals: dict[str, Signal] = field(default_factory=dict, hash=False)
    phases: tuple[str, ...] = REP_PHASES
    counting: Counting = field(default_factory=Counting)
    checks: tuple[Check, ...] = ()
    requires: tuple[Condition, ...] = ()
    start: Start | None = None
    hold: Hold | None = None
    needs: tuple[str, ...] = LEGS
    depth_cue: str | None = None
    steady: bool = True  # the hips should not travel sideways (scored as stability)
    progression: str = "rep"  # "rep": 0-100 through each rep; "hold": share of the target time
    front: FrontView | None = None  # facing the camera, when that differs (see FrontView)
    # strength | hold | flexibility | wellness | physical_test | jump: how the API groups it.
    category: str = "strength"
    # "form": depth, tempo, stability and checks; "depth": the depth alone (a test's measurement,
    # scored 0 at the signal's `top` and 100 at its `target`).
    scoring: str = "form"
    test: PhysicalTest | None = None
    # Only counted in its own view (a pose is defined in its view): the person is asked to turn
    # for as long as it takes, never counted in another view.
    fixed_view: bool = False
    rom: tuple[Movement, ...] = ()  # an assessment's movements (kind "assessment")
    side: str | None = None  # the one side an assessment measures, else either

    @property
    def outputs(self) -> tuple[str, ...]:
        """The events a tracker of this exercise sends (docs/events.md), `keypoints` and `angles`
        when asked for; a physical test's counter also carries `analysis`."""
        if self.kind == "jump":
            calibration = ("jump_calibration",) if self.id == "jump_analysis" else ()
            return ("posture", *calibration, *JUMP_OUTPUTS)
        if self.kind == "assessment":
            return ASSESSMENT_OUTPUTS
        outputs = REPETITION_OUTPUTS if self.kind == "repetition" else DURATION_OUTPUTS
        return (*outputs, "counter.analysis") if self.test else outputs

    def signal_for(self, view: str) -> Signal | None:
        return self.signals.get(view) or self.signals.get("front") or self.signals.get("side")

    def _in(self, view: str | None) -> "Exercise | FrontView":
        return self.front if view == "front" and self.front is not None else self

    def needs_in(self, view: str | None) -> tuple[str, ...]:
        return self._in(view).needs

    def start_in(self, view: str | None) -> Start | None:
        return self._in(view).start

    def requires_in(self, view: str | None) -> tuple[Condition, ...]:
        return self._in(view).requires


def _both_views(signal: Signal) -> dict[str, Signal]:
    return {"front": signal, "side": signal}


def _single(
    metric: str, top: float, target: float, per_side: bool = True, from_rest: bool = False
) -> Signal:
    return Signal(
        components=(Component(metric, top, target),), per_side=per_side, from_rest=from_rest
    )


# Cues shared by several exercises.
CHEST_UP = N_("Keep your chest up")
BACK_STRAIGHT = N_("Keep your back straight")
TORSO_STILL = N_("Don't lean back: keep your torso still")
ELBOWS_PINNED = N_("Keep your elbows pinned to your sides")
SHOULDER_HEIGHT = N_("Raise your arms to shoulder height")
STOP_AT_SHOULDERS = N_("Stop at shoulder height")
STAND_TALL = N_("Stand tall: keep your torso upright")


# Facing the camera, a curl raises the forearm in front of the elbow; swung out to the side and
# back (a shoulder's rotation, which the 3-D elbow angle can read as a 30-degree bend) it is
# another movement.
FOREARM_IN_FRONT = Travel("forearm_sideways", high=0.35)


def _curl(id_: str, label: str, curl_cue: str) -> Exercise:
    return Exercise(
        id=id_,
        kind="repetition",
        view="either",
        label=label,
        # Facing the camera the forearm points at the lens mid-curl: read the elbow in 3-D there.
        signals={
            "side": _single("elbow_angle", 160.0, 45.0),
            "front": _single("elbow_angle_3d", 160.0, 45.0),
        },
        phases=("arms down", "curling", "top", "lowering"),
        counting=Counting(floor=0.25, min_rep_ms=400.0, tempo_ms=(1000.0, 6000.0)),
        checks=(
            Check("loose_upper_arm", "upper_arm_angle", ">", 35.0, "rep", ELBOWS_PINNED, 15, 5),
            Check("lean_back", "torso_lean", "<", -15.0, "rep", TORSO_STILL, 20, 5, ("side",)),
        ),
        start=UPRIGHT,
        needs=ARMS,
        front=FrontView(needs=ARMS, start=UPRIGHT, requires=(FOREARM_IN_FRONT,)),
        depth_cue=curl_cue,
    )


# Raises are made with long arms. Bent past this at the turn (an upright row, the 90/90 position
# of shoulder rotation work: 55-70 degrees on real arms, real lateral raises 150-165) the wrists
# reach the shoulders without the arms being raised: another movement.
LONG_ARMS = Condition("elbow_angle", low=110.0)


def _raise(id_: str, view: str, label: str, plane: Condition, elbows_seen: str) -> Exercise:
    """`elbows_seen`: the view that shows the elbows' bend in the image plane (the arms move
    across it), where their bend is checked."""
    seen_front = elbows_seen == "front"
    return Exercise(
        id=id_,
        kind="repetition",
        view=view,
        label=label,
        signals=_both_views(_single("wrist_height", -1.0, 0.0)),
        phases=("arms down", "raising", "top", "lowering"),
        counting=Counting(floor=0.3, min_rep_ms=600.0, tempo_ms=(1200.0, 6000.0)),
        checks=(
            Check("too_high", "wrist_height", ">", 0.45, "bottom", STOP_AT_SHOULDERS, 10, 0.15),
            Check(
                "bent_elbows",
                "elbow_angle",
                "<",
                130.0,
                "bottom",
                N_("Keep your arms long"),
                5,
                10,
                (elbows_seen,),
            ),
            Check("swing", "torso_lean", "<", -10.0, "rep", TORSO_STILL, 15, 5, ("side",)),
        ),
        requires=(plane,) if seen_front else (plane, LONG_ARMS),
        start=UPRIGHT,
        needs=ARMS,
        front=FrontView(
            needs=ARMS, start=UPRIGHT, requires=(plane, LONG_ARMS) if seen_front else (plane,)
        ),
        depth_cue=SHOULDER_HEIGHT,
    )


def _jack(id_: str, label: str, legs_target: float, legs_cue: str, min_rep_ms: float) -> Exercise:
    return Exercise(
        id=id_,
        kind="repetition",
        view="front",
        label=label,
        signals={
            "front": Signal(
                components=(
                    Component("wrist_height", -1.0, 0.8),
                    Component("ankle_spread", 0.3, legs_target),
                ),
                per_side=False,
            )
        },
        phases=("closed", "opening", "open", "closing"),
        counting=Counting(floor=0.3, min_rep_ms=min_rep_ms, tempo_ms=(min_rep_ms + 100, 3000.0)),
        checks=(
            Check(
                "arms_low",
                "wrist_height",
                "<",
                0.5,
                "bottom",
                N_("Raise your arms fully overhead"),
                15,
                0.2,
            ),
            Check(
                "feet_close", "ankle_spread", "<", legs_target - 0.35, "bottom", legs_cue, 15, 0.1
            ),
        ),
        # A jack raises both arms, each at least halfway from hanging (-1) to shoulder height
        # (0): the legs stepping wide with the arms down or one hand up (a dance step) are not
        # one; arms stopping short of overhead are a fault.
        requires=tuple(
            Condition("wrist_height", low=-0.5, side=side) for side in ("left", "right")
        ),
        start=STANDING,
        needs=BODY,
        depth_cue=N_("Open all the way: arms overhead, feet wide"),
    )


def _balance(id_: str, label: str, lifted: str) -> Exercise:
    return Exercise(
        id=id_,
        kind="duration",
        view="either",
        label=label,
        phases=("holding",),
        checks=(
            Check("lean", "torso_tilt", ">", 12.0, "hold", STAND_TALL, 10, 4, ("front",)),
            Check(
                "foot_low",
                "lifted_foot",
                "<",
                0.2,
                "hold",
                N_("Lift your foot a little higher"),
                5,
                0.05,
            ),
        ),
        hold=Hold(
            conditions=(Condition("foot_lift", low=0.15, side=lifted),) + STANDING.conditions,
            target_s=30.0,
        ),
        start=STANDING,
        needs=LEGS,
        progression="hold",
        category="hold",
    )


def _target(
    metric: str,
    low: float | None = None,
    high: float | None = None,
    ideal: tuple[float | None, float | None] = (None, None),
    below: str | None = None,
    above: str | None = None,
    side: str | None = None,
) -> Target:
    return Target(metric, low, high, side, ideal[0], ideal[1], below, above)


def _pose(
    id_: str, label: str, view: str, targets: tuple[Target, ...], needs: tuple[str, ...] = LEGS
) -> Exercise:
    """A stretch or yoga pose: seconds held within its targets, 30 s to aim for (the usual static
    stretch, ACSM)."""
    return Exercise(
        id=id_,
        kind="duration",
        view=view,
        label=label,
        phases=("holding",),
        hold=Hold(conditions=(), targets=targets, target_s=30.0),
        needs=needs,
        progression="hold",
        category="flexibility",
        fixed_view=True,
    )


# Pose cues shared by several poses.
FEET_APART = N_("Slide your feet further apart")
BOTH_KNEES_STRAIGHT = N_("Straighten both knees")
KNEES_STRAIGHT = N_("Straighten your knees")
HIPS_TO_FLOOR = N_("Lower your hips toward the floor")
SIT_TALL = N_("Sit tall: lift your chest")
LIFT_CHEST = N_("Lift your chest higher")
STANDING_LEG = N_("Straighten your standing leg")
RAISED_LEG = N_("Straighten your raised leg")
SIT_ON_CHAIR = N_("Sit down on the chair")

# Targets that several poses share:
# - standing on a leg: the lower leg's thigh hangs under the hip (a push-up filmed head-on or a
#   seated leg pointing at the camera can look like a raised leg, but their thighs are level);
# - sitting on the floor: hips at the ankles' level, about 0.05 leg lengths (kneeling is 0.5,
#   standing 0.95);
# - seated on a chair, facing the camera: thighs level (knee at hip height, thigh_lift 90;
#   standing, 0) and the feet on the floor under the knees (a push-up filmed head-on also has
#   level thighs, but its shins point at the camera).
ON_A_LEG = _target("thigh_lift", high=30.0, side="lower")
ON_THE_FLOOR = _target("hip_height", high=0.35, ideal=(None, 0.12), above=HIPS_TO_FLOOR)
ON_A_CHAIR = (
    _target("thigh_lift", low=45.0, ideal=(65.0, None), below=SIT_ON_CHAIR),
    _target("shin_drop", low=0.6),
)


# Wellness shoulder movements, facing the camera, upper body only (PoseTracker films them seated,
# shoulders up: no hips needed). The shoulders' rise is read against the ears, in shoulder widths
# (relaxed, about 0.6 on real people, in the image or in 3-D); how high shoulders sit differs from
# person to person, so both the count and the score start from the person's own rest. A rise must
# pass 40 % of the range to count (real people's relaxed shoulders jitter by about 0.01 from frame
# to frame, and their whole-body movements by up to 0.04). The arms must hang (an arm raise lifts
# the shoulders too).
SHOULDERS = ("ear", "shoulder", "elbow")
ARMS_DOWN = Condition("wrist_drop", low=0.8)

WELLNESS = [
    Exercise(
        id="shoulder_roll",
        kind="repetition",
        view="front",
        label="Shoulder roll",
        # A roll (up, back, down, forward) lifts the shoulders once: it counts on that rise, about
        # 0.2 shoulder widths (8 cm) at full range, 0.08 at least. Facing the camera the circle's
        # back and forth is depth, which a 2-D pose does not measure reliably: a shrug counts.
        signals=_both_views(_single("neck_length", 0.6, 0.4, per_side=False, from_rest=True)),
        phases=("relaxed", "rolling up", "top", "rolling down"),
        counting=Counting(floor=0.4, min_rep_ms=600.0, tempo_ms=(1200.0, 5000.0)),
        requires=(ARMS_DOWN,),
        needs=SHOULDERS,
        depth_cue=N_("Roll your shoulders higher, up toward your ears"),
        category="wellness",
    ),
    Exercise(
        id="shoulder_deep_breath",
        kind="repetition",
        view="front",
        label="Shoulder deep breath",
        # A deep inhale lifts the shoulders a little (half a roll's rise, 0.04 widths at least) and
        # the exhale lowers them, slowly: a breath lasts at least 2 s, so a quick shrug is not one.
        signals=_both_views(_single("neck_length", 0.6, 0.5, per_side=False, from_rest=True)),
        phases=("exhaled", "breathing in", "full breath", "breathing out"),
        counting=Counting(floor=0.4, min_rep_ms=2000.0, tempo_ms=(3000.0, 10000.0)),
        requires=(ARMS_DOWN,),
        needs=SHOULDERS,
        depth_cue=N_("Breathe in deeper: let your shoulders rise"),
        category="wellness",
    ),
]

# Physical tests (contract §4.7): one repetition, measured, with an `analysis` object.
BACK_FLEXIBILITY = PhysicalTest(
    peaks=(
        Peak("trunk_angle_deg", "trunk_angle", "max"),
        Peak("hip_angle_deg", "hip_angle", "min"),
        Peak("knee_angle_deg", "knee_angle", "min"),
        Peak("shank_from_vertical_deg", "shin_tilt", "max"),
        Peak("ground_ankle_knee_deg", "shin_ground_angle", "min"),
        Peak("wrist_to_ankle", "wrist_to_ankle", "max"),
    ),
    flags=(
        Flag("knee_locked", "knee_angle_deg", ">=", 155.0),
        Flag("leg_straight", "knee_angle_deg", ">=", 170.0),
        Flag("shank_vertical", "shank_from_vertical_deg", "<=", 12.0),
    ),
    method=N_(
        "Side view, in the image plane. Trunk angle: the shoulder-hip line from vertical (0° "
        "upright). Hip angle: shoulder-hip-knee. Knee angle: hip-knee-ankle (180° is straight). "
        "Shank: the knee-ankle line from vertical; ground_ankle_knee_deg is 90 minus it, against "
        "a horizontal through the ankle joint, not the floor. Reach: the wrist's drop below the "
        "ankle joint in hip-ankle lengths (positive below it), not centimetres. Each is the "
        "extreme reached during the fold. Camera height is estimated from the standing body's "
        "leg-to-trunk proportion. Not a Modified Schober or sit-and-reach score."
    ),
    reading="back_flexibility",
)

PHYSICAL_TESTS = [
    Exercise(
        id="back_flexibility_test",
        kind="repetition",
        view="side",
        label="Back flexibility test",
        # Stand, fold forward with the knees straight and the arms hanging toward the floor, stand
        # again: one rep, on the return to standing. Graded on the trunk's fold alone, 0 at 22
        # degrees from vertical and 100 at 75 (PoseTracker's anchors); a fold must reach at least
        # 32 degrees past the person's standing lean to count, knees straight-ish (a squat is not
        # this test).
        signals=_both_views(_single("trunk_angle", 22.0, 75.0)),
        phases=("standing", "folding", "folded", "rising"),
        counting=Counting(floor=0.6, min_rep_ms=1000.0, tempo_ms=(2000.0, 12000.0), limit=1),
        requires=(Condition("knee_angle", low=125.0),),
        start=STANDING,
        needs=("shoulder", "hip", "knee", "ankle", "wrist"),
        depth_cue=N_("Fold further: let your hands hang toward the floor"),
        category="physical_test",
        scoring="depth",
        test=BACK_FLEXIBILITY,
    ),
]


# The flexibility poses. Each entry's targets are the joints that define the pose anatomically,
# with the range that still counts as the pose (a beginner's version) and the ideal (the textbook
# pose); views follow PoseTracker's catalog, where a pose is filmed in the plane it moves in.
FLEXIBILITY_POSES = [
    # Front split: legs straight along the floor, one forward and one back, pelvis down between
    # them, chest up. Side-on, the legs lie in the image plane: 180 degrees between them.
    _pose(
        "split",
        "Front split",
        "side",
        (
            _target("leg_spread", low=120.0, ideal=(165.0, None), below=FEET_APART),
            _target(
                "knee_angle", low=135.0, ideal=(165.0, None), below=BOTH_KNEES_STRAIGHT, side="both"
            ),
            ON_THE_FLOOR,
            _target("torso_elevation", low=30.0, ideal=(65.0, None), below=SIT_TALL),
        ),
    ),
    # Middle split: legs straight out to the sides, seated, torso upright; in its own plane
    # facing the camera. Folding the chest down (knees under 0.8 shoulder widths below the
    # shoulders) makes it a pancake. Facing the camera a knee bends away from it, out of the image
    # plane: the knees are read in 3-D (also in the pancake).
    _pose(
        "facial_split",
        "Middle split",
        "front",
        (
            _target("leg_spread", low=110.0, ideal=(160.0, None), below=FEET_APART),
            _target(
                "knee_angle_3d",
                low=135.0,
                ideal=(165.0, None),
                below=BOTH_KNEES_STRAIGHT,
                side="both",
            ),
            ON_THE_FLOOR,
            _target("knee_drop", low=0.8, ideal=(1.1, None), below=SIT_TALL),
        ),
    ),
    # Pancake: the seated straddle (legs at least 80 degrees apart, knees straight) with the chest
    # folded toward the floor between the legs: facing the camera the shoulders come down to the
    # knees' height.
    _pose(
        "pancake",
        "Pancake",
        "front",
        (
            _target("leg_spread", low=80.0, ideal=(120.0, None), below=FEET_APART),
            _target(
                "knee_angle_3d",
                low=130.0,
                ideal=(160.0, None),
                below=BOTH_KNEES_STRAIGHT,
                side="both",
            ),
            ON_THE_FLOOR,
            _target(
                "knee_drop",
                high=0.8,
                ideal=(None, 0.35),
                above=N_("Fold forward: chest toward the floor"),
            ),
        ),
    ),
    # Closing (pike): seated, legs straight and together in front, the trunk folded over them.
    # Sitting upright is 90 degrees at the hip (shoulder-hip-knee); chest on the thighs, under 40.
    _pose(
        "closing",
        "Pike fold",
        "side",
        (
            _target(
                "hip_angle",
                high=80.0,
                ideal=(None, 40.0),
                above=N_("Fold forward from your hips: chest toward your knees"),
            ),
            _target("knee_angle", low=140.0, ideal=(165.0, None), below=KNEES_STRAIGHT),
            ON_THE_FLOOR,
        ),
    ),
    # Bridge (wheel): hands and feet on the floor, hips the highest point, belly up. Hips above
    # the shoulders (torso below level); arms pushing the shoulders off the floor (wrists well
    # below them, elbows long), which a glute bridge (shoulders down) never does; knees bent
    # 45-110 degrees and the toes pointing away from the head, which a downward dog (belly down,
    # toes toward the hands) never has, even with a knee bent (MediaPipe's real yoga clip).
    _pose(
        "bridge",
        "Bridge (wheel)",
        "side",
        (
            _target(
                "torso_elevation",
                high=-5.0,
                ideal=(None, -25.0),
                above=N_("Lift your hips higher"),
            ),
            _target(
                "wrist_height",
                high=-0.4,
                ideal=(None, -0.75),
                above=N_("Press through your hands: lift your shoulders off the floor"),
            ),
            _target(
                "elbow_angle",
                low=100.0,
                ideal=(150.0, None),
                below=N_("Straighten your arms"),
            ),
            _target(
                "knee_angle",
                low=45.0,
                high=155.0,
                ideal=(70.0, 135.0),
                below=N_("Walk your feet a little further away"),
                above=N_("Bend your knees: feet flat on the floor"),
            ),
            _target("toes_to_head", high=0.0),
        ),
        needs=BODY,
    ),
    # Cobra: lying face down, hips and legs on the floor, chest lifted on the arms. The torso rises
    # 30-70 degrees while the hips stay down and below the shoulder-ankle line (a plank keeps that
    # line straight, about 180, and its torso low; a pike folds it past 105).
    _pose(
        "cobra",
        "Cobra",
        "side",
        (
            _target(
                "torso_elevation",
                low=20.0,
                high=80.0,
                ideal=(30.0, 70.0),
                below=LIFT_CHEST,
                above=HIPS_TO_FLOOR,
            ),
            _target("hip_height", high=0.15, ideal=(None, 0.08), above=HIPS_TO_FLOOR),
            _target("body_line", low=105.0, high=168.0, ideal=(None, 155.0), above=LIFT_CHEST),
            _target(
                "knee_angle",
                low=140.0,
                ideal=(165.0, None),
                below=N_("Stretch your legs long behind you"),
            ),
        ),
    ),
    # Bow: lying on the belly, knees bent, the hands holding the ankles, chest and knees lifted:
    # the pelvis is the lowest point (shoulders above it, the trunk no more than 55 degrees up,
    # thighs above level, the feet held up above the hips, which a squat with the hands at the
    # feet never has).
    _pose(
        "bow",
        "Bow",
        "side",
        (
            _target(
                "hand_to_foot",
                high=0.45,
                ideal=(None, 0.2),
                above=N_("Reach back and hold your ankles"),
            ),
            _target(
                "knee_angle",
                high=115.0,
                ideal=(None, 90.0),
                above=N_("Bend your knees: heels toward your hips"),
            ),
            _target(
                "thigh_lift",
                low=90.0,
                ideal=(105.0, None),
                below=N_("Lift your knees off the floor"),
            ),
            _target("torso_elevation", low=10.0, high=55.0, ideal=(25.0, None), below=LIFT_CHEST),
            _target("hip_height", high=0.0),
        ),
        needs=BODY,
    ),
    # Tiger: on hands and knees, back level, one leg lifted behind with the knee bent and the foot
    # toward the head (the quadriceps stretch). The raised leg is the one whose ankle is higher;
    # the hips stay at kneeling height (a king pigeon sits on the floor).
    _pose(
        "tiger",
        "Tiger",
        "side",
        (
            _target(
                "torso_elevation",
                low=-25.0,
                high=40.0,
                ideal=(-10.0, 25.0),
                below=N_("Lift your chest level with your hips"),
                above=N_("Lower your chest: keep your back level"),
            ),
            _target("wrist_height", high=-0.5, side="any"),
            _target("hip_height", low=0.3),
            _target(
                "thigh_lift",
                low=60.0,
                ideal=(85.0, None),
                below=N_("Lift your knee to hip height behind you"),
                side="upper",
            ),
            _target(
                "knee_angle",
                high=125.0,
                ideal=(None, 80.0),
                above=N_("Bend your raised knee: foot toward your head"),
                side="upper",
            ),
            _target(
                "ankle_rise",
                low=0.1,
                ideal=(0.5, None),
                below=N_("Lift your raised foot higher"),
                side="upper",
            ),
        ),
        needs=BODY,
    ),
    # Camel: kneeling, thighs upright over the knees, the back arched until the hands reach the
    # heels. Upright thighs tell it from a bow (thighs level) and from sitting on the heels.
    _pose(
        "camel",
        "Camel",
        "side",
        (
            _target(
                "knee_angle",
                low=55.0,
                high=130.0,
                ideal=(70.0, 110.0),
                below=N_("Lift your hips up off your heels"),
                above=N_("Bring your knees under your hips"),
            ),
            _target(
                "thigh_tilt",
                high=40.0,
                ideal=(None, 20.0),
                above=N_("Push your hips forward over your knees"),
            ),
            _target(
                "hand_to_foot",
                high=0.5,
                ideal=(None, 0.2),
                above=N_("Reach back for your heels"),
            ),
        ),
        needs=BODY,
    ),
    # King pigeon: hips down on the floor over the folded front leg, the back knee bent and its
    # foot raised toward the head (at least shoulder height, 0.8 trunk lengths above the hip, is
    # the pose), the hands reaching overhead to hold it, chest upright.
    _pose(
        "king_pigeon",
        "King pigeon",
        "side",
        (
            _target("hip_height", high=0.4, ideal=(None, 0.2), above=HIPS_TO_FLOOR),
            _target(
                "ankle_rise",
                low=0.3,
                ideal=(0.8, None),
                below=N_("Lift your back foot toward your head"),
                side="upper",
            ),
            _target(
                "hand_to_foot",
                high=0.6,
                ideal=(None, 0.25),
                above=N_("Reach overhead and hold your back foot"),
            ),
            _target("torso_elevation", low=45.0, ideal=(65.0, None), below=LIFT_CHEST),
        ),
        needs=BODY,
    ),
    # Foot to hand: standing on one straight leg, the other raised (forward or out to the side)
    # and held by the hand, its knee long, the trunk upright. Facing the camera, as PoseTracker
    # films it: the raised knee may point at the lens, so its angle is read in 3-D, and an upright
    # trunk shows its full length (hips over a shoulder width below the shoulders).
    _pose(
        "foot_to_hand",
        "Foot to hand",
        "front",
        (
            _target("knee_angle", low=140.0, ideal=(165.0, None), below=STANDING_LEG, side="lower"),
            _target(
                "ankle_rise",
                low=-0.4,
                ideal=(0.2, None),
                below=N_("Lift your foot higher"),
                side="upper",
            ),
            _target("knee_angle_3d", low=90.0, ideal=(150.0, None), below=RAISED_LEG, side="upper"),
            _target(
                "hand_to_foot",
                high=0.5,
                ideal=(None, 0.25),
                above=N_("Hold your raised foot with your hand"),
            ),
            _target("hip_drop", low=0.9, ideal=(1.1, None), below=STAND_TALL),
            ON_A_LEG,
        ),
        needs=BODY,
    ),
    # Standing I: a standing vertical split, the raised leg straight up beside the body, chest
    # upright; side-on both legs lie in the image plane, 180 degrees apart.
    _pose(
        "i",
        "Standing I",
        "side",
        (
            _target(
                "leg_spread",
                low=130.0,
                ideal=(165.0, None),
                below=N_("Lift your leg higher, toward vertical"),
            ),
            _target("knee_angle", low=145.0, ideal=(165.0, None), below=STANDING_LEG, side="lower"),
            _target("knee_angle", low=120.0, ideal=(160.0, None), below=RAISED_LEG, side="upper"),
            _target("torso_elevation", low=55.0, ideal=(72.0, None), below=STAND_TALL),
            ON_A_LEG,
        ),
    ),
    # Needle: the standing split folded forward: chest down along the standing leg (shoulders
    # below the hips, the trunk close to the standing thigh), the other leg raised high behind.
    # A three-legged downward dog (hands far ahead, trunk 70-90 degrees from the standing leg,
    # as in MediaPipe's real yoga clip) is not a needle.
    _pose(
        "needle",
        "Needle",
        "side",
        (
            _target(
                "torso_elevation",
                high=-15.0,
                ideal=(None, -50.0),
                above=N_("Fold your chest toward your standing leg"),
            ),
            _target(
                "hip_angle",
                high=65.0,
                ideal=(None, 35.0),
                above=N_("Bring your chest closer to your standing leg"),
                side="lower",
            ),
            _target(
                "leg_spread",
                low=100.0,
                ideal=(150.0, None),
                below=N_("Lift your back leg higher"),
            ),
            _target("knee_angle", low=140.0, ideal=(165.0, None), below=STANDING_LEG, side="lower"),
            _target("knee_angle", low=120.0, ideal=(160.0, None), below=RAISED_LEG, side="upper"),
            ON_A_LEG,
        ),
    ),
    # The chair stretches are held (PoseTracker's WebView demo lists them "static", the issue
    # lists them with the holds; its V4 SDK list says "dynamic"): a stretch lasts as long as it
    # is held. Seated forward fold: sitting on the chair (thighs level), facing the camera, the
    # chest folds down to the thighs: the shoulders come down to just above the knees (a standing
    # fold, thighs vertical, is not this).
    _pose(
        "chair_forward_fold",
        "Chair forward fold",
        "front",
        (
            *ON_A_CHAIR,
            _target(
                "knee_drop",
                low=-0.1,
                high=0.85,
                ideal=(None, 0.4),
                above=N_("Fold forward: chest toward your thighs"),
            ),
        ),
    ),
    # Seated side stretch: sitting on the chair, one arm reaching up over the head and the trunk
    # bending sideways, 15 degrees or more (hip centre to shoulder centre): a real standing side
    # bend the vendor reads as 20-21 degrees reads 17 on this line (tests/fixtures/README.md).
    _pose(
        "chair_side_stretch",
        "Chair side stretch",
        "front",
        (
            *ON_A_CHAIR,
            _target(
                "torso_tilt",
                low=7.0,
                ideal=(15.0, None),
                below=N_("Lean further to the side"),
            ),
            _target(
                "wrist_height",
                low=0.3,
                ideal=(0.8, None),
                below=N_("Reach your arm up over your head"),
                side="any",
            ),
        ),
        needs=BODY,
    ),
]


# Range-of-motion assessments: the furthest a joint goes, held, against published normal ranges
# (AAOS, as tabulated by Norkin & White; docs/events.md). A movement is read in the plane the
# camera sees: side-on for flexion, facing the camera for abduction and side bends. Shoulder and
# hip have one of each, measured in whichever view the person shows; the limbs' assessments also
# come for one side (`_left`, `_right`), which side-on means that side toward the camera.
KNEE_FLEXION = Movement(
    "knee",
    "flexion",
    "side",
    "knee_flexion",
    (0, 135),
    N_("Bend your knee as far as you can, heel toward your buttock, and hold it there"),
    N_("Knee flexion"),
)
HIP_ABDUCTION = Movement(
    "hip",
    "abduction",
    "front",
    "hip_abduction",
    (0, 45),
    N_("Lift your leg out to the side as far as you can and hold it there"),
    N_("Hip abduction"),
    lifted_leg=True,
)
HIP_FLEXION = Movement(
    "hip",
    "flexion",
    "side",
    "hip_flexion",
    (0, 120),
    N_("Raise your knee toward your chest as far as you can and hold it there"),
    N_("Hip flexion"),
)
SHOULDER_ABDUCTION = Movement(
    "shoulder",
    "abduction",
    "front",
    "shoulder_abduction",
    (0, 180),
    N_("Raise your arm out to the side and up as far as you can and hold it there"),
    N_("Shoulder abduction"),
)
SHOULDER_FLEXION = Movement(
    "shoulder",
    "flexion",
    "side",
    "shoulder_flexion",
    (0, 180),
    N_("Raise your arm forward and up as far as you can and hold it there"),
    N_("Shoulder flexion"),
)
ELBOW_FLEXION = Movement(
    "elbow",
    "flexion",
    "side",
    "elbow_flexion",
    (0, 150),
    N_("Bend your elbow as far as you can and hold it there"),
    N_("Elbow flexion"),
)
NECK_LATERAL_FLEXION = Movement(
    "neck",
    "lateral_flexion",
    "front",
    "neck_lateral_flexion",
    (0, 45),
    N_("Tilt your head, ear toward your shoulder, as far as you can and hold it there"),
    N_("Neck side bend"),
)
BACK_LATERAL_FLEXION = Movement(
    "back",
    "lateral_flexion",
    "front",
    "trunk_lateral_flexion",
    (0, 35),
    N_("Bend sideways, sliding your hand down your leg, as far as you can and hold it there"),
    N_("Trunk side bend"),
)


def _assessment(
    id_: str,
    label: str,
    movements: tuple[Movement, ...],
    needs: tuple[str, ...],
    side: str | None = None,
) -> Exercise:
    views = {movement.view for movement in movements}
    return Exercise(
        id=f"{id_}_{side}" if side else id_,
        kind="assessment",
        view=views.pop() if len(views) == 1 else "either",
        label=f"{label} ({side})" if side else label,
        phases=(),
        needs=needs,
        category="range_of_motion",
        # A movement is measured in its own view: the person is asked to turn until they do.
        fixed_view=True,
        rom=movements,
        side=side,
    )


_LIMB_ASSESSMENTS = (
    ("knee_rom", "Knee range of motion", (KNEE_FLEXION,), ("hip", "knee", "ankle")),
    ("hip_rom", "Hip range of motion", (HIP_ABDUCTION, HIP_FLEXION), ("shoulder", "hip", "knee")),
    (
        "shoulder_rom",
        "Shoulder range of motion",
        (SHOULDER_FLEXION, SHOULDER_ABDUCTION),
        ("shoulder", "elbow", "hip"),
    ),
    ("elbow_rom", "Elbow range of motion", (ELBOW_FLEXION,), ("shoulder", "elbow", "wrist")),
)
ASSESSMENTS = [
    *(
        _assessment(id_, label, movements, needs, side)
        for id_, label, movements, needs in _LIMB_ASSESSMENTS
        for side in (None, "left", "right")
    ),
    # The spine bends to either side: its side is where it bends, measured both ways at once.
    _assessment("neck_rom", "Neck range of motion", (NECK_LATERAL_FLEXION,), ("ear", "shoulder")),
    _assessment("back_rom", "Back range of motion", (BACK_LATERAL_FLEXION,), ("shoulder", "hip")),
]

_DEFINITIONS = [
    Exercise(
        id="squat",
        kind="repetition",
        view="either",
        label="Squat",
        # Facing the camera the thigh points at the lens and the image-plane knee angle hardly
        # moves (a half squat reads about 17 degrees): read it in 3-D there; image-only poses
        # still read larger angles from the front, hence the shorter range.
        signals={
            "side": _single("knee_angle", 170.0, 90.0),
            "front": _single("knee_angle_3d", 170.0, 100.0),
        },
        phases=("standing", "descending", "bottom", "rising"),
        # Brisk real squats (one every 1.1 s, MediaPipe's demo clip) take 550-650 ms from leaving
        # the standing position to the count.
        # Both knees bend, together and about as far (a dancer dipping on one knee while the other
        # bends a little is not squatting).
        counting=Counting(
            floor=0.25, min_rep_ms=400.0, tempo_ms=(1200.0, 6000.0), both_sides=True, alike=True
        ),
        checks=(
            Check(
                "knees_cave",
                "knee_feet_ratio",
                "<",
                0.7,
                "bottom",
                N_("Push your knees out"),
                15,
                0.1,
                ("front",),
            ),
            Check(
                "narrow_stance",
                "feet_shoulder_ratio",
                "<",
                0.7,
                "rep",
                N_("Set your feet shoulder-width apart"),
                5,
                0.1,
                ("front",),
            ),
            Check("chest_forward", "torso_lean", ">", 45.0, "bottom", CHEST_UP, 10, 10, ("side",)),
            Check(
                "back_rounded", "hip_angle", "<", 50.0, "bottom", BACK_STRAIGHT, 15, 10, ("side",)
            ),
            Check(
                "knees_past_toes",
                "shin_lean",
                ">",
                40.0,
                "bottom",
                N_("Sit back: keep your knees behind your toes"),
                10,
                5,
                ("side",),
            ),
            # Heels lifting about 20 degrees (0.25 shin lengths above the toes); side-on only,
            # where heel and toes are at the same distance from the camera.
            Check(
                "heels_up",
                "heel_raise",
                ">",
                0.25,
                "bottom",
                N_("Keep your heels on the floor"),
                10,
                0.05,
                ("side",),
            ),
        ),
        start=STANDING,
        needs=LEGS,
        depth_cue=N_("Go lower: thighs to parallel"),
    ),
    Exercise(
        id="push_up",
        kind="repetition",
        # Side-on (its form checks need it) or head-on, the phone on the floor facing the
        # person, as PoseTracker's face_pushup: there the elbow angle barely moves in the image
        # and the wrists-below-shoulders drop is what counts (real ML Kit samples filmed from
        # the front: arms straight 1.1-2.0 shoulder widths, chest down -0.1-0.7).
        view="either",
        label="Push-up",
        signals={
            "side": _single("elbow_angle", 160.0, 90.0),
            # Head-on the elbow angle barely moves in the image; turned 20-45 degrees the
            # shoulders look narrower and the drop shrinks: whichever moves more counts.
            "front": Signal(
                components=(
                    Component("elbow_angle", 160.0, 90.0),
                    Component("wrist_drop", 1.35, 0.55),
                ),
                per_side=False,
                combine="max",
            ),
        },
        phases=("arms extended", "lowering", "bottom", "pushing"),
        counting=Counting(floor=0.25, min_rep_ms=500.0, tempo_ms=(800.0, 5000.0), both_sides=True),
        checks=(
            Check(
                "hips_sag",
                "body_line",
                "<",
                160.0,
                "rep",
                N_("Keep your body straight: don't let your hips sag"),
                20,
                5,
                ("side",),
            ),
            Check(
                "hips_high",
                "body_line",
                ">",
                205.0,
                "rep",
                N_("Lower your hips in line with your body"),
                10,
                5,
                ("side",),
            ),
        ),
        requires=(Condition("torso_elevation", low=-30.0, high=45.0), BODY_IN_LINE),
        start=Start((*LYING.conditions, ARMS_HOLD_THE_BODY), PUSH_UP_POSITION),
        needs=BODY,
        front=FrontView(
            # The legs hide behind the body; hips behind the shoulders tell a push-up from a
            # standing person moving their arms (about 1.5 shoulder widths apart standing).
            needs=("shoulder", "elbow", "wrist"),
            start=Start(
                (Condition("hip_drop", high=0.9), Condition("wrist_drop", low=0.9)),
                PUSH_UP_POSITION,
            ),
            requires=(Condition("hip_drop", high=0.9),),
        ),
        depth_cue=N_("Lower your chest: elbows to 90°"),
    ),
    Exercise(
        id="lunge",
        kind="repetition",
        view="side",
        label="Lunge",
        # Side-on, the hips' drop between the feet: the near knee is the front one in one
        # alternating lunge and the back one in the next, which many people bend far less, and
        # the far leg is mostly hidden; the hips drop the same whichever leg steps forward.
        signals={
            "side": _single("hip_above_feet", 1.05, 0.55),
            "front": _single("knee_angle_3d", 170.0, 90.0),
        },
        phases=("standing", "descending", "bottom", "rising"),
        counting=Counting(floor=0.25, min_rep_ms=600.0, tempo_ms=(1200.0, 6000.0), both_sides=True),
        checks=(
            Check(
                "knee_over_toe",
                "front_shin_lean",
                ">",
                20.0,
                "bottom",
                N_("Keep your front knee behind your toes"),
                15,
                5,
                ("side",),
            ),
            Check(
                "torso_forward",
                "torso_lean",
                ">",
                25.0,
                "bottom",
                N_("Keep your torso upright"),
                10,
                5,
                ("side",),
            ),
        ),
        start=UPRIGHT_ON_FEET,
        needs=LEGS,
        steady=False,  # stepping in and out moves the hips
        depth_cue=N_("Go lower: back knee toward the floor"),
    ),
    Exercise(
        id="side_lunge",
        kind="repetition",
        view="front",
        label="Side lunge",
        # Facing the camera (its view) the bent knee points forward or caves in: read it in 3-D.
        signals=_both_views(_single("knee_angle_3d", 170.0, 100.0)),
        phases=("standing", "lunging", "bottom", "returning"),
        counting=Counting(floor=0.25, min_rep_ms=600.0, tempo_ms=(1000.0, 6000.0)),
        checks=(Check("lean", "torso_tilt", ">", 30.0, "bottom", CHEST_UP, 10, 5, ("front",)),),
        start=STANDING,
        steady=False,
        needs=LEGS,
        depth_cue=N_("Sit deeper into the bent leg"),
    ),
    Exercise(
        id="deadlift",
        kind="repetition",
        view="side",
        label="Deadlift",
        signals=_both_views(_single("hip_angle", 170.0, 95.0)),
        phases=("standing", "hinging", "bottom", "lifting"),
        counting=Counting(
            floor=0.25,
            min_rep_ms=800.0,
            tempo_ms=(1500.0, 7000.0),
            both_sides=True,
            bottom_start=True,
        ),
        checks=(
            Check(
                "squatting",
                "knee_angle",
                "<",
                110.0,
                "bottom",
                N_("Hinge at the hips: keep only a soft bend in the knees"),
                10,
                10,
                ("side",),
            ),
        ),
        start=STANDING,
        needs=LEGS,
        depth_cue=N_("Hinge lower: push your hips back"),
    ),
    _curl(
        "bicep_curl",
        "Bicep curl",
        N_("Curl all the way up"),
    ),
    _curl(
        "hammer_curl",
        "Hammer curl",
        N_("Curl all the way up, thumbs facing up"),
    ),
    Exercise(
        id="tricep_dip",
        kind="repetition",
        view="side",
        label="Tricep dip",
        signals=_both_views(_single("elbow_angle", 165.0, 90.0)),
        phases=("arms extended", "dipping", "bottom", "pressing"),
        counting=Counting(floor=0.25, min_rep_ms=600.0, tempo_ms=(1000.0, 6000.0), both_sides=True),
        checks=(
            Check(
                "too_deep",
                "elbow_angle",
                "<",
                60.0,
                "bottom",
                N_("Stop at 90°: don't dip too deep"),
                10,
                5,
            ),
            Check(
                "torso_forward",
                "torso_lean",
                ">",
                30.0,
                "rep",
                N_("Keep your torso upright, close to the bench"),
                10,
                5,
                ("side",),
            ),
        ),
        start=UPRIGHT,
        needs=ARMS,
        depth_cue=N_("Lower until your elbows reach 90°"),
    ),
    Exercise(
        id="shoulder_press",
        kind="repetition",
        view="front",
        label="Shoulder press",
        signals=_both_views(_single("wrist_height", 0.1, 1.0)),
        phases=("racked", "pressing", "locked out", "lowering"),
        counting=Counting(floor=0.25, min_rep_ms=600.0, tempo_ms=(1000.0, 6000.0)),
        checks=(
            Check(
                "no_lockout",
                "elbow_angle",
                "<",
                145.0,
                "bottom",
                N_("Press all the way up: straighten your arms"),
                10,
                10,
            ),
            Check(
                "back_arch",
                "torso_lean",
                "<",
                -15.0,
                "rep",
                N_("Don't arch your back: brace your core"),
                15,
                5,
                ("side",),
            ),
        ),
        start=UPRIGHT,
        needs=ARMS,
        depth_cue=N_("Press all the way overhead"),
    ),
    _raise("lateral_raise", "front", "Lateral raise", Condition("arm_plane", low=45.0), "front"),
    # Counted facing the camera too (the wrists rise in the image either way): asking the person
    # to turn first cost the first rep of sets filmed from the front.
    _raise("front_raise", "either", "Front raise", Condition("arm_plane", high=45.0), "side"),
    Exercise(
        id="glute_bridge",
        kind="repetition",
        view="side",
        label="Glute bridge",
        signals=_both_views(_single("hip_angle", 130.0, 175.0)),
        phases=("down", "lifting", "top", "lowering"),
        counting=Counting(floor=0.25, min_rep_ms=600.0, tempo_ms=(1000.0, 6000.0), both_sides=True),
        checks=(
            Check(
                "legs_straight",
                "knee_angle",
                ">",
                140.0,
                "rep",
                N_("Bring your feet closer to your hips"),
                10,
                10,
                ("side",),
            ),
        ),
        start=LYING,
        needs=LEGS,
        depth_cue=N_("Lift your hips higher: squeeze your glutes"),
    ),
    Exercise(
        id="calf_raise",
        kind="repetition",
        view="either",
        label="Calf raise",
        signals=_both_views(_single("heel_raise", 0.0, 0.2)),
        phases=("flat", "rising", "on toes", "lowering"),
        counting=Counting(floor=0.3, min_rep_ms=500.0, tempo_ms=(800.0, 5000.0), both_sides=True),
        checks=(
            Check(
                "knees_bent",
                "knee_angle",
                "<",
                150.0,
                "rep",
                N_("Keep your legs straight: rise through your ankles"),
                10,
                10,
            ),
        ),
        start=STANDING,
        needs=FEET,
        depth_cue=N_("Rise higher onto your toes"),
    ),
    _jack(
        "jumping_jack",
        "Jumping jack",
        1.0,
        N_("Jump your feet wider"),
        300.0,
    ),
    _jack(
        "low_impact_jack",
        "Low-impact jack",
        0.8,
        N_("Step your foot out wider"),
        400.0,
    ),
    Exercise(
        id="high_knees",
        kind="repetition",
        view="either",
        label="High knees",
        signals=_both_views(_single("thigh_lift", 0.0, 90.0)),
        phases=("standing", "lifting", "knee up", "lowering"),
        counting=Counting(floor=0.25, min_rep_ms=180.0, tempo_ms=(300.0, 2000.0), alternating=True),
        checks=(
            Check(
                "lean_back",
                "torso_lean",
                "<",
                -15.0,
                "rep",
                N_("Stay tall: don't lean back"),
                10,
                5,
                ("side",),
            ),
        ),
        start=STANDING,
        needs=LEGS,
        depth_cue=N_("Drive your knees up to hip height"),
    ),
    Exercise(
        id="mountain_climber",
        kind="repetition",
        view="side",
        label="Mountain climber",
        signals=_both_views(_single("hip_angle", 165.0, 90.0)),
        phases=("plank", "driving", "knee in", "returning"),
        counting=Counting(floor=0.25, min_rep_ms=180.0, tempo_ms=(300.0, 2500.0), alternating=True),
        checks=(
            Check(
                "hips_high",
                "torso_elevation",
                "<",
                -10.0,
                "rep",
                N_("Keep your hips down, in line with your shoulders"),
                10,
                5,
                ("side",),
            ),
        ),
        start=LYING,
        needs=LEGS,
        depth_cue=N_("Drive your knee toward your chest"),
    ),
    Exercise(
        id="leg_raise",
        kind="repetition",
        view="side",
        label="Leg raise",
        signals=_both_views(_single("hip_angle", 175.0, 95.0)),
        phases=("legs down", "raising", "legs up", "lowering"),
        counting=Counting(floor=0.25, min_rep_ms=800.0, tempo_ms=(1500.0, 6000.0), both_sides=True),
        checks=(
            Check(
                "knees_bent",
                "knee_angle",
                "<",
                140.0,
                "rep",
                N_("Keep your legs straight"),
                15,
                10,
            ),
        ),
        start=LYING,
        needs=LEGS,
        depth_cue=N_("Raise your legs to vertical"),
    ),
    Exercise(
        id="sit_up",
        kind="repetition",
        view="side",
        label="Sit-up",
        signals=_both_views(_single("torso_elevation", 5.0, 60.0)),
        phases=("lying", "curling up", "up", "lowering"),
        counting=Counting(floor=0.2, min_rep_ms=600.0, tempo_ms=(1000.0, 5000.0), both_sides=True),
        checks=(
            # The chin pulled to the chest at the top (hands pulling on the head): about 60
            # degrees of neck flexion against the trunk, 20-25 held neutral.
            Check(
                "neck_pull",
                "neck_flexion",
                ">",
                50.0,
                "bottom",
                N_("Don't pull on your neck: keep your chin off your chest"),
                10,
                5,
                ("side",),
            ),
        ),
        start=LYING,
        needs=LEGS,
        depth_cue=N_("Curl up higher: chest toward your knees"),
    ),
    Exercise(
        id="plank",
        kind="duration",
        view="side",
        label="Plank",
        phases=("holding",),
        checks=(
            Check(
                "hips_sag",
                "body_line",
                "<",
                165.0,
                "hold",
                N_("Lift your hips in line with your body"),
                20,
                5,
            ),
            Check(
                "hips_high",
                "body_line",
                ">",
                212.0,
                "hold",
                N_("Lower your hips"),
                10,
                5,
            ),
        ),
        # A plank is the body held up on the forearms or hands, legs straight. Hips too high or
        # too low are its faults, however far: real piked planks (Exercise-Correction's labelled
        # ones) bend the body line to 266 degrees with the shoulders 48 below the hips, and are
        # held and told to lower the hips. Folded past a right angle at the hips (a downward
        # dog, 285-315 in MediaPipe's real yoga flow) it is another pose.
        hold=Hold(
            conditions=(
                Condition("torso_elevation", low=-60.0, high=45.0),
                Condition("body_line", low=140.0, high=280.0),
                Condition("knee_angle", low=130.0),
                AnyOf((PLANK_ARMS, PLANK_OFF_THE_FLOOR)),
            ),
            target_s=60.0,
        ),
        start=LYING,
        needs=("shoulder", "elbow", "hip", "knee", "ankle"),
        progression="hold",
        category="hold",
    ),
    Exercise(
        id="wall_sit",
        kind="duration",
        view="side",
        label="Wall sit",
        phases=("holding",),
        checks=(
            Check(
                "too_high",
                "knee_angle",
                ">",
                105.0,
                "hold",
                N_("Slide lower: thighs parallel to the floor"),
                10,
                5,
            ),
            Check(
                "too_low",
                "knee_angle",
                "<",
                75.0,
                "hold",
                N_("Come up a little: knees at 90°"),
                5,
                5,
            ),
            Check(
                "back_off_wall",
                "torso_lean",
                ">",
                20.0,
                "hold",
                N_("Keep your back against the wall"),
                10,
                5,
                ("side",),
            ),
        ),
        hold=Hold(
            conditions=(
                Condition("knee_angle", low=70.0, high=115.0),
                Condition("torso_elevation", low=55.0),
            ),
            target_s=45.0,
        ),
        needs=LEGS,
        progression="hold",
        category="hold",
    ),
    _balance("balance_leg", "Balance on one leg", "any"),
    # Standing on the left leg means the right foot is the one lifted.
    _balance("balance_leg_left", "Balance on the left leg", "right"),
    _balance("balance_leg_right", "Balance on the right leg", "left"),
    *FLEXIBILITY_POSES,
    *WELLNESS,
    *PHYSICAL_TESTS,
    *ASSESSMENTS,
    Exercise(
        id="jump_analysis",
        kind="jump",
        view="front",
        label="Jump analysis",
        phases=(),
        category="jump",
    ),
    Exercise(
        id="air_time_jump",
        kind="jump",
        view="either",
        label="Air-time jump",
        phases=(),
        category="jump",
    ),
]

EXERCISES: dict[str, Exercise] = {exercise.id: exercise for exercise in _DEFINITIONS}

ALIASES: dict[str, str] = {
    "face_squat": "squat",
    "face_pushup": "push_up",
    "face_plank": "plank",
    "face_lunge": "lunge",
    "face_jumping_jack": "jumping_jack",
    "face_low_impact_jack": "low_impact_jack",
    "face_balance_leg": "balance_leg",
    "face_balance_leg_left": "balance_leg_left",
    "face_balance_leg_right": "balance_leg_right",
    "side_squat": "squat",
    "side_pushup": "push_up",
    "side_plank": "plank",
    "jump": "air_time_jump",
}


def resolve_exercise(name: str) -> str | None:
    key = name.strip().lower()
    if key in EXERCISES:
        return key
    return ALIASES.get(key)


def exercise_label(exercise_id: str) -> str:
    """What pages call an exercise: its label, or the id itself when the catalog no longer has it
    (rows recorded before it left)."""
    exercise = EXERCISES.get(exercise_id)
    return exercise.label if exercise else exercise_id
