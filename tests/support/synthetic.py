"""Synthetic BlazePose streams with known ground truth, for the tests.

A kinematic skeleton (segment lengths from standard anthropometry scaled by body height) performs an
exercise as joint trajectories over time; forward and two-link inverse kinematics give the 33
BlazePose landmarks in metres, and a pinhole camera turns them into `Pose` frames: x, y normalised
to the image, z (depth relative to the hips, on the x scale, smaller = closer) and a visibility,
plus world landmarks in metres (hip-centred, camera axes: x right, y down, z away from the camera).

    take = generate("squat", reps=5, view="side", noise_px=2.0, faults={"knees_caving": 0.8})
    take.poses           # list[Pose]
    take.reps            # list[RepTruth]: start, turn and end time, depth, side, faults of each rep
    take.holds           # [(start_s, end_s)] for holds, in full position
    take.flights         # list[FlightTruth] for jumps: exact take-off and landing times, height
    take.camera          # CameraTruth: focal length, distance, pitch, cm per pixel at the hips

Every exercise of the catalog is available, with its per-exercise faults listed in `FAULTS`.
Severity is 0..1 (one value for the whole take, or one per repetition). Everything is vectorised
over frames and deterministic for a given `seed`.

Conventions. The scene frame has y up and the floor at y = 0; the person starts facing +z with their
left side towards +x. `view` turns the person: "front" faces the camera, "side" faces the image's
right (right side nearest the camera), "side_left" faces the image's left, a number is a yaw in
degrees (0 front, 90 "side"). `mirror` flips the image as a selfie preview does (x -> 1 - x, labels
kept), so a mirrored front view shows the left shoulder on the image's left.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tracking.engine.catalog import EXERCISES, resolve_exercise
from tracking.engine.pose import LANDMARK_INDEX, LANDMARK_NAMES, Pose

G = 9.81
SIDES = (("left", 1.0), ("right", -1.0))

# Anthropometry, fractions of body height (Drillis & Contini, as tabulated in Winter, "Biomechanics
# and Motor Control of Human Movement", fig. 4.1): shoulder 0.818, hip 0.530, knee 0.285, ankle
# 0.039, eyes 0.936 above the floor.
UPPER_ARM = 0.186
FOREARM = 0.146
THIGH = 0.245
SHANK = 0.246
TRUNK = 0.288  # hip joint to shoulder joint
SHOULDER_HALF_WIDTH = 0.115
HIP_HALF_WIDTH = 0.075
ANKLE_HEIGHT = 0.039
# Landmarks relative to their parent joint, in the parent's own frame, fractions of body height.
# Head: (left, up, forward) from the shoulder midpoint; standing, the eyes are at 0.936 and the top
# of the head 0.064 above them.
HEAD_POINTS = {
    "nose": (0.0, 0.092, 0.057),
    "left_eye_inner": (0.010, 0.118, 0.048),
    "left_eye": (0.018, 0.118, 0.046),
    "left_eye_outer": (0.028, 0.117, 0.040),
    "left_ear": (0.043, 0.107, 0.0),
    "mouth_left": (0.014, 0.072, 0.050),
}
# Hand: (along the hand, towards the thumb) from the wrist.
HAND_POINTS = {"index": (0.055, 0.012), "pinky": (0.050, -0.018), "thumb": (0.030, 0.028)}
# Foot: (foot's up, foot's forward) from the ankle; flat on the floor the heel landmark is 0.009 and
# the toe tip 0.006 of body height above the floor.
FOOT_POINTS = {"heel": (-0.030, -0.035), "foot_index": (-0.033, 0.115)}

# The camera's focal length, in pixels, over the image's longer side (about 55 degrees across it).
FOCAL_OVER_LONG_SIDE = 0.95
# Without a camera distance, the whole take fills this share of the image.
FRAME_FILL = 0.75

# Default seconds per repetition, and how long a hold takes to get into and out of position.
TEMPO_S = {
    "squat": 2.5,
    "push_up": 2.0,
    "lunge": 3.0,
    "side_lunge": 3.0,
    "deadlift": 3.0,
    "bicep_curl": 2.5,
    "hammer_curl": 2.5,
    "tricep_dip": 2.5,
    "shoulder_press": 2.5,
    "lateral_raise": 3.0,
    "front_raise": 3.0,
    "glute_bridge": 2.5,
    "calf_raise": 2.0,
    "jumping_jack": 1.0,
    "low_impact_jack": 1.6,
    "high_knees": 0.6,
    "mountain_climber": 0.7,
    "leg_raise": 3.0,
    "sit_up": 2.5,
    "shoulder_roll": 2.0,
    "shoulder_deep_breath": 5.0,
    "back_flexibility_test": 4.0,
}
HOLD_S = 10.0
HOLD_ENTER_S = 1.0
HOLD_EXIT_S = 1.0
# Jumps: the phases around each flight, in seconds, and the standing rest between jumps (push-off
# and landing take as long as the flight's speed requires).
COUNTERMOVEMENT_S = 0.45
RECOVERY_S = 0.6
JUMP_REST_S = 2.0
JUMP_HEIGHT_CM = 30.0
# Balance: how long a touchdown lasts at full severity, and how long the foot takes to go down/up.
TOUCHDOWN_S = 2.0
TOUCHDOWN_RAMP_S = 0.3

# Every exercise's faults and what each does at severity 1.
FAULTS: dict[str, dict[str, str]] = {
    "squat": {
        "shallow": "stops at half depth",
        "knees_caving": "knees swing 22 degrees inwards (valgus) at the bottom",
        "forward_lean": "30 degrees more forward lean at the bottom (chest drops)",
        "back_rounding": "spine flexes: 20 degrees more torso lean and the head drops 25 degrees",
        "knees_forward": "shins lean 15 degrees further forward (knees past the toes)",
        "heels_rising": "heels lift 25 degrees off the floor at the bottom",
    },
    "push_up": {
        "hips_sagging": "hips 9% of height below the shoulder-ankle line",
        "hips_piking": "hips 12% of height above the shoulder-ankle line",
        "elbows_flaring": "elbows swing 50 degrees out from the body",
        "shallow": "stops at half depth",
    },
    "lunge": {
        "knee_over_toe": "front shin leans 20 degrees further forward at the bottom",
        "torso_lean": "torso leans 25 degrees forward at the bottom",
        "knee_caving": "front knee swings 20 degrees inwards",
        "shallow": "stops at half depth",
        "back_knee_straight": "a 30% longer stride: the back knee bends 25-45 degrees less",
    },
    "side_lunge": {
        "knee_caving": "bent knee swings 20 degrees inwards",
        "leaning_sideways": "torso tilts 35 degrees towards the bent leg",
        "shallow": "stops at half depth",
    },
    "deadlift": {
        "back_rounding": "spine flexes: 10 degrees more lean, head drops 30 degrees",
        "knees_too_bent": "squats the lift: 65 degrees more knee bend, 20 degrees less hinge",
    },
    "bicep_curl": {
        "leaning_back": "torso swings 18 degrees back as the weight rises",
        "elbows_drifting": "upper arms swing 40 degrees forward as the weight rises",
        "partial_range": "curls 45% less of the range",
    },
    "tricep_dip": {
        "shallow": "stops at half depth",
        "elbows_flaring": "elbows swing 40 degrees outwards",
        "torso_leaning_forward": "torso leans 35 degrees forward",
    },
    "shoulder_press": {
        "back_arching": "torso leans 18 degrees back at the top",
        "incomplete_lockout": "elbows stay bent about 55 degrees at the top",
        "uneven_arms": "the right arm presses half as far",
    },
    "lateral_raise": {
        "too_high": "arms rise 35 degrees above shoulder height",
        "bent_elbows": "elbows bend 55 degrees more",
        "swinging": "torso swings 14 degrees back as the arms rise",
    },
    "glute_bridge": {
        "hips_low": "hips rise half as far",
        "feet_too_far": "feet 16% of height further out, legs nearly straight (whole take)",
    },
    "calf_raise": {
        "bent_knees": "knees bend 36 degrees on the way up",
        "leaning_forward": "torso leans 12 degrees forward on the way up",
    },
    "jumping_jack": {
        "arms_not_overhead": "arms stop at shoulder height",
        "feet_not_apart": "feet open a quarter as wide",
    },
    "high_knees": {
        "knees_low": "knees rise half as high",
        "leaning_back": "torso leans 16 degrees back",
    },
    "mountain_climber": {
        "hips_high": "hips 12% of height above the shoulder-ankle line",
        "short_drive": "knees drive half as far",
    },
    "leg_raise": {
        "bent_knees": "knees bend 45 degrees",
        "short_range": "legs rise half as far",
    },
    "sit_up": {
        "partial_range": "curls up 55% less (a crunch)",
        "neck_pulling": "chin pulled 40 degrees towards the chest",
        "feet_lifting": "feet lift 7% of height off the floor at the top",
    },
    "plank": {
        "hips_high": "hips 12% of height above the shoulder-ankle line",
        "hips_low": "hips 9% of height below the shoulder-ankle line",
    },
    "wall_sit": {
        "too_high": "thighs 35 degrees above level",
        "too_low": "thighs 17 degrees below level",
        "leaning_forward": "torso leans 25 degrees forward, off the wall",
    },
    "balance_leg": {
        "sway": "torso sways 14 degrees side to side",
        "touchdown": "the lifted foot touches down for 2 s in the middle of the hold",
    },
    "jump_analysis": {
        "toward_camera": "travels 0.9 m towards the camera during the flight",
        "tuck": "knees tuck (feet rise 15% of height towards the hips) at the top of the flight",
    },
}
FAULTS.update(
    {
        "shoulder_roll": {
            "small_circles": "shoulders rise half as far",
            "arms_raised": "arms rise 80 degrees to the sides with each roll (another movement)",
        },
        "shoulder_deep_breath": {
            "shallow": "shoulders rise half as far",
            "arms_raised": "arms rise 80 degrees out to the sides with each breath",
        },
        "back_flexibility_test": {
            "knees_bent": "knees bend 36 degrees during the fold",
            "squatting": "a squat instead: knees bend about 100 degrees, trunk leaning half as far",
        },
        "split": {"bent_knees": "both knees bend 60 degrees (not a split)"},
        "facial_split": {"bent_knees": "both knees bend 60 degrees (not a split)"},
        "pancake": {"upright": "the chest stays up (a seated straddle, not folded)"},
        "closing": {"bent_knees": "knees bend 70 degrees"},
        "bridge": {"head_down": "shoulders down by the hands, elbows bent (head near the floor)"},
        "cobra": {"hips_lifted": "hips off the floor, body nearly straight (a plank)"},
        "bow": {
            "no_grip": "hands stay by the hips",
            "knees_down": "thighs stay on the floor",
        },
        "tiger": {"straight_leg": "the raised leg stays straight (a bird dog)"},
        "camel": {"no_reach": "hands stay by the hips (kneeling arched)"},
        "king_pigeon": {
            "no_grip": "hands stay down",
            "foot_down": "the back knee stays straight, the foot on the floor",
        },
        "foot_to_hand": {"no_grip": "the raised foot is not held"},
        "i": {"bent_knee": "the raised knee bends 90 degrees"},
        "needle": {"upright": "the trunk stays upright (a standing split)"},
        "chair_forward_fold": {"standing": "stands and folds instead of sitting"},
        "chair_side_stretch": {"arm_down": "the arm stays down"},
    }
)
FAULTS["hammer_curl"] = FAULTS["bicep_curl"]
FAULTS["front_raise"] = FAULTS["lateral_raise"]
FAULTS["low_impact_jack"] = FAULTS["jumping_jack"]
FAULTS["balance_leg_left"] = FAULTS["balance_leg_right"] = FAULTS["balance_leg"]
FAULTS["air_time_jump"] = FAULTS["jump_analysis"]


@dataclass(frozen=True)
class RepTruth:
    index: int
    start_s: float
    peak_s: float  # the turn of the rep (bottom of a squat, top of a curl)
    end_s: float
    depth: float
    side: str | None  # the working side of one-sided reps (lead leg, driven knee), else None
    faults: dict[str, float]


@dataclass(frozen=True)
class FlightTruth:
    takeoff_s: float  # the last toe leaves the floor
    landing_s: float  # the first toe touches the floor again
    height_cm: float  # rise of the hips (and every point) from take-off to the top of the flight

    @property
    def air_time_s(self) -> float:
        return self.landing_s - self.takeoff_s


@dataclass(frozen=True)
class CameraTruth:
    focal_px: float
    distance_m: float  # along the optical axis to the middle of the take
    pitch_deg: float  # positive: tilted up
    cm_per_px: float  # image-plane scale at the hips' depth in the first frame


@dataclass
class SyntheticTake:
    exercise: str
    poses: list[Pose]
    fps: float
    view: float  # yaw in degrees
    mirror: bool
    height_cm: float
    camera: CameraTruth
    reps: list[RepTruth] = field(default_factory=list)
    holds: list[tuple[float, float]] = field(default_factory=list)
    flights: list[FlightTruth] = field(default_factory=list)

    @property
    def rep_count(self) -> int:
        return len(self.reps)

    @property
    def rep_times(self) -> list[tuple[float, float]]:
        return [(rep.start_s, rep.end_s) for rep in self.reps]


# -- geometry -------------------------------------------------------------------------------------


def _rad(degrees) -> np.ndarray:
    return np.radians(np.asarray(degrees, dtype=float))


def _rot(axis: str, degrees: np.ndarray) -> np.ndarray:
    """(T, 3, 3) right-handed rotations about a scene axis."""
    a = _rad(degrees)
    c, s = np.cos(a), np.sin(a)
    one, zero = np.ones_like(a), np.zeros_like(a)
    rows = {
        "x": ((one, zero, zero), (zero, c, -s), (zero, s, c)),
        "y": ((c, zero, s), (zero, one, zero), (-s, zero, c)),
        "z": ((c, -s, zero), (s, c, zero), (zero, zero, one)),
    }[axis]
    return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)


def _apply(rotation: np.ndarray, vector) -> np.ndarray:
    """(T, 3, 3) rotations applied to one constant vector."""
    return np.einsum("tij,j->ti", rotation, np.asarray(vector, dtype=float))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _frame(up: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotation whose columns are (left, up, forward) from two (T, 3) directions."""
    up = _unit(up)
    left = _unit(np.cross(up, forward))
    return np.stack([left, up, np.cross(left, up)], axis=-1)


