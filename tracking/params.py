"""The one parser for tracking query parameters (PoseTracker API contract §2).

Pages, the WebSocket consumer, the REST API, Celery tasks and the engine all read parameters through
parse_tracking_params(), so a parameter means the same thing everywhere. Pure Python, no Django.

Rules worth knowing:
- every problem in a query is reported at once (ParamsError.problems), never just the first;
- unknown parameters are warnings, not errors, because apps send extra parameters;
- plan gating is a separate step (TrackingParams.gated_for) that lists what it switched off.
"""

import dataclasses
import difflib
import math
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from urllib.parse import parse_qsl, urlencode

from accounts.plans import DEVELOPER_OUTPUTS, Plan
from tracking.engine.catalog import EXERCISES, resolve_exercise
from tracking.param_messages import message

ENDPOINTS = ("tracking", "upload")
LANGUAGES = ("en", "fr")
MAX_VALUE_CHARS = 2048
MAX_PARAMETERS = 100
MAX_STYLE_CHARS = 64

# Other spellings the contract accepts for a parameter -> the parameter's own name.
_SPELLINGS = {"android": "isAndroid", "reference_movement": "reference", "locale": "language"}

_BEHAVIOUR_PARAMETERS = frozenset(
    {
        "token",
        "isAndroid",
        "exercise",
        "reference",
        "minGrade",
        "skeleton",
        "keypoints",
        "angles",
        "recommendations",
        "progression",
        "blazepose",
        "poseBackend",
        "runInWorker",
        "mediapipeModel",
        "inference",
        "width",
        "height",
        "userHeightCm",
        "devicePitchDeg",
        "difficulty",
        "language",
    }
)
# Appearance and placement parameters (contract §2.1, §2.3, §2.4, §2.5) the page reads as given.
_PASSTHROUGH_PARAMETERS = frozenset(
    {
        "isMobile",
        "loading_message",
        "engine",
        "poseEngine",
        "scoring_profile",
        "placement",
        "placementCountdownSeconds",
        "postureBox",
        "placementOverlay",
        "placementZoneColor",
        "placementOverlayOpacity",
        "placementImageOpacity",
        "placementBoxStrokeColor",
        "silhouetteColor",
        "silhouetteShadow",
        "silhouette",
        "placementZone",
        "timer",
        "timerSeconds",
        "timerBg",
        "timerColor",
        "timerBorder",
        "guide",
        "engineDebug",
        "placementOverlayImageUrl",
        "paddingHorizontal",
        "paddingVertical",
        "paddingLeft",
        "paddingRight",
        "paddingTop",
        "paddingBottom",
    }
)
# Contract §2.6: these mean something on the upload page only.
_UPLOAD_BEHAVIOUR_PARAMETERS = frozenset({"source", "export"})
_UPLOAD_PASSTHROUGH_PARAMETERS = frozenset(
    {
        "videoSrc",
        "imageSrc",
        "showUpload",
        "uploadLabel",
        "containerMinHeight",
        "containerMaxWidth",
        "containerMaxHeight",
        "objectFit",
        "uploadButtonPosition",
        "uploadAreaPadding",
    }
)
_UPLOAD_ONLY_PARAMETERS = _UPLOAD_BEHAVIOUR_PARAMETERS | _UPLOAD_PASSTHROUGH_PARAMETERS
# Pages load these addresses, so only web addresses are let through.
_URL_PARAMETERS = frozenset({"videoSrc", "imageSrc", "placementOverlayImageUrl"})
# Studio custom movements (userExercise) exist upstream but not in FormTrack.
_UNSUPPORTED_PARAMETERS = frozenset({"userExercise"})

