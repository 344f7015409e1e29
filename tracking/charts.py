"""Server-side SVG charts: no JavaScript, readable by screen readers. The dashboard draws them
all; the upload page draws the score chart too (the API's score_chart), in the page's language.

Every chart is an `<svg role="img">` with an `aria-label`, a `<title>` and a `<desc>` that says in
words what the picture shows, and a `<title>` on each bar so hovering shows its value. The markup
scales with its container (viewBox, width 100%).
"""

import math
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

GRADE_COLOURS = {"A": "#2f9e44", "B": "#74b816", "C": "#f08c00", "D": "#e8590c", "F": "#c92a2a"}


MAX_AXIS_INTERVALS = 5  # gridlines above the baseline of the usage chart, at most


def _axis_step(value: float, intervals: int, *, whole: bool) -> float:
    """The smallest 1, 2 or 5 × 10^n step of which `intervals` reach `value` (ticks that read
    well); at least 1 for whole counts, so a count's ticks are whole numbers."""
    wanted = value / intervals
    if wanted <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(wanted))
    step = next(f * magnitude for f in (1, 2, 5, 10) if f * magnitude >= wanted)
    return max(step, 1.0) if whole else step


def _tick(value: float, step: float) -> str:
    """A tick label with as many decimals as its step needs (0.05 steps: two)."""
    decimals = max(0, -math.floor(math.log10(step)))
    return f"{value:,.{decimals}f}"


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _gridline(left: float, plot_w: float, y: float, tick: str, classes: str = "axis") -> str:
    """A gridline across the plot, its value on the left axis."""
    return (
        f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>'
        f'<text class="{classes}" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>'
    )


def _baseline(left: float, plot_w: float, y: float) -> str:
    return f'<line class="baseline" x1="{left}" x2="{left + plot_w}" y1="{y}" y2="{y}"/>'


def _day_label(x: float, y: float, day: str) -> str:
    """A day on the time axis, as MM-DD (`day` is an ISO date)."""
    return f'<text class="axis" x="{x:.1f}" y="{y}" text-anchor="middle">{escape(day[5:])}</text>'


def _svg(
    *,
    chart_id: str,
    title: str,
    desc: str,
    width: int | None,
    height: int,
    body: list[str],
    fit="meet",
):
    """`width` None: a fluid chart, as wide as its container and `height` pixels high, drawn in
    pixels down and percentages across, so its text keeps its size at every width."""
    title, desc = escape(title), escape(desc)
    if width is None:
        size = f'width="100%" height="{height}"'
    else:
        aspect = "none" if fit == "stretch" else "xMidYMid meet"
        size = f'viewBox="0 0 {width} {height}" preserveAspectRatio="{aspect}"'
    return mark_safe(  # noqa: S308 - every interpolated text is escaped above or below
        f'<svg class="chart" id="{chart_id}" role="img" {size} aria-label="{title}" '
        f'aria-describedby="{chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{title}</title><desc id="{chart_id}-desc">{desc}</desc>'
        + "".join(body)
        + "</svg>"
    )


@dataclass(frozen=True)
class DayPoint:
    label: str  # ISO date
    calls: int
    minutes: float


DAY_LABEL_PX = 80  # room for one day label ("03-14") on the usage chart's axis