def _vec(n: int, x=0.0, y=0.0, z=0.0) -> np.ndarray:
    return np.stack(np.broadcast_arrays(*(np.broadcast_to(c, (n,)) for c in (x, y, z))), axis=-1)


def _ik(root, target, first: float, second: float, hint) -> np.ndarray:
    """The middle joint of a two-segment limb from root to target, bent towards `hint`."""
    axis = target - root
    distance = np.clip(np.linalg.norm(axis, axis=-1), abs(first - second) + 1e-9, first + second)
    axis = axis / distance[:, None]
    along = (first**2 - second**2 + distance**2) / (2 * distance)
    across = np.sqrt(np.maximum(first**2 - along**2, 0.0))
    bend = hint - np.sum(hint * axis, axis=-1, keepdims=True) * axis
    return root + along[:, None] * axis + across[:, None] * _unit(bend)


def _swivel(hint, root, target, degrees) -> np.ndarray:
    """`hint` turned about the root-target axis (a knee caving in, an elbow flaring out)."""
    axis = _unit(target - root)
    a = _rad(np.broadcast_to(degrees, hint.shape[:1]))[:, None]
    return hint * np.cos(a) + np.cross(axis, hint) * np.sin(a)


def _down(forward_deg) -> np.ndarray:
    """Unit vector pointing down, tilted forward (+z) by `forward_deg`."""
    f = _rad(forward_deg)
    return np.stack([np.zeros_like(f), -np.cos(f), np.sin(f)], axis=-1)


def _bisect(function, low: float, high: float, n: int) -> np.ndarray:
    """Per frame, the x in [low, high] where the increasing `function(x)` crosses zero."""
    lo, hi = np.full(n, low), np.full(n, high)
    for _ in range(48):
        mid = (lo + hi) / 2
        below = function(mid) < 0
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return (lo + hi) / 2


def _smoothstep(x) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


# -- the body -------------------------------------------------------------------------------------


class _Body:
    """Joint positions (T, 3) and frames in the scene, built up by the exercise, then landmarks."""

    def __init__(self, n: int, height_m: float):
        self.n = n
        self.h = height_m
        self.joints: dict[str, np.ndarray] = {}
        self.lift = np.zeros(n)  # the whole body raised off the floor (flight), metres
        self.approach = np.zeros(n)  # the whole body moved towards the camera, metres

    def length(self, fraction: float) -> float:
        return fraction * self.h

    def set_head(self, shoulder_mid, head_rotation) -> None:
        self.joints["head_base"] = shoulder_mid
        self.joints["head_rotation"] = head_rotation

    def set_foot(self, side: str, ankle, up, forward) -> None:
        self.joints[side + "_ankle"] = ankle
        self.joints[side + "_foot_up"] = _unit(up)
        self.joints[side + "_foot_forward"] = _unit(forward)

    def set_hand(self, side: str, wrist, along, thumb) -> None:
        self.joints[side + "_wrist"] = wrist
        self.joints[side + "_hand"] = _unit(along)
        self.joints[side + "_thumb"] = _unit(thumb)

    def arms(self, trunk: np.ndarray, angles: dict[str, dict]) -> None:
        """Arms from the shoulders, angles relative to the trunk frame (degrees): flex (forward),
        abd (out to the side), rot (external rotation), elbow (flexion), sup (forearm supination:
        0 palm facing the body, 90 palm forward)."""
        for side, s in SIDES:
            a = angles[side]
            upper = (
                trunk @ _rot("z", s * a["abd"]) @ _rot("x", -a["flex"]) @ _rot("y", s * a["rot"])
            )
            elbow = self.joints[side + "_shoulder"] + self.length(UPPER_ARM) * _apply(
                upper, (0, -1, 0)
            )
            fore = upper @ _rot("x", -a["elbow"])
            wrist = elbow + self.length(FOREARM) * _apply(fore, (0, -1, 0))
            hand = fore @ _rot("y", s * a["sup"])
            self.joints[side + "_elbow"] = elbow
            self.set_hand(side, wrist, _apply(hand, (0, -1, 0)), _apply(hand, (0, 0, 1)))

    def trunk(self, pelvis, rotation, head_flex=0.0, shrug=0.0, protract=0.0) -> None:
        """Shoulders and head from the pelvis (hip midpoint) and the trunk's rotation. `shrug`
        raises the shoulders along the trunk and `protract` moves them forward (metres); the head
        stays on the neck."""
        mid = pelvis + self.length(TRUNK) * rotation[:, :, 1]
        raised = (
            mid
            + np.broadcast_to(shrug, (self.n,))[:, None] * rotation[:, :, 1]
            + np.broadcast_to(protract, (self.n,))[:, None] * rotation[:, :, 2]
        )
        for side, s in SIDES:
            self.joints[side + "_shoulder"] = (
                raised + s * self.length(SHOULDER_HALF_WIDTH) * rotation[:, :, 0]
            )
        self.set_head(mid, rotation @ _rot("x", np.broadcast_to(head_flex, (self.n,))))

    def landmarks(self) -> np.ndarray:
        """(T, 33, 3) scene positions of the BlazePose landmarks."""
        j, n, h = self.joints, self.n, self.h
        out = np.zeros((n, len(LANDMARK_NAMES), 3))
        head = j["head_rotation"]
        for name, (lat, up, fwd) in HEAD_POINTS.items():
            for mirrored, sign in ((name, 1.0), (name.replace("left", "right"), -1.0)):
                offset = np.array([sign * lat, up, fwd]) * h
                out[:, LANDMARK_INDEX[mirrored]] = j["head_base"] + _apply(head, offset)
        for side, _ in SIDES:
            for joint in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
                out[:, LANDMARK_INDEX[f"{side}_{joint}"]] = j[f"{side}_{joint}"]
            for name, (along, thumb) in HAND_POINTS.items():
                out[:, LANDMARK_INDEX[f"{side}_{name}"]] = (
                    j[side + "_wrist"]
                    + h * along * j[side + "_hand"]
                    + h * thumb * j[side + "_thumb"]
                )
            for name, (up, fwd) in FOOT_POINTS.items():
                out[:, LANDMARK_INDEX[f"{side}_{name}"]] = (
                    j[side + "_ankle"]
                    + h * up * j[side + "_foot_up"]
                    + h * fwd * j[side + "_foot_forward"]
                )
        out[:, :, 1] += self.lift[:, None]
        return out


# -- motion context -------------------------------------------------------------------------------


@dataclass
class _Motion:
    """What an exercise function reads: frame times and, per frame, the rep's progress and knobs."""

    t: np.ndarray
    height_m: float
    p: np.ndarray  # 0 at rest, 1 at the turn of the rep (or fully in a hold's position)
    u: np.ndarray  # phase through the current rep, 0..1 (0 outside reps)
    side: np.ndarray  # +1 left, -1 right: the working side of the current rep
    depth: np.ndarray
    severity: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return len(self.t)

    def fault(self, name: str) -> np.ndarray:
        return self.severity.get(name, np.zeros(self.n))

    def body(self) -> _Body:
        return _Body(self.n, self.height_m)

    def on(self, side_sign: float) -> np.ndarray:
        """1 while the current rep works `side_sign`'s side."""
        return (self.side == side_sign).astype(float)


def _arms(n: int, **angles) -> dict[str, dict]:
    """Both arms' angles (see `_Body.arms`); a value may be a function of the side's sign."""
    both = {"flex": 0.0, "abd": 8.0, "rot": 0.0, "elbow": 8.0, "sup": 0.0, **angles}
    return {
        side: {
            key: np.broadcast_to(np.asarray(value(s) if callable(value) else value, float), (n,))
            for key, value in both.items()
        }
        for side, s in SIDES
    }


# -- standing -------------------------------------------------------------------------------------


def _planted_foot(b: _Body, s: float, stance, ahead, plantar, toe_out: float):
    """A foot on the floor pointing forward (toes turned out by `toe_out`), its heel raised by
    `plantar` degrees pivoting on the toes: (ankle, foot's up, foot's forward, heading)."""
    n = b.n
    up = _vec(n, y=1.0)
    turn = math.radians(toe_out)
    heading = _vec(n, s * math.sin(turn), 0.0, math.cos(turn))
    phi = _rad(np.broadcast_to(plantar, (n,)))[:, None]
    forward = heading * np.cos(phi) - up * np.sin(phi)
    foot_up = up * np.cos(phi) + heading * np.sin(phi)
    foot_up_offset, forward_offset = (b.length(v) for v in FOOT_POINTS["foot_index"])
    ankle_flat = _vec(n, s * np.broadcast_to(stance, (n,)), b.length(ANKLE_HEIGHT), ahead)
    toe = ankle_flat + foot_up_offset * up + forward_offset * heading
    ankle = toe - foot_up_offset * foot_up - forward_offset * forward
    return ankle, foot_up, forward, heading