_KNOWN_PARAMETERS = (
    _BEHAVIOUR_PARAMETERS
    | _PASSTHROUGH_PARAMETERS
    | _UPLOAD_BEHAVIOUR_PARAMETERS
    | _UPLOAD_PASSTHROUGH_PARAMETERS
    | _UNSUPPORTED_PARAMETERS
    | frozenset(_SPELLINGS)
)
# For "did you mean" hints on misspelt parameter names.
_KNOWN_BY_LOWERCASE = {name.lower(): name for name in _KNOWN_PARAMETERS}

_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_GRADES = {grade.lower(): grade for grade in ("A", "B", "C", "D")}
_POSE_BACKENDS = {"webgl": "webgl", "wasm": "wasm"}
_MEDIAPIPE_MODELS = {"lite": "lite", "full": "full", "heavy": "heavy"}
_INFERENCES = {"browser": "browser", "server": "server"}
_SOURCES = {"video": "video", "image": "image"}
# The legacy pixel endpoint's easy/normal/pro scale maps onto easy/medium/hard.
_DIFFICULTIES = {
    "easy": "easy",
    "medium": "medium",
    "hard": "hard",
    "normal": "medium",
    "pro": "hard",
}
_EXERCISE_CHOICES = ", ".join(sorted(EXERCISES))
# Error codes the contract gives a bad value; any other parameter's bad value is invalid_parameter.
_INVALID_VALUE_CODES = {"exercise": "invalid_exercise", "reference": "invalid_reference"}

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
_SKELETON_STYLE = re.compile(rf"[A-Za-z0-9_#-]{{1,{MAX_STYLE_CHARS}}}")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
_WEB_ADDRESS = re.compile(r"https?://\S+", re.IGNORECASE)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _shown(value: str) -> str:
    """Quote a user's value for a message, cut short so messages stay readable."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a query.

    `param` is the parameter as the user spelled it; a conflict between two parameters names both,
    joined by a comma (e.g. "exercise,reference").
    """

    code: str
    param: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "param": self.param, "message": self.message}


class ParamsError(ValueError):
    """Every problem found in a query, in the query's language (English unless language=fr)."""

    def __init__(self, problems: tuple[Problem, ...] | list[Problem], language: str = "en"):
        # Both arguments stay in self.args so the error pickles (Celery results, logs).
        super().__init__(tuple(problems), language)
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.language = language

    def __str__(self) -> str:
        return self.message

    @property
    def status(self) -> int:
        return 401 if all(problem.code == "missing_token" for problem in self.problems) else 400

    @property
    def code(self) -> str:
        return self.problems[0].code

    @property
    def message(self) -> str:
        messages = [problem.message for problem in self.problems]
        if len(messages) == 1:
            return messages[0]
        # The upstream jump_analysis message has no full stop; add stops so the joined text reads.
        return " ".join(message if message.endswith(".") else f"{message}." for message in messages)

    def to_event(self) -> dict:
        return {
            "type": "error",
            "code": self.code,
            "error": self.code,
            "message": self.message,
            "details": {"problems": [problem.to_dict() for problem in self.problems]},
        }


