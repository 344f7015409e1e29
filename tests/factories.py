import copy
import functools
from pathlib import Path

import factory
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import services
from accounts.models import Organization
from tests.support.clips import SQUAT_CLIP, clip_poses
from tracking import results, uploads
from tracking.access import tracking_open
from tracking.engine.tracker import open_tracker
from tracking.models import SessionResult, Upload
from tracking.params import parse_tracking_params


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    password = factory.django.Password("correct horse battery staple")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Team {n}")
    plan = "developer"


def make_token(org, **kwargs) -> str:
    """A new token for `org`; returns the raw secret, as the dashboard shows it once."""
    kwargs.setdefault("name", "test token")
    _, raw = services.token_create(organization=org, **kwargs)
    return raw


def held_upload(token: str, monkeypatch, name: str = "squat.mp4", **params) -> Upload:
    """The squat clip, accepted as an upload whose analysis job is held back, so the test can
    run it by hand (uploads.upload_claim, then upload_analyze). `params`: more parameters."""
    monkeypatch.setattr(uploads.background, "enqueue", lambda *args: None)
    access = tracking_open(
        {"token": token, "exercise": "squat", **params},
        endpoint="upload",
        origin=None,
        origin_required=False,
    )
    file = SimpleUploadedFile(name, SQUAT_CLIP.read_bytes())
    return uploads.upload_create(access=access, file=file)


@functools.cache
def _clip_summary(clip: Path, exercise: str) -> dict:
    tracker = open_tracker(parse_tracking_params({"token": "-", "exercise": exercise}))
    events = [event for pose in clip_poses(clip) for event in tracker.feed(pose)]
    return results.session_summary(events + tracker.finish())


def clip_summary(clip: Path = SQUAT_CLIP, exercise: str = "squat") -> dict:
    """The engine's summary of a real clip's recorded poses, as its upload's analysis ends (the
    squat clip: 4 reps, grade A)."""
    return copy.deepcopy(_clip_summary(clip, exercise))


def stored_result(
    org, external_user_id: str, *, clip: Path = SQUAT_CLIP, exercise: str = "squat", **kwargs
) -> SessionResult:
    """A result recorded for an end user through the service, with a real clip's summary."""
    kwargs.setdefault("kind", SessionResult.Kind.LIVE)
    return results.result_record(
        org=org,
        external_user_id=external_user_id,
        exercise=exercise,
        summary=clip_summary(clip, exercise),
        **kwargs,
    )
