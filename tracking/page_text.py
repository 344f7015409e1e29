"""What the tracking pages' scripts write themselves, by key.

English, marked for the catalogs; a page gets its own keys translated into its language as JSON
(`formtrack-text`, read by static/formtrack/text.js). The engine's messages come in its events.
"""

from django.utils.translation import gettext, gettext_noop

from tracking.engine.catalog import EXERCISES, Exercise
from tracking.engine.scoring import SHALLOW

LIVE_PAGE = {
    # Start-up stages, then what the person sees until the first pose.
    "connecting": gettext_noop("Connecting…"),
    "starting_camera": gettext_noop("Starting camera…"),
    "loading_model": gettext_noop("Loading pose model…"),
    "loading_model_percent": gettext_noop("Loading pose model… {percent}%"),
    "step_in": gettext_noop("Step into the frame"),
    "waitingServer": gettext_noop("Waiting for the server…"),
    # Tracking cannot start or go on: a title and what the person can do (the host and the console
    # get the error itself).
    "camera_denied_title": gettext_noop("Camera access needed"),
    "camera_permission_denied": gettext_noop(
        "Camera access was refused. Allow the camera for this app, then reload."
    ),
    "camera_unavailable_title": gettext_noop("Camera unavailable"),
    "camera_insecure": gettext_noop("The camera only works on a secure (https) page."),
    "camera_not_found_title": gettext_noop("No camera found"),
    "camera_not_found": gettext_noop("No camera was found on this device."),
    "camera_busy_title": gettext_noop("Camera in use"),
    "camera_busy": gettext_noop("The camera is in use by another app. Close it, then reload."),
    "connection_lost_title": gettext_noop("Connection lost"),
    "connection_lost": gettext_noop(
        "The connection to the tracking server was lost. Reload to start again."
    ),
    "refused_title": gettext_noop("Tracking can't start"),
    "refused_later": gettext_noop(
        "Tracking isn't available right now. Please try again in a few minutes."
    ),
    "reconnecting": gettext_noop("Connection lost: reconnecting…"),
    # Coaching.
    "target_reached": gettext_noop("Target reached!"),
    "finished": gettext_noop("Session finished"),
    # A workout: what its step counts, the step and set, the rest, what comes next.
    "reps": gettext_noop("reps"),
    "held": gettext_noop("held"),
    "step_of": gettext_noop("Step {step} of {steps}"),
    "set_of": gettext_noop("Set {set} of {sets}"),
    "rest": gettext_noop("Rest"),
    "next": gettext_noop("Next: {exercise}"),
    "workout_done": gettext_noop("Workout complete!"),
}
# The replay of an analysed video, the count and grade drawn over it (static/formtrack/replay.js),
# on the upload page and the dashboard's upload page.
REPLAY = {
    "count": gettext_noop("Count"),
    "grade": gettext_noop("Grade"),
    "video_label": gettext_noop("Video with the detected skeleton and counter drawn over it"),
    "video_unplayable": gettext_noop(
        "This browser cannot play this video's format; the results are below."
    ),
}
UPLOAD_PAGE = REPLAY | {
    "reps": gettext_noop("Reps"),
    "seconds": gettext_noop("Seconds held"),
    "average_score": gettext_noop("Average score"),
    "rejected_reps": gettext_noop("Rejected reps"),
    "send_video": gettext_noop("Uploading the video"),
    "send_image": gettext_noop("Uploading the photo"),
    "fetch_video": gettext_noop("Fetching the video"),
    "fetch_image": gettext_noop("Fetching the photo"),
    "photo_alt": gettext_noop("The photo with the detected skeleton drawn on it"),
    "annotated_export": gettext_noop("Annotated video (export)"),
    # An assessment's card: the movement's name (`movements`), the side it was measured on.
    "measured_left": gettext_noop("{movement}, left side"),
    "measured_right": gettext_noop("{movement}, right side"),
}
PAGES = {"tracking": LIVE_PAGE, "upload": UPLOAD_PAGE, "replay": REPLAY}


def page_text(endpoint: str, exercise: str | None = None) -> dict[str, object]:
    """The page's texts in the active language. The upload page's `faults` say what each fault
    a rep's `faults` may name means: the engine's cue for it."""
    texts: dict[str, object] = {key: gettext(message) for key, message in PAGES[endpoint].items()}
    if endpoint == "upload":
        texts["faults"] = _fault_cues(EXERCISES.get(exercise))
        texts["movements"] = _movement_names(EXERCISES.get(exercise))
    return texts


def _movement_names(exercise: Exercise | None) -> dict[str, str]:
    """An assessment's movements by `joint_movement`, as its measurements name them."""
    rom = exercise.rom if exercise is not None else ()
    return {f"{m.joint}_{m.movement}": gettext(m.label) for m in rom}


def _fault_cues(exercise: Exercise | None) -> dict[str, str]:
    if exercise is None:
        return {}
    cues = {check.id: gettext(check.message) for check in exercise.checks}
    if exercise.depth_cue:
        cues[SHALLOW] = gettext(exercise.depth_cue)
    return cues