@dataclass(frozen=True)
class TrackingParams:
    """A validated tracking request. Build it with parse_tracking_params(), never by hand.

    Round trip: for any parsed `p`, parse_tracking_params(p.to_query(), endpoint=p.endpoint) equals
    `p` with `warnings` and `blocked` emptied: both describe how `p` was made (ignored parameters,
    plan gating), not the request itself.
    """

    endpoint: str
    token: str
    exercise: str | None = None
    reference: uuid.UUID | None = None
    is_android: bool = False
    min_grade: str | None = None
    skeleton: bool | str = True
    keypoints: bool = False
    angles: bool = False
    recommendations: bool = False
    progression: bool = False
    blazepose: bool = False
    pose_backend: str = "webgl"
    run_in_worker: bool = True
    mediapipe_model: str = "lite"
    inference: str = "browser"
    width: int | None = None
    height: int | None = None
    user_height_cm: float | None = None
    device_pitch_deg: float | None = None
    difficulty: str = "medium"
    language: str = "en"
    source: str = "video"
    export: bool = False
    # Appearance/placement parameters handed to the page unchanged, sorted by name.
    passthrough: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()

    @property
    def pose_only(self) -> bool:
        """No exercise and no reference: the page streams keypoints only."""
        return self.exercise is None and self.reference is None

    def requested_outputs(self) -> tuple[str, ...]:
        """The developer outputs (accounts.plans.DEVELOPER_OUTPUTS) this request switches on."""
        requested = {
            # Keypoints always stream in pose-only mode; only keypoints with an exercise are gated.
            "keypoints": self.keypoints and not self.pose_only,
            "angles": self.angles,
            "recommendations": self.recommendations,
            "progression": self.progression,
            # The larger MediaPipe models are what BlazePose buys, however they are asked for.
            "blazepose": self.blazepose or self.mediapipe_model != "lite",
            "export": self.export,
        }
        return tuple(output for output in DEVELOPER_OUTPUTS if requested[output])

    def gated_for(self, plan: Plan) -> "TrackingParams":
        """A copy with each requested output the plan lacks switched off and listed in `blocked`."""
        newly_blocked = {output for output in self.requested_outputs() if not plan.allows(output)}
        if not newly_blocked:
            return self
        switched_off: dict[str, object] = {output: False for output in newly_blocked}
        if "blazepose" in newly_blocked:
            switched_off["mediapipe_model"] = "lite"
        return dataclasses.replace(
            self, **switched_off, blocked=tuple(sorted(newly_blocked | set(self.blocked)))
        )

    def blocked_event(self) -> dict | None:
        if not self.blocked:
            return None
        code = "developer_features_not_allowed"
        return {
            "type": "error",
            "code": code,
            "error": code,
            "message": message(code, self.language, features=", ".join(self.blocked)),
            "details": {"blocked": list(self.blocked)},
        }

    def to_query(self) -> str:
        """The canonical query string for these parameters, every value spelled out."""
        pairs: list[tuple[str, str]] = [("token", self.token)]
        if self.exercise is not None:
            pairs.append(("exercise", self.exercise))
        if self.reference is not None:
            pairs.append(("reference", str(self.reference)))
        if self.min_grade is not None:
            pairs.append(("minGrade", self.min_grade))
        skeleton = _flag(self.skeleton) if isinstance(self.skeleton, bool) else self.skeleton
        pairs += [
            ("isAndroid", _flag(self.is_android)),
            ("skeleton", skeleton),
            ("keypoints", _flag(self.keypoints)),
            ("angles", _flag(self.angles)),
            ("recommendations", _flag(self.recommendations)),
            ("progression", _flag(self.progression)),
            ("blazepose", _flag(self.blazepose)),
            ("poseBackend", self.pose_backend),
            ("runInWorker", _flag(self.run_in_worker)),
            ("mediapipeModel", self.mediapipe_model),
            ("inference", self.inference),
            ("difficulty", self.difficulty),
            ("language", self.language),
        ]
        optional_numbers = {
            "width": self.width,
            "height": self.height,
            "userHeightCm": self.user_height_cm,
            "devicePitchDeg": self.device_pitch_deg,
        }
        pairs += [
            (name, repr(value)) for name, value in optional_numbers.items() if value is not None
        ]
        if self.endpoint == "upload":
            pairs += [("source", self.source), ("export", _flag(self.export))]
        pairs += self.passthrough
        return urlencode(pairs)

    def to_config(self) -> dict:
        """Every field as JSON-ready data, for pages to embed (e.g. with json_script)."""
        config = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        config["reference"] = str(self.reference) if self.reference is not None else None
        config["passthrough"] = dict(self.passthrough)
        config["warnings"] = list(self.warnings)
        config["blocked"] = list(self.blocked)
        return config


def _flag(value: bool) -> str:
    return "true" if value else "false"