def _standing(
    m: _Motion,
    *,
    alpha,
    beta,
    lean,
    arms,
    tilt=0.0,
    head=0.0,
    stance=None,
    toe_out=10.0,
    plantar=None,
    valgus=None,
    shift=0.0,
    free=None,
    lift=None,
    tuck=None,
    shrug=0.0,
    protract=0.0,
) -> _Body:
    """A standing body on planted feet.

    alpha: shin lean forward from vertical, beta: thigh forward from vertical (knee flexion is their
    sum), lean: torso forward from vertical, tilt: torso towards the left, all degrees. Per side:
    stance (ankle's distance from the midline, m), plantar (heel raised, degrees, pivoting on the
    toes), valgus (knee turned inwards, degrees). The hips sit where the sagittal leg (alpha, beta)
    puts them over the planted feet, the more stretched leg deciding the height; knees come from
    inverse kinematics, so the feet stay exactly where they are planted. `free`: side ->
    (mask, thigh_forward, knee_flexion) for a lifted leg; `lift` raises the whole body (flight);
    `tuck` raises the feet towards the hips (per side, m); `shrug` and `protract` move the
    shoulders (see `_Body.trunk`).
    """
    n, b = m.n, m.body()

    def per_side(value, default):
        value = default if value is None else value
        if isinstance(value, dict):
            return {
                side: np.broadcast_to(np.asarray(value[side], float), (n,)) for side, _ in SIDES
            }
        return {side: np.broadcast_to(np.asarray(value, float), (n,)) for side, _ in SIDES}

    alpha, beta = np.broadcast_to(alpha, (n,)), np.broadcast_to(beta, (n,))
    # Feet under the hips by default: a lifted leg then leaves and returns to exactly that spot.
    stance = per_side(stance, b.length(HIP_HALF_WIDTH))
    plantar = per_side(plantar, 0.0)
    valgus = per_side(valgus, 0.0)
    tuck = per_side(tuck, 0.0)
    free = free or {}
    up = _vec(n, y=1.0)
    feet = {
        side: _planted_foot(b, s, stance[side], 0.0, plantar[side], toe_out) for side, s in SIDES
    }

    # Hip height over each planted foot from the sagittal leg, then the more stretched leg's.
    a, bt = _rad(alpha), _rad(beta)
    in_plane = b.length(SHANK) * np.cos(a) + b.length(THIGH) * np.cos(bt)
    ahead = b.length(SHANK) * np.sin(a) - b.length(THIGH) * np.sin(bt)
    shift = np.broadcast_to(shift, (n,))
    heights, depths = [], []
    for side, s in SIDES:
        ankle = feet[side][0]
        lateral = shift + s * b.length(HIP_HALF_WIDTH) - ankle[:, 0]
        height = ankle[:, 1] + np.sqrt(np.maximum(in_plane**2 - lateral**2, 0.0))
        lifted = free[side][0] if side in free else np.zeros(n, bool)
        heights.append(np.where(lifted, np.inf, height))
        depths.append(np.where(lifted, np.nan, ankle[:, 2] + ahead))
    pelvis = np.stack([shift, np.minimum(*heights), np.nanmean(np.stack(depths), axis=0)], axis=-1)

    for side, s in SIDES:
        ankle, foot_up, forward, heading = feet[side]
        hip = pelvis + _vec(n, s * b.length(HIP_HALF_WIDTH))
        ankle = ankle + tuck[side][:, None] * up
        hint = _swivel(heading, hip, ankle, s * valgus[side])
        knee = _ik(hip, ankle, b.length(THIGH), b.length(SHANK), hint)
        if side in free:
            lifted, thigh_forward, knee_flexion = (np.broadcast_to(v, (n,)) for v in free[side])
            shin_forward = thigh_forward - knee_flexion
            free_knee = hip + b.length(THIGH) * _down(thigh_forward)
            free_ankle = free_knee + b.length(SHANK) * _down(shin_forward)
            # The foot turns with the shin from its flat position at rest.
            phi = _rad(-(shin_forward + alpha))[:, None]
            free_forward = heading * np.cos(phi) - up * np.sin(phi)
            free_up = up * np.cos(phi) + heading * np.sin(phi)
            pick = lifted[:, None]
            knee = np.where(pick, free_knee, knee)
            ankle = np.where(pick, free_ankle, ankle)
            foot_up = np.where(pick, free_up, foot_up)
            forward = np.where(pick, free_forward, forward)
        b.joints[side + "_hip"] = hip
        b.joints[side + "_knee"] = knee
        b.set_foot(side, ankle, foot_up, forward)

    rotation = _rot("z", -np.broadcast_to(tilt, (n,))) @ _rot("x", np.broadcast_to(lean, (n,)))
    b.trunk(pelvis, rotation, head, shrug, protract)
    b.arms(rotation, arms)
    if lift is not None:
        b.lift = lift
    return b


def _squat(m: _Motion) -> _Body:
    p = m.p
    d = m.depth * (1 - 0.5 * m.fault("shallow")) * p
    rounding = m.fault("back_rounding") * p
    return _standing(
        m,
        alpha=2 + 26 * d + 15 * m.fault("knees_forward") * p,
        beta=3 + 80 * d,
        lean=3 + 32 * d + 30 * m.fault("forward_lean") * p + 20 * rounding,
        head=25 * rounding,
        arms=_arms(m.n, flex=75 * p, elbow=8 + 12 * p),
        stance=0.12 * m.height_m,
        toe_out=12.0,
        plantar=25 * m.fault("heels_rising") * p,
        valgus=22 * m.fault("knees_caving") * p,
    )


def _deadlift(m: _Motion) -> _Body:
    p = m.p
    d = m.depth * p
    squatting = m.fault("knees_too_bent") * p
    rounding = m.fault("back_rounding") * p
    lean = 3 + 77 * d - 20 * squatting + 10 * rounding
    return _standing(
        m,
        alpha=2 + 10 * d + 20 * squatting,
        beta=3 + 12 * d + 45 * squatting,
        lean=lean,
        head=30 * rounding,
        # The arms hang straight down to the bar.
        arms=_arms(m.n, flex=lean, abd=4.0, elbow=5.0),
        stance=0.1 * m.height_m,
    )


def _curl(supination: float):
    def build(m: _Motion) -> _Body:
        p = m.p
        d = m.depth * (1 - 0.45 * m.fault("partial_range"))
        return _standing(
            m,
            alpha=2.0,
            beta=3.0,
            lean=2 - 18 * m.fault("leaning_back") * p,
            arms=_arms(
                m.n,
                flex=4 + 40 * m.fault("elbows_drifting") * p,
                abd=6.0,
                elbow=10 + 135 * d * p,
                sup=supination,
            ),
        )

    return build


def _shoulder_press(m: _Motion) -> _Body:
    p = m.p
    lockout = 1 - 0.55 * m.fault("incomplete_lockout")
    uneven = 1 - 0.5 * m.fault("uneven_arms")

    def pressed(s: float) -> np.ndarray:
        return m.depth * p * (1.0 if s > 0 else uneven)

    return _standing(
        m,
        alpha=2.0,
        beta=3.0,
        lean=2 - 18 * m.fault("back_arching") * p,
        # Racked: elbows out at shoulder height, forearms vertical (upper arm rotated out 90).
        arms=_arms(
            m.n,
            flex=10.0,
            abd=lambda s: 80 + 85 * pressed(s),
            rot=90.0,
            elbow=lambda s: 100 - 92 * lockout * pressed(s),
        ),
    )


def _raise(front: bool):
    def build(m: _Motion) -> _Body:
        p = m.p
        angle = 82 * m.depth * p + 35 * m.fault("too_high") * p
        return _standing(
            m,
            alpha=2.0,
            beta=3.0,
            lean=2 - 14 * m.fault("swinging") * p,
            arms=_arms(
                m.n,
                flex=5 + angle if front else 0.0,
                abd=8.0 if front else 8 + angle,
                elbow=12 + 55 * m.fault("bent_elbows") * p,
                sup=-90.0 if front else 0.0,  # palms down
            ),
        )

    return build


def _calf_raise(m: _Motion) -> _Body:
    p = m.p
    bend = 18 * m.fault("bent_knees") * p
    return _standing(
        m,
        alpha=2 + bend,
        beta=3 + bend,
        lean=2 + 12 * m.fault("leaning_forward") * p,
        arms=_arms(m.n),
        stance=0.09 * m.height_m,
        plantar=28 * m.depth * p,
    )


def _jack(low_impact: bool):
    def build(m: _Motion) -> _Body:
        p, h = m.p, m.height_m
        arms = m.depth * (1 - 0.5 * m.fault("arms_not_overhead")) * p
        legs = m.depth * (1 - 0.75 * m.fault("feet_not_apart")) * p
        # Feet together (ankles 7% of height apart) to wide apart; the low-impact jack steps one
        # foot out at a time and shifts the hips towards it, the jumping jack hops.
        if low_impact:
            stance = {side: (0.035 + 0.2 * legs * m.on(s)) * h for side, s in SIDES}
            shift, hop = 0.04 * h * legs * m.side, None
        else:
            stance, shift = (0.035 + 0.175 * legs) * h, 0.0
            hop = 0.035 * h * np.sin(2 * np.pi * m.u) ** 2
        return _standing(
            m,
            alpha=3.0,
            beta=4.0,
            lean=2.0,
            arms=_arms(m.n, abd=8 + 160 * arms, elbow=10.0),
            stance=stance,
            toe_out=8.0,
            shift=shift,
            lift=hop,
        )

    return build


def _high_knees(m: _Motion) -> _Body:
    p = m.p
    d = m.depth * (1 - 0.5 * m.fault("knees_low"))
    free = {side: (m.on(s) * p > 0, 3 + 85 * d * p, 5 + 90 * d * p) for side, s in SIDES}
    return _standing(
        m,
        alpha=2.0,
        beta=3.0,
        lean=3 - 16 * m.fault("leaning_back"),
        # Arms swing against the legs: the other arm forward, this side's arm back.
        arms=_arms(m.n, flex=lambda s: p * (45 * m.on(-s) - 30 * m.on(s)), elbow=80.0),
        shift=-0.02 * m.height_m * p * m.side,
        free=free,
    )


def _balance(standing_side: float):
    lifted = "right" if standing_side > 0 else "left"

    def build(m: _Motion) -> _Body:
        held = m.p
        sway = (2 + 14 * m.fault("sway")) * np.sin(2 * np.pi * 0.4 * m.t) * held
        return _standing(
            m,
            alpha=2.0,
            beta=3.0,
            lean=2.0,
            tilt=sway,
            arms=_arms(m.n, abd=8 + 22 * held),
            shift=standing_side * 0.03 * m.height_m * held,
            free={lifted: (held > 0, 3 + 50 * held, 5 + 85 * held)},
        )

    return build


def _wall_sit(m: _Motion) -> _Body:
    held = m.p
    thigh = 87 * (1 - 0.4 * m.fault("too_high") + 0.2 * m.fault("too_low"))
    return _standing(
        m,
        alpha=2.0,
        beta=3 + thigh * held,
        lean=2 + 25 * m.fault("leaning_forward") * held,
        arms=_arms(m.n),
        stance=0.09 * m.height_m,
    )


def _legs_ik(b: _Body, pelvis, feet: dict, hints: dict, valgus: dict | None = None) -> None:
    """Hips from the pelvis, knees by inverse kinematics to planted feet."""
    for side, s in SIDES:
        ankle, foot_up, forward, heading = feet[side]
        hip = pelvis + _vec(b.n, s * b.length(HIP_HALF_WIDTH))
        hint = hints[side]
        if valgus is not None:
            hint = _swivel(hint, hip, ankle, s * valgus[side])
        b.joints[side + "_hip"] = hip
        b.joints[side + "_knee"] = _ik(hip, ankle, b.length(THIGH), b.length(SHANK), hint)
        b.set_foot(side, ankle, foot_up, forward)


def _sagittal_hip(b: _Body, alpha, beta):
    """Hip above and ahead of the ankle for a leg with shin lean alpha and thigh angle beta."""
    a, t = _rad(alpha), _rad(beta)
    up = b.length(SHANK) * np.cos(a) + b.length(THIGH) * np.cos(t)
    ahead = b.length(SHANK) * np.sin(a) - b.length(THIGH) * np.sin(t)
    return up, ahead


