"""Cues from a compared repetition: the body part that differs most from the reference, as
something to do ("Bend your left elbow more"), in English and French."""

import math

from tracking.engine.catalog import Text
from tracking.engine.reference.comparison import Comparison
from tracking.engine.reference.signature import CHANNELS, MIRROR_ORDER, Channel, Reference

# A deviation worth a cue: at least a fifth of the channel's scale and a noticeable amount.
CUE_MIN_SHARE = 0.2
CUE_MIN = {"angle": math.radians(15.0), "position": 0.12}


def _cue_texts(en: tuple[str, str, str], fr: tuple[str, str, str]) -> dict[str, Text]:
    """(left, right, both) in English and French."""
    return {side: Text(en[i], fr[i]) for i, side in enumerate(("left", "right", "both"))}


# (joint, what to do) -> texts. Angles are interior angles: larger is straighter.
CUES: dict[tuple[str, str], dict[str, Text]] = {
    ("elbow", "bend"): _cue_texts(
        ("Bend your left elbow more", "Bend your right elbow more", "Bend your elbows more"),
        (
            "Pliez davantage le coude gauche",
            "Pliez davantage le coude droit",
            "Pliez davantage les coudes",
        ),
    ),
    ("elbow", "straighten"): _cue_texts(
        ("Straighten your left elbow", "Straighten your right elbow", "Straighten your elbows"),
        ("Tendez davantage le bras gauche", "Tendez davantage le bras droit", "Tendez les bras"),
    ),
    ("shoulder", "raise"): _cue_texts(
        ("Raise your left arm higher", "Raise your right arm higher", "Raise your arms higher"),
        (
            "Levez le bras gauche plus haut",
            "Levez le bras droit plus haut",
            "Levez les bras plus haut",
        ),
    ),
    ("shoulder", "lower"): _cue_texts(
        (
            "Don't raise your left arm so high",
            "Don't raise your right arm so high",
            "Don't raise your arms so high",
        ),
        (
            "Levez le bras gauche moins haut",
            "Levez le bras droit moins haut",
            "Levez les bras moins haut",
        ),
    ),
    ("hip", "bend"): _cue_texts(
        ("Bend more at your left hip", "Bend more at your right hip", "Bend more at the hips"),
        (
            "Fléchissez davantage la hanche gauche",
            "Fléchissez davantage la hanche droite",
            "Fléchissez davantage les hanches",
        ),
    ),
    ("hip", "straighten"): _cue_texts(
        ("Open your left hip more", "Open your right hip more", "Open your hips more"),
        (
            "Ouvrez davantage la hanche gauche",
            "Ouvrez davantage la hanche droite",
            "Ouvrez davantage les hanches",
        ),
    ),
    ("knee", "bend"): _cue_texts(
        ("Bend your left knee more", "Bend your right knee more", "Bend your knees more"),
        (
            "Pliez davantage le genou gauche",
            "Pliez davantage le genou droit",
            "Pliez davantage les genoux",
        ),
    ),
    ("knee", "straighten"): _cue_texts(
        ("Straighten your left leg", "Straighten your right leg", "Straighten your legs"),
        (
            "Tendez davantage la jambe gauche",
            "Tendez davantage la jambe droite",
            "Tendez davantage les jambes",
        ),
    ),
    ("wrist", "raise"): _cue_texts(
        ("Raise your left hand higher", "Raise your right hand higher", "Raise your hands higher"),
        (
            "Levez la main gauche plus haut",
            "Levez la main droite plus haut",
            "Levez les mains plus haut",
        ),
    ),
    ("wrist", "lower"): _cue_texts(
        ("Keep your left hand lower", "Keep your right hand lower", "Keep your hands lower"),
        (
            "Gardez la main gauche plus basse",
            "Gardez la main droite plus basse",
            "Gardez les mains plus basses",
        ),
    ),
}
TRUNK_CUES = {
    "upright": Text("Keep your upper body more upright", "Gardez le buste plus droit"),
    "lean": Text("Lean your upper body more", "Penchez davantage le buste"),
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


def cue_for(reference: Reference, comparison: Comparison) -> Text | None:
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
