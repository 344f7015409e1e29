"""Per-frame body measurements (joint angles, ratios) that exercises count and check on.

A `Frame` holds one pose as plain Python lists (pixels) so that the few measurements an exercise
needs cost microseconds. Every measurement is gated on visibility: when a landmark it uses is one
the model only guesses (visibility below VISIBILITY_GATE) it returns None, and nothing is counted
from it.

Angles are measured in the image plane, in pixels (so a non-square image does not skew them), as
peers and the hosted API do. Only the arm-plane measurement uses depth: from the image alone a front
raise and a lateral raise look the same from some views.
"""

import math
from collections.abc import Callable

import numpy as np

from tracking.engine.pose import (
    LEFT_ANKLE,
    LEFT_EAR,
    LEFT_ELBOW,
    LEFT_FOOT_INDEX,
    LEFT_HEEL,
    LEFT_HIP,
    LEFT_KNEE,
    LEFT_SHOULDER,
    LEFT_WRIST,
    NOSE,
    RIGHT_ANKLE,
    RIGHT_EAR,
    RIGHT_ELBOW,
    RIGHT_FOOT_INDEX,
    RIGHT_HEEL,
    RIGHT_HIP,
    RIGHT_KNEE,
    RIGHT_SHOULDER,
    RIGHT_WRIST,
    Pose,
)

VISIBILITY_GATE = 0.5
SIDES = ("left", "right")
OTHER_SIDE = {"left": "right", "right": "left"}

# Joint name -> BlazePose index, per body side.
JOINTS: dict[str, dict[str, int]] = {
    "left": {
        "ear": LEFT_EAR,
        "shoulder": LEFT_SHOULDER,
        "elbow": LEFT_ELBOW,
        "wrist": LEFT_WRIST,
        "hip": LEFT_HIP,
        "knee": LEFT_KNEE,
        "ankle": LEFT_ANKLE,
        "heel": LEFT_HEEL,
        "foot": LEFT_FOOT_INDEX,
    },
    "right": {
        "ear": RIGHT_EAR,
        "shoulder": RIGHT_SHOULDER,
        "elbow": RIGHT_ELBOW,
        "wrist": RIGHT_WRIST,
        "hip": RIGHT_HIP,
        "knee": RIGHT_KNEE,
        "ankle": RIGHT_ANKLE,
        "heel": RIGHT_HEEL,
        "foot": RIGHT_FOOT_INDEX,
    },
}

_DEGREES = 180.0 / math.pi


class Frame:
    """One pose as flat lists: x, y and z in pixels (z on the x scale), visibility in [0, 1]."""

    __slots__ = ("x", "y", "z", "v", "width", "height", "t", "_cache", "_world", "_world_array")

    def __init__(self, pose: Pose):
        width, height = pose.image_width, pose.image_height
        # By column, scaled to pixels in one NumPy multiply (in float64, as Python's own floats
        # would be): four lists from NumPy instead of 33, the same numbers.
        scale = np.array((width, height, width, 1.0))
        self.x, self.y, self.z, vs = (pose.landmarks * scale).T.tolist()
        # NaN never equals itself: a landmark with any unknown value is simply not visible. A sum
        # without NaN (the usual pose) says there is none to look for.
        x, y = self.x, self.y
        total = sum(x) + sum(y) + sum(vs)
        self.v = (
            vs
            if total == total
            else [
                v if a == a and b == b and v == v else 0.0 for a, b, v in zip(x, y, vs, strict=True)
            ]
        )
        self.width = width
        self.height = height
        self.t = pose.timestamp_ms
        self._cache: dict = {}
        self._world_array = pose.world
        self._world: list[list[float]] | None = None

    @property
    def world(self) -> list[list[float]] | None:
        """World landmarks (metres, hip-centred) as lists, when the pose has them: made on first
        use, as only 3-D measurements read them."""
        if self._world is None and self._world_array is not None:
            self._world = self._world_array.tolist()
        return self._world

    def visible(self, *indices: int) -> bool:
        # A loop, not all() over a generator: called about ten times a frame.
        v = self.v
        for i in indices:
            if not v[i] >= VISIBILITY_GATE:
                return False
        return True

    def in_image(self, index: int, margin: float = 0.0) -> bool:
        x, y = self.x[index], self.y[index]
        mx, my = margin * self.width, margin * self.height
        return -mx <= x <= self.width + mx and -my <= y <= self.height + my

    def metric(self, name: str, side: str | None = None) -> float | None:
        key = (name, side)
        cache = self._cache
        if key in cache:
            return cache[key]
        value = METRICS[name](self, side)
        cache[key] = value
        return value


def angle_at(f: Frame, a: int, b: int, c: int) -> float:
    """Interior angle a-b-c at b, degrees, in the image plane."""
    x, y = f.x, f.y
    v1x, v1y = x[a] - x[b], y[a] - y[b]
    v2x, v2y = x[c] - x[b], y[c] - y[b]
    return math.atan2(abs(v1x * v2y - v1y * v2x), v1x * v2x + v1y * v2y) * _DEGREES


