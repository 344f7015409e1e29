"""The one parser for tracking query parameters (PoseTracker API contract §2).

Pages, the WebSocket consumer, the REST API, Celery tasks and the engine all read parameters through
parse_tracking_params(), so a parameter means the same thing everywhere. What each parameter is,
its type, default, pages and status: tracking/param_table.py. Pure Python, no Django.

Rules worth knowing:
- errors are only what the contract refuses (no token, an unknown exercise, a reference that is not
  a UUID, exercise with reference, jump_analysis without a height), all reported at once
  (ParamsError.problems);
- anything else odd is a warning, because apps send odd things: unknown, misspelt and ignored
  parameters, and loose values (`undefined`, `null`, empty, malformed or out of range), which get
  the parameter's default. Pages and sockets post them as one `warning` event
  (TrackingParams.warning_event);
- plan gating is a separate step (TrackingParams.gated_for) that lists what it switched off.
"""

import dataclasses
import difflib
import math
import re
import unicodedata
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from urllib.parse import parse_qsl, urlencode

from accounts.plans import DEVELOPER_OUTPUTS, Plan
from config.errors import FormTrackError
from tracking.engine import events
from tracking.engine.catalog import EXERCISES, resolve_exercise
from tracking.engine.i18n import LANGUAGES
from tracking.engine.workout import SetPosition, Workout, WorkoutInvalid, parse_workout
from tracking.param_messages import message
from tracking.param_table import (
    BY_NAME,
    BY_SPELLING,
    ENDPOINTS,
    EXTERNAL_ID_CHARACTERS,
    MAX_EXTERNAL_ID_CHARS,
    MAX_STYLE_CHARS,
    MAX_VALUE_CHARS,
    PARAMETERS,
    Parameter,
    parameters_for,
)
from tracking.pose.skeleton import STYLES, is_look

MAX_PARAMETERS = 100
WARNING_CODE = "ignored_parameters"

# What apps send for "no value": empty, or JavaScript's undefined and null printed into a URL.
_BLANKS = frozenset({"", "undefined", "null"})
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_EXERCISE_CHOICES = ", ".join(sorted(EXERCISES))
# For "did you mean" hints on misspelt parameter names and exercises.
_SPELLINGS_BY_LOWERCASE = {spelling.lower(): spelling for spelling in BY_SPELLING}
_EXERCISE_SPELLINGS = [spelling for spelling, _ in BY_NAME["exercise"].choices]

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
# Not . or ..: path segments browsers resolve away, which no dashboard URL could name.
EXTERNAL_ID = re.compile(rf"(?!\.\.?$)[{EXTERNAL_ID_CHARACTERS}]{{1,{MAX_EXTERNAL_ID_CHARS}}}")
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
# step.set, 1-based, without leading zeros (workoutFrom=2.3).
_SET_POSITION = re.compile(r"(?P<step>[1-9][0-9]{0,2})\.(?P<set>[1-9][0-9]{0,2})")
_WEB_ADDRESS = re.compile(r"https?://\S+", re.IGNORECASE)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _shown(value: str) -> str:
    """Quote a user's value for a message, cut short so messages stay readable."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _clipped(name: str) -> str:
    return name if len(name) <= MAX_STYLE_CHARS else name[:MAX_STYLE_CHARS] + "…"


def _sentences(messages: Iterable[str]) -> str:
    """Messages joined into one text. The upstream jump_analysis message and the warnings have no
    full stop: each gets one so the joined text reads."""
    messages = list(messages)
    if len(messages) == 1:
        return messages[0]
    return " ".join(text if text.endswith(".") else f"{text}." for text in messages)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a query, or (in TrackingParams.warnings) one thing ignored.

    `param` is the parameter as the user spelled it; a conflict between two parameters names both,
    joined by a comma (e.g. "exercise,reference").
    """

    code: str
    param: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "param": self.param, "message": self.message}


