"""Physical tests: the `analysis` object a test adds to its repetition (contract §4.7).

A test (an exercise with `test`, e.g. back_flexibility_test) is counted like any repetition; what
it adds is measured over that repetition: `peaks` (the extremes of its metrics, named as in the
contract), `flags` (yes/no readings of the peaks), `camera` (where the phone seemed to stand), the
`disclaimer`, the `method` and an `interpretation` {tone, title, text} in the tracker's language.

The camera's height comes from the standing body's proportions. A phone level with the hips sees
a standing person undistorted; a phone low and tilted up sees the legs longer against the trunk
(the keystone of a tilted camera), one high and tilted down sees them shorter. The ratio is leg
(hip to ankle) over trunk (shoulder to hip), image-vertical, against LEG_OVER_TRUNK: real people
in ML Kit's standing photos read 1.5 (middle half 1.4-1.6) and Winter's anthropometry 1.7, so
1.6 with a band of ±CAMERA_BAND, wider than people differ, tells only a clearly tilted camera.
"""

from statistics import median

from tracking.engine import events as contract
from tracking.engine.catalog import PhysicalTest
from tracking.engine.i18n import N_, translate
from tracking.engine.metrics import JOINTS, Frame

DISCLAIMER = N_(
    "In addition to the Terms of Use, this is a FormTrack algorithm opinion from pose-estimation "
    "data. It is not a medical or professional opinion."
)
LEG_OVER_TRUNK = 1.6
CAMERA_BAND = 0.12
# Standing: the trunk within this many degrees of vertical and the knee at least this straight.
STANDING_TRUNK_DEG = 20.0
STANDING_KNEE_DEG = 160.0
CAMERA_SAMPLES = 90


class CameraHeight:
    """The leg-over-trunk proportion of the person standing, over the last CAMERA_SAMPLES frames."""

    __slots__ = ("_ratios",)

    def __init__(self):
        self._ratios: list[float] = []

    def observe(self, frame: Frame, side: str | None) -> None:
        if side is None:
            return
        trunk_angle = frame.metric("trunk_angle", side)
        knee = frame.metric("knee_angle", side)
        if trunk_angle is None or knee is None:
            return
        if trunk_angle > STANDING_TRUNK_DEG or knee < STANDING_KNEE_DEG:
            return
        joints = JOINTS[side]
        y = frame.y
        trunk = y[joints["hip"]] - y[joints["shoulder"]]
        if trunk <= 0:
            return
        self._ratios.append((y[joints["ankle"]] - y[joints["hip"]]) / trunk)
        del self._ratios[:-CAMERA_SAMPLES]

    def reading(self) -> dict:
        """`placement` ground | mid | high, `bias` (the proportion's departure from level, +
        looking up), `ratio` (measured leg over trunk); mid with no ratio before any standing."""
        if not self._ratios:
            return {"placement": "mid", "bias": 0.0, "ratio": None}
        ratio = median(self._ratios)
        bias = ratio / LEG_OVER_TRUNK - 1.0
        placement = "ground" if bias > CAMERA_BAND else "high" if bias < -CAMERA_BAND else "mid"
        return {"placement": placement, "bias": round(bias, 3), "ratio": round(ratio, 3)}


def analysis(test: PhysicalTest, extremes: dict, camera: dict, language: str) -> dict:
    """The repetition's `analysis`, from the extremes its evidence tracked (keyed by peak)."""
    peaks = {
        peak.key: round(extremes[peak.key], 3 if peak.key == "wrist_to_ankle" else 1)
        for peak in test.peaks
        if peak.key in extremes
    }
    flags = {flag.key: flag.reads(peaks) for flag in test.flags}
    tone, title, text = READINGS[test.reading](peaks, flags, camera, language)
    return contract.physical_test_analysis(
        peaks=peaks,
        flags=flags,
        camera=camera,
        disclaimer=translate(DISCLAIMER, language),
        method=translate(test.method, language),
        tone=tone,
        title=title,
        text=" ".join(text),
    )


# -- back flexibility -------------------------------------------------------------------------

# The ankle joint sits about this many hip-ankle lengths above the sole: a wrist that far below
# the ankle has reached the floor.
ANKLE_ABOVE_SOLE = 0.08
STRONG_FOLD_DEG = 60.0
PARTIAL_FOLD_DEG = 40.0
TITLES = {
    "strong": N_("Deep forward fold"),
    "partial": N_("Partial forward fold"),
    "limited": N_("Limited forward fold"),
}
CAMERA_SENTENCES = {
    "ground": N_("The phone seemed to be low, near the floor: angles are read as seen from there."),
    "mid": N_("The phone seemed to be about level with the hips."),
    "high": N_("The phone seemed to be above the hips: angles are read as seen from there."),
}


def _back_flexibility(
    peaks: dict, flags: dict, camera: dict, language: str
) -> tuple[str, str, list[str]]:
    def say(message: str, **details: float) -> str:
        return translate(message, language).format(**details)

    trunk = peaks.get("trunk_angle_deg", 0.0)
    knee = peaks.get("knee_angle_deg")
    reach = peaks.get("wrist_to_ankle")
    straight = bool(flags.get("knee_locked"))
    if trunk >= STRONG_FOLD_DEG and straight:
        tone = "strong"
    elif trunk >= PARTIAL_FOLD_DEG:
        tone = "partial"
    else:
        tone = "limited"
    text = [say(N_("Your trunk folded {trunk:.0f}° from vertical."), trunk=trunk)]
    if knee is not None:
        text.append(
            say(N_("Your knees stayed straight ({knee:.0f}°)."), knee=knee)
            if straight
            else say(
                N_("Your knees bent to {knee:.0f}°: part of the fold came from the knees."),
                knee=knee,
            )
        )
    if reach is not None:
        if reach >= ANKLE_ABOVE_SOLE:
            text.append(say(N_("Your hands reached the floor, below your ankles.")))
        elif reach >= -ANKLE_ABOVE_SOLE:
            text.append(say(N_("Your hands reached about the level of your ankles.")))
        else:
            text.append(
                say(
                    N_("Your hands stopped {above:.2f} leg lengths above your ankles."),
                    above=-reach,
                )
            )
    text.append(say(CAMERA_SENTENCES[camera["placement"]]))
    return tone, say(TITLES[tone]), text


READINGS = {"back_flexibility": _back_flexibility}
