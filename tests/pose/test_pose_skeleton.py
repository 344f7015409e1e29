"""The one skeleton definition: exports draw it, pages get it (tests/test_tracking_pages.py)."""

import json

import numpy as np
from mediapipe.python.solutions.pose_connections import POSE_CONNECTIONS

from tracking.engine.pose import COCO_TO_BLAZEPOSE, LANDMARK_INDEX, Pose
from tracking.pose.render import draw_skeleton
from tracking.pose.skeleton import SIDE_COLOURS, SKELETONS, definition


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


def test_exports_draw_each_side_in_its_colour():
    landmarks = np.zeros((33, 4))
    for name, (x, y) in {
        "left_hip": (0.7, 0.2),
        "left_knee": (0.7, 0.8),
        "right_hip": (0.3, 0.2),
        "right_knee": (0.3, 0.8),
    }.items():
        landmarks[LANDMARK_INDEX[name]] = (x, y, 0.0, 0.9)
    frame = np.zeros((200, 200, 3), np.uint8)

    draw_skeleton(frame, Pose(landmarks, 0.0, 200, 200), skeleton="coco")  # BGR

    assert tuple(frame[100, 140]) == SIDE_COLOURS["left"][::-1]
    assert tuple(frame[100, 60]) == SIDE_COLOURS["right"][::-1]
