from config.errors import FormTrackError


class AccessError(FormTrackError):
    """A request refused for its credentials or its quota, with the contract's error code."""


def invalid_token() -> AccessError:
    return AccessError(
        "invalid_token",
        "Invalid params. This API token is unknown, revoked or expired: "
        "set token=YOUR_API_KEY from your FormTrack dashboard.",
        401,
    )


def origin_not_allowed(origin: str | None) -> AccessError:
    seen = origin or "no origin"
    return AccessError(
        "origin_not_allowed",
        f"This API token may not be used from {seen}: add it to the token's allowed origins.",
        403,
    )


def secret_key_required(
    what: str = "Call the REST API from your server with a secret key (ft_live_…).",
) -> AccessError:
    return AccessError(
        "secret_key_required",
        "This is a publishable key (ft_pub_…): it opens the tracking and upload pages only. "
        + what,
        403,
    )


def quota_exceeded(limit: int) -> AccessError:
    return AccessError(
        "quota_exceeded",
        f"Your organisation has used all {limit} tracking calls of this month. "
        "Upgrade your plan or wait for next month.",
        429,
    )
