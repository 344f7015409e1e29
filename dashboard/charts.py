"""Server-side SVG charts for the dashboard: no JavaScript, readable by screen readers.

Every chart is an `<svg role="img">` with an `aria-label`, a `<title>` and a `<desc>` that says in
words what the picture shows, and a `<title>` on each bar so hovering shows its value. The markup
scales with its container (viewBox, width 100%).
"""

import math
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

GRADE_COLOURS = {"A": "#2f9e44", "B": "#74b816", "C": "#f08c00", "D": "#e8590c", "F": "#c92a2a"}


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^n at least `value` (axis tops that read well)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _svg(
    *, chart_id: str, title: str, desc: str, width: int, height: int, body: list[str], fit="meet"
):
    title, desc = escape(title), escape(desc)
    aspect = "none" if fit == "stretch" else "xMidYMid meet"
    return mark_safe(  # noqa: S308 - every interpolated text is escaped above or below
        f'<svg class="chart" id="{chart_id}" role="img" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="{aspect}" aria-label="{title}" '
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


def usage_chart_svg(points: list[DayPoint], *, chart_id: str = "usage-chart") -> SafeString:
    """Calls per day as bars (left axis) and minutes tracked as a line (right axis)."""
    width, height = 760, 270
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
    calls_top = _nice_ceiling(max((p.calls for p in points), default=0))
    minutes_top = _nice_ceiling(max((p.minutes for p in points), default=0))
    body = []
    # Grid and both axes' labels.
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        body.append(
            f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_number(calls_top * i / 4)}</text>"
            f'<text class="axis axis-minutes" x="{left + plot_w + 6}" y="{y + 4:.1f}">'
            f"{_number(minutes_top * i / 4)}</text>"
        )
    body.append(
        f'<text class="axis-title" x="{left - 6}" y="{top - 14}" text-anchor="end">calls</text>'
        f'<text class="axis-title axis-minutes" x="{left + plot_w + 6}" y="{top - 14}">min</text>'
    )
    count = max(len(points), 1)
    slot = plot_w / count
    bar_w = max(1.0, slot * 0.7)
    label_every = max(1, math.ceil(count / 8))
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
            body.append(
                f'<text class="axis" x="{left + slot * i + slot / 2:.1f}" '
                f'y="{height - bottom + 16}" text-anchor="middle">{escape(point.label[5:])}</text>'
            )
    if len(line) > 1:
        body.append(f'<polyline class="line" points="{" ".join(line)}"/>')
    elif line:
        cx, cy = line[0].split(",")
        body.append(f'<circle class="dot" cx="{cx}" cy="{cy}" r="3"/>')
    body.append(
        f'<line class="baseline" x1="{left}" x2="{left + plot_w}" '
        f'y1="{top + plot_h}" y2="{top + plot_h}"/>'
    )
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


def score_chart_svg(history: list[dict], *, chart_id: str = "score-chart") -> SafeString:
    """One bar per repetition (or hold), its height the form score 0–100, coloured by grade."""
    width, height = 760, 240
    left, right, top, bottom = 40, 12, 18, 34
    plot_w, plot_h = width - left - right, height - top - bottom
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
    title = "Form score per repetition"
    if reps:
        average = sum(score for _, score, _ in reps) / len(reps)
        best = max(reps, key=lambda r: r[1])
        worst = min(reps, key=lambda r: r[1])
        desc = (
            f"{len(reps)} repetitions, average score {average:.0f}. Best: repetition {best[0]} "
            f"({best[1]:.0f}). Lowest: repetition {worst[0]} ({worst[1]:.0f})."
        )
    else:
        average = None
        desc = "No scored repetitions."
    body = []
    for value in (0, 25, 50, 75, 100):
        y = top + plot_h - plot_h * value / 100
        body.append(
            f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    slot = plot_w / max(len(reps), 1)
    bar_w = max(2.0, min(48.0, slot * 0.7))
    label_every = max(1, math.ceil(len(reps) / 20))
    for i, (index, score, grade) in enumerate(reps):
        x = left + slot * i + (slot - bar_w) / 2
        bar_h = plot_h * score / 100
        colour = GRADE_COLOURS.get(grade.upper(), "#3b5bdb")
        tip = escape(
            f"Repetition {index}: score {score:.0f}" + (f", grade {grade}" if grade else "")
        )
        body.append(
            f'<rect class="score-bar" x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" '
            f'width="{bar_w:.1f}" height="{bar_h:.1f}" fill="{colour}"><title>{tip}</title></rect>'
        )
        if i % label_every == 0:
            body.append(
                f'<text class="axis" x="{x + bar_w / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{escape(str(index))}</text>'
            )
        if slot >= 22:
            body.append(
                f'<text class="bar-value" x="{x + bar_w / 2:.1f}" '
                f'y="{top + plot_h - bar_h - 4:.1f}" text-anchor="middle">{score:.0f}</text>'
            )
    if average is not None:
        y = top + plot_h - plot_h * average / 100
        body.append(
            f'<line class="average" x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}">'
            f"<title>Average {average:.0f}</title></line>"
        )
    body.append(
        f'<line class="baseline" x1="{left}" x2="{left + plot_w}" '
        f'y1="{top + plot_h}" y2="{top + plot_h}"/>'
    )
    return _svg(chart_id=chart_id, title=title, desc=desc, width=width, height=height, body=body)
