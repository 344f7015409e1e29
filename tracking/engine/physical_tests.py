"""Physical tests: the `analysis` object a test adds to its repetition (contract §4.7).

A test (an exercise with `test`, e.g. back_flexibility_test) is counted like any repetition; what
it adds is measured over that repetition: `peaks` (the extremes of its metrics, named as in the
contract), `flags` (yes/no readings of the peaks), `camera` (where the phone seemed to stand), the
`disclaimer`, the `method` and an `interpretation` {tone, title, text} in the session's language.

The camera's height comes from the standing body's proportions. A phone level with the hips sees
a standing person undistorted; a phone low and tilted up sees the legs longer against the trunk
(the keystone of a tilted camera), one high and tilted down sees them shorter. The ratio is leg
(hip to ankle) over trunk (shoulder to hip), image-vertical, against LEG_OVER_TRUNK: real people
in ML Kit's standing photos read 1.5 (middle half 1.4-1.6) and Winter's anthropometry 1.7, so
1.6 with a band of ±CAMERA_BAND, wider than people differ, tells only a clearly tilted camera.
"""

from statistics import median

from tracking.engine import events as contract
from tracking.engine.catalog import PhysicalTest, Text
from tracking.engine.metrics import JOINTS, Frame

DISCLAIMER = Text(
    "In addition to the Terms of Use, this is a FormTrack algorithm opinion from pose-estimation "
    "data. It is not a medical or professional opinion.",
    "En complément des conditions d'utilisation, ceci est un avis de l'algorithme de FormTrack, "
    "tiré de données d'estimation de pose. Ce n'est pas un avis médical ou professionnel.",
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
    tone, title, text = READINGS[test.reading](peaks, flags, camera)
    return contract.physical_test_analysis(
        peaks=peaks,
        flags=flags,
        camera=camera,
        disclaimer=DISCLAIMER.in_language(language),
        method=test.method.in_language(language),
        tone=tone,
        title=title.in_language(language),
        text=" ".join(sentence.in_language(language) for sentence in text),
    )


# -- back flexibility -------------------------------------------------------------------------

# The ankle joint sits about this many hip-ankle lengths above the sole: a wrist that far below
# the ankle has reached the floor.
ANKLE_ABOVE_SOLE = 0.08
STRONG_FOLD_DEG = 60.0
PARTIAL_FOLD_DEG = 40.0
TITLES = {
    "strong": Text("Deep forward fold", "Flexion avant profonde"),
    "partial": Text("Partial forward fold", "Flexion avant partielle"),
    "limited": Text("Limited forward fold", "Flexion avant limitée"),
}
CAMERA_SENTENCES = {
    "ground": Text(
        "The phone seemed to be low, near the floor: angles are read as seen from there.",
        "Le téléphone semblait bas, près du sol : les angles sont lus depuis ce point de vue.",
    ),
    "mid": Text(
        "The phone seemed to be about level with the hips.",
        "Le téléphone semblait à peu près à hauteur des hanches.",
    ),
    "high": Text(
        "The phone seemed to be above the hips: angles are read as seen from there.",
        "Le téléphone semblait au-dessus des hanches : les angles sont lus depuis ce point de vue.",
    ),
}


def _back_flexibility(peaks: dict, flags: dict, camera: dict) -> tuple[str, Text, list[Text]]:
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
    text = [
        Text(
            f"Your trunk folded {trunk:.0f}° from vertical.",
            f"Votre tronc s'est incliné de {trunk:.0f}° par rapport à la verticale.",
        )
    ]
    if knee is not None:
        text.append(
            Text(
                f"Your knees stayed straight ({knee:.0f}°).",
                f"Vos genoux sont restés tendus ({knee:.0f}°).",
            )
            if straight
            else Text(
                f"Your knees bent to {knee:.0f}°: part of the fold came from the knees.",
                f"Vos genoux se sont pliés jusqu'à {knee:.0f}° : une partie de la flexion venait "
                "des genoux.",
            )
        )
    if reach is not None:
        if reach >= ANKLE_ABOVE_SOLE:
            text.append(
                Text(
                    "Your hands reached the floor, below your ankles.",
                    "Vos mains ont atteint le sol, sous vos chevilles.",
                )
            )
        elif reach >= -ANKLE_ABOVE_SOLE:
            text.append(
                Text(
                    "Your hands reached about the level of your ankles.",
                    "Vos mains sont arrivées à peu près au niveau des chevilles.",
                )
            )
        else:
            text.append(
                Text(
                    f"Your hands stopped {-reach:.2f} leg lengths above your ankles.",
                    f"Vos mains se sont arrêtées à {-reach:.2f} longueur de jambe au-dessus "
                    "des chevilles.",
                )
            )
    text.append(CAMERA_SENTENCES[camera["placement"]])
    return tone, TITLES[tone], text


READINGS = {"back_flexibility": _back_flexibility}