class ParamsError(FormTrackError, ValueError):
    """Every problem found in a query, in the query's language (English by default).
    401 when the token is all that is missing, else 400; the event lists each problem, and
    `details` add what the contract's error payloads carry (an unknown `exercise`, §4.8)."""

    def __init__(
        self,
        problems: tuple[Problem, ...] | list[Problem],
        language: str = "en",
        **details: object,
    ):
        problems = tuple(problems)
        super().__init__(
            problems[0].code,
            _sentences(problem.message for problem in problems),
            401 if all(problem.code == "missing_token" for problem in problems) else 400,
            problems=[problem.to_dict() for problem in problems],
            **details,
        )
        self.problems: tuple[Problem, ...] = problems
        self.language = language


@dataclass(frozen=True, kw_only=True)
class TrackingParams:
    """A validated tracking request. Build it with parse_tracking_params(), never by hand: the
    defaults are the table's (tracking/param_table.py).

    Round trip: for any parsed `p`, parse_tracking_params(p.to_query(), endpoint=p.endpoint) equals
    `p` but for `warnings` and `blocked`: both describe how `p` was made (ignored parameters and
    values, plan gating), not the request itself.
    """

    endpoint: str
    token: str
    exercise: str | None
    reference: uuid.UUID | None
    is_android: bool
    min_grade: str | None
    skeleton: bool | str
    keypoints: bool
    angles: bool
    recommendations: bool
    progression: bool
    blazepose: bool
    pose_backend: str
    run_in_worker: bool
    mediapipe_model: str
    inference: str
    width: int | None
    height: int | None
    user_height_cm: float | None
    device_pitch_deg: float | None
    difficulty: str
    language: str
    source: str
    export: bool
    # The host's opaque id of the person: the session's summary is stored with it (results).
    external_user_id: str | None = None
    # A saved workout's UUID (resolved when the page or socket opens: tracking.access), or one
    # written inline; its str() is how the query spells it.
    workout: uuid.UUID | Workout | None = None
    # The set of the workout to start at (a reconnected page's); checked against the workout
    # once it is known (for_workout).
    workout_from: SetPosition | None = None
    # The parameter that named `reference`: reference, or userExercise (the live page's name).
    reference_param: str = "reference"
    # The page parameters (table rows without a field) the query set, typed, sorted by name.
    passthrough: tuple[tuple[str, object], ...] = ()
    warnings: tuple[Problem, ...] = ()
    blocked: tuple[str, ...] = ()

    @property
    def remote_media(self) -> tuple[str, str] | None:
        """The upload page's media to fetch: (videoSrc or imageSrc, whichever its source reads,
        the URL), or None."""
        name = "imageSrc" if self.source == "image" else "videoSrc"
        url = dict(self.passthrough).get(name)
        return (name, url) if url else None

    @property
    def pose_only(self) -> bool:
        """No exercise, reference or workout: the page streams keypoints only."""
        return self.exercise is None and self.reference is None and self.workout is None

    def requested_outputs(self) -> tuple[str, ...]:
        """The developer outputs (accounts.plans.DEVELOPER_OUTPUTS) this request switches on: a
        plan feature is requested when one of its parameters is off its default."""
        requested = {
            parameter.feature
            for parameter in PARAMETERS
            if parameter.feature
            and parameter.field
            and getattr(self, parameter.field) != parameter.default
        }
        if self.pose_only:
            # Keypoints always stream in pose-only mode; only keypoints with an exercise are gated.
            requested.discard("keypoints")
        return tuple(output for output in DEVELOPER_OUTPUTS if output in requested)

    def gated_for(self, plan: Plan) -> "TrackingParams":
        """A copy with each requested output the plan lacks switched off (its parameters back to
        their defaults) and listed in `blocked`."""
        newly_blocked = {output for output in self.requested_outputs() if not plan.allows(output)}
        if not newly_blocked:
            return self
        switched_off = {
            parameter.field: parameter.default
            for parameter in PARAMETERS
            if parameter.feature in newly_blocked and parameter.field
        }
        return dataclasses.replace(
            self, **switched_off, blocked=tuple(sorted(newly_blocked | set(self.blocked)))
        )

    def blocked_event(self) -> dict | None:
        if not self.blocked:
            return None
        code = "developer_features_not_allowed"
        text = message(code, self.language, features=", ".join(self.blocked))
        return FormTrackError(code, text, 403, blocked=list(self.blocked)).to_event()

    def warning_event(self) -> dict | None:
        """Everything the request asked for that was ignored, as one `warning` event."""
        if not self.warnings:
            return None
        return events.warning(
            code=WARNING_CODE,
            message=_sentences(warning.message for warning in self.warnings),
            parameters=list(dict.fromkeys(warning.param for warning in self.warnings)),
            problems=[warning.to_dict() for warning in self.warnings],
        )

    def for_workout(self, workout: Workout) -> "TrackingParams":
        """These parameters for `workout` (this request's, resolved): a workoutFrom that is not
        one of its sets is dropped, with a warning, and the workout starts at its first set."""
        if self.workout_from is None or workout.has(self.workout_from):
            return self
        problem = _text(
            "workout_from_range",
            param="workoutFrom",
            value=_shown(str(self.workout_from)),
            steps=len(workout.steps),
        )
        warning = _Pending("invalid_value", "workoutFrom", _text("value_ignored", problem=problem))
        return dataclasses.replace(
            self,
            workout_from=None,
            warnings=(*self.warnings, warning.problem(self.language)),
        )

    def to_query(self) -> str:
        """The canonical query string: every parameter this endpoint reads, spelled out."""
        given = dict(self.passthrough)
        pairs = []
        for parameter in parameters_for(self.endpoint):
            if parameter.field == "reference" and parameter.name != self.reference_param:
                continue  # said once, under the name the request used
            if parameter.field:
                value = getattr(self, parameter.field)
            else:
                value = given.get(parameter.name)
            if value is not None:
                pairs.append((parameter.name, _query_value(value)))
        return urlencode(pairs)

    def page_settings(self) -> dict[str, object]:
        """Every page parameter of this endpoint: its value, or its default."""
        given = dict(self.passthrough)
        return {
            parameter.name: given.get(parameter.name, parameter.default)
            for parameter in parameters_for(self.endpoint)
            if not parameter.field
        }

    def to_config(self) -> dict:
        """Every field as JSON-ready data, for pages to embed (e.g. with json_script)."""
        config = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        config["reference"] = str(self.reference) if self.reference is not None else None
        config["workout"] = str(self.workout) if self.workout is not None else None
        config["workout_from"] = str(self.workout_from) if self.workout_from else None
        config["passthrough"] = self.page_settings()
        config["warnings"] = [warning.to_dict() for warning in self.warnings]
        config["blocked"] = list(self.blocked)
        return config


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def parse_tracking_params(
    query: object, *, endpoint: str = "tracking", api: bool = False
) -> TrackingParams:
    """Read a tracking request from a query string (str or bytes), a mapping of str or list values,
    or a Django QueryDict. Raises ParamsError listing every problem; never raises anything else
    for any query.

    `api`: a REST request, where a bad value of a parameter with an `api_refusal` is refused
    rather than defaulted (pages and sockets keep the drop-in rule).
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
    return _Reader(pairs, endpoint, api=api).read()


def parse_filter(name: str, value: str) -> object:
    """One tracking parameter's value on its own, read as a request's is, for an API that filters
    by it (GET /api/v1/results?externalUserId=…&exercise=…). Raises ParamsError (400) for a value
    the parser would not take."""
    parameter = BY_NAME[name]
    value = value.strip()
    try:
        return _READERS[parameter.kind](parameter, value)
    except _Invalid as invalid:
        text = _text(invalid.key, param=name, value=_shown(value), **invalid.details)
        code = parameter.refusal or parameter.api_refusal or "invalid_parameter"
        raise ParamsError([Problem(code, name, text.render("en"))]) from None


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
        return _query_value(value)
    if isinstance(value, int | float):
        try:
            return str(value)
        except ValueError:  # an integer too long to print
            return None
    return None


# --- Reading one value, by the parameter's kind ----------------------------------------------


class _Invalid(Exception):
    """A value its parameter cannot take: the message key saying what it should be, and details."""

    def __init__(self, key: str, **details: object):
        super().__init__(key)
        self.key = key
        self.details = details


def _finite(value: str) -> float | None:
    if not _NUMBER.fullmatch(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _read_integer(parameter: Parameter, value: str) -> int:
    number = _finite(value)
    if number is not None:
        # Rounded as JavaScript's Math.round: apps send screen sizes such as 392.72727272727275.
        rounded = math.floor(number + 0.5)
        if parameter.low <= rounded <= parameter.high:
            return rounded
    raise _Invalid("integer", low=parameter.low, high=parameter.high)


def _read_number(parameter: Parameter, value: str) -> float:
    number = _finite(value)
    if number is not None and parameter.low <= number <= parameter.high:
        return number
    raise _Invalid("number", low=parameter.low, high=parameter.high)


def _read_boolean(parameter: Parameter, value: str) -> bool:
    parsed = _BOOLEANS.get(value.lower())
    if parsed is None:
        raise _Invalid("boolean")
    return parsed


def _read_choice(parameter: Parameter, value: str) -> str:
    parsed = parameter.choice_map.get(value.lower())
    if parsed is None:
        raise _Invalid("choice", choices=", ".join(parameter.values))
    return parsed


def _read_exercise(parameter: Parameter, value: str) -> str:
    exercise = resolve_exercise(value)
    if exercise is not None:
        return exercise
    close = difflib.get_close_matches(
        value[:MAX_STYLE_CHARS].lower(), _EXERCISE_SPELLINGS, n=1, cutoff=0.6
    )
    if close:
        raise _Invalid(
            "invalid_exercise_suggestion", choices=_EXERCISE_CHOICES, suggestion=close[0]
        )
    raise _Invalid("invalid_exercise", choices=_EXERCISE_CHOICES)


def _read_uuid(parameter: Parameter, value: str) -> uuid.UUID:
    if not _UUID.fullmatch(value):
        raise _Invalid("invalid_reference")
    return uuid.UUID(value)


def _read_workout(parameter: Parameter, value: str) -> uuid.UUID | Workout:
    if _UUID.fullmatch(value):
        return uuid.UUID(value)
    try:
        return parse_workout(value)
    except WorkoutInvalid as invalid:
        raise _Invalid(invalid.key, **invalid.details) from None


def _read_set_position(parameter: Parameter, value: str) -> SetPosition:
    match = _SET_POSITION.fullmatch(value)
    if match is None:
        raise _Invalid("set_position")
    return SetPosition(int(match["step"]), int(match["set"]))


def _read_skeleton(parameter: Parameter, value: str) -> bool | str:
    if value.lower() in _BOOLEANS:
        return _BOOLEANS[value.lower()]
    if is_look(value):
        return value
    # A PoseTracker dashboard preset's id, or a misspelt style: the default look, with a warning.
    raise _Invalid("skeleton", styles=", ".join(name for name in STYLES if name != "default"))


def _read_url(parameter: Parameter, value: str) -> str:
    # Pages load these addresses, so only web addresses are let through.
    if not _WEB_ADDRESS.fullmatch(value):
        raise _Invalid("web_address")
    return value


def _read_text(parameter: Parameter, value: str) -> str:
    return value


def _read_external_id(parameter: Parameter, value: str) -> str:
    if EXTERNAL_ID.fullmatch(value):
        return value
    if value in (".", ".."):
        raise _Invalid("external_id_dots")
    # Not echoed: an e-mail address is personal data, which warnings and logs must not carry.
    # NFKC: its look-alikes of @ (fullwidth, small) are one too.
    if "@" in unicodedata.normalize("NFKC", value):
        raise _Invalid("external_id_email")
    raise _Invalid("external_id", limit=MAX_EXTERNAL_ID_CHARS)


_READERS = {
    "token": _read_text,
    "text": _read_text,
    "exercise": _read_exercise,
    "uuid": _read_uuid,
    "boolean": _read_boolean,
    "integer": _read_integer,
    "number": _read_number,
    "choice": _read_choice,
    "skeleton": _read_skeleton,
    "url": _read_url,
    "external_id": _read_external_id,
    "workout": _read_workout,
    "set_position": _read_set_position,
}

# --- Reading a query -------------------------------------------------------------------------

_UNSET = object()  # not sent, or its value was unusable: the default applies


@dataclass(frozen=True)
class _Text:
    """A message kept unwritten until the query's language is known; details may be _Texts."""

    key: str
    details: dict

    def render(self, language: str) -> str:
        details = {
            name: value.render(language) if isinstance(value, _Text) else value
            for name, value in self.details.items()
        }
        return message(self.key, language, **details)


