"""The exercise catalog: one declarative definition per exercise, data only.

Interface used outside the engine (parser, API):
- EXERCISES: dict[str, Exercise], keyed by canonical id; Exercise has .id, .kind
  ("repetition" | "duration" | "jump"), .view ("front" | "side" | "either"), .label.
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
  views it applies to, the points it costs (`weight`) and its cue in English and French. `slack`
  is how far difficulty moves the threshold (easy: one slack more lenient, hard: one stricter).
- `requires`: what must hold at the turn for the movement to be this exercise at all (a lateral
  raise is not a front raise); a rep that fails it is reported as an attempt.
- `start`: the position that must be held before counting starts (standing, lying...).
- `hold`: for duration exercises, the conditions of a valid hold and the target time.
- `needs`: the joints (per side) that must be visible; side-on, one side is enough.
- `progression`: what the 0-100 progression value follows: "rep" (through each repetition, 100
  when it counts) or "hold" (share of `hold.target_s` held).
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Text:
    en: str
    fr: str

    def in_language(self, language: str) -> str:
        return self.fr if language == "fr" else self.en


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


@dataclass(frozen=True)
class Counting:
    floor: float = 0.25
    min_rep_ms: float = 500.0
    tempo_ms: tuple[float, float] = (1000.0, 6000.0)
    alternating: bool = False
    both_sides: bool = False  # both sides make the movement: facing the camera, a rep needs both


@dataclass(frozen=True)
class Check:
    id: str
    metric: str
    op: str  # the fault is `metric op value`: "<" or ">"
    value: float
    phase: str  # "bottom" | "rep" | "hold"
    message: Text
    weight: float = 10.0
    slack: float = 0.0
    views: tuple[str, ...] = ("front", "side")

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
    "left"/"right" = that side, "any" = either side."""

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
class Hold:
    conditions: tuple[Condition, ...]
    target_s: float


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
    cue: Text


STANDING = Start(
    (Condition("torso_elevation", low=55.0), Condition("knee_angle", low=145.0)),
    Text("Stand up straight to start", "Tenez-vous droit pour commencer"),
)
UPRIGHT = Start(
    (Condition("torso_elevation", low=45.0),),
    Text("Sit or stand upright to start", "Tenez-vous bien droit pour commencer"),
)
LYING = Start(
    (Condition("torso_elevation", low=-30.0, high=40.0),),
    Text("Get into position on the floor", "Mettez-vous en position au sol"),
)


@dataclass(frozen=True)
class FrontView:
    """What changes when an exercise is filmed facing the camera (a head-on push-up): the joints
    it needs, its start position and what its reps require, in place of the side-on ones."""

    needs: tuple[str, ...]
    start: Start | None = None
    requires: tuple[Condition, ...] = ()


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
    depth_cue: Text | None = None
    steady: bool = True  # the hips should not travel sideways (scored as stability)
    progression: str = "rep"  # "rep": 0-100 through each rep; "hold": share of the target time
    front: FrontView | None = None  # facing the camera, when that differs (see FrontView)

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


def _single(metric: str, top: float, target: float, per_side: bool = True) -> Signal:
    return Signal(components=(Component(metric, top, target),), per_side=per_side)


# Cues shared by several exercises.
CHEST_UP = Text("Keep your chest up", "Gardez la poitrine haute")
BACK_STRAIGHT = Text("Keep your back straight", "Gardez le dos droit")
TORSO_STILL = Text(
    "Don't lean back: keep your torso still",
    "Ne vous penchez pas en arrière : gardez le buste immobile",
)
ELBOWS_PINNED = Text("Keep your elbows pinned to your sides", "Gardez les coudes collés au corps")
SHOULDER_HEIGHT = Text("Raise your arms to shoulder height", "Montez les bras à hauteur d'épaules")
STOP_AT_SHOULDERS = Text("Stop at shoulder height", "Arrêtez-vous à hauteur d'épaules")
STAND_TALL = Text(
    "Stand tall: keep your torso upright", "Tenez-vous droit : gardez le buste vertical"
)


def _curl(id_: str, label: str, curl_cue: Text) -> Exercise:
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
        depth_cue=curl_cue,
    )


def _raise(id_: str, view: str, label: str, plane: Condition) -> Exercise:
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
                Text("Keep your arms long", "Gardez les bras longs"),
                5,
                10,
                # Only the exercise's own view shows the elbow bend in the image plane.
                (view,),
            ),
            Check("swing", "torso_lean", "<", -10.0, "rep", TORSO_STILL, 15, 5, ("side",)),
        ),
        requires=(plane,),
        start=UPRIGHT,
        needs=ARMS,
        depth_cue=SHOULDER_HEIGHT,
    )


