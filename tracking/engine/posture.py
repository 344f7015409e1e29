"""Getting the person ready before counting, and noticing when they are lost.

Before counting, every frame is checked in this order and the first problem is reported:
1. the joints the exercise needs are visible and inside the image (both sides facing the camera,
   one side side-on: alternating exercises then count the far leg only while it is visible);
2. the camera view: facing (shoulder width at least 0.3 torso lengths) or side-on (at most 0.55);
   side-on, an assessment of one side (a range of motion's `_left` or `_right`) wants that side
   toward the camera (the better seen one, else the nearer).
   A person who keeps another view for VIEW_GRACE_MS is counted in the view they chose (every
   repetition exercise has a signal for both views): asking forever would only block them. Unless
   the start position cannot be seen in their view (a push-up filmed head-on), or the exercise is
   defined in its view (a pose, `fixed_view`: a front split side-on and a middle split facing the
   camera draw the same lines): then the view is still what they are asked to change;
3. distance: the visible body spans at least a quarter of the image;
4. the exercise's start position (standing, lying...).
All must pass for READY_STABLE_MS in a row ("hold still") before counting starts, or the analysis
confirms the person was ready from what they did (`confirm`: a repetition that began or ended in
the start position, tracking/engine/reps.py). Once counting, a person whose needed joints are not
visible for LOST_AFTER_MS is lost: counting pauses, and starts again only after the same checks.

Once ready, the posture event says so: "Ready!", or for an assessment what to do (its movement's
cue in that view).

A reference movement has no camera view or start position of its own: it needs the landmarks its
movement uses, the torso among them, visible and inside the image (JointNeeds). The same gate,
with the same timing, places and loses the person for both (ExerciseNeeds, JointNeeds).

`direction` tells where to go, in the image's own left and right as the host displays it.
"""

from dataclasses import dataclass

from tracking.engine import events as contract
from tracking.engine.body import SIDE_SWITCH_MARGIN, view_of
from tracking.engine.catalog import Exercise, Start
from tracking.engine.i18n import translate
from tracking.engine.messages import message
from tracking.engine.metrics import JOINTS, SIDES, VISIBILITY_GATE, Frame
from tracking.engine.pose import LANDMARK_NAMES, LEFT_HIP, LEFT_SHOULDER, RIGHT_HIP, RIGHT_SHOULDER

READY_STABLE_MS = 300.0
VIEW_GRACE_MS = 3_000.0
VIEW_REQUIREMENTS = (("face_camera",), ("profile_camera",))
LOST_AFTER_MS = 500.0
FRONT_MIN_RATIO = 0.3
SIDE_MAX_RATIO = 0.55
MIN_BODY_EXTENT = 0.25
TOO_CLOSE_EXTENT = 0.95
# A landmark this far outside the image (as a share of its size) still counts as inside.
IMAGE_MARGIN = 0.02


@dataclass(frozen=True)
class Placement:
    ok: bool
    message: str
    direction: str
    requirements: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    view: str = "front"


def _missing_joints(frame: Frame, side: str, needs: tuple[str, ...]) -> list[str]:
    joints = JOINTS[side]
    return [f"{side}_{name}" for name in needs if not _seen_inside(frame, joints[name])]


def _seen_inside(frame: Frame, index: int) -> bool:
    return frame.v[index] >= VISIBILITY_GATE and frame.in_image(index, IMAGE_MARGIN)


