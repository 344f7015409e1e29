"""Every query parameter of the PoseTracker contract (§2 of the API research), in one table.

The table drives the parser (tracking/params.py: how each value is read, its default, on which
page), the canonical query, the OpenAPI fields of the REST endpoints that take these parameters
(tracking/api.py), docs/compatibility.md (`manage.py compatibility_doc`) and the parameter tests.
Adding a parameter is adding a row. Pure Python, no Django.

`status` says how FormTrack treats a parameter, against the contract:
- same: does what the contract says;
- extended: does that and more, or exists only in FormTrack;
- different: works, differently (the row's doc says how and why);
- ignored: accepted and dropped, with a warning giving `reason` (a key of tracking/param_messages).
"""

from dataclasses import dataclass

from tracking.engine.catalog import ALIASES, EXERCISES

ENDPOINTS = ("tracking", "upload")
STATUSES = ("same", "extended", "different", "ignored")
# Kinds the parser reads; "colour" and "timer" only describe parameters it ignores.
KINDS = (
    "token",
    "exercise",
    "uuid",
    "boolean",
    "integer",
    "number",
    "choice",
    "skeleton",
    "language",
    "text",
    "url",
    "external_id",
    "colour",
    "timer",
    "workout",
    "set_position",
)
MAX_VALUE_CHARS = 2048
MAX_STYLE_CHARS = 64
# An end user's id from the host app (externalUserId): opaque, never an e-mail address.
EXTERNAL_ID_CHARACTERS = "A-Za-z0-9._:-"
MAX_EXTERNAL_ID_CHARS = 128


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str
    section: str  # where the contract describes it (posetracker-api.md §2.x)
    doc: str  # one line: what it does in FormTrack
    # Its TrackingParams field; None: a page parameter (passthrough). Two rows may share a field
    # (reference and userExercise): the one sent fills it.
    field: str | None = None
    aliases: tuple[str, ...] = ()
    default: object = None
    # Accepted spellings (lower case) -> value, for kind "choice".
    choices: tuple[tuple[str, str], ...] = ()
    low: float | None = None
    high: float | None = None
    endpoints: tuple[str, ...] = ENDPOINTS
    feature: str | None = None  # the plan feature it needs (accounts.plans.DEVELOPER_OUTPUTS)
    status: str = "same"
    reason: str | None = None  # ignored: why (tracking.param_messages, "reason_<reason>")
    # The error code of a bad value when the contract refuses it; any other bad value gets the
    # default and a warning.
    refusal: str | None = None
    # The error code of a bad value on the REST API, where a page or socket gets the default and
    # a warning (the drop-in rule): a server that sent it can fix it, and should hear so.
    api_refusal: str | None = None

    @property
    def kept(self) -> bool:
        """Read into TrackingParams (a field, or the passthrough for the page)."""
        return self.status != "ignored"

    @property
    def choice_map(self) -> dict[str, str]:
        return dict(self.choices)

    @property
    def values(self) -> tuple[str, ...]:
        """The distinct values of a choice, in order (legacy spellings left out)."""
        return tuple(dict.fromkeys(value for _, value in self.choices))

    @property
    def legacy_spellings(self) -> tuple[str, ...]:
        """Other spellings a choice accepts for its values (aliases, the pixel endpoint's)."""
        return tuple(spelling for spelling, value in self.choices if spelling != value.lower())


def _choices(*values: str, **legacy: str) -> tuple[tuple[str, str], ...]:
    return tuple((value, value) for value in values) + tuple(legacy.items())


def _exercise_choices() -> tuple[tuple[str, str], ...]:
    return tuple((name, name) for name in EXERCISES) + tuple(ALIASES.items())


def _overlay(name: str, kind: str, doc: str, **fields) -> Parameter:
    """A §2.5 placement overlay parameter: the page draws no such overlay."""
    return Parameter(name, kind, "2.5", doc, status="ignored", reason="overlay", **fields)


