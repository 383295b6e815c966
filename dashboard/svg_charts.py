"""Charts drawn on the server as inline SVG, for the printed progress report (进度通报).

WeasyPrint runs no JavaScript, so the browser's charting library cannot draw the PDF's
charts: these functions write the same kinds of chart (a bar per township against the
share expected on the report's day, the funnel, a line per figure over the days) as SVG
markup that WeasyPrint lays out itself, its text in the document's embedded Noto CJK font.

Every label is escaped here: township and village names come from imported lists.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

FONT = "Noto Sans CJK SC, Noto Sans SC, sans-serif"
WIDTH = 680
ON_TRACK, BEHIND, EXPECTED, GRID, TEXT = "#2e7d32", "#c62828", "#1f1f1f", "#cccccc", "#222222"
# One colour per line of the trend, distinguishable in black-and-white print by its dash.
SERIES_STYLES = (
    ("#1565c0", ""),
    ("#ef6c00", "6 3"),
    ("#2e7d32", "2 2"),
    ("#6a1b9a", "8 3 2 3"),
    ("#00838f", "4 4"),
)


@dataclass(frozen=True)
class Bar:
    label: str
    share: float | None  # percent; None: nobody to measure (no persons)
    expected: float
    behind: bool


def _text(
    x: float, y: float, text: str, *, size: float = 11, anchor: str = "start", **attrs
) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{value}"' for name, value in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{TEXT}"{extra}>{escape(text)}</text>'
    )


def _svg(height: float, title: str, body: list[str]) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" font-family="{FONT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def share_bars(title: str, bars: Sequence[Bar]) -> SafeString:
    """A horizontal bar per place: its share (green, red when behind schedule) and a mark
    at the share expected on the report's day."""
    left, right, top, row = 96, 70, 30, 22
    plot = WIDTH - left - right
    height = top + row * len(bars) + 34
    body = []
    for tick in (0, 25, 50, 75, 100):
        x = left + plot * tick / 100
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{top + row * len(bars)}" '
            f'stroke="{GRID}" stroke-width="0.6"/>'
        )
        body.append(_text(x, top - 8, f"{tick}%", size=9, anchor="middle"))
    for i, bar in enumerate(bars):
        y = top + i * row
        body.append(_text(left - 6, y + 15, bar.label, anchor="end"))
        if bar.share is not None:
            width = plot * min(bar.share, 100) / 100
            colour = BEHIND if bar.behind else ON_TRACK
            body.append(
                f'<rect x="{left}" y="{y + 4}" width="{width:.1f}" height="{row - 8}" '
                f'fill="{colour}"/>'
            )
        mark = left + plot * min(bar.expected, 100) / 100
        body.append(
            f'<line x1="{mark:.1f}" y1="{y + 1}" x2="{mark:.1f}" y2="{y + row - 1}" '
            f'stroke="{EXPECTED}" stroke-width="2"/>'
        )
        status = "（滞后）" if bar.behind else ""
        body.append(_text(WIDTH - right + 4, y + 15, percent(bar.share) + status, size=10))
    legend_y = top + row * len(bars) + 20
    body += [
        f'<rect x="{left}" y="{legend_y - 9}" width="12" height="10" fill="{ON_TRACK}"/>',
        _text(left + 16, legend_y, "实际完成率", size=10),
        f'<rect x="{left + 90}" y="{legend_y - 9}" width="12" height="10" fill="{BEHIND}"/>',
        _text(left + 106, legend_y, "滞后", size=10),
        f'<line x1="{left + 150}" y1="{legend_y - 11}" x2="{left + 150}" y2="{legend_y + 2}" '
        f'stroke="{EXPECTED}" stroke-width="2"/>',
        _text(left + 156, legend_y, "按进度至通报日应达", size=10),
    ]
    return _svg(height, title, body)


def funnel(title: str, steps: Sequence[tuple[str, int, float | None]]) -> SafeString:
    """The funnel: a centred bar per step, as wide as its count against the widest, with
    its share (percent; None: none shown) as the report's tables give it."""
    left, right, top, row = 96, 110, 8, 26
    plot = WIDTH - left - right
    widest = max((n for _label, n, _share in steps), default=0)
    height = top + row * len(steps) + 8
    body = []
    for i, (label, n, share) in enumerate(steps):
        y = top + i * row
        width = plot * n / widest if widest else 0
        x = left + (plot - width) / 2
        shade = 0.35 + 0.65 * (1 - i / max(1, len(steps) - 1))
        body.append(
            f'<rect x="{x:.1f}" y="{y + 3}" width="{max(width, 1):.1f}" height="{row - 6}" '
            f'fill="#1565c0" fill-opacity="{shade:.2f}"/>'
        )
        body.append(_text(left - 6, y + 17, label, anchor="end"))
        shown = "" if share is None else f"（{percent(share)}）"
        body.append(_text(WIDTH - right + 6, y + 17, f"{n}{shown}", size=10))
    return _svg(height, title, body)


def short_day_label(day: datetime.date) -> str:
    """A chart's axis label of a day: 11月30日."""
    return f"{day.month}月{day.day}日"


def trend_lines(
    title: str, days: Sequence[datetime.date], series: Sequence[tuple[str, Sequence[int]]]
) -> SafeString:
    """A line per figure over the days (oldest first), the days spaced by the calendar."""
    left, right, top, bottom = 60, 16, 14, 54
    plot_w, plot_h = WIDTH - left - right, 200
    height = top + plot_h + bottom
    highest = max((v for _label, values in series for v in values), default=0) or 1
    first, last = days[0], days[-1]
    span = (last - first).days or 1

    def x_of(day: datetime.date) -> float:
        return left + plot_w * (day - first).days / span

    def y_of(value: int) -> float:
        return top + plot_h * (1 - value / highest)

    body = []
    for step in range(5):
        value = round(highest * step / 4)
        y = y_of(value)
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="0.6"/>'
        )
        body.append(_text(left - 4, y + 4, str(value), size=9, anchor="end"))
    shown = sorted({0, len(days) - 1, *range(0, len(days), max(1, len(days) // 6))})
    for index in shown:
        body.append(
            _text(
                x_of(days[index]),
                top + plot_h + 14,
                short_day_label(days[index]),
                size=9,
                anchor="middle",
            )
        )
    for (_label, values), (colour, dash) in zip(series, SERIES_STYLES, strict=False):
        points = " ".join(f"{x_of(d):.1f},{y_of(v):.1f}" for d, v in zip(days, values, strict=True))
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.8"{dashes}/>'
        )
        if len(days) <= 31:  # a dot per day while the days can still be told apart
            body += [
                f'<circle cx="{x_of(d):.1f}" cy="{y_of(v):.1f}" r="2.2" fill="{colour}"/>'
                for d, v in zip(days, values, strict=True)
            ]
    legend_y = top + plot_h + 38
    for i, ((label, _values), (colour, dash)) in enumerate(
        zip(series, SERIES_STYLES, strict=False)
    ):
        x = left + i * 120
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<line x1="{x}" y1="{legend_y - 4}" x2="{x + 24}" y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="1.8"{dashes}/>'
        )
        body.append(_text(x + 28, legend_y, label, size=10))
    return _svg(height, title, body)
