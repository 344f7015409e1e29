"""Reads of the tracking app (its writes: access.py, uploads.py, live.py, webhooks.py, links.py)."""

import datetime
import re
from dataclasses import dataclass

from django.db.models import Count, Max, QuerySet
from django.utils import dateparse, translation
from django.utils.safestring import SafeString

from accounts import tenancy
from config.errors import FormTrackError
from tracking import charts
from tracking.authentication import PageTicket, UploadTicket
from tracking.models import SessionResult, Upload
from tracking.param_table import EXTERNAL_ID_CHARACTERS
from tracking.params import ParamsError, Problem, parse_filter, parse_tracking_params


def uploads_visible_to(auth):
    """The uploads an API caller may see, to narrow further through accounts.tenancy: all of an
    API token's organisation, or only its own for an upload page opened from a single-use link."""
    if isinstance(auth, PageTicket):
        return Upload.objects.filter(link=auth.link)
    if isinstance(auth, UploadTicket):
        return Upload.objects.filter(pk=auth.upload.pk)
    return Upload.objects.all()


def upload_score_chart(upload: Upload) -> SafeString:
    """The finished video's form score per rep as the dashboard's SVG chart, in the language the
    upload asked for (its `language` parameter)."""
    results = upload.results
    if results is None:
        raise FormTrackError(
            "no_results",
            "Only a video whose analysis is done has scores to chart.",
            409,
            uploadStatus=upload.status,
            kind=upload.kind,
        )
    language = parse_tracking_params(upload.query, endpoint="upload").language
    with translation.override(language):
        return charts.score_chart_svg(results.history)


# --- Results stored for end users (tracking/results.py) ----------------------------------------


@dataclass(frozen=True)
class ResultsQuery:
    """Which results to read: one end user's or all, one exercise's or all, in a time range."""

    external_user_id: str | None = None
    exercise: str | None = None
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None  # exclusive


def results_query_parse(params) -> ResultsQuery:
    """`externalUserId` and `exercise`, read by the tracking parameters' parser; `from` and `to`,
    ISO dates (whole days, UTC, both inclusive) or date-times. Raises ParamsError (400)."""
    values = {}
    for name, field in (("externalUserId", "external_user_id"), ("exercise", "exercise")):
        if value := query_value(params, name):
            values[field] = parse_filter(name, value)
    start, end = _moment(params, "from"), _moment(params, "to", end=True)
    if start and end and start >= end:
        problem = Problem("invalid_parameter", "from", "'from' must be before 'to'.")
        raise ParamsError([problem])
    return ResultsQuery(**values, start=start, end=end)


def query_value(params, name: str) -> str:
    """A request's one value of `name` ('' when not sent): refused when sent with different
    values, where a page takes the first, as an API reading or erasing data must not guess."""
    values = set(params.getlist(name))
    if len(values) > 1:
        text = f"Send {name} once: it was sent with different values."
        raise ParamsError([Problem("invalid_parameter", name, text)])
    return values.pop() if values else ""


def _moment(params, name: str, *, end: bool = False) -> datetime.datetime | None:
    value = query_value(params, name).strip()
    if not value:
        return None
    try:
        day = dateparse.parse_date(value)
        moment = None if day else dateparse.parse_datetime(value)
        if day is not None:  # a whole day: `to` takes it in
            day += datetime.timedelta(days=1) if end else datetime.timedelta()
            moment = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
        if moment is not None:
            moment = moment.replace(tzinfo=moment.tzinfo or datetime.UTC)
            moment = moment.astimezone(datetime.UTC)  # as the database compares it
    # The right shape, out of range: 2026-02-30, or past year 9999 once a day is added or the
    # time is in UTC (9999-12-31 as `to`, 0001-01-01T00:00:00+14:00).
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        text = f"'{name}' must be a date (2026-03-01) or a date-time (2026-03-01T08:00:00Z)."
        raise ParamsError([Problem("invalid_parameter", name, text)])
    return moment


def results_of(*, organization, query: ResultsQuery = ResultsQuery()) -> QuerySet:
    """The organisation's results that `query` names, newest first."""
    results = tenancy.list_for_org(SessionResult, organization)
    if query.external_user_id is not None:
        results = results.filter(external_user_id=query.external_user_id)
    if query.exercise is not None:
        results = results.filter(exercise=query.exercise)
    if query.start is not None:
        results = results.filter(completed_at__gte=query.start)
    if query.end is not None:
        results = results.filter(completed_at__lt=query.end)
    return results


_ID_PREFIX = re.compile(f"[{EXTERNAL_ID_CHARACTERS}]*")


def end_users(*, organization, prefix: str = "") -> QuerySet:
    """The organisation's end users (externalUserId) with results: each one's `results` (how
    many) and `last_at` (the latest), the most recently active first."""
    results = tenancy.list_for_org(SessionResult, organization)
    if prefix and not _ID_PREFIX.fullmatch(prefix):
        # No id starts so; and the database never sees text it may refuse (PostgreSQL, a NUL).
        results = results.none()
    elif prefix:
        results = results.filter(external_user_id__startswith=prefix)
    return (
        results.order_by()
        .values("external_user_id")
        .annotate(results=Count("id"), last_at=Max("completed_at"))
        .order_by("-last_at", "external_user_id")
    )


def movements_of(results: QuerySet) -> list[dict]:
    """The exercises and reference movements among `results`: each one's `exercise`,
    `reference`, `sessions` and `last_at`, the most recent first."""
    return list(
        results.order_by()
        .values("exercise", "reference")
        .annotate(sessions=Count("id"), last_at=Max("completed_at"))
        .order_by("-last_at")
    )