def _joint_angle_3d(first: str, middle: str, last: str) -> Callable[[Frame, str], float | None]:
    """The angle in 3-D from world landmarks when the pose has them, else in the image plane.

    Facing the camera a forearm (or thigh) pointing at the lens flips the image-plane angle from
    about 180 to about 0 in one frame; the 3-D angle moves smoothly through the whole rep.
    """
    flat = _joint_angle(first, middle, last)
    indices = _joint_indices(first, middle, last)

    def measure(f: Frame, side: str) -> float | None:
        world = f.world
        if world is None:
            return flat(f, side)
        a, b, c = indices[side]
        if not f.visible(a, b, c):
            return None
        pa, pb, pc = world[a], world[b], world[c]
        u = (pa[0] - pb[0], pa[1] - pb[1], pa[2] - pb[2])
        w = (pc[0] - pb[0], pc[1] - pb[1], pc[2] - pb[2])
        cross = (u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0])
        return math.atan2(math.hypot(*cross), u[0] * w[0] + u[1] * w[1] + u[2] * w[2]) * _DEGREES

    return measure


def _joint_indices(*joint_names: str) -> dict[str, tuple[int, ...]]:
    """Each side's landmark indices of these joints, looked up once rather than every frame."""
    return {side: tuple(JOINTS[side][name] for name in joint_names) for side in SIDES}


def _joint_angle(first: str, middle: str, last: str) -> Callable[[Frame, str], float | None]:
    indices = _joint_indices(first, middle, last)

    def measure(f: Frame, side: str) -> float | None:
        a, b, c = indices[side]
        if not f.visible(a, b, c):
            return None
        return angle_at(f, a, b, c)

    return measure


def torso_length(f: Frame, side: str | None = None) -> float | None:
    """Shoulder-centre to hip-centre distance in pixels (one side's when only one is visible)."""
    left = f.visible(LEFT_SHOULDER, LEFT_HIP)
    right = f.visible(RIGHT_SHOULDER, RIGHT_HIP)
    x, y = f.x, f.y
    if left and right:
        sx = (x[LEFT_SHOULDER] + x[RIGHT_SHOULDER]) / 2
        sy = (y[LEFT_SHOULDER] + y[RIGHT_SHOULDER]) / 2
        hx, hy = (x[LEFT_HIP] + x[RIGHT_HIP]) / 2, (y[LEFT_HIP] + y[RIGHT_HIP]) / 2
    elif left or right:
        s, h = (LEFT_SHOULDER, LEFT_HIP) if left else (RIGHT_SHOULDER, RIGHT_HIP)
        sx, sy, hx, hy = x[s], y[s], x[h], y[h]
    else:
        return None
    length = math.hypot(sx - hx, sy - hy)
    return length if length > 1e-6 else None


def facing(f: Frame, side: str | None = None) -> float | None:
    """+1 when the person faces the image's +x direction, -1 when -x (meaningful side-on)."""
    x = f.x
    if f.visible(NOSE) and (f.visible(LEFT_SHOULDER) or f.visible(RIGHT_SHOULDER)):
        shoulders = [x[i] for i in (LEFT_SHOULDER, RIGHT_SHOULDER) if f.v[i] >= VISIBILITY_GATE]
        offset = x[NOSE] - sum(shoulders) / len(shoulders)
        if abs(offset) > 1e-6:
            return 1.0 if offset > 0 else -1.0
    toes = 0.0
    for s in SIDES:
        joints = JOINTS[s]
        if f.visible(joints["heel"], joints["foot"]):
            toes += x[joints["foot"]] - x[joints["heel"]]
    if toes:
        return 1.0 if toes > 0 else -1.0
    return None


def _scaled(f: Frame, value: float) -> float | None:
    torso = f.metric("torso_length")
    return None if torso is None else value / torso


def body_line(f: Frame, side: str) -> float | None:
    """Shoulder-hip-ankle angle, signed: above 180 when the hips are above the straight line."""
    joints = JOINTS[side]
    s, h, a = joints["shoulder"], joints["hip"], joints["ankle"]
    if not f.visible(s, h, a):
        return None
    interior = angle_at(f, s, h, a)
    x, y = f.x, f.y
    lx, ly = x[a] - x[s], y[a] - y[s]
    # Normal to the shoulder-ankle line pointing up in the image (smaller y).
    nx, ny = (ly, -lx) if -lx < 0 else (-ly, lx)
    above = (x[h] - x[s]) * nx + (y[h] - y[s]) * ny > 0
    return 360.0 - interior if above else interior


def torso_lean(f: Frame, side: str) -> float | None:
    """Hip-to-shoulder line from vertical, degrees: + leaning forward, - leaning back (side-on)."""
    joints = JOINTS[side]
    s, h = joints["shoulder"], joints["hip"]
    direction = f.metric("facing")
    if direction is None or not f.visible(s, h):
        return None
    return math.atan2((f.x[s] - f.x[h]) * direction, f.y[h] - f.y[s]) * _DEGREES


def torso_elevation(f: Frame, side: str) -> float | None:
    """Hip-to-shoulder line above the horizontal, degrees: 0 lying, 90 upright."""
    joints = JOINTS[side]
    s, h = joints["shoulder"], joints["hip"]
    if not f.visible(s, h):
        return None
    return math.atan2(f.y[h] - f.y[s], abs(f.x[s] - f.x[h])) * _DEGREES


def elbow_drop(f: Frame, side: str) -> float | None:
    """Elbow below the shoulder in torso lengths: about 0.5 when the arms hold the body up (plank),
    near 0 lying flat."""
    joints = JOINTS[side]
    s, e = joints["shoulder"], joints["elbow"]
    if not f.visible(s, e):
        return None
    return _scaled(f, f.y[e] - f.y[s])


