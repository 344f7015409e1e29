"""The one skeleton every picture of a pose draws: which BlazePose landmarks are shown and joined,
from what visibility, in which colours and how thick, and what the `skeleton` parameter changes.

render.py burns it into exported videos and photos; the pages draw it with
static/formtrack/skeleton.js, fed with definition() (the {% skeleton_definition %} template tag),
and the upload page's replay with the style the pose timeline carries (style_for).
"""

import re
from collections.abc import Mapping
from types import MappingProxyType

from tracking.engine.pose import COCO_TO_BLAZEPOSE, LANDMARK_INDEX, LANDMARK_NAMES

# MediaPipe's own BlazePose connections.
_BLAZEPOSE_BONES = (
    ("nose", "left_eye_inner"),
    ("nose", "right_eye_inner"),
    ("left_eye_inner", "left_eye"),
    ("left_eye", "left_eye_outer"),
    ("left_eye_outer", "left_ear"),
    ("right_eye_inner", "right_eye"),
    ("right_eye", "right_eye_outer"),
    ("right_eye_outer", "right_ear"),
    ("mouth_left", "mouth_right"),
    ("left_shoulder", "right_shoulder"),
    ("left_shoulder", "left_elbow"),
    ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_elbow"),
    ("right_shoulder", "right_hip"),
    ("left_elbow", "left_wrist"),
    ("right_elbow", "right_wrist"),
    ("left_wrist", "left_pinky"),
    ("left_wrist", "left_index"),
    ("left_wrist", "left_thumb"),
    ("right_wrist", "right_pinky"),
    ("right_wrist", "right_index"),
    ("right_wrist", "right_thumb"),
    ("left_pinky", "left_index"),
    ("right_pinky", "right_index"),
    ("left_hip", "right_hip"),
    ("left_hip", "left_knee"),
    ("right_hip", "right_knee"),
    ("left_knee", "left_ankle"),
    ("right_knee", "right_ankle"),
    ("left_ankle", "left_heel"),
    ("left_ankle", "left_foot_index"),
    ("right_ankle", "right_heel"),
    ("right_ankle", "right_foot_index"),
    ("left_heel", "left_foot_index"),
    ("right_heel", "right_foot_index"),
)
# The usual COCO/MoveNet skeleton.
_COCO_BONES = (
    ("nose", "left_eye"),
    ("nose", "right_eye"),
    ("left_eye", "left_ear"),
    ("right_eye", "right_ear"),
    ("left_shoulder", "right_shoulder"),
    ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"),
    ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"),
    ("left_hip", "right_hip"),
    ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"),
    ("right_knee", "right_ankle"),
)


def _indices(bones: tuple[tuple[str, str], ...]) -> tuple[tuple[int, int], ...]:
    return tuple((LANDMARK_INDEX[a], LANDMARK_INDEX[b]) for a, b in bones)


# By name, the landmarks drawn and the bones (pairs of BlazePose indices) joining them: 33 points
# with blazepose=true, else the 17 COCO ones.
SKELETONS: dict[str, tuple[tuple[int, ...], tuple[tuple[int, int], ...]]] = {
    "blazepose": (tuple(range(len(LANDMARK_NAMES))), _indices(_BLAZEPOSE_BONES)),
    "coco": (COCO_TO_BLAZEPOSE, _indices(_COCO_BONES)),
}

# BlazePose guesses where parts outside the picture are; drawing those guesses would show a
# confident wrong skeleton, so points below this visibility are left out, with their bones.
MIN_VISIBILITY = 0.5

# Line width: MIN_LINE_PX, or the picture's shorter side / LINE_DIVISOR if thicker. Points are
# one pixel wider than the lines.
MIN_LINE_PX = 2
LINE_DIVISOR = 240

# RGB. Left and right in different colours make a mirrored or mislabelled side visible at a
# glance: exports and replays draw every landmark, and every bone (in its second landmark's
# colour), this way.
SIDE_COLOURS: dict[str, tuple[int, int, int]] = {
    "left": (40, 160, 255),
    "right": (255, 160, 40),
    "centre": (230, 230, 230),
}
LANDMARK_SIDES: tuple[str, ...] = tuple(
    "left" if "left" in name else "right" if "right" in name else "centre"
    for name in LANDMARK_NAMES
)

# The looks the `skeleton` parameter names (a style name, or "#rgb"/"#rrggbb" for the bones'
# colour with white points): one colour for the bones, one for the points, and an optional glow.
# Anything else draws the picture's default look: "default" on the live page, each side in its
# colour on analysis pictures (style_for).
STYLES: dict[str, dict[str, str]] = {
    "default": {"line": "rgba(255,255,255,0.9)", "point": "#40c057"},
    "green": {"line": "#40c057", "point": "#ffffff"},
    "blue": {"line": "#4dabf7", "point": "#ffffff"},
    "red": {"line": "#ff6b6b", "point": "#ffffff"},
    "orange": {"line": "#ff922b", "point": "#ffffff"},
    "white": {"line": "#ffffff", "point": "#ffffff"},
    "dark": {"line": "#1b1f24", "point": "#f8f9fa"},
    "neon": {"line": "#39ff14", "point": "#ff2bd6", "glow": "#39ff14"},
}


# A style with no colours of its own: each side in its colour.
SIDE_COLOURED: Mapping[str, str] = MappingProxyType({})
_HEX_COLOUR = re.compile(r"#(?:[0-9a-f]{3}|[0-9a-f]{6})")


def is_look(name: str) -> bool:
    """Whether `skeleton=name` names a look drawn here: a style or a hex colour (PoseTracker's
    dashboard preset ids name none)."""
    name = name.lower()
    return name in STYLES or bool(_HEX_COLOUR.fullmatch(name))


def style_for(skeleton: bool | str) -> dict[str, str] | None:
    """How analysis pictures (exports, photo overlays, the upload page's replay) draw a request's
    `skeleton` parameter: None for none (false); a style (STYLES, or a hex colour for the bones
    with white points), as the live page draws it; {} for each side in its colour (true: their
    default look, which shows a mirrored side at a glance)."""
    if skeleton is False:
        return None
    if skeleton is True:
        return {}
    name = skeleton.lower()
    if _HEX_COLOUR.fullmatch(name):
        return {"line": name, "point": "#ffffff"}
    return dict(STYLES.get(name, {}))


def skeleton_name(*, blazepose: bool) -> str:
    """The skeleton a request draws: its `blazepose` parameter picks the 33-point one."""
    return "blazepose" if blazepose else "coco"


def line_width(width: int, height: int) -> int:
    return max(MIN_LINE_PX, round(min(width, height) / LINE_DIVISOR))


def definition() -> dict:
    """All of the above as JSON-ready data, for static/formtrack/skeleton.js."""
    return {
        "skeletons": {
            name: {"points": list(points), "bones": [list(bone) for bone in bones]}
            for name, (points, bones) in SKELETONS.items()
        },
        "minVisibility": MIN_VISIBILITY,
        "minLinePx": MIN_LINE_PX,
        "lineDivisor": LINE_DIVISOR,
        "sides": list(LANDMARK_SIDES),
        "sideColours": {side: "rgb({},{},{})".format(*rgb) for side, rgb in SIDE_COLOURS.items()},
        "styles": STYLES,
    }