def _lunge(m: _Motion) -> _Body:
    """Alternating forward lunges: step out, sink until the back knee nears the floor, step back."""
    n, b, u = m.n, m.body(), m.u
    step_length = (0.5 + 0.15 * m.fault("back_knee_straight")) * m.height_m
    stance = b.length(HIP_HALF_WIDTH + 0.01)
    # The hips travel a little ahead of the stepping foot, so the legs always reach.
    reach = _smoothstep(u / 0.22) - _smoothstep((u - 0.78) / 0.22)
    foot = _smoothstep((u - 0.03) / 0.22) - _smoothstep((u - 0.75) / 0.22)
    sink = np.where((u > 0.25) & (u < 0.75), np.sin(np.pi * (u - 0.25) / 0.5) ** 2, 0.0)
    d = m.depth * (1 - 0.5 * m.fault("shallow"))
    knee = 40 + 50 * d * sink
    shin = 4 + 20 * m.fault("knee_over_toe") * sink
    rise, ahead = _sagittal_hip(b, shin, knee - shin)
    standing_up, standing_ahead = _sagittal_hip(b, 2.0, 3.0)
    lead = m.side
    # The back heel rises once the hips have travelled forward.
    heel = 45 * _smoothstep((reach - 0.3) / 0.7) + 10 * sink
    planted = {side: _planted_foot(b, s, stance, 0.0, heel * (lead != s), 8.0) for side, s in SIDES}
    feet = {}
    for side, s in SIDES:
        ankle, foot_up, forward, heading = planted[side]
        leading = (lead == s)[:, None]
        swing = np.sin(np.pi * foot)[:, None] * 0.05 * m.height_m
        stepped = ankle + _vec(n, z=step_length * foot) + swing * _vec(n, y=1.0)
        feet[side] = (np.where(leading, stepped, ankle), foot_up, forward, heading)
    leads_left = (lead > 0)[:, None]
    front = np.where(leads_left, planted["left"][0], planted["right"][0])
    back = np.where(leads_left, planted["right"][0], planted["left"][0])
    # Hips over the planted front foot (the sagittal front leg), reached by vaulting forward over
    # a straight back leg while the front foot swings out; the lowest constraint wins.
    over_front = front + np.stack([-lead * stance, rise, ahead + step_length], axis=-1)
    z = over_front[:, 2] * reach
    straight = math.hypot(standing_up, standing_ahead)  # as straight as standing
    lateral = stance - b.length(HIP_HALF_WIDTH)
    over_back = back[:, 1] + np.sqrt(straight**2 - (z - back[:, 2]) ** 2 - lateral**2)
    standing = b.length(ANKLE_HEIGHT) + standing_up
    landed = over_front[:, 1] + (1 - foot) * m.height_m
    height = np.minimum(np.minimum(standing, over_back), landed)
    pelvis = np.stack([np.zeros(n), height, z], axis=-1)
    lean = 3 + 25 * m.fault("torso_lean") * sink
    valgus = {side: 20 * m.fault("knee_caving") * sink * (lead == s) for side, s in SIDES}
    _legs_ik(b, pelvis, feet, {side: feet[side][3] for side, _ in SIDES}, valgus)
    rotation = _rot("x", lean)
    b.trunk(pelvis, rotation)
    b.arms(rotation, _arms(n, abd=10.0, elbow=10.0))
    return b


def _side_lunge(m: _Motion) -> _Body:
    """Alternating side lunges from a wide stance: sit onto one bent leg, the other straight."""
    n, b, p = m.n, m.body(), m.p
    d = m.depth * (1 - 0.5 * m.fault("shallow")) * p
    feet = {side: _planted_foot(b, s, 0.28 * m.height_m, 0.0, 0.0, 20.0) for side, s in SIDES}
    straight = {"left": m.side < 0, "right": m.side > 0}
    across = m.side * 0.17 * m.height_m * d
    back = -0.05 * m.height_m * d
    reach = b.length(THIGH + SHANK) * 0.995
    heights = []
    for side, s in SIDES:
        lateral = across + s * b.length(HIP_HALF_WIDTH) - feet[side][0][:, 0]
        height = feet[side][0][:, 1] + np.sqrt(reach**2 - lateral**2 - back**2)
        heights.append(np.where(straight[side] | (m.side == 0), height, np.inf))
    pelvis = np.stack([across, np.minimum(*heights), back], axis=-1)
    valgus = {side: 20 * m.fault("knee_caving") * p * (m.side == s) for side, s in SIDES}
    _legs_ik(b, pelvis, feet, {side: feet[side][3] for side, _ in SIDES}, valgus)
    rotation = _rot("z", -m.side * 35 * m.fault("leaning_sideways") * p) @ _rot("x", 5 + 30 * d)
    b.trunk(pelvis, rotation)
    b.arms(rotation, _arms(n, flex=50 * d, elbow=8 + 30 * d))
    return b


def _tricep_dip(m: _Motion) -> _Body:
    """Bench dips: hands on a bench behind, legs out in front, heels on the floor."""
    n, b, p = m.n, m.body(), m.p
    h = m.height_m
    d = m.depth * (1 - 0.5 * m.fault("shallow"))
    bench = 0.27 * h
    elbow = _rad(8 + 82 * d * p)
    upper, fore = b.length(UPPER_ARM), b.length(FOREARM)
    arm_span = np.sqrt(upper**2 + fore**2 + 2 * upper * fore * np.cos(elbow))
    # Shoulders a little ahead of the hands; leaning forward swings them further ahead.
    forward = m.fault("torso_leaning_forward") * p
    slope = _rad(10 + 30 * forward)
    shoulder_mid = np.stack(
        [np.zeros(n), bench + arm_span * np.cos(slope), arm_span * np.sin(slope)], axis=-1
    )
    rotation = _rot("x", 3 + 35 * forward)
    pelvis = shoulder_mid - b.length(TRUNK) * rotation[:, :, 1]
    rest_pelvis_z = b.length(FOREARM + UPPER_ARM) * math.sin(math.radians(10.0)) - b.length(
        TRUNK
    ) * math.sin(math.radians(3.0))
    feet = {
        side: _planted_foot(b, s, 0.09 * h, rest_pelvis_z + 0.38 * h, 0.0, 5.0) for side, s in SIDES
    }
    _legs_ik(b, pelvis, feet, {side: _vec(n, 0.0, 1.0, 0.2) for side, _ in SIDES})
    b.trunk(pelvis, rotation)
    for side, s in SIDES:
        shoulder = b.joints[side + "_shoulder"]
        wrist = _vec(n, s * 0.11 * h, bench, 0.0)
        hint = _swivel(_vec(n, z=-1.0), shoulder, wrist, s * 40 * m.fault("elbows_flaring") * p)
        b.joints[side + "_elbow"] = _ik(shoulder, wrist, upper, fore, hint)
        b.set_hand(side, wrist, _vec(n, 0.0, -0.3, 1.0), _vec(n, -s))
    return b


# -- on the floor ---------------------------------------------------------------------------------


def _prone(b: _Body, shoulder_height, hip_offset, foot_plantar) -> dict[str, np.ndarray]:
    """A body face down on its toes (toe tips fixed at z = 0, head towards +z), in the sagittal
    plane: shoulders at `shoulder_height`, hips `hip_offset` above the straight shoulder-toe line,
    feet turned `foot_plantar` degrees from perpendicular to the shin. Returns sagittal positions
    and directions as (T, 3) arrays with x = 0."""
    n = b.n
    toe_y = b.length(ANKLE_HEIGHT + FOOT_POINTS["foot_index"][0])
    phi = _rad(np.broadcast_to(foot_plantar, (n,)))
    leg, trunk = b.length(THIGH + SHANK), b.length(TRUNK)
    # The ankle sits up the foot and back from the toe tip.
    up_offset = -b.length(FOOT_POINTS["foot_index"][0])
    forward_offset = b.length(FOOT_POINTS["foot_index"][1])

    def ankle_rise(theta):
        return up_offset * np.sin(theta - phi) + forward_offset * np.cos(theta - phi)

    straight = _bisect(
        lambda th: toe_y + ankle_rise(th) + (leg + trunk) * np.sin(th) - shoulder_height,
        -0.3,
        1.4,
        n,
    )
    hip_height = toe_y + ankle_rise(straight) + leg * np.sin(straight) + hip_offset
    legs = _bisect(lambda th: toe_y + ankle_rise(th) + leg * np.sin(th) - hip_height, -0.6, 1.4, n)
    torso = np.arcsin(np.clip((shoulder_height - hip_height) / trunk, -1.0, 1.0))

    def sagittal(y, z):
        return np.stack([np.zeros(n), y, z], axis=-1)

    leg_dir = sagittal(np.sin(legs), np.cos(legs))
    belly = sagittal(-np.cos(legs), np.sin(legs))
    foot_up = leg_dir * np.cos(phi)[:, None] + belly * np.sin(phi)[:, None]
    foot_forward = belly * np.cos(phi)[:, None] - leg_dir * np.sin(phi)[:, None]
    toe = sagittal(np.full(n, toe_y), np.zeros(n))
    ankle = toe + up_offset * foot_up - forward_offset * foot_forward
    knee = ankle + b.length(SHANK) * leg_dir
    hip = knee + b.length(THIGH) * leg_dir
    torso_dir = sagittal(np.sin(torso), np.cos(torso))
    return {
        "ankle": ankle,
        "knee": knee,
        "hip": hip,
        "shoulder": hip + trunk * torso_dir,
        "leg_dir": leg_dir,
        "belly": belly,
        "foot_up": foot_up,
        "foot_forward": foot_forward,
        "torso_dir": torso_dir,
        "face": sagittal(-np.cos(torso), np.sin(torso)),
    }


def _lay_down(b: _Body, shape: dict[str, np.ndarray]) -> np.ndarray:
    """Legs (alike, hip-width apart) and trunk from a `_prone` shape; returns the trunk frame."""
    for side, s in SIDES:
        lateral = _vec(b.n, s * b.length(HIP_HALF_WIDTH))
        b.joints[side + "_hip"] = shape["hip"] + lateral
        b.joints[side + "_knee"] = shape["knee"] + lateral
        b.set_foot(side, shape["ankle"] + lateral, shape["foot_up"], shape["foot_forward"])
    rotation = _frame(shape["torso_dir"], shape["face"])
    b.trunk(shape["hip"], rotation)
    return rotation


def _hands_planted(b: _Body, wrist_z, flare, width: float) -> None:
    """Hands flat on the floor, fingers forward; elbows by inverse kinematics, pointing back."""
    n = b.n
    for side, s in SIDES:
        shoulder = b.joints[side + "_shoulder"]
        wrist = _vec(n, s * width, b.length(0.03), wrist_z)
        hint = _swivel(_vec(n, 0.0, 0.3, -1.0), shoulder, wrist, s * flare)
        b.joints[side + "_elbow"] = _ik(
            shoulder, wrist, b.length(UPPER_ARM), b.length(FOREARM), hint
        )
        b.set_hand(side, wrist, _vec(n, 0.0, -0.25, 1.0), _vec(n, -s))


def _arms_straight_height(b: _Body) -> float:
    """Shoulder height with straight arms on the floor (push-up top)."""
    return b.length(0.03) + b.length(UPPER_ARM + FOREARM) * 0.995


def _push_up_wrist_z(height_m: float) -> float:
    """Hands under the shoulders at the top of a push-up (the body pivots on the toes, so the
    shoulders pass ahead of the hands on the way down)."""
    rest = _Body(1, height_m)
    top = _prone(rest, np.array([_arms_straight_height(rest)]), np.zeros(1), 10.0)
    return float(top["shoulder"][0, 2])


def _on_hands(b: _Body, shoulder_height, hips) -> dict[str, np.ndarray]:
    """A `_prone` body on straight-or-bent arms with the hands planted: piking the hips swings the
    shoulders back behind the hands, and the arms' reach then lowers them."""
    wrist_z = _push_up_wrist_z(b.h)
    reach = b.length(UPPER_ARM + FOREARM) * 0.995
    height = shoulder_height
    for _ in range(6):
        shape = _prone(b, height, hips, 10.0)
        behind = shape["shoulder"][:, 2] - wrist_z
        height = np.minimum(shoulder_height, b.length(0.03) + np.sqrt(reach**2 - behind**2))
    return _prone(b, height, hips, 10.0)