def shin_lean(f: Frame, side: str) -> float | None:
    """Ankle-to-knee line from vertical, degrees: + when the knee is ahead of the ankle."""
    joints = JOINTS[side]
    k, a = joints["knee"], joints["ankle"]
    direction = f.metric("facing")
    if direction is None or not f.visible(k, a):
        return None
    return math.atan2((f.x[k] - f.x[a]) * direction, f.y[a] - f.y[k]) * _DEGREES


# Thigh and shin are each about 0.85 torso lengths (Winter's anthropometry), and keep that length
# seen side-on. A segment looking shorter than SIDE_ON_SEGMENT torso lengths is not seen side-on:
# it points at the camera, or the model has merged or swapped the two legs' knees and ankles (a
# side-on lunge's legs cross in the image), which reads a vertical shin as leaning 30-66 degrees.
SIDE_ON_SEGMENT = 0.6


def _side_on_length(f: Frame, side: str, *joint_names: str) -> float | None:
    """The length in pixels of the limb path through `joint_names` on this side, when every joint
    is seen and the path looks as long as it does side-on (SIDE_ON_SEGMENT a segment)."""
    torso = f.metric("torso_length")
    indices = [JOINTS[side][name] for name in joint_names]
    if torso is None or not f.visible(*indices):
        return None
    x, y = f.x, f.y
    pairs = list(zip(indices, indices[1:], strict=False))
    total = sum(math.hypot(x[a] - x[b], y[a] - y[b]) for a, b in pairs)
    return total if total >= SIDE_ON_SEGMENT * len(pairs) * torso else None


def front_shin_lean(f: Frame, side: str | None = None) -> float | None:
    """Shin lean of the leading leg (the ankle further forward), as in a lunge; not read when that
    shin is not seen side-on."""
    direction = f.metric("facing")
    if direction is None:
        return None
    leading = max(SIDES, key=lambda s: f.x[JOINTS[s]["ankle"]] * direction)
    if _side_on_length(f, leading, "knee", "ankle") is None:
        return None
    return f.metric("shin_lean", leading)


def forearm_sideways(f: Frame, side: str) -> float | None:
    """How far the wrist is out to the side of its elbow, in torso lengths, facing the camera
    (negative across the body). A curl raises the forearm in front of the elbow: it moves 0.1-0.2
    over real curls; a shoulder's external rotation swings the forearm out to the side, 0.5."""
    joints = JOINTS[side]
    e, w = joints["elbow"], joints["wrist"]
    if not _both(f, "shoulder") or not f.visible(e, w):
        return None
    outward = 1.0 if f.x[joints["shoulder"]] > f.x[JOINTS[OTHER_SIDE[side]]["shoulder"]] else -1.0
    return _scaled(f, (f.x[w] - f.x[e]) * outward)


def upper_arm_angle(f: Frame, side: str) -> float | None:
    """Shoulder-to-elbow line from hanging straight down, degrees."""
    joints = JOINTS[side]
    s, e = joints["shoulder"], joints["elbow"]
    if not f.visible(s, e):
        return None
    return math.atan2(abs(f.x[e] - f.x[s]), f.y[e] - f.y[s]) * _DEGREES


# Thigh length over torso length (hip to knee over hip to shoulder; Winter's anthropometry).
THIGH_OVER_TORSO = 0.85


def thigh_lift(f: Frame, side: str) -> float | None:
    """How far the thigh is raised from hanging straight down, degrees (90: knee at hip height).

    Read from how high the knee rises relative to the hip, on the torso's scale, so a knee driven
    straight at the camera reads the same as one seen from the side.
    """
    joints = JOINTS[side]
    h, k = joints["hip"], joints["knee"]
    if not f.visible(h, k):
        return None
    drop = _scaled(f, f.y[k] - f.y[h])
    if drop is None:
        return None
    cosine = max(-1.0, min(1.0, drop / THIGH_OVER_TORSO))
    return math.acos(cosine) * _DEGREES


def wrist_height(f: Frame, side: str) -> float | None:
    """Wrist height above the shoulder in torso lengths: about -1 hanging, +1 overhead."""
    joints = JOINTS[side]
    s, w = joints["shoulder"], joints["wrist"]
    if not f.visible(s, w):
        return None
    return _scaled(f, f.y[s] - f.y[w])


def heel_raise(f: Frame, side: str) -> float | None:
    """Heel height above the toes in shin lengths: 0 flat-footed, about 0.2 up on the toes."""
    joints = JOINTS[side]
    k, a, heel, toe = joints["knee"], joints["ankle"], joints["heel"], joints["foot"]
    if not f.visible(k, a, heel, toe):
        return None
    shin = math.hypot(f.x[k] - f.x[a], f.y[k] - f.y[a])
    return (f.y[toe] - f.y[heel]) / shin if shin > 1e-6 else None


def foot_lift(f: Frame, side: str) -> float | None:
    """How far this foot is above the other one, in torso lengths (standing on the other leg)."""
    this, other = JOINTS[side]["ankle"], JOINTS[OTHER_SIDE[side]]["ankle"]
    if not f.visible(this, other):
        return None
    return _scaled(f, f.y[other] - f.y[this])


def lifted_foot(f: Frame, side: str | None = None) -> float | None:
    """The higher foot's lift above the other one, in torso lengths."""
    lift = f.metric("foot_lift", "left")
    return None if lift is None else abs(lift)