def usage_chart_svg(
    points: list[DayPoint], *, chart_id: str = "usage-chart", width: int = 760
) -> SafeString:
    """Calls per day as bars (left axis) and minutes tracked as a line (right axis). A narrower
    `width` draws the same chart for phones, its text still readable, with fewer day labels."""
    height = 270
    left, right, top, bottom = 48, 52, 28, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    total_calls = sum(p.calls for p in points)
    total_minutes = sum(p.minutes for p in points)
    if points:
        span = f"{points[0].label} to {points[-1].label}"
        busiest = max(points, key=lambda p: p.calls)
        desc = (
            f"From {span}: {_number(total_calls)} calls and {_number(total_minutes)} minutes "
            f"tracked in total."
        )
        if busiest.calls:
            desc += f" Busiest day {busiest.label} with {_number(busiest.calls)} calls."
    else:
        desc = "No days in range."
    title = "Calls and minutes tracked per day"
    # Calls are counted, so their ticks are whole numbers; minutes share the calls' gridlines.
    most_calls = max((p.calls for p in points), default=0)
    calls_step = _axis_step(most_calls, MAX_AXIS_INTERVALS, whole=True)
    intervals = max(2, math.ceil(most_calls / calls_step))
    most_minutes = max((p.minutes for p in points), default=0)
    minutes_step = _axis_step(most_minutes, intervals, whole=False)
    calls_top, minutes_top = calls_step * intervals, minutes_step * intervals
    body = []
    for i in range(intervals + 1):
        y = top + plot_h - plot_h * i / intervals
        body.append(
            _gridline(left, plot_w, y, _tick(calls_step * i, calls_step), "axis axis-calls")
            + f'<text class="axis axis-minutes" x="{left + plot_w + 6}" y="{y + 4:.1f}">'
            f"{_tick(minutes_step * i, minutes_step)}</text>"
        )
    body.append(
        f'<text class="axis-title" x="{left - 6}" y="{top - 14}" text-anchor="end">calls</text>'
        f'<text class="axis-title axis-minutes" x="{left + plot_w + 6}" y="{top - 14}">min</text>'
    )
    count = max(len(points), 1)
    slot = plot_w / count
    bar_w = max(1.0, slot * 0.7)
    label_every = max(1, math.ceil(count / max(1, plot_w // DAY_LABEL_PX)))
    line = []
    for i, point in enumerate(points):
        x = left + slot * i + (slot - bar_w) / 2
        bar_h = plot_h * point.calls / calls_top
        tip = escape(f"{point.label}: {_number(point.calls)} calls, {point.minutes:.1f} min")
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" '
            f'width="{bar_w:.1f}" height="{max(bar_h, 0):.1f}"><title>{tip}</title></rect>'
        )
        line.append(
            f"{left + slot * i + slot / 2:.1f},"
            f"{top + plot_h - plot_h * point.minutes / minutes_top:.1f}"
        )
        if i % label_every == 0:
            body.append(_day_label(left + slot * i + slot / 2, height - bottom + 16, point.label))
    if len(line) > 1:
        body.append(f'<polyline class="line" points="{" ".join(line)}"/>')
    elif line:
        cx, cy = line[0].split(",")
        body.append(f'<circle class="dot" cx="{cx}" cy="{cy}" r="3"/>')
    body.append(_baseline(left, plot_w, top + plot_h))
    return _svg(chart_id=chart_id, title=title, desc=desc, width=width, height=height, body=body)


def quota_bar_svg(*, used: int, limit: int, chart_id: str = "quota-bar") -> SafeString:
    """How much of the month's call quota is used: a bar that turns amber, then red."""
    width, height = 600, 18
    ratio = min(1.0, used / limit) if limit else 1.0
    state = "ok" if ratio < 0.75 else "warn" if ratio < 0.9 else "full"
    left = max(limit - used, 0)
    title = f"{_number(used)} of {_number(limit)} calls used this month ({ratio * 100:.0f}%)"
    desc = f"{_number(left)} calls left this month."
    fill_w = width * ratio
    body = [
        f'<rect class="quota-track" x="0" y="0" width="{width}" height="{height}"/>',
        f'<rect class="quota-fill quota-{state}" x="0" y="0" width="{fill_w:.1f}" '
        f'height="{height}"/>',
    ]
    return _svg(
        chart_id=chart_id,
        title=title,
        desc=desc,
        width=width,
        height=height,
        body=body,
        fit="stretch",
    )


# The score chart is fluid (_svg): a phone's width shows every bar with its labels. Across, in
# percent of its width: the left margin holds the score axis' labels, a bar is at most BAR_MAX
# wide; each bar shows its score while there are few enough for their slots to hold it on a
# phone, and rep numbers are written for at most MAX_REP_LABELS reps.
SCORE_LEFT, SCORE_RIGHT, BAR_MAX = 8.0, 2.0, 7.0
MAX_VALUED_BARS = 12
MAX_REP_LABELS = 12


def score_chart_svg(history: list[dict], *, chart_id: str = "score-chart") -> SafeString:
    """One bar per repetition (or hold), its height the form score 0–100, coloured by grade."""
    height, top, bottom = 240, 18, 34
    left, right = SCORE_LEFT, SCORE_RIGHT
    plot_w, plot_h = 100 - left - right, height - top - bottom
    reps = []
    for position, item in enumerate(history or [], 1):
        if not isinstance(item, dict):
            continue
        score = item.get("formScore", item.get("score"))
        try:
            score = max(0.0, min(100.0, float(score)))
        except (TypeError, ValueError):
            continue
        index = item.get("index", position)
        grade = str(item.get("grade") or "")
        reps.append((index, score, grade))
    title = gettext("Form score per repetition")
    if reps:
        average = sum(score for _, score, _ in reps) / len(reps)
        best = max(reps, key=lambda r: r[1])
        worst = min(reps, key=lambda r: r[1])
        desc = gettext(
            "%(count)s repetitions, average score %(average)s. Best: repetition %(best)s "
            "(%(best_score)s). Lowest: repetition %(worst)s (%(worst_score)s)."
        ) % {
            "count": len(reps),
            "average": f"{average:.0f}",
            "best": best[0],
            "best_score": f"{best[1]:.0f}",
            "worst": worst[0],
            "worst_score": f"{worst[1]:.0f}",
        }
    else:
        average = None
        desc = gettext("No scored repetitions.")
    body = []
    end = left + plot_w
    for value in (0, 25, 50, 75, 100):
        y = top + plot_h - plot_h * value / 100
        body.append(
            f'<line class="grid" x1="{left}%" x2="{end}%" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{left}%" dx="-4" y="{y + 4:.1f}" text-anchor="end">'
            f"{value}</text>"
        )
    slot = plot_w / max(len(reps), 1)
    bar_w = min(BAR_MAX, slot * 0.7)
    label_every = max(1, math.ceil(len(reps) / MAX_REP_LABELS))
    valued = len(reps) <= MAX_VALUED_BARS
    for i, (index, score, grade) in enumerate(reps):
        x = left + slot * i + (slot - bar_w) / 2
        bar_h = plot_h * score / 100
        colour = GRADE_COLOURS.get(grade.upper(), "#3b5bdb")
        tip = (
            gettext("Repetition %(index)s: score %(score)s, grade %(grade)s")
            if grade
            else gettext("Repetition %(index)s: score %(score)s")
        )
        tip = escape(tip % {"index": index, "score": f"{score:.0f}", "grade": grade})
        middle = x + bar_w / 2
        body.append(
            f'<rect class="score-bar" x="{x:.2f}%" y="{top + plot_h - bar_h:.1f}" '
            f'width="{bar_w:.2f}%" height="{bar_h:.1f}" fill="{colour}"><title>{tip}</title></rect>'
        )
        if i % label_every == 0:
            body.append(
                f'<text class="axis" x="{middle:.2f}%" y="{height - bottom + 16}" '
                f'text-anchor="middle">{escape(str(index))}</text>'
            )
        if valued:
            body.append(
                f'<text class="bar-value" x="{middle:.2f}%" '
                f'y="{top + plot_h - bar_h - 4:.1f}" text-anchor="middle">{score:.0f}</text>'
            )
    if average is not None:
        y = top + plot_h - plot_h * average / 100
        tip = escape(gettext("Average %(score)s") % {"score": f"{average:.0f}"})
        body.append(
            f'<line class="average" x1="{left}%" x2="{end}%" y1="{y:.1f}" y2="{y:.1f}">'
            f"<title>{tip}</title></line>"
        )
    body.append(
        f'<line class="baseline" x1="{left}%" x2="{end}%" y1="{top + plot_h}" y2="{top + plot_h}"/>'
    )
    return _svg(chart_id=chart_id, title=title, desc=desc, width=None, height=height, body=body)


@dataclass(frozen=True)
class ProgressPoint:
    label: str  # the session's ISO date
    value: float
    grade: str = ""  # colours its dot, when it has one


def progress_chart_svg(
    points: list[ProgressPoint],
    *,
    title: str,
    unit: str,
    chart_id: str,
    width: int = 760,
    top: float | None = None,
) -> SafeString:
    """One dot per session, oldest first, joined by a line: an end user's count, score or angle
    over time. A dot with a grade takes its colour. `top`: a fixed top of the axis (100 for
    scores); else it fits the values. A narrower `width` draws it for phones (fewer labels)."""
    height = 240
    left, right, margin_top, bottom = 48, 16, 18, 34
    plot_w, plot_h = width - left - right, height - margin_top - bottom
    if points:
        first, last = points[0], points[-1]
        best = max(points, key=lambda p: p.value)
        desc = (
            f"{len(points)} sessions from {first.label} to {last.label}: {_number(first.value)} "
            f"{unit} at first, {_number(last.value)} at last, best {_number(best.value)} on "
            f"{best.label}."
        )
    else:
        desc = "No sessions."
    most = max((p.value for p in points), default=0.0)
    if top is None:
        step = _axis_step(most, MAX_AXIS_INTERVALS, whole=most >= MAX_AXIS_INTERVALS)
        intervals = max(2, math.ceil(most / step)) if most > 0 else 2
    else:
        step, intervals = top / 4, 4
    axis_top = step * intervals
    body = []
    for i in range(intervals + 1):
        y = margin_top + plot_h - plot_h * i / intervals
        body.append(_gridline(left, plot_w, y, _tick(step * i, step)))
    slot = plot_w / max(len(points), 1)
    label_every = max(1, math.ceil(len(points) / max(1, plot_w // DAY_LABEL_PX)))
    line, dots = [], []
    for i, point in enumerate(points):
        x = left + slot * i + slot / 2
        y = margin_top + plot_h - plot_h * min(point.value, axis_top) / axis_top
        line.append(f"{x:.1f},{y:.1f}")
        colour = GRADE_COLOURS.get(point.grade.upper(), "#3b5bdb")
        graded = f", grade {point.grade}" if point.grade else ""
        tip = escape(f"{point.label}: {_number(point.value)} {unit}{graded}")
        dots.append(
            f'<circle class="progress-dot" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
            f"<title>{tip}</title></circle>"
        )
        if i % label_every == 0:
            body.append(_day_label(x, height - bottom + 16, point.label))
    if len(line) > 1:
        body.append(f'<polyline class="progress-line" points="{" ".join(line)}"/>')
    body.extend(dots)
    body.append(_baseline(left, plot_w, margin_top + plot_h))
    return _svg(chart_id=chart_id, title=title, desc=desc, width=width, height=height, body=body)
