"""Opening a tracking page, a live socket or an upload: parameters, credential (a token, a
single-use link or its ticket), origin, plan, burst limits and quota, in one place."""

from dataclasses import dataclass, field

from accounts import errors, selectors, services
from accounts.errors import AccessError
from accounts.models import ApiToken
from config import ratelimit
from config.errors import FormTrackError
from references.selectors import ReferenceUnavailable, reference_signature_for
from tracking import links, workouts
from tracking.engine.workout import Workout
from tracking.models import TrackingLink
from tracking.params import ParamsError, TrackingParams, parse_tracking_params


@dataclass(frozen=True)
class TrackingAccess:
    params: TrackingParams
    token: ApiToken
    calls_left: int
    reference_signature: dict | None = None
    # The single-use link (POST /api/v1/sessions) the request came through, if any.
    link: TrackingLink | None = None
    # The workout to follow (workout=), and the signature of each reference movement it names.
    workout: Workout | None = None
    workout_signatures: dict = field(default_factory=dict)


class TrackingRefused(FormTrackError):
    """Why a page, live session or upload cannot start: the error, and what the refused page lists,
    each problem with the parameter it is about."""

    def __init__(self, error: FormTrackError, param: str = "", language: str = "en"):
        super().__init__(
            error.code, error.message, error.status, retry_after=error.retry_after, **error.details
        )
        self.problems = [{"code": error.code, "param": param, "message": error.message}]
        self.language = language

    @classmethod
    def from_params_error(cls, error: ParamsError) -> "TrackingRefused":
        refused = cls(error, language=error.language)
        refused.problems = [problem.to_dict() for problem in error.problems]
        return refused

    @classmethod
    def from_access_error(cls, error: AccessError, param: str = "token") -> "TrackingRefused":
        return cls(error, param)

    @classmethod
    def from_rate_limited(cls, limited: ratelimit.RateLimited) -> "TrackingRefused":
        return cls(limited, "rate")


def tracking_open(
    query,
    *,
    endpoint: str,
    origin: str | None,
    origin_required: bool = True,
    via: str = "api",
    client_ip: str | None = None,
) -> TrackingAccess:
    """Validate everything a tracking page, WebSocket or upload needs before it starts.

    `via` says where the request comes from: "page", "websocket" or "api". Pages and sockets count
    against the burst rate limits here, per client address and per token (the API counts its own).
    The credential is the API token (`token=`), a single-use link (`session=`, pages and sockets;
    opening uses it up) or the ticket of a page opened from one (`ticket=`): tracking/links.py.

    Takes no quota: a call is taken when a live session actually starts or an upload is accepted.
    """
    credential = None
    credential_param = links.credential_name(query) or "token"
    try:
        if via != "api":
            ratelimit.hit_ip(client_ip)
        if credential_param == "token":
            params = parse_tracking_params(query, endpoint=endpoint, api=via == "api")
            token = services.token_authenticate(
                params.token, origin=origin, origin_required=origin_required
            )
        else:
            credential = links.link_credential(query, endpoint=endpoint, via=via)
            params = credential.params
            token = services.token_authorize(
                credential.link.token, origin=origin, origin_required=origin_required
            )
        if via != "api":
            ratelimit.hit_token(token.pk, via)
            services.token_note_page_use(token)
    except ratelimit.RateLimited as limited:
        raise TrackingRefused.from_rate_limited(limited) from limited
    except ParamsError as error:
        raise TrackingRefused.from_params_error(error) from error
    except AccessError as error:
        raise TrackingRefused.from_access_error(error, credential_param) from error
    org = token.organization
    quota = selectors.quota_status(organization=org)
    if quota.left == 0:
        raise TrackingRefused.from_access_error(errors.quota_exceeded(quota.limit))
    signature = None
    if params.reference is not None:
        try:
            signature = reference_signature_for(organization=org, reference_id=params.reference)
        except ReferenceUnavailable as error:
            raise TrackingRefused(error, params.reference_param, params.language) from error
    workout, workout_signatures = None, {}
    if params.workout is not None:
        try:
            workout, workout_signatures = workouts.workout_for_tracking(
                organization=org, workout=params.workout, language=params.language
            )
        except FormTrackError as error:
            raise TrackingRefused(error, "workout", params.language) from error
        params = params.for_workout(workout)
    if credential is not None and credential.opens_link:  # last: a refused request keeps it
        try:
            links.link_consume(credential.link)
        except AccessError as error:
            raise TrackingRefused.from_access_error(error, credential_param) from error
    return TrackingAccess(
        params=params.gated_for(org.plan_obj),
        token=token,
        calls_left=quota.left,
        reference_signature=signature,
        link=credential.link if credential is not None else None,
        workout=workout,
        workout_signatures=workout_signatures,
    )