def arm_plane(f: Frame, side: str) -> float | None:
    """Direction of the raised arm around the body: 0 degrees straight ahead, 90 out to the side.

    Uses depth (world landmarks when given, else image z): a front raise seen from the front and a
    lateral raise seen from the side both point the arm at the camera.
    """
    joints = JOINTS[side]
    if not f.visible(joints["shoulder"], joints["elbow"], joints["wrist"]):
        return None
    if f.world is not None:
        points = f.world
    else:
        points = [(f.x[i], f.y[i], f.z[i]) for i in range(len(f.x))]
    ls, rs, lh, rh = (points[i] for i in (LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP))
    lateral = [rs[i] - ls[i] for i in range(3)]
    up = [(ls[i] + rs[i] - lh[i] - rh[i]) / 2 for i in range(3)]
    up_norm = math.sqrt(sum(c * c for c in up))
    if up_norm < 1e-9:
        return None
    up = [c / up_norm for c in up]
    along = sum(lateral[i] * up[i] for i in range(3))
    lateral = [lateral[i] - along * up[i] for i in range(3)]
    lateral_norm = math.sqrt(sum(c * c for c in lateral))
    if lateral_norm < 1e-9:
        return None
    lateral = [c / lateral_norm for c in lateral]
    forward = [
        lateral[1] * up[2] - lateral[2] * up[1],
        lateral[2] * up[0] - lateral[0] * up[2],
        lateral[0] * up[1] - lateral[1] * up[0],
    ]
    shoulder, wrist = points[joints["shoulder"]], points[joints["wrist"]]
    arm = [wrist[i] - shoulder[i] for i in range(3)]
    sideways = abs(sum(arm[i] * lateral[i] for i in range(3)))
    ahead = abs(sum(arm[i] * forward[i] for i in range(3)))
    if sideways + ahead < 1e-9:
        return None
    return math.atan2(sideways, ahead) * _DEGREES


# Joint name -> (left index, right index).
_PAIRS = {name: (index, JOINTS["right"][name]) for name, index in JOINTS["left"].items()}


def _both(f: Frame, *joint_names: str) -> bool:
    """Both sides' joints visible. A loop over the pairs, not generators: about twenty calls a
    frame."""
    v = f.v
    for name in joint_names:
        left, right = _PAIRS[name]
        if not (v[left] >= VISIBILITY_GATE and v[right] >= VISIBILITY_GATE):
            return False
    return True


def _horizontal_gap(f: Frame, joint: str) -> float:
    return abs(f.x[JOINTS["left"][joint]] - f.x[JOINTS["right"][joint]])


def shoulder_width_ratio(f: Frame, side: str | None = None) -> float | None:
    """Shoulder gap over torso length: about 0.7 facing the camera, near 0 side-on."""
    if not _both(f, "shoulder"):
        return None
    x, y = f.x, f.y
    gap = math.hypot(x[LEFT_SHOULDER] - x[RIGHT_SHOULDER], y[LEFT_SHOULDER] - y[RIGHT_SHOULDER])
    return _scaled(f, gap)


def shoulder_stack(f: Frame, side: str | None = None) -> float | None:
    """How far one shoulder is above the other in the image, in torso lengths: near 0 with the
    shoulders level (upright, or face down seen side-on), about 0.5 rolled onto one side."""
    if not _both(f, "shoulder"):
        return None
    return _scaled(f, abs(f.y[LEFT_SHOULDER] - f.y[RIGHT_SHOULDER]))


def _below_shoulders(f: Frame, joint: str) -> float | None:
    """How far a joint pair's midpoint is below the shoulders' midpoint, in shoulder widths:
    facing the camera, the scale that stays put when the torso points at it (head-on floor
    exercises foreshorten the torso, not the shoulders)."""
    left, right = JOINTS["left"], JOINTS["right"]
    shoulders = (left["shoulder"], right["shoulder"])
    y = f.y
    width = math.hypot(f.x[shoulders[0]] - f.x[shoulders[1]], y[shoulders[0]] - y[shoulders[1]])
    if width < 1e-6:
        return None
    drop = (y[left[joint]] + y[right[joint]]) / 2 - (y[shoulders[0]] + y[shoulders[1]]) / 2
    return drop / width


def wrist_drop(f: Frame, side: str | None = None) -> float | None:
    """Wrists below the shoulders, in shoulder widths: a head-on push-up goes from about 1.4 (arms
    straight) to under 0.7 (chest down) on real people; standing with the arms down, about 2."""
    if not _both(f, "shoulder", "wrist"):
        return None
    return _below_shoulders(f, "wrist")


def hip_drop(f: Frame, side: str | None = None) -> float | None:
    """Hips below the shoulders, in shoulder widths: about 1.5 standing, under 0.75 in a push-up
    or plank filmed head-on (the hips are behind the shoulders). Hidden hips are BlazePose's
    guess, which still falls behind the shoulders there."""
    if not _both(f, "shoulder"):
        return None
    return _below_shoulders(f, "hip")


def knee_drop(f: Frame, side: str | None = None) -> float | None:
    """Knees below the shoulders, in shoulder widths (facing the camera): about 1.3 sitting upright
    on a chair or the floor, under 0.5 folded forward over the legs."""
    if not _both(f, "shoulder", "knee"):
        return None
    return _below_shoulders(f, "knee")