def _push_up(m: _Motion) -> _Body:
    b, p, h = m.body(), m.p, m.height_m
    top = _arms_straight_height(b)
    d = m.depth * (1 - 0.5 * m.fault("shallow")) * p
    # Full depth: shoulders 20% of height above the floor (elbows near 65 degrees).
    shoulder_height = top - (top - 0.2 * h) * d
    hips = (0.12 * m.fault("hips_piking") - 0.09 * m.fault("hips_sagging")) * h * p
    _lay_down(b, _on_hands(b, shoulder_height, hips))
    _hands_planted(b, _push_up_wrist_z(h), 50 * m.fault("elbows_flaring") * p, 0.14 * h)
    return b


def _mountain_climber(m: _Motion) -> _Body:
    """High plank; each rep drives one knee towards the chest, the foot off the floor."""
    n, b, p, h = m.n, m.body(), m.p, m.height_m
    hips = 0.12 * m.fault("hips_high") * h * p
    shape = _on_hands(b, np.full(n, _arms_straight_height(b)), hips)
    _lay_down(b, shape)
    d = m.depth * (1 - 0.5 * m.fault("short_drive"))
    leg_dir, belly = shape["leg_dir"], shape["belly"]
    for side, s in SIDES:
        driving = m.on(s) * p
        flexion, knee_bend = _rad(90 * d * driving), _rad(100 * d * driving)
        shin_angle = (flexion - knee_bend)[:, None]
        # Thigh and shin turn from pointing at the feet (-leg_dir) towards the floor (belly).
        thigh = -leg_dir * np.cos(flexion)[:, None] + belly * np.sin(flexion)[:, None]
        shin = -leg_dir * np.cos(shin_angle) + belly * np.sin(shin_angle)
        shin_belly = belly * np.cos(shin_angle) + leg_dir * np.sin(shin_angle)
        knee = b.joints[side + "_hip"] + b.length(THIGH) * thigh
        ankle = knee + b.length(SHANK) * shin
        phi = math.radians(10.0)
        foot_up = -shin * math.cos(phi) + shin_belly * math.sin(phi)
        foot_forward = shin_belly * math.cos(phi) + shin * math.sin(phi)
        moving = (driving > 0)[:, None]
        b.joints[side + "_knee"] = np.where(moving, knee, b.joints[side + "_knee"])
        b.set_foot(
            side,
            np.where(moving, ankle, b.joints[side + "_ankle"]),
            np.where(moving, foot_up, b.joints[side + "_foot_up"]),
            np.where(moving, foot_forward, b.joints[side + "_foot_forward"]),
        )
    _hands_planted(b, _push_up_wrist_z(h), 0.0, 0.14 * h)
    return b


def _plank(m: _Motion) -> _Body:
    """Forearm plank, rising from lying on the forearms (hips on the floor)."""
    n, b, held, h = m.n, m.body(), m.p, m.height_m
    elbow_height = 0.035 * h
    shoulder_height = 0.07 * h + (elbow_height + b.length(UPPER_ARM) - 0.07 * h) * held
    fault = (0.12 * m.fault("hips_high") - 0.09 * m.fault("hips_low")) * h
    straight = _prone(b, shoulder_height, np.zeros(n), 70 - 55 * held)
    resting = 0.06 * h - straight["hip"][:, 1]
    shape = _prone(b, shoulder_height, resting * (1 - held) + fault * held, 70 - 55 * held)
    _lay_down(b, shape)
    drop = np.arcsin(np.clip((shoulder_height - elbow_height) / b.length(UPPER_ARM), -1, 1))
    upper = np.stack([np.zeros(n), -np.sin(drop), np.cos(drop)], axis=-1)
    for side, _ in SIDES:
        elbow = b.joints[side + "_shoulder"] + b.length(UPPER_ARM) * upper
        b.joints[side + "_elbow"] = elbow
        wrist = elbow + _vec(n, z=b.length(FOREARM))
        b.set_hand(side, wrist, _vec(n, 0.0, -0.2, 1.0), _vec(n, y=1.0))
    return b


def _supine(b: _Body, hip, shoulder_mid, head_flex=0.0) -> np.ndarray:
    """Trunk of a body lying on its back (head towards -z); returns the trunk frame."""
    torso = _unit(shoulder_mid - hip)
    # The face looks along the torso's normal on the ceiling side.
    face = np.stack([np.zeros(b.n), -torso[:, 2], torso[:, 1]], axis=-1)
    rotation = _frame(torso, face)
    b.trunk(hip, rotation, head_flex)
    return rotation


def _arms_on_floor(b: _Body, rotation) -> None:
    b.arms(rotation, _arms(b.n, abd=12.0, elbow=5.0))


def _glute_bridge(m: _Motion) -> _Body:
    n, b, p, h = m.n, m.body(), m.p, m.height_m
    shoulder_mid = _vec(n, 0.0, 0.045 * h, 0.0)
    trunk = b.length(TRUNK)

    def hip_at(height):
        return np.stack(
            [np.zeros(len(height)), height, np.sqrt(trunk**2 - (height - 0.045 * h) ** 2)], axis=-1
        )

    rest = 0.06 * h
    # Where the feet are set is the whole take's: the worst severity decides.
    far = m.fault("feet_too_far").max(initial=0.0)
    ahead = hip_at(np.array([rest]))[0, 2] + 0.3 * h + 0.16 * h * far
    feet = {side: _planted_foot(b, s, 0.09 * h, ahead, 0.0, 0.0) for side, s in SIDES}
    up = _vec(n, 0.0, 1.0, 0.2)
    reach = b.length(THIGH + SHANK) * 0.99

    def extended(height):
        # Positive past the top: the thigh no longer rises above the shoulder-hip line by 5
        # degrees (hip angle 175, seen side-on), or the legs run out of reach.
        hip = hip_at(height)
        ankle = feet["left"][0] * np.array([0.0, 1.0, 1.0])
        knee = _ik(hip, ankle, b.length(THIGH), b.length(SHANK), up)
        back = np.arctan2(hip[:, 1] - shoulder_mid[:, 1], hip[:, 2] - shoulder_mid[:, 2])
        thigh = np.arctan2(knee[:, 1] - hip[:, 1], knee[:, 2] - hip[:, 2])
        reach_left = np.linalg.norm(ankle - hip, axis=-1) - reach
        return np.maximum(back - thigh + math.radians(5.0), reach_left * 1e3)

    top = _bisect(extended, rest, 0.4 * h, n)
    d = m.depth * (1 - 0.5 * m.fault("hips_low")) * p
    pelvis = hip_at(rest + (top - rest) * d)
    _legs_ik(b, pelvis, feet, {side: up for side, _ in SIDES})
    _arms_on_floor(b, _supine(b, pelvis, shoulder_mid))
    return b


def _leg_raise(m: _Motion) -> _Body:
    n, b, p, h = m.n, m.body(), m.p, m.height_m
    pelvis = _vec(n, 0.0, 0.06 * h, 0.0)
    shoulder_mid = pelvis + _vec(
        n, 0.0, -0.015 * h, -math.sqrt(b.length(TRUNK) ** 2 - (0.015 * h) ** 2)
    )
    raised = _rad(3 + 85 * m.depth * (1 - 0.5 * m.fault("short_range")) * p)
    shin = raised - _rad(5 + 45 * m.fault("bent_knees") * p)
    for side, s in SIDES:
        hip = pelvis + _vec(n, s * b.length(HIP_HALF_WIDTH))
        knee = hip + b.length(THIGH) * np.stack([np.zeros(n), np.sin(raised), np.cos(raised)], -1)
        along = np.stack([np.zeros(n), np.sin(shin), np.cos(shin)], axis=-1)
        ankle = knee + b.length(SHANK) * along
        b.joints[side + "_hip"], b.joints[side + "_knee"] = hip, knee
        # Toes point at the ceiling with the legs flat, at the head with the legs vertical.
        b.set_foot(side, ankle, -along, np.stack([np.zeros(n), np.cos(shin), -np.sin(shin)], -1))
    _arms_on_floor(b, _supine(b, pelvis, shoulder_mid))
    return b


def _sit_up(m: _Motion) -> _Body:
    n, b, p, h = m.n, m.body(), m.p, m.height_m
    pelvis = _vec(n, 0.0, 0.05 * h, 0.0)
    rise = _rad(3 + 72 * m.depth * (1 - 0.55 * m.fault("partial_range")) * p)
    torso = np.stack([np.zeros(n), np.sin(rise), -np.cos(rise)], axis=-1)
    shoulder_mid = pelvis + b.length(TRUNK) * torso
    lifted = 0.07 * h * m.fault("feet_lifting") * p
    feet = {}
    for side, s in SIDES:
        ankle, foot_up, forward, heading = _planted_foot(b, s, 0.09 * h, 0.34 * h, 0.0, 0.0)
        feet[side] = (ankle + lifted[:, None] * _vec(n, y=1.0), foot_up, forward, heading)
    _legs_ik(b, pelvis, feet, {side: _vec(n, y=1.0) for side, _ in SIDES})
    rotation = _supine(b, pelvis, shoulder_mid, 40 * m.fault("neck_pulling") * p)
    b.arms(rotation, _arms(n, flex=60.0, abd=10.0, elbow=15.0))
    return b


# -- jumps ----------------------------------------------------------------------------------------

# Key positions of a countermovement jump: shin lean, thigh angle, torso lean, heel raise, shoulder
# flexion and elbow flexion (degrees).
_JUMP_KEYS = ("alpha", "beta", "lean", "plantar")
_STANDING_STILL = (2.0, 3.0, 3.0, 0.0)
_TAKEOFF = (0.0, -2.0, 4.0, 40.0)
_LANDED = (25.0, 55.0, 25.0, 0.0)
# The arms (shoulder flexion, elbow flexion) swing back in the dip, up through the push-off, hold
# overhead in the air and come down forward on landing.
_ARMS_DOWN, _ARMS_BACK, _ARMS_UP, _ARMS_FORWARD = (
    (0.0, 8.0),
    (-45.0, 15.0),
    (150.0, 10.0),
    (40.0, 20.0),
)


def _dip(height_cm: float) -> tuple[float, ...]:
    """The bottom of the countermovement: deeper for higher jumps."""
    return (22.0, min(40 + 0.3 * height_cm, 65.0), 30.0, 0.0)


def _eased(t: np.ndarray, times: list[float], values: list[tuple[float, ...]]) -> np.ndarray:
    """(T, K) values eased (smoothstep) from one key to the next; held before and after."""
    values = np.array(values)
    index = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    start, end = np.array(times)[index], np.array(times)[index + 1]
    weight = _smoothstep((t - start) / (end - start))[:, None]
    return values[index] + (values[index + 1] - values[index]) * weight


def _hip_height(height_m: float, key: tuple[float, ...]) -> float:
    """Hip height above the floor in a key position."""
    b = _Body(1, height_m)
    alpha, beta, _, plantar = key
    ankle = _planted_foot(b, 1.0, 0.0, 0.0, plantar, 0.0)[0]
    up, _ = _sagittal_hip(b, alpha, beta)
    return float(ankle[0, 1] + up)


def _push_and_land_s(jump_cm: float, height_m: float) -> tuple[float, float]:
    """How long the push-off and the landing take, so that the hips leave the floor and meet it
    at the flight's own speed sqrt(2 g h): the push-off extends as u^2 (end slope 2), the landing
    absorbs as sin(pi u / 2) (start slope pi / 2)."""
    speed = math.sqrt(2 * G * jump_cm / 100)
    takeoff = _hip_height(height_m, _TAKEOFF)
    push = 2 * (takeoff - _hip_height(height_m, _dip(jump_cm))) / speed
    land = math.pi / 2 * (takeoff - _hip_height(height_m, _LANDED)) / speed
    return push, land