def assess(
    exercise: Exercise,
    frame: Frame | None,
    view: str | None,
    language: str,
    insist_on_view: bool = True,
) -> Placement:
    if frame is None:
        return Placement(False, message("step_in", language), "in-frame", ("full_body_visible",))
    view = view_of(frame, view)
    needs = exercise.needs_in(view)
    missing = {side: _missing_joints(frame, side, needs) for side in SIDES}
    both_needed = view == "front"
    complete = [side for side in SIDES if not missing[side]]
    if len(complete) < (2 if both_needed else 1):
        names = (
            tuple(missing["left"] + missing["right"])
            if both_needed
            else tuple(min(missing.values(), key=len))
        )
        indices = [JOINTS[side][name] for side in SIDES for name in needs]
        if _extent(frame, indices) > TOO_CLOSE_EXTENT:
            key, direction = "move_back", "move-back"
        else:
            key, direction = _which_way(frame, indices)
        return Placement(
            False, message(key, language), direction, ("full_body_visible",), names, view
        )
    ratio = frame.metric("shoulder_width_ratio")
    wants = exercise.view if insist_on_view else "either"
    if wants == "front" and (ratio is None or ratio < FRONT_MIN_RATIO):
        return Placement(
            False, message("face_camera", language), "face-camera", ("face_camera",), (), view
        )
    if wants == "side" and ratio is not None and ratio > SIDE_MAX_RATIO:
        return Placement(
            False,
            message("profile_camera", language),
            "profile-camera",
            ("profile_camera",),
            (),
            view,
        )
    wanted_side = exercise.side
    if wanted_side is not None and view == "side" and near_side(frame, needs) != wanted_side:
        return Placement(
            False,
            message(f"turn_{wanted_side}_side", language),
            "turn-around",
            ("side_to_camera",),
            (),
            view,
        )
    seen = [i for i, visibility in enumerate(frame.v) if visibility >= VISIBILITY_GATE]
    if _extent(frame, seen) < MIN_BODY_EXTENT:
        return Placement(
            False, message("move_closer", language), "move-closer", ("distance",), (), view
        )
    start = exercise.start_in(view)
    if start is not None and not any(_in_start(frame, start, side) for side in complete):
        return Placement(
            False, translate(start.cue, language), "in-frame", ("start_position",), (), view
        )
    return Placement(True, message("hold_still", language), "in-frame", ("hold_still",), (), view)


def near_side(frame: Frame, needs: tuple[str, ...]) -> str:
    """Side-on, the side toward the camera: the one whose `needs` are clearly better seen, else
    the nearer by BlazePose's depth."""
    seen = {side: sum(frame.v[JOINTS[side][name]] for name in needs) / len(needs) for side in SIDES}
    if abs(seen["left"] - seen["right"]) >= SIDE_SWITCH_MARGIN:
        return max(SIDES, key=seen.__getitem__)
    depth = {side: sum(frame.z[JOINTS[side][name]] for name in needs) for side in SIDES}
    return min(SIDES, key=depth.__getitem__)


def _in_start(frame: Frame, start: Start, side: str) -> bool:
    return all(
        condition.holds(frame.metric(condition.metric, condition.side or side))
        for condition in start.conditions
    )


def _extent(frame: Frame, indices: list[int]) -> float:
    if not indices:
        return 0.0
    xs = [frame.x[i] for i in indices]
    ys = [frame.y[i] for i in indices]
    return max((max(xs) - min(xs)) / frame.width, (max(ys) - min(ys)) / frame.height)


def _which_way(frame: Frame, indices: list[int]) -> tuple[str, str]:
    """Where the missing part of the body went, told by the landmarks `indices`: off a side edge,
    off the top or bottom, or simply not seen. Unknown (NaN) landmarks tell nothing."""
    known = [i for i in indices if frame.x[i] == frame.x[i] and frame.y[i] == frame.y[i]]
    if not known:
        return "show_body", "in-frame"
    xs = [frame.x[i] for i in known]
    ys = [frame.y[i] for i in known]
    if min(ys) < 0 or max(ys) > frame.height:
        return "move_back", "move-back"
    if min(xs) < 0:
        return "move_right", "right"
    if max(xs) > frame.width:
        return "move_left", "left"
    return "show_body", "in-frame"


def _lost(language: str, missing: tuple[str, ...] = ()) -> Placement:
    return Placement(False, message("lost", language), "in-frame", ("full_body_visible",), missing)


class ExerciseNeeds:
    """What an exercise needs: its joints in the camera view, the view, the distance and its start
    position (`assess`); once counting, one side's joints (`present`)."""

    def __init__(self, exercise: Exercise):
        self.exercise = exercise
        self.view_fixed = exercise.fixed_view
        # Per camera view, each side's landmark indices of the joints needed (looked up once:
        # `present` is asked every frame).
        self._needed: dict[str | None, list[tuple[int, ...]]] = {}

    def assess(
        self, frame: Frame | None, view: str | None, language: str, insist_on_view: bool = True
    ) -> Placement:
        return assess(self.exercise, frame, view, language, insist_on_view)

    def present(self, frame: Frame | None, view: str | None) -> bool:
        """Still there: at least one side's needed joints (in this view) are visible."""
        if frame is None:
            return False
        sides = self._needed.get(view)
        if sides is None:
            needs = self.exercise.needs_in(view)
            sides = [tuple(JOINTS[side][name] for name in needs) for side in SIDES]
            self._needed[view] = sides
        for indices in sides:
            if frame.visible(*indices):
                return True
        return False

    def lost(self, frame: Frame | None, language: str) -> Placement:
        return _lost(language)

    def ready_message(self, view: str | None, language: str) -> str:
        """An assessment's ready tells what to do in this view; the rest say "Ready!"."""
        movement = next((m for m in self.exercise.rom if m.view == view), None)
        return translate(movement.cue, language) if movement else message("ready", language)