def shin_drop(f: Frame, side: str | None = None) -> float | None:
    """Ankles below the knees, in shoulder widths (facing the camera): about 1 with the feet on
    the floor under the knees (sitting, standing), near 0 when the shins point at the camera (a
    push-up filmed head-on)."""
    if not _both(f, "shoulder", "knee", "ankle"):
        return None
    return _below_shoulders(f, "ankle") - _below_shoulders(f, "knee")


def neck_length(f: Frame, side: str | None = None) -> float | None:
    """Ears above the shoulders, in shoulder widths (facing the camera): about 0.64 with the
    shoulders relaxed on real people (ML Kit's standing photos, middle half 0.6-0.68), shorter as
    the shoulders rise. The ears sit near the axis the head nods about: a nod hardly moves them.
    With world landmarks it is the 3-D distance, which a lean of the whole trunk toward the camera
    (a squat) leaves alone; the image alone sees that lean shorten the neck like a shrug."""
    if not _both(f, "shoulder", "ear"):
        return None
    world = f.world
    if world is None:
        return -_below_shoulders(f, "ear")
    left, right = JOINTS["left"], JOINTS["right"]

    def middle(joint: str) -> list[float]:
        a, b = world[left[joint]], world[right[joint]]
        return [(a[i] + b[i]) / 2 for i in range(3)]

    width = math.dist(world[left["shoulder"]], world[right["shoulder"]])
    return math.dist(middle("ear"), middle("shoulder")) / width if width > 1e-9 else None


def _centre(f: Frame, joint: str) -> tuple[float, float]:
    left, right = JOINTS["left"][joint], JOINTS["right"][joint]
    return (f.x[left] + f.x[right]) / 2, (f.y[left] + f.y[right]) / 2


def leg_spread(f: Frame, side: str | None = None) -> float | None:
    """Angle between the legs, hip centre to each ankle, degrees: about 10 standing, 180 in a full
    split seen in its own plane (a front split side-on, a middle split facing the camera)."""
    if not _both(f, "hip", "ankle"):
        return None
    hx, hy = _centre(f, "hip")
    vectors = [(f.x[JOINTS[s]["ankle"]] - hx, f.y[JOINTS[s]["ankle"]] - hy) for s in SIDES]
    (ax, ay), (bx, by) = vectors
    return math.atan2(abs(ax * by - ay * bx), ax * bx + ay * by) * _DEGREES


def _leg_length(f: Frame) -> float | None:
    """The longer leg's hip-knee-ankle path in pixels (the less foreshortened one)."""
    lengths = []
    for s in SIDES:
        h, k, a = (JOINTS[s][name] for name in ("hip", "knee", "ankle"))
        if f.visible(h, k, a):
            lengths.append(
                math.hypot(f.x[h] - f.x[k], f.y[h] - f.y[k])
                + math.hypot(f.x[k] - f.x[a], f.y[k] - f.y[a])
            )
    longest = max(lengths, default=0.0)
    return longest if longest > 1e-6 else None


def hip_height(f: Frame, side: str | None = None) -> float | None:
    """Hip centre above the lower ankle, in leg lengths: about 0.95 standing, 0.5 kneeling upright,
    near 0 sitting on the floor with the legs out (splits, a pike)."""
    legs = _leg_length(f)
    if legs is None or not _both(f, "hip", "ankle"):
        return None
    lower = max(f.y[JOINTS[s]["ankle"]] for s in SIDES)
    return (lower - _centre(f, "hip")[1]) / legs


def hip_above_feet(f: Frame, side: str) -> float | None:
    """This hip above the lowest foot point seen (heel, toes or ankle of either foot), in this
    leg's hip-knee-ankle lengths: about 1.07 standing, 0.5-0.7 at the bottom of real lunges
    (Exercise-Correction's lunge stages) whichever leg is in front, because the hips drop between
    the feet. Side-on: the path is only a leg's length when the leg is seen side-on."""
    leg = _side_on_length(f, side, "hip", "knee", "ankle")
    if leg is None:
        return None
    feet = [
        f.y[JOINTS[s][point]]
        for s in SIDES
        for point in ("ankle", "heel", "foot")
        if f.visible(JOINTS[s][point])
    ]
    return (max(feet) - f.y[JOINTS[side]["hip"]]) / leg


def hand_to_foot(f: Frame, side: str | None = None) -> float | None:
    """The nearest wrist to a foot (ankle, heel or toes), in torso lengths: under 0.3 holding a
    foot (bow, camel, king pigeon), about 1.5 standing with the arms down."""
    pairs = [
        (JOINTS[hand]["wrist"], JOINTS[foot][point])
        for hand in SIDES
        for foot in SIDES
        for point in ("ankle", "heel", "foot")
        if f.visible(JOINTS[hand]["wrist"], JOINTS[foot][point])
    ]
    if not pairs:
        return None
    nearest = min(math.hypot(f.x[w] - f.x[a], f.y[w] - f.y[a]) for w, a in pairs)
    return _scaled(f, nearest)


def ankle_rise(f: Frame, side: str) -> float | None:
    """This ankle above its own hip, in torso lengths: about -1.7 standing, 0 with the leg raised
    level, above 1 once the foot passes the shoulders."""
    joints = JOINTS[side]
    h, a = joints["hip"], joints["ankle"]
    if not f.visible(h, a):
        return None
    return _scaled(f, f.y[h] - f.y[a])