def _jump_flights(
    heights_cm: list[float], lead_in: float, height_m: float, rest: float
) -> tuple[list[FlightTruth], float]:
    """Each jump's exact take-off and landing, and when the last one has settled."""
    flights, start = [], lead_in
    for jump_cm in heights_cm:
        push, land = _push_and_land_s(jump_cm, height_m)
        takeoff = start + COUNTERMOVEMENT_S + push
        landing = takeoff + math.sqrt(8 * jump_cm / 100 / G)
        flights.append(FlightTruth(takeoff, landing, jump_cm))
        start = landing + land + RECOVERY_S + rest
    return flights, start - rest if flights else lead_in


def _jumping(m: _Motion, flights: list[FlightTruth], severities: dict[str, list[float]]) -> _Body:
    n, t, h = m.n, m.t, m.height_m
    pose = np.tile(np.array(_STANDING_STILL), (n, 1))
    lift, tuck, approach = np.zeros(n), np.zeros(n), np.zeros(n)

    def blend(mask, start, end, weight):
        pose[mask] = np.array(start) + (np.array(end) - np.array(start)) * weight[mask, None]

    arm_times, arm_keys = [0.0], [_ARMS_DOWN]

    for j, flight in enumerate(flights):
        push, land = _push_and_land_s(flight.height_cm, h)
        dip = _dip(flight.height_cm)
        t1 = flight.takeoff_s - push
        t0 = t1 - COUNTERMOVEMENT_S
        t3 = flight.landing_s + land
        t4 = t3 + RECOVERY_S
        air = flight.air_time_s
        sinking = (t >= t0) & (t < t1)
        eased = (1 - np.cos(np.pi * (t - t0) / COUNTERMOVEMENT_S)) / 2
        blend(sinking, _STANDING_STILL, dip, eased)
        pushing = (t >= t1) & (t < flight.takeoff_s)
        blend(pushing, dip, _TAKEOFF, ((t - t1) / push) ** 2)
        flying = (t >= flight.takeoff_s) & (t < flight.landing_s)
        pose[flying] = _TAKEOFF
        tau = t - flight.takeoff_s
        # Every point of the rigid take-off posture follows the same parabola: rise g*T^2/8.
        lift = np.where(flying, G * air / 2 * tau - G / 2 * tau**2, lift)
        tuck_height = (0.01 + 0.14 * severities.get("tuck", [0.0] * len(flights))[j]) * h
        tuck = np.where(flying, tuck_height * np.sin(np.pi * tau / air) ** 2, tuck)
        landing = (t >= flight.landing_s) & (t < t3)
        blend(landing, _TAKEOFF, _LANDED, np.sin(np.pi / 2 * (t - flight.landing_s) / land))
        settling = (t >= t3) & (t < t4)
        blend(settling, _LANDED, _STANDING_STILL, _smoothstep((t - t3) / RECOVERY_S))
        arm_times += [t0, t0 + COUNTERMOVEMENT_S / 2, flight.takeoff_s, flight.landing_s]
        arm_times += [flight.landing_s + 0.4, t4]
        arm_keys += [_ARMS_DOWN, _ARMS_BACK, _ARMS_UP, _ARMS_UP, _ARMS_FORWARD, _ARMS_DOWN]
        travel = 0.9 * severities.get("toward_camera", [0.0] * len(flights))[j]
        approach += travel * np.clip(tau / air, 0.0, 1.0)

    angles = dict(zip(_JUMP_KEYS, pose.T, strict=True))
    arms = _eased(t, arm_times + [arm_times[-1] + 1.0], arm_keys + [_ARMS_DOWN])
    body = _standing(
        m,
        alpha=angles["alpha"],
        beta=angles["beta"],
        lean=angles["lean"],
        arms=_arms(n, flex=arms[:, 0], elbow=arms[:, 1], abd=10.0),
        stance=0.1 * h,
        plantar=angles["plantar"],
        lift=lift,
        tuck=tuck,
    )
    body.approach = approach
    return body


# -- wellness and tests standing --------------------------------------------------------------


def _shoulders(lift: float, circle: float, opening: float):
    """Shoulder movements: through each rep the shoulders rise by `lift`, circle back then forward
    by `circle` and draw back by `opening` (fractions of height)."""

    def build(m: _Motion) -> _Body:
        p, h = m.p, m.height_m
        d = m.depth * (1 - 0.5 * m.fault("small_circles") - 0.5 * m.fault("shallow"))
        raised = 80 * m.fault("arms_raised") * p
        return _standing(
            m,
            alpha=2.0,
            beta=3.0,
            lean=2.0,
            arms=_arms(m.n, abd=8 + raised, elbow=8.0),
            shrug=lift * h * d * p,
            protract=-h * d * (circle * np.sin(2 * np.pi * m.u) + opening * p),
        )

    return build


def _back_flexibility(m: _Motion) -> _Body:
    """Standing forward fold with straight knees, the arms hanging toward the floor."""
    p = m.p
    d = m.depth * p
    bent = m.fault("knees_bent") * p
    squat = m.fault("squatting") * p
    lean = 3 + 80 * d * (1 - 0.55 * squat)
    return _standing(
        m,
        alpha=2 + 14 * bent + 28 * squat,
        beta=3 + 22 * bent + 75 * squat,
        lean=lean,
        arms=_arms(m.n, flex=lean, abd=4.0, elbow=5.0),
        stance=0.08 * m.height_m,
    )


# -- poses: a body from joint angles --------------------------------------------------------------

# The lowest landmark of a posed body rests this far above the floor (fractions of height), and a
# hand planted on the floor holds its wrist this high.
FLOOR_CLEARANCE = 0.006
WRIST_ON_FLOOR = 0.035
# A gripping or planted arm reaches at most this share of its length (never locked straight).
ARM_REACH = 0.99
_LEG = {"flex": 0.0, "abd": 3.0, "rot": 0.0, "knee": 0.0, "plantar": 0.0}
_ARM = {"flex": 0.0, "abd": 8.0, "rot": 0.0, "elbow": 8.0, "sup": 0.0}


def _posture(
    pitch=0.0,
    trunk=0.0,
    side=0.0,
    head=0.0,
    legs=None,
    left_leg=None,
    right_leg=None,
    arms=None,
    left_arm=None,
    right_arm=None,
) -> dict:
    """Joint angles in degrees. pitch: the pelvis turned forward (0 upright, 90 face down, -90 face
    up); trunk: bent forward from the pelvis (negative arches back); side: bent towards the left;
    head: flexion. Legs, from the pelvis: flex (thigh forward), abd (out to the side), rot (turned
    out about the thigh), knee (flexion), plantar (toes pointed); arms as `_Body.arms`."""
    return {
        "pitch": pitch,
        "trunk": trunk,
        "side": side,
        "head": head,
        "legs": {
            "left": {**_LEG, **(legs or {}), **(left_leg or {})},
            "right": {**_LEG, **(legs or {}), **(right_leg or {})},
        },
        "arms": {
            "left": {**_ARM, **(arms or {}), **(left_arm or {})},
            "right": {**_ARM, **(arms or {}), **(right_arm or {})},
        },
    }


def _blend(rest, pose, amount):
    if isinstance(rest, dict):
        return {key: _blend(rest[key], pose[key], amount) for key in rest}
    return rest + (pose - rest) * amount


def _reach_arm(b: _Body, side: str, target, hint) -> None:
    """The wrist at `target` (pulled in to ARM_REACH of the arm), the elbow by inverse
    kinematics."""
    shoulder = b.joints[side + "_shoulder"]
    span = b.length(UPPER_ARM + FOREARM) * ARM_REACH
    offset = target - shoulder
    distance = np.linalg.norm(offset, axis=-1, keepdims=True)
    wrist = shoulder + offset * np.minimum(1.0, span / np.maximum(distance, 1e-9))
    elbow = _ik(shoulder, wrist, b.length(UPPER_ARM), b.length(FOREARM), hint)
    along = _unit(wrist - elbow)
    thumb = _unit(np.cross(along, _unit(np.array([0.3, 1.0, 0.2]))))
    b.joints[side + "_elbow"] = elbow
    b.set_hand(side, wrist, along, thumb)


def _posed(m: _Motion, rest: dict, pose: dict, grips=(), planted=()) -> _Body:
    """A body moving from `rest` into `pose` (by the hold's progress times its depth), resting on
    the floor by its lowest point. grips: (hand, landmark, amount) - the hand takes hold of that
    landmark (a foot's toes, a heel) as `amount` goes 0 to 1. planted: (hand, way, straight) -
    the hand on the floor, ahead of the shoulder along +z (way +1) or -z (way -1), as far as a
    straight arm reaches times `straight` (less bends the elbow)."""
    n, b = m.n, m.body()
    a = _blend(rest, pose, m.p * m.depth)
    pelvis_rotation = _rot("x", a["pitch"])
    pelvis = _vec(n)
    for side, s in SIDES:
        leg = a["legs"][side]
        hip = pelvis + s * b.length(HIP_HALF_WIDTH) * pelvis_rotation[:, :, 0]
        thigh = (
            pelvis_rotation
            @ _rot("x", -leg["flex"])
            @ _rot("z", s * leg["abd"])
            @ _rot("y", s * leg["rot"])
        )
        knee = hip + b.length(THIGH) * _apply(thigh, (0, -1, 0))
        shin = thigh @ _rot("x", leg["knee"])
        ankle = knee + b.length(SHANK) * _apply(shin, (0, -1, 0))
        foot = shin @ _rot("x", leg["plantar"])
        b.joints[side + "_hip"], b.joints[side + "_knee"] = hip, knee
        b.set_foot(side, ankle, _apply(foot, (0, 1, 0)), _apply(foot, (0, 0, 1)))
    trunk = pelvis_rotation @ _rot("z", -a["side"]) @ _rot("x", a["trunk"])
    b.trunk(pelvis, trunk, a["head"])
    b.arms(trunk, a["arms"])
    hands = [i for i, name in enumerate(LANDMARK_NAMES) if _is_hand(name)]
    body = np.delete(b.landmarks(), hands, axis=1)
    floor = body[:, :, 1].min(axis=1) - b.length(FLOOR_CLEARANCE)
    b.lift = -floor
    scene = b.landmarks() - b.lift[:, None, None] * np.array([0.0, 1.0, 0.0])
    for hand, point, amount in grips:
        wrist = b.joints[hand + "_wrist"]
        target = wrist + (scene[:, LANDMARK_INDEX[point]] - wrist) * amount[:, None]
        # Elbows out to the side.
        _reach_arm(b, hand, target, _vec(n, x=1.0 if hand == "left" else -1.0, y=-0.3))
    span = b.length(UPPER_ARM + FOREARM) * ARM_REACH
    for hand, way, straight in planted:
        shoulder = b.joints[hand + "_shoulder"]
        drop = shoulder[:, 1] - (floor + b.length(WRIST_ON_FLOOR))
        ahead = way * straight * np.sqrt(np.maximum(span**2 - drop**2, 0.0))
        target = shoulder - drop[:, None] * _vec(n, y=1.0) + _vec(n, z=ahead)
        # Elbows point back, away from where the hands are placed.
        _reach_arm(b, hand, target, _vec(n, y=0.3, z=-way))
    return b


def _is_hand(name: str) -> bool:
    return name.split("_", 1)[-1] in ("wrist", "pinky", "index", "thumb")


STANDING = _posture()
SEATED_ON_FLOOR = _posture(legs={"flex": 90.0}, arms={"flex": 20.0, "abd": 15.0})
SEATED_ON_CHAIR = _posture(legs={"flex": 90.0, "knee": 90.0}, arms={"flex": 35.0, "elbow": 40.0})
PRONE = _posture(pitch=90.0, legs={"plantar": 70.0}, arms={"flex": -5.0, "abd": 12.0})
TABLETOP = _posture(pitch=75.0, legs={"flex": 75.0, "knee": 90.0, "plantar": 70.0})
KNEELING = _posture(legs={"knee": 90.0, "plantar": 80.0})


