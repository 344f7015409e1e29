"""The one error type: every refusal FormTrack answers, from a view, a socket, a job or the engine.

Pure Python (no Django), so the engine raises it too. An error is a `code` from the contract
(`invalid_token`, `quota_exceeded`, `media_decode_error`, …), a `message` for a person, the HTTP
`status` it answers with, and optional `details`. It reaches clients as `to_event()`: the JSON
body of an API error, the `error` event of a socket or a tracking page. What renders it:
`accounts.api_errors` (the REST API), `config.error_pages.error_response` (plain Django views),
`tracking.views` (the refused page) and `tracking.consumers` (its close code, from its status).
"""


class FormTrackError(Exception):
    """`retry_after`: seconds after which trying again may succeed (`retryAfter` in the event,
    and a `Retry-After` header). `details` go in the event as they are (JSON values)."""

    # code, message and status are positional-only, so any name may be a detail.
    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        /,
        *,
        retry_after: int | None = None,
        **details,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.details = details

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        # Pickles (Celery results, logs) whatever a subclass's constructor takes.
        return _restore, (type(self), self.args, self.__dict__)

    def to_event(self) -> dict:
        """The `error` event. `error` repeats the code: PoseTracker's integrations read it."""
        event = {"type": "error", "code": self.code, "error": self.code, "message": self.message}
        if self.details:
            event["details"] = dict(self.details)
        if self.retry_after is not None:
            event["retryAfter"] = self.retry_after
        return event


def _restore(cls: type, args: tuple, state: dict) -> FormTrackError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error