def higher_ankle(f: Frame) -> str | None:
    """The side whose ankle is higher in the image (the raised leg); None with an ankle unseen."""
    left, right = JOINTS["left"]["ankle"], JOINTS["right"]["ankle"]
    if not f.visible(left, right):
        return None
    return "left" if f.y[left] < f.y[right] else "right"


def _from_vertical(upper: str, lower: str) -> Callable[[Frame, str], float | None]:
    """A limb segment (`upper` joint above `lower`) from vertical, unsigned degrees: 0 upright.
    Well conditioned near vertical, unlike a height-based reading such as `thigh_lift`."""

    def measure(f: Frame, side: str) -> float | None:
        joints = JOINTS[side]
        u, lo = joints[upper], joints[lower]
        if not f.visible(u, lo):
            return None
        return math.atan2(abs(f.x[u] - f.x[lo]), f.y[lo] - f.y[u]) * _DEGREES

    return measure


def neck_flexion(f: Frame, side: str) -> float | None:
    """The head bowed toward the chest against the trunk, degrees, side-on: how far the ear-to-nose
    line tilts toward the hips from square to the hip-shoulder line. About 20-25 with the head
    neutral (the nose sits below the ear), about 60 with the chin pulled to the chest; negative
    with the head tipped back."""
    joints = JOINTS[side]
    h, s, e = joints["hip"], joints["shoulder"], joints["ear"]
    if not f.visible(h, s, e, NOSE):
        return None
    x, y = f.x, f.y
    tx, ty = x[s] - x[h], y[s] - y[h]
    trunk = math.hypot(tx, ty)
    if trunk < 1e-6:
        return None
    hx, hy = x[NOSE] - x[e], y[NOSE] - y[e]
    toward_hips = -(hx * tx + hy * ty) / trunk
    across = abs(hx * ty - hy * tx) / trunk
    return math.atan2(toward_hips, across) * _DEGREES


def toes_to_head(f: Frame, side: str) -> float | None:
    """Cosine between this foot (heel to toes) and the trunk (hip to shoulder), image plane: near
    +1 with the toes pointing the way the head is (standing, a downward dog), negative pointing
    away from it (a wheel, the feet planted beyond the knees)."""
    joints = JOINTS[side]
    heel, toe, h, s = joints["heel"], joints["foot"], joints["hip"], joints["shoulder"]
    if not f.visible(heel, toe, h, s):
        return None
    fx, fy = f.x[toe] - f.x[heel], f.y[toe] - f.y[heel]
    tx, ty = f.x[s] - f.x[h], f.y[s] - f.y[h]
    norm = math.hypot(fx, fy) * math.hypot(tx, ty)
    return (fx * tx + fy * ty) / norm if norm > 1e-9 else None


def shin_ground_angle(f: Frame, side: str) -> float | None:
    """The shin against a horizontal through the ankle joint, degrees: 90 with the shin upright."""
    tilt = f.metric("shin_tilt", side)
    return None if tilt is None else 90.0 - tilt


def trunk_angle(f: Frame, side: str) -> float | None:
    """Hip-to-shoulder line from vertical, unsigned degrees: 0 upright, 90 folded level, more
    with the shoulders below the hips (side-on)."""
    elevation = f.metric("torso_elevation", side)
    return None if elevation is None else 90.0 - elevation


def wrist_to_ankle(f: Frame, side: str) -> float | None:
    """This wrist below this ankle, in hip-ankle lengths: about -0.9 standing with the arms down,
    0 with the hand level with the ankle, positive below it (the hand reaching the floor)."""
    joints = JOINTS[side]
    w, h, a = joints["wrist"], joints["hip"], joints["ankle"]
    if not f.visible(w, h, a):
        return None
    leg = math.hypot(f.x[h] - f.x[a], f.y[h] - f.y[a])
    return (f.y[w] - f.y[a]) / leg if leg > 1e-6 else None


def knee_feet_ratio(f: Frame, side: str | None = None) -> float | None:
    """Knee gap over ankle gap (front view): below about 0.7 the knees cave in."""
    if not _both(f, "knee", "ankle"):
        return None
    feet = _horizontal_gap(f, "ankle")
    return _horizontal_gap(f, "knee") / feet if feet > 1e-6 else None


def feet_shoulder_ratio(f: Frame, side: str | None = None) -> float | None:
    """Ankle gap over shoulder gap (front view)."""
    if not _both(f, "ankle", "shoulder"):
        return None
    shoulders = _horizontal_gap(f, "shoulder")
    return _horizontal_gap(f, "ankle") / shoulders if shoulders > 1e-6 else None


def ankle_spread(f: Frame, side: str | None = None) -> float | None:
    """Ankle gap in torso lengths (front view): about 0.3 feet together, 1 in a jumping jack."""
    if not _both(f, "ankle"):
        return None
    return _scaled(f, _horizontal_gap(f, "ankle"))


def torso_tilt(f: Frame, side: str | None = None) -> float | None:
    """Hip-centre to shoulder-centre line from vertical, unsigned degrees (front view sway)."""
    if not _both(f, "shoulder", "hip"):
        return None
    x, y = f.x, f.y
    dx = (x[LEFT_SHOULDER] + x[RIGHT_SHOULDER] - x[LEFT_HIP] - x[RIGHT_HIP]) / 2
    dy = (y[LEFT_HIP] + y[RIGHT_HIP] - y[LEFT_SHOULDER] - y[RIGHT_SHOULDER]) / 2
    return math.atan2(abs(dx), dy) * _DEGREES