def _jack(id_: str, label: str, legs_target: float, legs_cue: Text, min_rep_ms: float) -> Exercise:
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
                Text(
                    "Raise your arms fully overhead",
                    "Levez complètement les bras au-dessus de la tête",
                ),
                15,
                0.2,
            ),
            Check(
                "feet_close", "ankle_spread", "<", legs_target - 0.35, "bottom", legs_cue, 15, 0.1
            ),
        ),
        start=STANDING,
        needs=BODY,
        depth_cue=Text(
            "Open all the way: arms overhead, feet wide",
            "Ouvrez complètement : bras au-dessus de la tête, pieds écartés",
        ),
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
                Text("Lift your foot a little higher", "Levez le pied un peu plus haut"),
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
    )


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
        counting=Counting(floor=0.25, min_rep_ms=600.0, tempo_ms=(1200.0, 6000.0), both_sides=True),
        checks=(
            Check(
                "knees_cave",
                "knee_feet_ratio",
                "<",
                0.7,
                "bottom",
                Text("Push your knees out", "Poussez les genoux vers l'extérieur"),
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
                Text(
                    "Set your feet shoulder-width apart",
                    "Écartez les pieds à la largeur des épaules",
                ),
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
                Text(
                    "Sit back: keep your knees behind your toes",
                    "Reculez les hanches : genoux derrière les orteils",
                ),
                10,
                5,
                ("side",),
            ),
        ),
        start=STANDING,
        needs=LEGS,
        depth_cue=Text(
            "Go lower: thighs to parallel", "Descendez plus bas : cuisses parallèles au sol"
        ),
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
                Text(
                    "Keep your body straight: don't let your hips sag",
                    "Gardez le corps droit : ne laissez pas les hanches s'affaisser",
                ),
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
                Text(
                    "Lower your hips in line with your body",
                    "Abaissez les hanches dans l'alignement du corps",
                ),
                10,
                5,
                ("side",),
            ),
        ),
        requires=(Condition("torso_elevation", low=-30.0, high=45.0),),
        start=LYING,
        needs=BODY,
        front=FrontView(
            # The legs hide behind the body; hips behind the shoulders tell a push-up from a
            # standing person moving their arms (about 1.5 shoulder widths apart standing).
            needs=("shoulder", "elbow", "wrist"),
            start=Start(
                (Condition("hip_drop", high=0.9), Condition("wrist_drop", low=0.9)),
                Text(
                    "Get into push-up position, arms straight",
                    "Mettez-vous en position de pompe, bras tendus",
                ),
            ),
            requires=(Condition("hip_drop", high=0.9),),
        ),
        depth_cue=Text("Lower your chest: elbows to 90°", "Descendez la poitrine : coudes à 90°"),
    ),
    Exercise(
        id="lunge",
        kind="repetition",
        view="side",
        label="Lunge",
        signals={
            "side": _single("knee_angle", 170.0, 90.0),
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
                Text(
                    "Keep your front knee behind your toes",
                    "Gardez le genou avant derrière les orteils",
                ),
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
                Text("Keep your torso upright", "Gardez le buste droit"),
                10,
                5,
                ("side",),
            ),
        ),
        start=STANDING,
        needs=LEGS,
        steady=False,  # stepping in and out moves the hips
        depth_cue=Text(
            "Go lower: back knee toward the floor", "Descendez plus bas : genou arrière vers le sol"
        ),
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
        depth_cue=Text("Sit deeper into the bent leg", "Descendez davantage sur la jambe fléchie"),
    ),
    Exercise(
        id="deadlift",
        kind="repetition",
        view="side",
        label="Deadlift",
        signals=_both_views(_single("hip_angle", 170.0, 95.0)),
        phases=("standing", "hinging", "bottom", "lifting"),
        counting=Counting(floor=0.25, min_rep_ms=800.0, tempo_ms=(1500.0, 7000.0), both_sides=True),
        checks=(
            Check(
                "squatting",
                "knee_angle",
                "<",
                110.0,
                "bottom",
                Text(
                    "Hinge at the hips: keep only a soft bend in the knees",
                    "Basculez depuis les hanches : genoux juste légèrement fléchis",
                ),
                10,
                10,
                ("side",),
            ),
        ),
        start=STANDING,
        needs=LEGS,
        depth_cue=Text(
            "Hinge lower: push your hips back", "Descendez plus : poussez les hanches en arrière"
        ),
    ),
    _curl(
        "bicep_curl",
        "Bicep curl",
        Text("Curl all the way up", "Montez jusqu'en haut du mouvement"),
    ),
    _curl(
        "hammer_curl",
        "Hammer curl",
        Text(
            "Curl all the way up, thumbs facing up",
            "Montez jusqu'en haut, pouces vers le haut",
        ),
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
                Text(
                    "Stop at 90°: don't dip too deep",
                    "Arrêtez-vous à 90° : ne descendez pas trop bas",
                ),
                10,
                5,
            ),
            Check(
                "torso_forward",
                "torso_lean",
                ">",
                30.0,
                "rep",
                Text(
                    "Keep your torso upright, close to the bench",
                    "Gardez le buste droit, près du banc",
                ),
                10,
                5,
                ("side",),
            ),
        ),
        start=UPRIGHT,
        needs=ARMS,
        depth_cue=Text(
            "Lower until your elbows reach 90°", "Descendez jusqu'à ce que les coudes soient à 90°"
        ),
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
                Text(
                    "Press all the way up: straighten your arms",
                    "Poussez jusqu'en haut : tendez les bras",
                ),
                10,
                10,
            ),
            Check(
                "back_arch",
                "torso_lean",
                "<",
                -15.0,
                "rep",
                Text(
                    "Don't arch your back: brace your core",
                    "Ne cambrez pas le dos : gainez-vous",
                ),
                15,
                5,
                ("side",),
            ),
        ),
        start=UPRIGHT,
        needs=ARMS,
        depth_cue=Text("Press all the way overhead", "Poussez complètement au-dessus de la tête"),
    ),
    _raise("lateral_raise", "front", "Lateral raise", Condition("arm_plane", low=45.0)),
    _raise("front_raise", "side", "Front raise", Condition("arm_plane", high=45.0)),
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
                Text("Bring your feet closer to your hips", "Rapprochez les pieds des fesses"),
                10,
                10,
                ("side",),
            ),
        ),
        start=LYING,
        needs=LEGS,
        depth_cue=Text(
            "Lift your hips higher: squeeze your glutes",
            "Montez les hanches plus haut : serrez les fessiers",
        ),
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
                Text(
                    "Keep your legs straight: rise through your ankles",
                    "Gardez les jambes tendues : montez par les chevilles",
                ),
                10,
                10,
            ),
        ),
        start=STANDING,
        needs=FEET,
        depth_cue=Text("Rise higher onto your toes", "Montez plus haut sur la pointe des pieds"),
    ),
    _jack(
        "jumping_jack",
        "Jumping jack",
        1.0,
        Text("Jump your feet wider", "Sautez les pieds plus écartés"),
        300.0,
    ),
    _jack(
        "low_impact_jack",
        "Low-impact jack",
        0.8,
        Text("Step your foot out wider", "Écartez davantage le pied"),
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
                Text("Stay tall: don't lean back", "Restez grand : ne vous penchez pas en arrière"),
                10,
                5,
                ("side",),
            ),
        ),
        start=STANDING,
        needs=LEGS,
        depth_cue=Text(
            "Drive your knees up to hip height", "Montez les genoux à hauteur de hanches"
        ),
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
                Text(
                    "Keep your hips down, in line with your shoulders",
                    "Gardez les hanches basses, alignées avec les épaules",
                ),
                10,
                5,
                ("side",),
            ),
        ),
        start=LYING,
        needs=LEGS,
        depth_cue=Text("Drive your knee toward your chest", "Ramenez le genou vers la poitrine"),
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
                Text("Keep your legs straight", "Gardez les jambes tendues"),
                15,
                10,
            ),
        ),
        start=LYING,
        needs=LEGS,
        depth_cue=Text("Raise your legs to vertical", "Montez les jambes jusqu'à la verticale"),
    ),
    Exercise(
        id="sit_up",
        kind="repetition",
        view="side",
        label="Sit-up",
        signals=_both_views(_single("torso_elevation", 5.0, 60.0)),
        phases=("lying", "curling up", "up", "lowering"),
        counting=Counting(floor=0.2, min_rep_ms=600.0, tempo_ms=(1000.0, 5000.0), both_sides=True),
        start=LYING,
        needs=LEGS,
        depth_cue=Text(
            "Curl up higher: chest toward your knees",
            "Montez plus haut : la poitrine vers les genoux",
        ),
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
                Text(
                    "Lift your hips in line with your body",
                    "Remontez les hanches dans l'alignement du corps",
                ),
                20,
                5,
            ),
            Check(
                "hips_high",
                "body_line",
                ">",
                212.0,
                "hold",
                Text("Lower your hips", "Abaissez les hanches"),
                10,
                5,
            ),
        ),
        hold=Hold(
            conditions=(
                Condition("torso_elevation", low=-25.0, high=45.0),
                Condition("body_line", low=140.0, high=235.0),
                Condition("elbow_drop", low=0.25),
                Condition("knee_angle", low=130.0),
            ),
            target_s=60.0,
        ),
        start=LYING,
        needs=("shoulder", "elbow", "hip", "knee", "ankle"),
        progression="hold",
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
                Text(
                    "Slide lower: thighs parallel to the floor",
                    "Descendez : cuisses parallèles au sol",
                ),
                10,
                5,
            ),
            Check(
                "too_low",
                "knee_angle",
                "<",
                75.0,
                "hold",
                Text("Come up a little: knees at 90°", "Remontez un peu : genoux à 90°"),
                5,
                5,
            ),
            Check(
                "back_off_wall",
                "torso_lean",
                ">",
                20.0,
                "hold",
                Text("Keep your back against the wall", "Gardez le dos contre le mur"),
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
    ),
    _balance("balance_leg", "Balance on one leg", "any"),
    # Standing on the left leg means the right foot is the one lifted.
    _balance("balance_leg_left", "Balance on the left leg", "right"),
    _balance("balance_leg_right", "Balance on the right leg", "left"),
    Exercise(id="jump_analysis", kind="jump", view="front", label="Jump analysis", phases=()),
    Exercise(id="air_time_jump", kind="jump", view="either", label="Air-time jump", phases=()),
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
