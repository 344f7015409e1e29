"""Opening a tracking page or session: parameters, token, origin, plan and quota, in one place."""

from dataclasses import dataclass

from accounts import errors, selectors, services
from accounts.errors import AccessError
from accounts.models import ApiToken
from tracking.params import ParamsError, TrackingParams, parse_tracking_params


@dataclass(frozen=True)
class TrackingAccess:
    params: TrackingParams
    token: ApiToken
    calls_left: int


class TrackingRefused(Exception):
    """Why a page, session or upload cannot start: an HTTP status and the `error` event."""

    def __init__(self, status: int, event: dict, problems: list[dict]):
        super().__init__(event["message"])
        self.status = status
        self.event = event
        self.problems = problems

    @classmethod
    def from_params_error(cls, error: ParamsError) -> "TrackingRefused":
        problems = [
            {"code": p.code, "param": p.param, "message": p.message} for p in error.problems
        ]
        return cls(error.status, error.to_event(), problems)

    @classmethod
    def from_access_error(cls, error: AccessError) -> "TrackingRefused":
        problem = {"code": error.code, "param": "token", "message": error.message}
        return cls(error.status, error.to_event(), [problem])


def tracking_open(query, *, endpoint: str, origin: str | None) -> TrackingAccess:
    """Validate everything a tracking page, WebSocket or upload needs before it starts.

    Takes no quota: a call is taken when a session actually starts or an upload is accepted.
    """
    try:
        params = parse_tracking_params(query, endpoint=endpoint)
    except ParamsError as error:
        raise TrackingRefused.from_params_error(error) from error
    try:
        token = services.token_authenticate(params.token, origin=origin, browser=True)
    except AccessError as error:
        raise TrackingRefused.from_access_error(error) from error
    org = token.organization
    quota = selectors.quota_status(organization=org)
    if quota.left == 0:
        raise TrackingRefused.from_access_error(errors.quota_exceeded(quota.limit))
    return TrackingAccess(params=params.gated_for(org.plan_obj), token=token, calls_left=quota.left)