def hip_centre_x(f: Frame, side: str | None = None) -> float | None:
    """Horizontal hip position in pixels (for sway)."""
    hips = [i for i in (LEFT_HIP, RIGHT_HIP) if f.v[i] >= VISIBILITY_GATE]
    if not hips:
        return None
    return sum(f.x[i] for i in hips) / len(hips)


# -- range of motion ---------------------------------------------------------------------------
# Clinical angles, as a goniometer reads them: 0 in the anatomical position, positive in the
# movement's direction, per side. Each reads one side's movement in the plane the camera sees (the
# assessment's view), tracking.engine.rom turns it into a held peak.


def _unit(x: float, y: float) -> tuple[float, float] | None:
    norm = math.hypot(x, y)
    return (x / norm, y / norm) if norm > 1e-6 else None


def _swing(
    base: tuple[float, float], moving: tuple[float, float], toward: tuple[float, float]
) -> float | None:
    """The angle from `base` to `moving`, degrees, positive rotating toward `toward` (a direction
    not along `base`). Past -90 it reads on past 180 (an arm raised beyond overhead reads 190,
    as a goniometer would, rather than -170)."""
    d = _unit(*base)
    if d is None:
        return None
    along = toward[0] * d[0] + toward[1] * d[1]
    p = _unit(toward[0] - along * d[0], toward[1] - along * d[1])
    if p is None:
        return None
    angle = (
        math.atan2(moving[0] * p[0] + moving[1] * p[1], moving[0] * d[0] + moving[1] * d[1])
        * _DEGREES
    )
    return angle + 360.0 if angle < -90.0 else angle


def _outward(f: Frame, side: str, joint: str) -> tuple[float, float]:
    """From the other side's joint to this side's, in the image: toward `side` of the body."""
    a, b = JOINTS[side][joint], JOINTS[OTHER_SIDE[side]][joint]
    return f.x[a] - f.x[b], f.y[a] - f.y[b]


def _flexion(first: str, middle: str, last: str) -> Callable[[Frame, str], float | None]:
    """180 minus the joint's interior angle: 0 with the limb straight."""
    interior = _joint_angle(first, middle, last)

    def measure(f: Frame, side: str) -> float | None:
        angle = interior(f, side)
        return None if angle is None else 180.0 - angle

    return measure


def shoulder_abduction(f: Frame, side: str) -> float | None:
    """Facing the camera: the upper arm from the trunk's line (shoulder toward hip), out to the
    side. 0 hanging, 90 level, 180 overhead, more past it."""
    joints, other = JOINTS[side], JOINTS[OTHER_SIDE[side]]
    s, e, h = joints["shoulder"], joints["elbow"], joints["hip"]
    if not f.visible(s, e, h, other["shoulder"]):
        return None
    x, y = f.x, f.y
    return _swing(
        (x[h] - x[s], y[h] - y[s]), (x[e] - x[s], y[e] - y[s]), _outward(f, side, "shoulder")
    )


def shoulder_flexion(f: Frame, side: str) -> float | None:
    """Side-on: the upper arm from the trunk's line, forward (the way the person faces) and up.
    0 hanging, 180 overhead; negative behind the body (extension)."""
    joints = JOINTS[side]
    s, e, h = joints["shoulder"], joints["elbow"], joints["hip"]
    ahead = f.metric("facing")
    if ahead is None or not f.visible(s, e, h):
        return None
    x, y = f.x, f.y
    return _swing((x[h] - x[s], y[h] - y[s]), (x[e] - x[s], y[e] - y[s]), (ahead, 0.0))


def hip_abduction(f: Frame, side: str) -> float | None:
    """Facing the camera: the thigh (hip to knee) out to the side from the pelvis' own down (square
    to the hip-to-hip line), as a goniometer set on both hip bones reads it: a tilt of the pelvis
    is not abduction. 0 standing, negative crossing inward."""
    joints, other = JOINTS[side], JOINTS[OTHER_SIDE[side]]
    h, k = joints["hip"], joints["knee"]
    if not f.visible(h, k, other["hip"]):
        return None
    ox, oy = _outward(f, side, "hip")
    down = (-oy, ox) if ox >= 0 else (oy, -ox)  # square to the hips, toward the feet
    return _swing(down, (f.x[k] - f.x[h], f.y[k] - f.y[h]), (ox, oy))


def _trunk_up(f: Frame) -> tuple[float, float]:
    """Hip centre to shoulder centre when the hips are seen, else straight up the image."""
    if _both(f, "hip"):
        hx, hy = _centre(f, "hip")
        sx, sy = _centre(f, "shoulder")
        return sx - hx, sy - hy
    return 0.0, -1.0


def neck_lateral_flexion(f: Frame, side: str) -> float | None:
    """Facing the camera: the head's midline (the shoulders' centre to the nose) from the trunk's
    line, toward this side's shoulder (ear to shoulder); negative bending the other way."""
    if not _both(f, "shoulder") or not f.visible(NOSE):
        return None
    sx, sy = _centre(f, "shoulder")
    head = (f.x[NOSE] - sx, f.y[NOSE] - sy)
    return _swing(_trunk_up(f), head, _outward(f, side, "shoulder"))