def parse_tracking_params(query: object, *, endpoint: str = "tracking") -> TrackingParams:
    """Read a tracking request from a query string (str or bytes), a mapping of str or list values,
    or a Django QueryDict. Raises ParamsError listing every problem; never raises anything else
    for any query.
    """
    if endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint must be one of {', '.join(ENDPOINTS)}, got {endpoint!r}")
    try:
        pairs = list(islice(_raw_pairs(query), MAX_PARAMETERS + 1))
    except TypeError:
        value = _shown(type(query).__name__)
        raise ParamsError(
            [Problem("invalid_parameter", "query", message("not_a_query", "en", value=value))]
        ) from None
    if len(pairs) > MAX_PARAMETERS:
        text = message("too_many", "en", limit=MAX_PARAMETERS)
        raise ParamsError([Problem("invalid_parameter", "query", text)])
    return _Reader(pairs, endpoint).read()


def _raw_pairs(query: object) -> Iterator[tuple[object, object]]:
    if query is None:
        return
    if isinstance(query, bytes):
        query = query.decode("utf-8", "replace")
    if isinstance(query, str):
        yield from parse_qsl(query.removeprefix("?"), keep_blank_values=True)
    elif hasattr(query, "getlist") and hasattr(query, "keys"):  # Django QueryDict, MultiValueDict
        for name in query.keys():
            for value in query.getlist(name):
                yield name, value
    elif isinstance(query, Mapping):
        for name, value in query.items():
            if isinstance(value, list | tuple):
                for item in value:
                    yield name, item
            else:
                yield name, value
    else:
        raise TypeError(type(query).__name__)


def _as_text(value: object) -> str | None:
    """The text of a raw name or value; JSON scalars (from REST bodies) count as text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, bool):
        return _flag(value)
    if isinstance(value, int | float):
        try:
            return str(value)
        except ValueError:  # an integer too long to print
            return None
    return None


@dataclass(frozen=True)
class _Pending:
    """A problem kept unwritten until the query's language is known."""

    code: str
    param: str
    key: str
    details: dict

    def problem(self, language: str) -> Problem:
        return Problem(self.code, self.param, message(self.key, language, **self.details))