def _timer(name: str, kind: str, doc: str) -> Parameter:
    """A §2.5 countdown parameter: counting starts without one."""
    return Parameter(name, kind, "2.5", doc, status="ignored", reason="timer")


def _upload_page(name: str, kind: str, doc: str, **fields) -> Parameter:
    """A §2.6 parameter of the upload page, read by the page itself (pixel sizes up to 10,000)."""
    if kind == "number":
        fields = {"low": 0, "high": 10000} | fields
    return Parameter(name, kind, "2.6", doc, endpoints=("upload",), **fields)


PARAMETERS: tuple[Parameter, ...] = (
    # §2.1 Core, auth, platform
    Parameter(
        "token",
        "token",
        "2.1",
        "Your API key: publishable (ft_pub_…) in pages and apps, secret (ft_live_…) on servers. "
        "Required; a missing, unknown or revoked key is refused.",
        field="token",
        refusal="missing_token",
    ),
    Parameter(
        "isAndroid",
        "boolean",
        "2.1",
        "Android WebView: the page opens the camera once visible, asking for the front camera "
        "only.",
        field="is_android",
        aliases=("android",),
        default=False,
    ),
    Parameter(
        "width",
        "integer",
        "2.1",
        "Camera width asked for, in pixels: a hint, the camera opens at its nearest size "
        "(keypoints are normalised 0–1, as the contract has them). Fractions (a screen width "
        "such as 392.73) are rounded.",
        field="width",
        low=64,
        high=4096,
    ),
    Parameter(
        "height",
        "integer",
        "2.1",
        "Camera height asked for, in pixels (see width).",
        field="height",
        low=64,
        high=4096,
    ),
    Parameter(
        "isMobile",
        "boolean",
        "2.1",
        "Undocumented; sent by PoseTracker's demo app.",
        status="ignored",
        reason="is_mobile",
    ),
    Parameter(
        "loading_message",
        "text",
        "2.1",
        "Heads the live page's start-up card, above its stages and progress (the upload page "
        "shows its progress instead).",
    ),
    Parameter(
        "engine",
        "choice",
        "2.1",
        "PoseTracker's engine channel, v3 or v4.",
        choices=_choices("v3", "v4"),
        default="v3",
        status="ignored",
        reason="engine",
    ),
    # §2.2 What to track
    Parameter(
        "exercise",
        "exercise",
        "2.2",
        "A catalog exercise id or legacy alias (GET /api/v1/exercises), or a FormTrack "
        "range-of-motion assessment (knee_rom, hip_rom, shoulder_rom, elbow_rom, neck_rom, "
        "back_rom: docs/events.md). An unknown id is refused with a suggestion; without exercise "
        "or reference the page tracks keypoints only.",
        field="exercise",
        choices=_exercise_choices(),
        refusal="invalid_exercise",
    ),
    Parameter(
        "reference",
        "uuid",
        "2.2",
        "A reference movement of your organisation, compared rep by rep. Not with exercise.",
        field="reference",
        aliases=("reference_movement",),
        refusal="invalid_reference",
    ),
    Parameter(
        "userExercise",
        "uuid",
        "2.2",
        "A custom movement (live page only): FormTrack's custom movements are your "
        "organisation's reference movements, so this is reference=… under PoseTracker Studio's "
        "name, with the same checks and events. Not with exercise or reference.",
        field="reference",
        endpoints=("tracking",),
        status="different",
        refusal="invalid_reference",
    ),
    # §2.3 Scoring and streams
    Parameter(
        "skeleton",
        "skeleton",
        "2.3",
        "Draw the skeleton (true/false) or a style: green, blue, red, orange, white, dark, neon "
        "or a hex colour, on the live page, the upload page's replay, exports and photo "
        "overlays. FormTrack's presets are these names: a dashboard preset id, or any other "
        "name, draws the default look (live: white bones; uploads: each side in its colour), "
        "with a warning.",
        field="skeleton",
        default=True,
        status="different",
    ),
    Parameter(
        "keypoints",
        "boolean",
        "2.3",
        "Send keypoints events during an exercise (without an exercise they always stream).",
        field="keypoints",
        default=False,
        feature="keypoints",
    ),
    Parameter(
        "angles",
        "boolean",
        "2.3",
        "Send joint angles events.",
        field="angles",
        default=False,
        feature="angles",
    ),
    Parameter(
        "recommendations",
        "boolean",
        "2.3",
        "Send form cues to the host (recommendations events); the live page shows them to the "
        "person in any case.",
        field="recommendations",
        default=False,
        feature="recommendations",
    ),
    Parameter(
        "progression",
        "boolean",
        "2.3",
        "Send progression events (0–100 within a rep or hold).",
        field="progression",
        default=False,
        feature="progression",
    ),
    Parameter(
        "minGrade",
        "choice",
        "2.3",
        "Count only reps graded at least this (any case). Repetition exercises only: ignored, "
        "with a warning, for references, holds, jumps, photos and pose tracking.",
        field="min_grade",
        choices=tuple((grade.lower(), grade) for grade in "ABCD"),
    ),
    Parameter(
        "userHeightCm",
        "number",
        "2.3",
        "The athlete's height in cm, which calibrates jump_analysis (required there).",
        field="user_height_cm",
        low=50,
        high=250,
    ),
    Parameter(
        "devicePitchDeg",
        "number",
        "2.3",
        "Camera tilt in degrees, corrected in jump heights.",
        field="device_pitch_deg",
        low=-90,
        high=90,
    ),
    Parameter(
        "scoring_profile",
        "choice",
        "2.3",
        "PoseTracker's reference scoring profile.",
        choices=_choices("default", "kali", "kali-analysis"),
        default="kali-analysis",
        status="ignored",
        reason="scoring_profile",
    ),
    Parameter(
        "difficulty",
        "choice",
        "2.3",
        "Counting and scoring tolerance for exercises and references; the pixel endpoint's normal "
        "and pro read as medium and hard. PoseTracker's page does not read it.",
        field="difficulty",
        choices=_choices("easy", "medium", "hard", normal="medium", pro="hard"),
        default="medium",
        status="extended",
    ),
    # §2.4 Pose model
    Parameter(
        "blazepose",
        "boolean",
        "2.4",
        "All 33 BlazePose keypoints instead of the 17 COCO ones, with the full model unless "
        "mediapipeModel says otherwise.",
        field="blazepose",
        default=False,
        feature="blazepose",
    ),
    Parameter(
        "poseBackend",
        "choice",
        "2.4",
        "webgl: the model on the GPU (on the CPU, with a backend_fallback_wasm warning, where "
        "WebGL is missing or slower); wasm: on the CPU.",
        field="pose_backend",
        choices=_choices("webgl", "wasm"),
        default="webgl",
    ),
    Parameter(
        "runInWorker",
        "boolean",
        "2.4",
        "true: the model runs in a Web Worker, off the page's drawing and socket thread (the fast "
        "path; a worker that cannot start falls back to the page with a worker_unavailable "
        "warning). Default false, where PoseTracker's is true: the page's own thread works in "
        "every WebView.",
        field="run_in_worker",
        default=False,
        status="different",
    ),
    Parameter(
        "poseEngine",
        "text",
        "2.4",
        "PoseTracker's pose runtime (tfjs).",
        default="tfjs",
        status="ignored",
        reason="pose_engine",
    ),
    Parameter(
        "mediapipeModel",
        "choice",
        "2.4",
        "Model size (full with blazepose=true). full and heavy are what BlazePose buys: they need "
        "its plan.",
        field="mediapipe_model",
        choices=_choices("lite", "full", "heavy"),
        default="lite",
        feature="blazepose",
    ),
    Parameter(
        "inference",
        "choice",
        "2.4",
        "FormTrack: browser runs the model on the device (only landmarks leave it); server sends "
        "camera frames to the server, for devices too slow for the model.",
        field="inference",
        choices=_choices("browser", "server"),
        default="browser",
        endpoints=("tracking",),
        status="extended",
    ),
    # §2.5 Placement overlay and timer
    _overlay("placement", "boolean", "Placement step (sent by PoseTracker's demo app)."),
    _timer("placementCountdownSeconds", "number", "Countdown after placement, in seconds."),
    _overlay("postureBox", "boolean", "Legacy placement box."),
    _overlay("placementOverlay", "boolean", "Gray padding plus the start pose's silhouette."),
    _overlay("placementZoneColor", "colour", "Fill outside the safe zone."),
    _overlay("placementOverlayOpacity", "number", "Zone opacity.", low=0, high=1),
    _overlay("placementImageOpacity", "number", "Placement image opacity.", low=0, high=1),
    _overlay("placementBoxStrokeColor", "colour", "Safe-zone border."),
    _overlay("silhouetteColor", "colour", "Silhouette stroke."),
    _overlay("silhouetteShadow", "colour", "Silhouette halo."),
    _overlay("silhouette", "boolean", "false hides the mannequin.", default=True),
    _overlay("placementZone", "boolean", "false hides the gray padding.", default=True),
    _timer("timer", "timer", "Countdown after placement (true means 3 s)."),
    _timer("timerSeconds", "number", "Countdown length when timer=true."),
    _timer("timerBg", "colour", "Timer card background."),
    _timer("timerColor", "colour", "Timer text colour."),
    _timer("timerBorder", "colour", "Timer card border."),
    _overlay("guide", "boolean", "Orbit rings, e.g. for shoulder_roll."),
    Parameter(
        "engineDebug",
        "boolean",
        "2.5",
        'PoseTracker\'s internal HUD ("do not ship").',
        status="ignored",
        reason="engine_debug",
    ),
    _overlay("placementOverlayImageUrl", "url", "Custom placement art."),
    *(
        _overlay(f"padding{side}", "number", "Placement inset.")
        for side in ("Horizontal", "Vertical", "Left", "Right", "Top", "Bottom")
    ),
    # §2.6 Upload page
    Parameter(
        "source",
        "choice",
        "2.6",
        "video, or image: one photo gives posture, keypoints, angles and an overlay image, no "
        "exercise tracking.",
        field="source",
        choices=_choices("video", "image"),
        default="video",
        endpoints=("upload",),
    ),
    Parameter(
        "export",
        "boolean",
        "2.6",
        "Render the annotated MP4; export_ready gives a signed link that works outside the page "
        "(PoseTracker: a blob URL).",
        field="export",
        default=False,
        endpoints=("upload",),
        feature="export",
        status="extended",
    ),
    _upload_page(
        "videoSrc",
        "url",
        "A video to analyse without the picker (source=video). Our server fetches it, so CORS "
        "does not matter but the address must be public (callback rules: checked, pinned, at "
        "most 3 redirects, each checked; the upload size limit; MEDIA_FETCH_TIMEOUT_S); it "
        "counts as an upload. A failed fetch is an error event (video_load_error, "
        "file_too_large, unsupported_media).",
        status="different",
    ),
    _upload_page(
        "imageSrc",
        "url",
        "A photo to analyse without the picker (source=image), fetched as videoSrc "
        "(image_load_error).",
        status="different",
    ),
    _upload_page(
        "showUpload",
        "boolean",
        "false hides the file picker (with videoSrc or imageSrc, nothing to click).",
        default=True,
    ),
    _upload_page("uploadLabel", "text", "The picker's label."),
    _upload_page("containerMinHeight", "number", "Minimum player height, px.", default=200),
    _upload_page("containerMaxWidth", "number", "Maximum player width, px."),
    _upload_page("containerMaxHeight", "number", "Maximum player height, px."),
    _upload_page(
        "objectFit",
        "choice",
        "How the media fits the player (CSS object-fit); the skeleton follows the picture.",
        choices=_choices("contain", "cover", "fill", "none", "scale-down"),
        default="contain",
    ),
    _upload_page(
        "uploadButtonPosition",
        "choice",
        "Where the picker sits in its area.",
        choices=_choices("top", "center", "bottom"),
        default="center",
    ),
    _upload_page("uploadAreaPadding", "number", "Padding around the picker, px.", default=12),
    # §2.7 Not in the contract
    Parameter(
        "language",
        "language",
        "2.7",
        "FormTrack: messages, cues and the page in en, fr, es or de (a region such as fr-FR "
        "is accepted); other languages fall back to en with a warning.",
        field="language",
        aliases=("locale",),
        default="en",
        status="extended",
    ),
    # The live page's coaching (PoseTracker has no target or sound parameters: §2.7).
    Parameter(
        "reps",
        "integer",
        "2.7",
        "FormTrack, live page: a rep target; the count shows its progress toward it (repetition "
        "exercises and references).",
        low=1,
        high=1000,
        endpoints=("tracking",),
        status="extended",
    ),
    Parameter(
        "duration",
        "integer",
        "2.7",
        "FormTrack, live page: a time target in seconds; the timer shows its progress toward it "
        "(holds: the time held; other exercises: the time since tracking started).",
        low=1,
        high=3600,
        endpoints=("tracking",),
        status="extended",
    ),
    Parameter(
        "voice",
        "boolean",
        "2.7",
        "FormTrack, live page: speak the form cues (the browser's speech synthesis, in the "
        "session's language).",
        default=False,
        endpoints=("tracking",),
        status="extended",
    ),
    Parameter(
        "sound",
        "boolean",
        "2.7",
        "FormTrack, live page: a beep for each counted rep, and when a target is reached.",
        default=False,
        endpoints=("tracking",),
        status="extended",
    ),
    Parameter(
        "workout",
        "workout",
        "2.7",
        "FormTrack, live page: a workout to guide the person through, set by set, with rests: "
        "the UUID of one of your organisation's workouts (POST /api/v1/workouts), or inline, "
        "such as squat:10x3,rest:30,plank:45s (docs/events.md, Workouts). Not with exercise or "
        "reference; reps and duration are ignored beside it (each step has its target).",
        field="workout",
        endpoints=("tracking",),
        status="extended",
        refusal="invalid_workout",
    ),
    Parameter(
        "workoutFrom",
        "set_position",
        "2.7",
        "FormTrack, live page: the set of the workout to start at, as step.set (2.3: the second "
        "step's third set); the page sends it when it reconnects mid-workout. Not a set of the "
        "workout, or without workout: the first set, with a warning.",
        field="workout_from",
        endpoints=("tracking",),
        status="extended",
    ),
    Parameter(
        "eventTiming",
        "choice",
        "2.7",
        "FormTrack, upload page: playback posts each event of a video as the replay reaches the "
        "moment it happened, as PoseTracker's page does while it analyses; immediate posts them "
        "all as soon as the analysis is done.",
        choices=_choices("playback", "immediate"),
        default="playback",
        endpoints=("upload",),
        status="extended",
    ),
    # Results that outlive the page (issue #19).
    Parameter(
        "externalUserId",
        "external_id",
        "2.7",
        "FormTrack: your own opaque id of the person (1 to 128 letters, digits, ., _, : or -; "
        "not . or .., never an e-mail address). Each session's summary is then stored with it, "
        "for your organisation only: GET /api/v1/results, the session.completed webhook, the "
        "dashboard's End users. A bad value: none, with a warning (the REST API refuses it, 400).",
        field="external_user_id",
        status="extended",
        api_refusal="invalid_parameter",
    ),
)

BY_NAME: dict[str, Parameter] = {parameter.name: parameter for parameter in PARAMETERS}
# Every spelling a query may use -> its parameter.
BY_SPELLING: dict[str, Parameter] = {
    spelling: parameter
    for parameter in PARAMETERS
    for spelling in (parameter.name, *parameter.aliases)
}


def parameters_for(endpoint: str) -> tuple[Parameter, ...]:
    """The parameters a page reads (not ignored), in table order."""
    return tuple(p for p in PARAMETERS if p.kept and endpoint in p.endpoints)