def trunk_lateral_flexion(f: Frame, side: str) -> float | None:
    """Facing the camera: the trunk (hip centre to shoulder centre) from vertical, bending toward
    this side; negative bending the other way."""
    if not _both(f, "shoulder", "hip"):
        return None
    hx, hy = _centre(f, "hip")
    sx, sy = _centre(f, "shoulder")
    return _swing((0.0, -1.0), (sx - hx, sy - hy), _outward(f, side, "hip"))


def _indices(*names: str) -> Callable[[str], tuple[int, ...]]:
    """The landmarks a measurement reads on `side` ("other_…": the other side's, "nose")."""

    def of(side: str) -> tuple[int, ...]:
        found = []
        for name in names:
            if name == "nose":
                found.append(NOSE)
            elif name.startswith("other_"):
                found.append(JOINTS[OTHER_SIDE[side]][name.removeprefix("other_")])
            else:
                found.append(JOINTS[side][name])
        return tuple(found)

    return of


# The landmarks each range-of-motion measurement reads, on a side: how well they are seen is part
# of the measurement's uncertainty.
ROM_LANDMARKS: dict[str, Callable[[str], tuple[int, ...]]] = {
    "shoulder_abduction": _indices("hip", "shoulder", "elbow", "other_shoulder"),
    "shoulder_flexion": _indices("hip", "shoulder", "elbow"),
    "hip_abduction": _indices("hip", "knee", "other_hip"),
    "hip_flexion": _indices("shoulder", "hip", "knee"),
    "knee_flexion": _indices("hip", "knee", "ankle"),
    "elbow_flexion": _indices("shoulder", "elbow", "wrist"),
    "neck_lateral_flexion": _indices("shoulder", "other_shoulder", "nose"),
    "trunk_lateral_flexion": _indices("shoulder", "other_shoulder", "hip", "other_hip"),
}


# name -> measure(frame, side); side is "left"/"right" for one-side measurements, None otherwise.
METRICS: dict[str, Callable[[Frame, str | None], float | None]] = {
    "knee_angle": _joint_angle("hip", "knee", "ankle"),
    "knee_angle_3d": _joint_angle_3d("hip", "knee", "ankle"),
    "hip_angle": _joint_angle("shoulder", "hip", "knee"),
    "elbow_angle": _joint_angle("shoulder", "elbow", "wrist"),
    "elbow_angle_3d": _joint_angle_3d("shoulder", "elbow", "wrist"),
    "shoulder_angle": _joint_angle("hip", "shoulder", "elbow"),
    "body_line": body_line,
    "torso_lean": torso_lean,
    "torso_elevation": torso_elevation,
    "elbow_drop": elbow_drop,
    "shin_lean": shin_lean,
    "upper_arm_angle": upper_arm_angle,
    "forearm_sideways": forearm_sideways,
    "thigh_lift": thigh_lift,
    "wrist_height": wrist_height,
    "heel_raise": heel_raise,
    "foot_lift": foot_lift,
    "lifted_foot": lifted_foot,
    "arm_plane": arm_plane,
    "torso_length": torso_length,
    "facing": facing,
    "front_shin_lean": front_shin_lean,
    "shoulder_width_ratio": shoulder_width_ratio,
    "shoulder_stack": shoulder_stack,
    "wrist_drop": wrist_drop,
    "hip_drop": hip_drop,
    "knee_feet_ratio": knee_feet_ratio,
    "feet_shoulder_ratio": feet_shoulder_ratio,
    "ankle_spread": ankle_spread,
    "torso_tilt": torso_tilt,
    "hip_centre_x": hip_centre_x,
    "knee_drop": knee_drop,
    "shin_drop": shin_drop,
    "neck_length": neck_length,
    "leg_spread": leg_spread,
    "hip_height": hip_height,
    "hip_above_feet": hip_above_feet,
    "hand_to_foot": hand_to_foot,
    "ankle_rise": ankle_rise,
    "shin_tilt": _from_vertical("knee", "ankle"),
    "thigh_tilt": _from_vertical("hip", "knee"),
    "toes_to_head": toes_to_head,
    "neck_flexion": neck_flexion,
    "shin_ground_angle": shin_ground_angle,
    "trunk_angle": trunk_angle,
    "wrist_to_ankle": wrist_to_ankle,
    "shoulder_abduction": shoulder_abduction,
    "shoulder_flexion": shoulder_flexion,
    "hip_abduction": hip_abduction,
    "hip_flexion": _flexion("shoulder", "hip", "knee"),
    "knee_flexion": _flexion("hip", "knee", "ankle"),
    "elbow_flexion": _flexion("shoulder", "elbow", "wrist"),
    "neck_lateral_flexion": neck_lateral_flexion,
    "trunk_lateral_flexion": trunk_lateral_flexion,
}

# Measurements taken on one body side; the rest describe the whole body.
PER_SIDE_METRICS = frozenset(
    {
        "knee_angle",
        "knee_angle_3d",
        "hip_angle",
        "elbow_angle",
        "elbow_angle_3d",
        "shoulder_angle",
        "body_line",
        "torso_lean",
        "torso_elevation",
        "elbow_drop",
        "shin_lean",
        "upper_arm_angle",
        "forearm_sideways",
        "thigh_lift",
        "wrist_height",
        "heel_raise",
        "foot_lift",
        "arm_plane",
        "ankle_rise",
        "shin_tilt",
        "thigh_tilt",
        "toes_to_head",
        "shin_ground_angle",
        "trunk_angle",
        "wrist_to_ankle",
        "hip_above_feet",
        "neck_flexion",
        *ROM_LANDMARKS,
    }
)