def _text(key: str, **details: object) -> _Text:
    return _Text(key, details)


@dataclass(frozen=True)
class _Pending:
    """A problem or a warning, written once the query's language is known."""

    code: str
    param: str
    text: _Text

    def problem(self, language: str) -> Problem:
        return Problem(self.code, self.param, self.text.render(language))


class _Reader:
    def __init__(self, pairs: list[tuple[object, object]], endpoint: str, *, api: bool = False):
        self.endpoint = endpoint
        self.api = api
        self.problems: list[_Pending] = []
        self.warnings: list[_Pending] = []
        # Parameter name -> every (spelling, value) sent for it, in order.
        self.sent: dict[str, list[tuple[str, str]]] = {}
        # Parameter name -> its spelling, for parameters sent with a value (usable or not).
        self.given: dict[str, str] = {}
        # Parameter name -> (the warning, the problem) of a value set aside for its default.
        self.set_aside: dict[str, tuple[_Pending, _Text]] = {}
        # The error's details beside its problems.
        self.details: dict[str, str] = {}
        self._collect(pairs)

    def _refuse(self, code: str, spelling: str, text: _Text) -> None:
        self.problems.append(_Pending(code, spelling, text))

    def _warn(self, code: str, spelling: str, text: _Text) -> _Pending:
        warning = _Pending(code, _clipped(spelling), text)
        self.warnings.append(warning)
        return warning

    def _set_aside(self, parameter: Parameter, spelling: str, code: str, problem: _Text) -> None:
        """An unusable value: the default applies, and a warning says so."""
        if parameter.default is None:
            text = _text("value_ignored", problem=problem)
        else:
            text = _text("default_used", problem=problem, default=_query_value(parameter.default))
        self.set_aside[parameter.name] = (self._warn(code, spelling, text), problem)

    def _collect(self, pairs: list[tuple[object, object]]) -> None:
        ignored: set[str] = set()
        for raw_name, raw_value in pairs:
            name = _as_text(raw_name)
            if name is None:
                value = _shown(type(raw_name).__name__)
                problem = _text("name_not_text", value=value)
                self._refuse("invalid_parameter", "query", problem)
                continue
            if raw_value is None:  # JSON null: not sent
                continue
            parameter = BY_SPELLING.get(name)
            if parameter is None or not parameter.kept or self.endpoint not in parameter.endpoints:
                if name not in ignored:
                    ignored.add(name)
                    self._warn_ignored(name, parameter)
                continue
            value = _as_text(raw_value)
            if value is None:
                shown = _shown(type(raw_value).__name__)
                self._unusable(parameter, name, _text("not_text", param=name, value=shown))
                continue
            self.sent.setdefault(parameter.name, []).append((name, value.strip()))

    def _warn_ignored(self, name: str, parameter: Parameter | None) -> None:
        shown = _shown(name)
        if parameter is None:
            close = difflib.get_close_matches(
                name[:MAX_STYLE_CHARS].lower(), list(_SPELLINGS_BY_LOWERCASE), n=1, cutoff=0.8
            )
            if close:
                suggestion = _shown(_SPELLINGS_BY_LOWERCASE[close[0]])
                text = _text("unknown_parameter_suggestion", param=shown, suggestion=suggestion)
            else:
                text = _text("unknown_parameter", param=shown)
            self._warn("unknown_parameter", name, text)
        elif self.endpoint not in parameter.endpoints:
            page = "upload_tracking" if "upload" in parameter.endpoints else "tracking"
            self._warn("other_endpoint", name, _text("other_endpoint", param=shown, endpoint=page))
        else:
            reason = _text(f"reason_{parameter.reason}")
            self._warn(
                "ignored_parameter", name, _text("ignored_parameter", param=shown, reason=reason)
            )

    def _refusal(self, parameter: Parameter) -> str | None:
        """The error code of a bad value of `parameter` here; None: its default applies."""
        return parameter.refusal or (parameter.api_refusal if self.api else None)

    def _unusable(self, parameter: Parameter, spelling: str, problem: _Text) -> None:
        """A value no parameter can take (not text, too long, control characters)."""
        self.given[parameter.name] = spelling
        if self._refusal(parameter) is not None:
            self._refuse("invalid_parameter", spelling, problem)
        else:
            self._set_aside(parameter, spelling, "invalid_value", problem)

    def _take(self, parameter: Parameter) -> tuple[str, str] | None:
        """(spelling, value) of a usable value; None when absent or set aside."""
        sent = self.sent.get(parameter.name)
        if not sent:
            return None
        spelling, value = sent[0]
        if any(other != value for _, other in sent):
            spellings = "/".join(dict.fromkeys(spelling for spelling, _ in sent))
            self._warn("repeated_parameter", spelling, _text("repeated", param=spellings))
        if value.lower() in _BLANKS:
            if parameter.name != "token":  # a blank token is a missing one
                problem = _text("blank", param=spelling, value=_shown(value))
                self._set_aside(parameter, spelling, "blank_value", problem)
            return None
        if len(value) > MAX_VALUE_CHARS:
            problem = _text("too_long", param=spelling, limit=MAX_VALUE_CHARS)
        elif _CONTROL_CHARACTERS.search(value):
            problem = _text("control_characters", param=spelling)
        else:
            self.given[parameter.name] = spelling
            return spelling, value
        self._unusable(parameter, spelling, problem)
        return None

    def _read(self, parameter: Parameter) -> object:
        """The parameter's value, or _UNSET when it was not sent or its value was unusable."""
        taken = self._take(parameter)
        if taken is None:
            return _UNSET
        spelling, value = taken
        try:
            return _READERS[parameter.kind](parameter, value)
        except _Invalid as invalid:
            problem = _text(invalid.key, param=spelling, value=_shown(value), **invalid.details)
            if (refusal := self._refusal(parameter)) is not None:
                self._refuse(refusal, spelling, problem)
                if parameter.name == "exercise":  # the contract's details.exercise (§4.8)
                    self.details["exercise"] = value
            else:
                self._set_aside(parameter, spelling, "invalid_value", problem)
            return _UNSET

    def _language(self) -> str:
        parameter = BY_NAME["language"]
        taken = self._take(parameter)
        if taken is None:
            return parameter.default
        spelling, value = taken
        if not LANGUAGE_TAG.fullmatch(value):
            problem = _text("language", param=spelling, value=_shown(value))
            self._set_aside(parameter, spelling, "invalid_value", problem)
            return parameter.default
        primary = re.split("[-_]", value, maxsplit=1)[0].lower()
        if primary in LANGUAGES:
            return primary
        self._warn(
            "language_unavailable", spelling, _text("language_fallback", value=_shown(value))
        )
        return parameter.default

    def _media_for_source(self, source: str, passthrough: list) -> list:
        """videoSrc goes with source=video and imageSrc with source=image: the other is dropped,
        with a warning (the contract has source decide)."""
        other = "imageSrc" if source == "video" else "videoSrc"
        if all(name != other for name, _ in passthrough):
            return passthrough
        text = _text("media_for_other_source", param=_shown(other), source=source)
        self._warn("media_for_other_source", self.given[other], text)
        return [(name, value) for name, value in passthrough if name != other]

    def _targets_for_workout(self, passthrough: list) -> list:
        """reps= and duration= are the page's targets for one exercise: a workout's steps have
        their own, so they are dropped, with a warning."""
        kept = []
        for name, value in passthrough:
            if name in ("reps", "duration"):
                spelling = self.given[name]
                text = _text("target_with_workout", param=_shown(spelling))
                self._warn("ignored_parameter", spelling, text)
            else:
                kept.append((name, value))
        return kept

    def _min_grade_ignored_for(self, values: dict) -> _Text | None:
        """Why minGrade does not apply to this request (contract §2.3), or None when it does."""
        exercise = values["exercise"]
        if values["source"] == "image":
            return _text("min_grade_image")
        if values["reference"] is not None:
            return _text("min_grade_reference")
        if values["workout"] is not None:
            return None  # it applies to the workout's repetition exercises
        if exercise is None:
            return _text("min_grade_pose_only")
        kind = EXERCISES[exercise].kind
        if kind != "repetition":
            return _text(f"min_grade_{kind}", exercise=exercise)
        return None

    def _check_combinations(self, values: dict) -> None:
        reference_spelling = self.given.get("reference")
        user_exercise = self.given.get("userExercise")
        for movement in (reference_spelling, user_exercise):
            if "exercise" in self.given and movement is not None:
                self._refuse(
                    "conflicting_parameters",
                    f"exercise,{movement}",
                    _text("conflicting_parameters", reference=movement),
                )
        workout = self.given.get("workout")
        for movement in ("exercise", "reference", "userExercise"):
            if workout is not None and movement in self.given:
                other = self.given[movement]
                self._refuse(
                    "conflicting_parameters",
                    f"{workout},{other}",
                    _text("conflicting_workout", other=other),
                )
        if reference_spelling is not None and user_exercise is not None:
            self._refuse(
                "conflicting_parameters",
                f"{reference_spelling},{user_exercise}",
                _text(
                    "conflicting_movements",
                    reference=reference_spelling,
                    user_exercise=user_exercise,
                ),
            )
        if values["exercise"] == "jump_analysis" and values["user_height_cm"] is None:
            warning, problem = self.set_aside.get("userHeightCm", (None, None))
            if warning is not None and warning.code == "invalid_value":
                # Sent but unusable (apps send 0 or NaN when they have none): the contract's code,
                # which apps handle by asking the height, with what was wrong with it.
                self.warnings.remove(warning)
                self._refuse("jump_analysis_missing_height", warning.param, problem)
            else:
                missing = _text("jump_analysis_missing_height")
                self._refuse("jump_analysis_missing_height", "userHeightCm", missing)

    def read(self) -> TrackingParams:
        token = self._read(BY_NAME["token"])
        if token is _UNSET and all(problem.param != "token" for problem in self.problems):
            self._refuse("missing_token", "token", _text("missing_token"))
        language = self._language()
        values: dict[str, object] = {"token": token, "language": language}
        defaulted: set[str] = set()
        passthrough = []
        for parameter in PARAMETERS:
            if parameter.name in ("token", "language"):  # read first, above
                continue
            applies = parameter.kept and self.endpoint in parameter.endpoints
            value = self._read(parameter) if applies else _UNSET
            if value is _UNSET:
                defaulted.add(parameter.name)
            if parameter.field:
                if value is not _UNSET:
                    values[parameter.field] = value
                    if parameter.field == "reference":
                        values["reference_param"] = parameter.name
                else:
                    values.setdefault(parameter.field, parameter.default)
            elif value is not _UNSET:
                passthrough.append((parameter.name, value))
        passthrough = self._media_for_source(values["source"], passthrough)
        if values["workout"] is not None:
            passthrough = self._targets_for_workout(passthrough)
        elif values["workout_from"] is not None:
            spelling = self.given["workoutFrom"]
            self._warn(
                "ignored_parameter", spelling, _text("workout_from_alone", param=_shown(spelling))
            )
            values["workout_from"] = None
        if values["blazepose"] and "mediapipeModel" in defaulted:
            values["mediapipe_model"] = "full"  # what BlazePose means without a model named
        if values["min_grade"] is not None:
            ignored_for = self._min_grade_ignored_for(values)
            if ignored_for is not None:
                spelling = self.given["minGrade"]
                self._warn(
                    "min_grade_ignored", spelling, _text("min_grade_ignored", what=ignored_for)
                )
                values["min_grade"] = None
        self._check_combinations(values)
        if self.problems:
            problems = [pending.problem(language) for pending in self.problems]
            raise ParamsError(problems, language, **self.details)
        return TrackingParams(
            endpoint=self.endpoint,
            **values,
            passthrough=tuple(sorted(passthrough)),
            warnings=tuple(warning.problem(language) for warning in self.warnings),
        )