def _split(m: _Motion) -> _Body:
    bent = 60 * m.fault("bent_knees")
    pose = _posture(
        left_leg={"flex": 90.0, "abd": 0.0, "knee": bent, "plantar": 40.0},
        right_leg={"flex": -90.0, "abd": 0.0, "knee": bent, "plantar": 40.0},
        arms={"abd": 75.0, "elbow": 10.0},
    )
    return _posed(m, STANDING, pose)


def _facial_split(m: _Motion) -> _Body:
    bent = 60 * m.fault("bent_knees")
    pose = _posture(legs={"abd": 90.0, "knee": bent}, arms={"flex": 30.0, "abd": 45.0})
    return _posed(m, STANDING, pose)


def _pancake(m: _Motion) -> _Body:
    fold = 78 * (1 - m.fault("upright"))
    pose = _posture(
        legs={"flex": 90.0, "abd": 55.0},
        trunk=fold,
        arms={"flex": 150.0, "abd": 20.0, "elbow": 10.0},
    )
    return _posed(m, SEATED_ON_FLOOR, pose)


def _closing(m: _Motion) -> _Body:
    pose = _posture(
        legs={"flex": 90.0, "knee": 70 * m.fault("bent_knees")},
        trunk=68.0,
        head=20.0,
        arms={"flex": 110.0, "elbow": 10.0},
    )
    return _posed(m, SEATED_ON_FLOOR, pose)


def _bridge(m: _Motion) -> _Body:
    """The wheel from lying on the back, knees bent: the hips lift highest, the hands push from
    the floor beside the head."""
    rest = _posture(pitch=-90.0, legs={"flex": 45.0, "knee": 100.0}, arms={"abd": 10.0})
    down = m.fault("head_down")
    pose = _posture(pitch=-118 - 35 * down, legs={"flex": -72.0, "knee": 50.0}, head=-20.0)
    straight = 1 - 0.85 * down
    return _posed(m, rest, pose, planted=[(side, -1.0, straight) for side, _ in SIDES])


def _cobra(m: _Motion) -> _Body:
    lifted = m.fault("hips_lifted")
    pose = _posture(
        pitch=90 - 25 * lifted,
        trunk=-45 + 20 * lifted,
        legs={"plantar": 70.0, "knee": 0.0},
    )
    return _posed(m, PRONE, pose, planted=[(side, 1.0, 1.0) for side, _ in SIDES])


def _bow(m: _Motion) -> _Body:
    down = m.fault("knees_down")
    pose = _posture(
        pitch=90.0,
        trunk=-35.0,
        legs={"flex": -25 * (1 - down), "knee": 110.0, "plantar": 30.0},
        arms={"flex": -30.0, "abd": 12.0},
    )
    grip = m.p * (1 - m.fault("no_grip"))
    return _posed(m, PRONE, pose, grips=[(side, side + "_ankle", grip) for side, _ in SIDES])


def _tiger(m: _Motion) -> _Body:
    knee = 130 * (1 - m.fault("straight_leg")) + 5 * m.fault("straight_leg")
    pose = _posture(
        pitch=75.0,
        legs={"flex": 75.0, "knee": 90.0, "plantar": 70.0},
        left_leg={"flex": -35.0, "knee": knee, "plantar": 40.0},
    )
    return _posed(m, TABLETOP, pose, planted=[(side, 1.0, 1.0) for side, _ in SIDES])


def _camel(m: _Motion) -> _Body:
    pose = _posture(pitch=-10.0, trunk=-60.0, head=-40.0, legs={"knee": 100.0, "plantar": 30.0})
    grip = m.p * (1 - m.fault("no_reach"))
    return _posed(m, KNEELING, pose, grips=[(side, side + "_heel", grip) for side, _ in SIDES])


def _king_pigeon(m: _Motion) -> _Body:
    """From sitting in pigeon (front leg folded, back leg long behind): the back foot rises and
    both hands reach back over the head to hold it."""
    front = {"flex": 90.0, "abd": 30.0, "rot": 90.0, "knee": 110.0, "plantar": 20.0}
    rest = _posture(
        right_leg=front,
        left_leg={"flex": -90.0, "abd": 0.0, "plantar": 70.0},
        arms={"abd": 15.0},
    )
    pose = _posture(
        trunk=-25.0,
        head=-25.0,
        right_leg=front,
        left_leg={
            "flex": -90.0,
            "abd": 0.0,
            "knee": 90 * (1 - m.fault("foot_down")),
            "plantar": 40.0,
        },
        arms={"flex": 170.0, "abd": 15.0},
    )
    grip = m.p * (1 - m.fault("no_grip"))
    return _posed(m, rest, pose, grips=[(side, "left_foot_index", grip) for side, _ in SIDES])


def _foot_to_hand(m: _Motion) -> _Body:
    pose = _posture(trunk=15.0, left_leg={"flex": 130.0, "abd": 20.0, "plantar": -10.0})
    grip = m.p * (1 - m.fault("no_grip"))
    return _posed(m, STANDING, pose, grips=[("left", "left_foot_index", grip)])


def _standing_i(m: _Motion) -> _Body:
    pose = _posture(
        left_leg={"flex": 175.0, "abd": 5.0, "knee": 90 * m.fault("bent_knee")},
        right_arm={"abd": 40.0},
    )
    return _posed(m, STANDING, pose, grips=[("left", "left_ankle", m.p)])


def _needle(m: _Motion) -> _Body:
    upright = m.fault("upright")
    pitch = 100 * (1 - upright) + 10 * upright
    pose = _posture(
        pitch=pitch,
        trunk=50.0 * (1 - upright),
        right_leg={"flex": pitch},
        left_leg={"flex": pitch - 160, "plantar": 30.0},
        arms={"flex": 60.0},
    )
    return _posed(m, STANDING, pose)


def _chair_forward_fold(m: _Motion) -> _Body:
    standing = m.fault("standing")
    pose = _posture(
        trunk=78.0 + 40 * standing,
        legs={"flex": 90 * (1 - standing), "knee": 90 * (1 - standing)},
        arms={"flex": 80.0, "elbow": 10.0},
    )
    return _posed(m, SEATED_ON_CHAIR, pose)


def _chair_side_stretch(m: _Motion) -> _Body:
    pose = _posture(
        side=-25.0,
        legs={"flex": 90.0, "knee": 90.0},
        left_arm={"abd": 160 * (1 - m.fault("arm_down")) + 10.0, "elbow": 15.0},
        right_arm={"abd": 10.0, "elbow": 20.0},
    )
    return _posed(m, SEATED_ON_CHAIR, pose)


# -- the catalog ----------------------------------------------------------------------------------

_BUILDERS = {
    "squat": _squat,
    "push_up": _push_up,
    "lunge": _lunge,
    "side_lunge": _side_lunge,
    "deadlift": _deadlift,
    "bicep_curl": _curl(90.0),
    "hammer_curl": _curl(0.0),
    "tricep_dip": _tricep_dip,
    "shoulder_press": _shoulder_press,
    "lateral_raise": _raise(front=False),
    "front_raise": _raise(front=True),
    "glute_bridge": _glute_bridge,
    "calf_raise": _calf_raise,
    "jumping_jack": _jack(low_impact=False),
    "low_impact_jack": _jack(low_impact=True),
    "high_knees": _high_knees,
    "mountain_climber": _mountain_climber,
    "leg_raise": _leg_raise,
    "sit_up": _sit_up,
    "plank": _plank,
    "wall_sit": _wall_sit,
    "balance_leg": _balance(standing_side=1.0),
    "balance_leg_left": _balance(standing_side=1.0),
    "balance_leg_right": _balance(standing_side=-1.0),
    "shoulder_roll": _shoulders(lift=0.045, circle=0.025, opening=0.0),
    "shoulder_deep_breath": _shoulders(lift=0.022, circle=0.0, opening=0.01),
    "back_flexibility_test": _back_flexibility,
    "split": _split,
    "facial_split": _facial_split,
    "pancake": _pancake,
    "closing": _closing,
    "bridge": _bridge,
    "cobra": _cobra,
    "bow": _bow,
    "tiger": _tiger,
    "camel": _camel,
    "king_pigeon": _king_pigeon,
    "foot_to_hand": _foot_to_hand,
    "i": _standing_i,
    "needle": _needle,
    "chair_forward_fold": _chair_forward_fold,
    "chair_side_stretch": _chair_side_stretch,
}
# Reps that work one side at a time, alternating from the left: the side is in the ground truth.
ALTERNATING = frozenset(
    {"lunge", "side_lunge", "low_impact_jack", "high_knees", "mountain_climber"}
)
# Filmed in landscape by default: the body lies along the floor (most poses too: those standing,
# kneeling upright or on a chair are filmed upright).
UPRIGHT_POSES = frozenset(
    {"camel", "foot_to_hand", "i", "needle", "chair_forward_fold", "chair_side_stretch"}
)
ON_THE_FLOOR = frozenset(
    {"push_up", "plank", "mountain_climber", "glute_bridge", "leg_raise", "sit_up"}
) | {e.id for e in EXERCISES.values() if e.category == "flexibility" and e.id not in UPRIGHT_POSES}
VIEWS = {"front": 0.0, "side": 90.0, "side_left": -90.0}


def _per_rep(value, count: int, what: str) -> list[float]:
    values = [float(value)] * count if np.isscalar(value) else [float(v) for v in value]
    if len(values) != count:
        raise ValueError(f"{what}: {len(values)} values for {count} repetitions")
    if any(not 0.0 <= v <= 1.0 for v in values):
        raise ValueError(f"{what}: values must be within 0..1")
    return values


def _faults_for(exercise: str, faults: dict | None) -> dict:
    faults = faults or {}
    unknown = set(faults) - set(FAULTS.get(exercise, {}))
    if unknown:
        known = ", ".join(sorted(FAULTS.get(exercise, {}))) or "none"
        raise ValueError(f"{exercise} has no fault {sorted(unknown)}; its faults: {known}")
    return faults


def _rep_motion(t, h, starts, durations, depths, severities) -> _Motion:
    index = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, max(len(starts) - 1, 0))
    if len(starts):
        inside = (t >= starts[index]) & (t < starts[index] + durations[index])
        u = np.where(inside, (t - starts[index]) / durations[index], 0.0)
        side = np.where(inside, np.where(index % 2 == 0, 1.0, -1.0), 0.0)
        depth = np.where(inside, np.asarray(depths)[index], 0.0)
        severity = {k: np.where(inside, np.asarray(v)[index], 0.0) for k, v in severities.items()}
    else:
        u, side, depth = np.zeros(len(t)), np.zeros(len(t)), np.zeros(len(t))
        severity = {k: np.zeros(len(t)) for k in severities}
    p = (1 - np.cos(2 * np.pi * u)) / 2
    return _Motion(t, h, p, u, side, depth, severity)


def _hold_envelope(t, start: float, hold: float, touchdown: float) -> tuple[np.ndarray, list]:
    """0 at rest, 1 in position; a touchdown dips it to 0 for a while mid-hold. Also returns the
    intervals spent fully in position."""
    held_from, held_to = start + HOLD_ENTER_S, start + HOLD_ENTER_S + hold
    envelope = _smoothstep((t - start) / HOLD_ENTER_S) - _smoothstep((t - held_to) / HOLD_EXIT_S)
    if hold <= 0:
        return np.zeros(len(t)), []
    holds = [(held_from, held_to)]
    if touchdown > 0:
        middle, half = (held_from + held_to) / 2, touchdown * TOUCHDOWN_S / 2
        down, up = middle - half - TOUCHDOWN_RAMP_S, middle + half
        dip = _smoothstep((t - down) / TOUCHDOWN_RAMP_S) - _smoothstep((t - up) / TOUCHDOWN_RAMP_S)
        envelope = envelope * (1 - dip)
        holds = [(held_from, down), (up + TOUCHDOWN_RAMP_S, held_to)]
    return envelope, holds


