"""The one skeleton definition: exports draw it, pages get it (tests/test_tracking_pages.py)."""

import json

import numpy as np
import pytest
from mediapipe.python.solutions.pose_connections import POSE_CONNECTIONS

from tracking.engine.pose import COCO_TO_BLAZEPOSE, LANDMARK_INDEX, Pose
from tracking.pose.render import draw_skeleton
from tracking.pose.skeleton import SIDE_COLOURS, SKELETONS, STYLES, definition, style_for


def test_the_blazepose_skeleton_is_mediapipes_own():
    points, bones = SKELETONS["blazepose"]
    assert points == tuple(range(33))
    assert sorted(bones) == sorted(POSE_CONNECTIONS)


def test_the_coco_skeleton_joins_only_the_17_coco_points():
    points, bones = SKELETONS["coco"]
    assert points == COCO_TO_BLAZEPOSE
    assert {index for bone in bones for index in bone} == set(COCO_TO_BLAZEPOSE)


def test_the_definition_for_the_pages_is_json_with_every_skeleton():
    sent = json.loads(json.dumps(definition()))
    for name, (points, bones) in SKELETONS.items():
        assert sent["skeletons"][name] == {
            "points": list(points),
            "bones": [list(bone) for bone in bones],
        }
    assert len(sent["sides"]) == 33 and sent["sides"][LANDMARK_INDEX["left_knee"]] == "left"
    assert sent["sideColours"]["left"] == "rgb(40,160,255)"


def two_thighs() -> Pose:
    """Hips to knees, the left thigh at x = 140 px and the right one at x = 60 px of 200."""
    landmarks = np.zeros((33, 4))
    for name, (x, y) in {
        "left_hip": (0.7, 0.2),
        "left_knee": (0.7, 0.8),
        "right_hip": (0.3, 0.2),
        "right_knee": (0.3, 0.8),
    }.items():
        landmarks[LANDMARK_INDEX[name]] = (x, y, 0.0, 0.9)
    return Pose(landmarks, 0.0, 200, 200)


def test_exports_draw_each_side_in_its_colour():
    frame = np.zeros((200, 200, 3), np.uint8)

    draw_skeleton(frame, two_thighs(), skeleton="coco")  # BGR

    assert tuple(frame[100, 140]) == SIDE_COLOURS["left"][::-1]
    assert tuple(frame[100, 60]) == SIDE_COLOURS["right"][::-1]


@pytest.mark.parametrize(
    ("sent", "style"),
    [
        (False, None),
        (True, {}),
        ("neon", STYLES["neon"]),
        ("Dark", STYLES["dark"]),
        ("#F00", {"line": "#f00", "point": "#ffffff"}),
        ("#12ab34", {"line": "#12ab34", "point": "#ffffff"}),
        ("6f1c2b44-0000-4000-8000-000000000000", {}),  # a dashboard preset id
        ("plaid", {}),
    ],
)
def test_the_skeleton_parameter_gives_analysis_pictures_their_style(sent, style):
    assert style_for(sent) == style


@pytest.mark.parametrize(
    ("sent", "bones_bgr"),
    [("#ff0000", (0, 0, 255)), ("dark", (0x24, 0x1F, 0x1B)), ("white", (255, 255, 255))],
)
def test_exports_draw_the_bones_in_the_colour_the_parameter_asks_for(sent, bones_bgr):
    frame = np.zeros((200, 200, 3), np.uint8)

    draw_skeleton(frame, two_thighs(), skeleton="coco", style=style_for(sent))

    assert tuple(frame[100, 140]) == tuple(frame[100, 60]) == bones_bgr


def test_a_glowing_style_lights_the_pixels_around_the_bones():
    plain, glowing = np.zeros((2, 200, 200, 3), np.uint8)
    draw_skeleton(plain, two_thighs(), skeleton="coco", style={"line": "#39ff14"})
    draw_skeleton(glowing, two_thighs(), skeleton="coco", style=style_for("neon"))
    beside = (100, 143)  # 3 px right of the left thigh: outside its line, inside its glow
    assert not plain[beside].any() and glowing[beside].any()