class JointNeeds:
    """What a movement known only by its landmarks needs (a reference movement): every one of
    `landmarks` (which include the shoulders and hips) visible and inside the image; once counting,
    a torso side and at least half of them. The lost event names the ones not seen."""

    view_fixed = False

    def __init__(self, landmarks: tuple[int, ...]):
        self.landmarks = landmarks

    def _unseen(self, frame: Frame | None) -> list[int]:
        if frame is None:
            return list(self.landmarks)
        return [i for i in self.landmarks if not _seen_inside(frame, i)]

    def _names(self, indices: list[int]) -> tuple[str, ...]:
        return tuple(LANDMARK_NAMES[i] for i in indices)

    def assess(
        self, frame: Frame | None, view: str | None, language: str, insist_on_view: bool = True
    ) -> Placement:
        unseen = self._unseen(frame)
        if frame is not None and not unseen:
            return Placement(True, message("hold_still", language), "in-frame", ("hold_still",))
        key, direction = ("step_in", "in-frame") if frame is None else _which_way(frame, unseen)
        return Placement(
            False, message(key, language), direction, ("full_body_visible",), self._names(unseen)
        )

    def present(self, frame: Frame | None, view: str | None) -> bool:
        if frame is None:
            return False
        torso = frame.visible(LEFT_SHOULDER, LEFT_HIP) or frame.visible(RIGHT_SHOULDER, RIGHT_HIP)
        return torso and len(self._unseen(frame)) <= len(self.landmarks) // 2

    def lost(self, frame: Frame | None, language: str) -> Placement:
        return _lost(language, self._names(self._unseen(frame)))

    def ready_message(self, view: str | None, language: str) -> str:
        return message("ready", language)


class PostureGate:
    """States: "placing" until ready, "ready" while counting, "lost" after losing the person.

    `needs` says what must be seen: ExerciseNeeds or JointNeeds."""

    def __init__(self, needs: ExerciseNeeds | JointNeeds, language: str):
        self.needs = needs
        self.language = language
        self.state = "placing"
        self.view: str | None = None
        self._ok_since: float | None = None
        self._absent_since: float | None = None
        self._wrong_view_since: float | None = None
        self._last_sent: tuple | None = None

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    def update(self, t_ms: float, frame: Frame | None) -> tuple[dict | None, Placement | None]:
        """The posture event to send (or None) and, before counting, this frame's placement."""
        needs = self.needs
        if self.state == "ready":
            if needs.present(frame, self.view):
                self._absent_since = None
                return None, None
            if self._absent_since is None:
                self._absent_since = t_ms
            if t_ms - self._absent_since < LOST_AFTER_MS:
                return None, None
            self.state = "lost"
            self._ok_since = None
            lost = needs.lost(frame, self.language)
            return self._event(lost), lost
        placement = needs.assess(frame, self.view, self.language)
        if placement.requirements in VIEW_REQUIREMENTS:
            if self._wrong_view_since is None:
                self._wrong_view_since = t_ms
            if not needs.view_fixed and t_ms - self._wrong_view_since >= VIEW_GRACE_MS:
                relaxed = needs.assess(frame, self.view, self.language, False)
                # A floor exercise filmed head-on never shows its start position (the body
                # points at the camera): the view is what must change, so keep asking for it.
                if relaxed.requirements != ("start_position",):
                    placement = relaxed
        self.view = placement.view
        if not placement.ok:
            self._ok_since = None
            return self._event(placement), placement
        if self._ok_since is None:
            self._ok_since = t_ms
        if t_ms - self._ok_since < READY_STABLE_MS:
            return self._event(placement), placement
        return self.confirm(), placement

    def confirm(self) -> dict | None:
        """The person is ready now (held still in place, or shown ready by their own movement):
        the posture event that says so."""
        self.state = "ready"
        self._absent_since = None
        self._wrong_view_since = None
        text = self.needs.ready_message(self.view, self.language)
        ready = Placement(True, text, "in-frame", (), (), self.view)
        return self._event(ready)

    def _event(self, placement: Placement) -> dict | None:
        key = (placement.message, placement.direction, placement.ok, self.state)
        if key == self._last_sent:
            return None
        self._last_sent = key
        return contract.posture(
            message=placement.message,
            direction=placement.direction,
            ready=self.state == "ready",
            requirements=list(placement.requirements),
            missing_keypoints=list(placement.missing),
        )