# -- the camera -----------------------------------------------------------------------------------


def _side_signs() -> np.ndarray:
    signs = np.zeros(len(LANDMARK_NAMES))
    for i, name in enumerate(LANDMARK_NAMES):
        signs[i] = 1.0 if "left" in name else -1.0 if "right" in name else 0.0
    return signs


_SIDE_SIGNS = _side_signs()


def _render(
    scene: np.ndarray,
    approach: np.ndarray,
    *,
    yaw: float,
    image_size: tuple[int, int],
    distance: float | None,
    pitch: float,
    mirror: bool,
    noise_px: float,
    occlusion: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, CameraTruth]:
    """Scene landmarks (T, 33, 3) -> image landmarks (T, 33, 4) and world landmarks (T, 33, 3)."""
    n = len(scene)
    width, height = image_size
    turn = _rot("y", np.full(n, yaw))
    points = np.einsum("tij,tkj->tki", turn, scene)
    points[:, :, 2] += approach[:, None]
    focal = FOCAL_OVER_LONG_SIDE * max(width, height)
    theta = math.radians(pitch)
    look = np.array([0.0, math.sin(theta), -math.cos(theta)])
    right = np.array([1.0, 0.0, 0.0])
    camera_up = np.array([0.0, math.cos(theta), math.sin(theta)])
    target = (points.reshape(-1, 3).min(axis=0) + points.reshape(-1, 3).max(axis=0)) / 2

    def project(at: float):
        relative = points - (target - at * look)
        depth = relative @ look
        u = focal * (relative @ right) / depth + width / 2
        v = -focal * (relative @ camera_up) / depth + height / 2
        return relative, depth, u, v

    if distance is None:
        # Back off until the whole take fills FRAME_FILL of the image (perspective: iterate).
        distance = 3.0
        for _ in range(6):
            _, _, u, v = project(distance)
            spread = max(
                np.abs(u - width / 2).max() / (FRAME_FILL * width / 2),
                np.abs(v - height / 2).max() / (FRAME_FILL * height / 2),
            )
            distance *= spread
    relative, depth, u, v = project(distance)
    hips = (LANDMARK_INDEX["left_hip"], LANDMARK_INDEX["right_hip"])
    hip_depth = depth[:, hips].mean(axis=1, keepdims=True)
    camera = CameraTruth(focal, distance, pitch, 100.0 * float(hip_depth[0, 0]) / focal)

    if noise_px > 0:
        u = u + rng.normal(0.0, noise_px, u.shape)
        v = v + rng.normal(0.0, noise_px, v.shape)
    z = (depth - hip_depth) / hip_depth * focal / width
    # The far side of the body is only guessed at: its visibility drops with how far it is turned
    # away from the camera.
    left_axis = _unit(
        points[:, LANDMARK_INDEX["left_hip"]] - points[:, LANDMARK_INDEX["right_hip"]]
    )
    away = (left_axis @ look)[:, None] * _SIDE_SIGNS[None, :]
    visibility = 0.99 - 0.04 * rng.random(u.shape) - occlusion * 0.75 * np.clip(away, 0.0, 1.0)
    x, y = u / width, v / height
    outside = (x < 0) | (x > 1) | (y < 0) | (y > 1)
    visibility = np.where(outside, visibility * 0.25, visibility)
    # World landmarks: metres on the camera's axes (x right, y down, z away), hip-centred.
    world = relative @ np.stack([right, -camera_up, look]).T
    world = world - world[:, hips].mean(axis=1, keepdims=True)
    if noise_px > 0:
        world = world + rng.normal(0.0, 1.0, world.shape) * noise_px * hip_depth[..., None] / focal
    if mirror:
        x, world[:, :, 0] = 1.0 - x, -world[:, :, 0]
    return np.stack([x, y, z, visibility], axis=-1), world, camera


# -- the public API -------------------------------------------------------------------------------


def generate(
    exercise: str,
    *,
    reps: int = 5,
    fps: float = 30.0,
    tempo_s: float | None = None,
    depth: float | Sequence[float] = 1.0,
    noise_px: float = 0.0,
    faults: dict[str, float | Sequence[float]] | None = None,
    view: str | float | None = None,
    mirror: bool = False,
    occlusion: float = 0.0,
    drop_rate: float = 0.0,
    seed: int = 0,
    lead_in_s: float = 1.5,
    tail_s: float = 1.0,
    height_cm: float = 175.0,
    image_size: tuple[int, int] | None = None,
    camera_distance_m: float | None = None,
    camera_pitch_deg: float = 0.0,
    jump_heights_cm: Sequence[float] | None = None,
    hold_s: float | None = None,
    tempo_jitter: float = 0.0,
    timing_jitter: float = 0.0,
) -> SyntheticTake:
    """A take of `exercise` (a catalog id or alias) with its ground truth.

    reps: repetitions (jumps: how many, at JUMP_HEIGHT_CM, unless `jump_heights_cm` is given;
    holds: ignored). tempo_s: seconds per repetition (default per exercise, TEMPO_S; jumps:
    standing rest between a landing's recovery and the next jump, default JUMP_REST_S). depth:
    share of the full range of motion, per take or per rep (holds: how far into the pose, one
    value). faults: name -> severity 0..1, per take or per rep (per jump), see FAULTS. view:
    "front", "side" (facing the image's right), "side_left", or a yaw in degrees; default the
    catalog's view (front when either will do). mirror: selfie preview (x -> 1 - x). occlusion
    0..1: how much the far side's visibility drops side-on. drop_rate: share of frames never
    delivered. noise_px: landmark jitter (standard deviation, px). lead_in_s / tail_s: standing
    still (or lying in the start position) before and after. image_size: (width, height),
    default portrait 720 x 1280, landscape for exercises on the floor. camera_distance_m: along
    the optical axis to the middle of the take (default: the take fills 3/4 of the image).
    camera_pitch_deg: camera tilted up (+) or down (-). hold_s: time in position for holds
    (default HOLD_S). tempo_jitter: each rep's duration varies by up to this share.
    timing_jitter: each frame's timestamp moves by up to this share of a frame interval.
    """
    exercise_id = resolve_exercise(exercise)
    if exercise_id is None:
        raise ValueError(f"unknown exercise: {exercise}")
    catalog = EXERCISES[exercise_id]
    faults = _faults_for(exercise_id, faults)
    rng = np.random.default_rng(seed)
    h = height_cm / 100.0
    reps_truth: list[RepTruth] = []
    holds: list[tuple[float, float]] = []
    flights: list[FlightTruth] = []

    if catalog.kind == "jump":
        heights = list(jump_heights_cm) if jump_heights_cm is not None else [JUMP_HEIGHT_CM] * reps
        severities = {k: _per_rep(v, len(heights), k) for k, v in faults.items()}
        rest = JUMP_REST_S if tempo_s is None else tempo_s
        flights, settled = _jump_flights(heights, lead_in_s, h, rest)
        total = settled + tail_s
    elif catalog.kind == "duration":
        hold = HOLD_S if hold_s is None else hold_s
        total = lead_in_s + (HOLD_ENTER_S + hold + HOLD_EXIT_S if hold > 0 else 0.0) + tail_s
    else:
        tempo = TEMPO_S[exercise_id] if tempo_s is None else tempo_s
        durations = tempo * (1 + tempo_jitter * rng.uniform(-1.0, 1.0, reps))
        starts = lead_in_s + np.concatenate([[0.0], np.cumsum(durations)[:-1]]) if reps else []
        depths = _per_rep(depth, reps, "depth")
        severities = {k: _per_rep(v, reps, k) for k, v in faults.items()}
        total = lead_in_s + float(np.sum(durations)) + tail_s

    frames = int(math.floor(total * fps)) + 1
    t = np.arange(frames) / fps
    if timing_jitter > 0:
        t[1:] += rng.uniform(-0.5, 0.5, frames - 1) * timing_jitter / fps

    if catalog.kind == "jump":
        still = _Motion(t, h, *(np.zeros(frames),) * 4, {})
        body = _jumping(still, flights, severities)
    elif catalog.kind == "duration":
        if not all(np.isscalar(v) for v in faults.values()):
            raise ValueError("a hold takes one severity per fault")
        if not np.isscalar(depth):
            raise ValueError("a hold takes one depth")
        envelope, holds = _hold_envelope(t, lead_in_s, hold, float(faults.get("touchdown", 0.0)))
        severity = {k: np.full(frames, float(v)) for k, v in faults.items()}
        zeros = np.zeros(frames)
        body = _BUILDERS[exercise_id](
            _Motion(t, h, envelope, zeros, zeros, np.full(frames, float(depth)), severity)
        )
    else:
        motion = _rep_motion(t, h, np.asarray(starts), durations, depths, severities)
        body = _BUILDERS[exercise_id](motion)
        for i in range(reps):
            start, duration = float(starts[i]), float(durations[i])
            side = ("left" if i % 2 == 0 else "right") if exercise_id in ALTERNATING else None
            reps_truth.append(
                RepTruth(
                    i,
                    start,
                    start + duration / 2,
                    start + duration,
                    depths[i],
                    side,
                    {k: v[i] for k, v in severities.items()},
                )
            )

    if view is None:
        # Floor exercises are filmed side-on unless asked otherwise: their form checks need it.
        either = "side" if exercise_id in ON_THE_FLOOR else "front"
        view = either if catalog.view == "either" else catalog.view
    yaw = VIEWS[view] if isinstance(view, str) else float(view)
    if image_size is None:
        image_size = (1280, 720) if exercise_id in ON_THE_FLOOR else (720, 1280)
    landmarks, world, camera = _render(
        body.landmarks(),
        body.approach,
        yaw=yaw,
        image_size=image_size,
        distance=camera_distance_m,
        pitch=camera_pitch_deg,
        mirror=mirror,
        noise_px=noise_px,
        occlusion=occlusion,
        rng=rng,
    )
    kept = rng.random(frames) >= drop_rate
    kept[0] = True
    width, height = image_size
    poses = [
        Pose(landmarks[i], float(t[i] * 1000.0), width, height, world[i], i)
        for i in np.flatnonzero(kept)
    ]
    return SyntheticTake(
        exercise_id, poses, fps, yaw, mirror, height_cm, camera, reps_truth, holds, flights
    )


def stand_still(duration_s: float = 5.0, *, exercise: str = "squat", **options) -> SyntheticTake:
    """The exercise's start position held still (standing for most), no repetition."""
    return generate(
        exercise,
        reps=0,
        hold_s=0.0,
        jump_heights_cm=[],
        lead_in_s=duration_s,
        tail_s=0.0,
        **options,
    )


def noise_only(
    duration_s: float = 5.0,
    *,
    fps: float = 30.0,
    image_size: tuple[int, int] = (720, 1280),
    detection_rate: float = 0.3,
    seed: int = 0,
) -> SyntheticTake:
    """No person: most frames have no detection, the rest a spurious low-confidence skeleton of
    random points (what a detector reports on an empty room)."""
    rng = np.random.default_rng(seed)
    frames = int(math.floor(duration_s * fps)) + 1
    width, height = image_size
    poses = []
    for i in range(frames):
        landmarks = None
        if rng.random() < detection_rate:
            landmarks = np.column_stack(
                [rng.random((33, 2)), rng.normal(0.0, 0.1, 33), rng.uniform(0.0, 0.4, 33)]
            )
        poses.append(Pose(landmarks, i * 1000.0 / fps, width, height, None, i))
    camera = CameraTruth(FOCAL_OVER_LONG_SIDE * max(width, height), 0.0, 0.0, 0.0)
    return SyntheticTake("none", poses, fps, 0.0, False, 0.0, camera)