class _Reader:
    def __init__(self, pairs: list[tuple[object, object]], endpoint: str):
        self.endpoint = endpoint
        self.problems: list[_Pending] = []
        self.warnings: list[tuple[str, dict]] = []  # (message key, details)
        # Parameter name -> every (spelling, value) sent for it, in order.
        self.sent: dict[str, list[tuple[str, str]]] = {}
        # Parameters sent, but with a value already reported as a problem.
        self.rejected: set[str] = set()
        self._collect(pairs)

    def _problem(self, code: str, spelling: str, key: str, **details: object) -> None:
        self.problems.append(_Pending(code, spelling, key, details))

    def _warn(self, key: str, **details: object) -> None:
        self.warnings.append((key, details))

    def _collect(self, pairs: list[tuple[object, object]]) -> None:
        ignored: set[str] = set()
        for raw_name, raw_value in pairs:
            name = _as_text(raw_name)
            if name is None:
                value = _shown(type(raw_name).__name__)
                self._problem("invalid_parameter", "query", "name_not_text", value=value)
                continue
            if raw_value is None:  # JSON null: not sent
                continue
            value = _as_text(raw_value)
            canonical = _SPELLINGS.get(name, name)
            if (
                name not in _KNOWN_PARAMETERS
                or canonical in _UNSUPPORTED_PARAMETERS
                or (self.endpoint != "upload" and canonical in _UPLOAD_ONLY_PARAMETERS)
            ):
                if name not in ignored:
                    ignored.add(name)
                    self._warn_ignored(name)
                continue
            if value is None:
                value = _shown(type(raw_value).__name__)
                self._problem("invalid_parameter", name, "not_text", param=name, value=value)
                self.rejected.add(canonical)
                continue
            self.sent.setdefault(canonical, []).append((name, value.strip()))

    def _warn_ignored(self, name: str) -> None:
        shown = _shown(name)
        if name in _UNSUPPORTED_PARAMETERS:
            self._warn("unsupported", param=shown)
        elif name in _UPLOAD_ONLY_PARAMETERS:
            self._warn("upload_only", param=shown)
        else:
            close = difflib.get_close_matches(
                name[:MAX_STYLE_CHARS].lower(), list(_KNOWN_BY_LOWERCASE), n=1, cutoff=0.8
            )
            if close:
                suggestion = _shown(_KNOWN_BY_LOWERCASE[close[0]])
                self._warn("unknown_parameter_suggestion", param=shown, suggestion=suggestion)
            else:
                self._warn("unknown_parameter", param=shown)

    def _take(self, name: str) -> tuple[str, str] | None:
        """(spelling, value) of a usable parameter; None when absent or its value is unusable."""
        sent = self.sent.get(name)
        if not sent:
            return None
        spelling, value = sent[0]
        if any(other != value for _, other in sent):
            spellings = "/".join(dict.fromkeys(spelling for spelling, _ in sent))
            self._problem("invalid_parameter", spelling, "repeated", param=spellings)
        elif len(value) > MAX_VALUE_CHARS:
            self._problem(
                "invalid_parameter", spelling, "too_long", param=spelling, limit=MAX_VALUE_CHARS
            )
        elif _CONTROL_CHARACTERS.search(value):
            self._problem("invalid_parameter", spelling, "control_characters", param=spelling)
        else:
            return spelling, value
        self.rejected.add(name)
        return None

    def _reject(self, name: str, spelling: str, key: str, value: str, **details: object) -> None:
        code = _INVALID_VALUE_CODES.get(name, "invalid_parameter")
        self._problem(code, spelling, key, param=spelling, value=_shown(value), **details)
        self.rejected.add(name)

    def _boolean(self, name: str, default: bool) -> bool:
        taken = self._take(name)
        if taken is None:
            return default
        spelling, value = taken
        parsed = _BOOLEANS.get(value.lower())
        if parsed is None:
            self._reject(name, spelling, "boolean", value)
            return default
        return parsed

    def _choice(self, name: str, choices: dict[str, str], default: str | None) -> str | None:
        taken = self._take(name)
        if taken is None:
            return default
        spelling, value = taken
        parsed = choices.get(value.lower())
        if parsed is None:
            shown_choices = ", ".join(dict.fromkeys(choices.values()))
            self._reject(name, spelling, "choice", value, choices=shown_choices)
            return default
        return parsed

    def _integer(self, name: str, low: int, high: int) -> int | None:
        taken = self._take(name)
        if taken is None:
            return None
        spelling, value = taken
        if _INTEGER.fullmatch(value):
            number = int(value)
            if low <= number <= high:
                return number
        self._reject(name, spelling, "integer", value, low=low, high=high)
        return None

    def _number(self, name: str, low: float, high: float) -> float | None:
        taken = self._take(name)
        if taken is None:
            return None
        spelling, value = taken
        if _NUMBER.fullmatch(value):
            number = float(value)
            if math.isfinite(number) and low <= number <= high:
                return number
        self._reject(name, spelling, "number", value, low=low, high=high)
        return None

    def _language(self) -> str:
        taken = self._take("language")
        if taken is None:
            return "en"
        spelling, value = taken
        if not _LANGUAGE_TAG.fullmatch(value):
            self._reject("language", spelling, "language", value)
            return "en"
        primary = re.split("[-_]", value, maxsplit=1)[0].lower()
        if primary in LANGUAGES:
            return primary
        self._warn("language_fallback", value=_shown(value))
        return "en"

    def _token(self) -> str:
        taken = self._take("token")
        if taken is not None and taken[1]:
            return taken[1]
        if "token" not in self.rejected:
            self._problem("missing_token", "token", "missing_token")
        return ""

    def _exercise(self) -> str | None:
        taken = self._take("exercise")
        if taken is None:
            return None
        spelling, value = taken
        exercise = resolve_exercise(value)
        if exercise is None:
            self._reject("exercise", spelling, "invalid_exercise", value, choices=_EXERCISE_CHOICES)
        return exercise

    def _reference(self) -> uuid.UUID | None:
        taken = self._take("reference")
        if taken is None:
            return None
        spelling, value = taken
        if not _UUID.fullmatch(value):
            self._reject("reference", spelling, "invalid_reference", value)
            return None
        return uuid.UUID(value)

    def _skeleton(self) -> bool | str:
        taken = self._take("skeleton")
        if taken is None:
            return True
        spelling, value = taken
        if value.lower() in _BOOLEANS:
            return _BOOLEANS[value.lower()]
        if _SKELETON_STYLE.fullmatch(value):
            return value
        self._reject("skeleton", spelling, "skeleton", value)
        return True

    def _passthrough(self) -> tuple[tuple[str, str], ...]:
        kept = []
        for name in sorted(self.sent.keys() - _BEHAVIOUR_PARAMETERS - _UPLOAD_BEHAVIOUR_PARAMETERS):
            taken = self._take(name)
            if taken is None:
                continue
            if name in _URL_PARAMETERS and not _WEB_ADDRESS.fullmatch(taken[1]):
                self._reject(name, name, "web_address", taken[1])
                continue
            kept.append(taken)
        return tuple(kept)

    def _check_combinations(self, exercise: str | None) -> None:
        reference_spelling = next(
            (spelling for spelling, _ in self.sent.get("reference", [])), None
        )
        if "exercise" in self.sent and reference_spelling is not None:
            self._problem(
                "conflicting_parameters",
                f"exercise,{reference_spelling}",
                "conflicting_parameters",
                reference=reference_spelling,
            )
        height_sent = "userHeightCm" in self.sent or "userHeightCm" in self.rejected
        if exercise == "jump_analysis" and not height_sent:
            self._problem(
                "jump_analysis_missing_height", "userHeightCm", "jump_analysis_missing_height"
            )

    def read(self) -> TrackingParams:
        token = self._token()
        language = self._language()
        exercise = self._exercise()
        self._check_combinations(exercise)
        blazepose = self._boolean("blazepose", False)
        uploading = self.endpoint == "upload"
        params = TrackingParams(
            endpoint=self.endpoint,
            token=token,
            exercise=exercise,
            reference=self._reference(),
            is_android=self._boolean("isAndroid", False),
            min_grade=self._choice("minGrade", _GRADES, None),
            skeleton=self._skeleton(),
            keypoints=self._boolean("keypoints", False),
            angles=self._boolean("angles", False),
            recommendations=self._boolean("recommendations", False),
            progression=self._boolean("progression", False),
            blazepose=blazepose,
            pose_backend=self._choice("poseBackend", _POSE_BACKENDS, "webgl"),
            run_in_worker=self._boolean("runInWorker", True),
            mediapipe_model=self._choice(
                "mediapipeModel", _MEDIAPIPE_MODELS, "full" if blazepose else "lite"
            ),
            inference=self._choice("inference", _INFERENCES, "browser"),
            width=self._integer("width", 64, 4096),
            height=self._integer("height", 64, 4096),
            user_height_cm=self._number("userHeightCm", 50, 250),
            device_pitch_deg=self._number("devicePitchDeg", -90, 90),
            difficulty=self._choice("difficulty", _DIFFICULTIES, "medium"),
            language=language,
            source=self._choice("source", _SOURCES, "video") if uploading else "video",
            export=self._boolean("export", False) if uploading else False,
            passthrough=self._passthrough(),
            warnings=tuple(message(key, language, **details) for key, details in self.warnings),
        )
        if self.problems:
            raise ParamsError([pending.problem(language) for pending in self.problems], language)
        return params
