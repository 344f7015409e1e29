"""Workouts: those an organisation saves (POST /api/v1/workouts, the dashboard), and the one a
live page or socket follows (`workout=`: a saved workout's UUID, or one written inline).

tracking.engine.workout has the structure and the inline grammar; tracking.engine.tracker's
WorkoutTracker guides a person through one.
"""

import uuid

from accounts import tenancy
from config.errors import FormTrackError
from references.models import ReferenceMovement
from references.selectors import reference_signature_for
from tracking.engine.workout import Workout, WorkoutInvalid, parse_workout, workout_from_steps
from tracking.models import SavedWorkout
from tracking.param_messages import message


def invalid_workout(invalid: WorkoutInvalid, language: str = "en") -> FormTrackError:
    """The refusal of a workout that cannot be followed, saying what is wrong with it."""
    return FormTrackError("invalid_workout", message(invalid.key, language, **invalid.details))


def workout_read(*, inline: str | None = None, steps: list[dict] | None = None) -> Workout:
    """A workout from its inline text or its list of steps (one of them); FormTrackError
    invalid_workout when it is not one."""
    try:
        return parse_workout(inline) if steps is None else workout_from_steps(steps)
    except WorkoutInvalid as invalid:
        raise invalid_workout(invalid) from invalid


def workout_create(*, organization, name: str, workout: Workout, created_by=None) -> SavedWorkout:
    """Save a workout. Its reference steps must name reference movements of the organisation
    (whether they are ready is checked when a page follows it)."""
    known = set(
        tenancy.list_for_org(ReferenceMovement, organization)
        .filter(pk__in=workout.references)
        .values_list("pk", flat=True)
    )
    for position, step in enumerate(workout.steps, 1):
        if step.reference is not None and step.reference not in known:
            raise FormTrackError(
                "invalid_workout",
                f"Workout step {position}: reference movement {step.reference} was not found "
                "in your organisation.",
            )
    return SavedWorkout.objects.create(
        organization=organization,
        name=name,
        steps=[step.to_dict() for step in workout.steps],
        created_by=created_by,
    )


def workout_delete(*, workout: SavedWorkout) -> None:
    """Pages and links that name it are refused from now on (workout_not_found)."""
    workout.delete()


def workout_for_tracking(
    *, organization, workout: uuid.UUID | Workout, language: str = "en"
) -> tuple[Workout, dict]:
    """The workout a page or socket asks for (a saved one is looked up in the organisation) and
    the signature of each reference movement it names. FormTrackError when it cannot be
    followed: workout_not_found, invalid_workout, or a reference's own refusal."""
    if isinstance(workout, uuid.UUID):
        saved = tenancy.list_for_org(SavedWorkout, organization).filter(pk=workout).first()
        if saved is None:
            raise FormTrackError(
                "workout_not_found", f"Workout {workout} was not found in your organisation.", 404
            )
        try:
            workout = saved.plan
        except WorkoutInvalid as invalid:
            raise invalid_workout(invalid, language) from invalid
    signatures = {
        reference: reference_signature_for(organization=organization, reference_id=reference)
        for reference in workout.references
    }
    return workout, signatures
