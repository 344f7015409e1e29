"""Cues from a compared repetition: the body part that differs most from the reference, as
something to do ("Bend your left elbow more"), said in the tracker's language."""

import math

from tracking.engine.i18n import N_
from tracking.engine.reference.comparison import Comparison
from tracking.engine.reference.signature import CHANNELS, MIRROR_ORDER, Channel, Reference

# A deviation worth a cue: at least a fifth of the channel's scale and a noticeable amount.
CUE_MIN_SHARE = 0.2
CUE_MIN = {"angle": math.radians(15.0), "position": 0.12}


def _sides(left: str, right: str, both: str) -> dict[str, str]:
    return {"left": left, "right": right, "both": both}


# (joint, what to do) -> texts. Angles are interior angles: larger is straighter.
CUES: dict[tuple[str, str], dict[str, str]] = {
    ("elbow", "bend"): _sides(
        N_("Bend your left elbow more"),
        N_("Bend your right elbow more"),
        N_("Bend your elbows more"),
    ),
    ("elbow", "straighten"): _sides(
        N_("Straighten your left elbow"),
        N_("Straighten your right elbow"),
        N_("Straighten your elbows"),
    ),
    ("shoulder", "raise"): _sides(
        N_("Raise your left arm higher"),
        N_("Raise your right arm higher"),
        N_("Raise your arms higher"),
    ),
    ("shoulder", "lower"): _sides(
        N_("Don't raise your left arm so high"),
        N_("Don't raise your right arm so high"),
        N_("Don't raise your arms so high"),
    ),
    ("hip", "bend"): _sides(
        N_("Bend more at your left hip"),
        N_("Bend more at your right hip"),
        N_("Bend more at the hips"),
    ),
    ("hip", "straighten"): _sides(
        N_("Open your left hip more"), N_("Open your right hip more"), N_("Open your hips more")
    ),
    ("knee", "bend"): _sides(
        N_("Bend your left knee more"), N_("Bend your right knee more"), N_("Bend your knees more")
    ),
    ("knee", "straighten"): _sides(
        N_("Straighten your left leg"), N_("Straighten your right leg"), N_("Straighten your legs")
    ),
    ("wrist", "raise"): _sides(
        N_("Raise your left hand higher"),
        N_("Raise your right hand higher"),
        N_("Raise your hands higher"),
    ),
    ("wrist", "lower"): _sides(
        N_("Keep your left hand lower"),
        N_("Keep your right hand lower"),
        N_("Keep your hands lower"),
    ),
}
TRUNK_CUES = {
    "upright": N_("Keep your upper body more upright"),
    "lean": N_("Lean your upper body more"),
}
# Channels cues are given on: joint angles, and hand height (y grows downwards in the image).
_CUE_CHANNELS = tuple(
    i
    for i, c in enumerate(CHANNELS)
    if c.kind == "angle" or c.name in ("left_wrist_y", "right_wrist_y")
)
# When the other side differs the same way by at least this share as much, the cue names both.
BOTH_SIDES_SHARE = 0.6


def _what_to_do(channel: Channel, deviation: float, reference_value: float) -> str:
    if channel.joint == "trunk":
        return "upright" if abs(reference_value + deviation) > abs(reference_value) else "lean"
    if channel.joint == "shoulder":
        return "raise" if deviation < 0 else "lower"
    if channel.joint == "wrist":
        return "raise" if deviation > 0 else "lower"
    return "bend" if deviation > 0 else "straighten"


def cue_for(reference: Reference, comparison: Comparison) -> str | None:
    """The body part that differs most from the reference, as something to do; None when nothing
    differs by a noticeable amount."""
    deviations = comparison.deviations
    candidates = []
    for i in _CUE_CHANNELS:
        channel = CHANNELS[i]
        size = abs(float(deviations[i]))
        share = size / float(reference.scale[i])
        if size >= CUE_MIN[channel.kind] and share >= CUE_MIN_SHARE:
            candidates.append((share, i))
    if not candidates:
        return None
    share, i = max(candidates)
    channel = CHANNELS[i]
    action = _what_to_do(channel, float(deviations[i]), float(comparison.reference_values[i]))
    if channel.joint == "trunk":
        return TRUNK_CUES[action]
    partner = MIRROR_ORDER[i]
    both = any(
        j == partner
        and other >= BOTH_SIDES_SHARE * share
        and _what_to_do(CHANNELS[j], float(deviations[j]), 0.0) == action
        for other, j in candidates
    )
    return CUES[(channel.joint, action)]["both" if both else channel.side]
