"""Charts drawn on the server as SVG geometry (no charting script, nothing for the CSP to allow).

Each chart comes with the table of its numbers in the page, for screen readers and for anyone
who prefers figures to bars.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

# The state design system's blue, then colours distinguishable by the common colour blindnesses.
PALETTE = ("#000091", "#009081", "#c3992a", "#e1000f", "#6a6af4")
OTHERS = "#929292"
OTHERS_LABEL = "Autres organisations"


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    text: str


@dataclass
class Chart:
    width: int
    height: int
    rects: list[Rect] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    empty: bool = True


def nice_max(value: int) -> int:
    """A round upper bound for an axis: 1, 2, 5 × 10^n at or above ``value``."""
    if value <= 0:
        return 1
    exponent: int = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * exponent >= value:
            return step * exponent
    return 10 * exponent  # pragma: no cover - the loop always returns


def stacked_by_day(
    rows: list[tuple[dt.date, str, int]],
    days: list[dt.date],
    name_of: Callable[[str], str],
    top: int = 5,
) -> tuple[Chart, list[str], dict[dt.date, dict[str, int]]]:
    """Bars per day, stacked by organisation (the ``top`` busiest, then the others).

    Returns the chart, the series in legend order, and the table (day -> series -> count).
    """
    totals: dict[str, int] = defaultdict(int)
    for _, org, n in rows:
        totals[org or "—"] += n
    leaders = [org for org, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    names = {org: name_of(org) for org in leaders}
    series = [names[org] for org in leaders]
    has_others = len(totals) > len(leaders)
    if has_others:
        series.append(OTHERS_LABEL)
    table: dict[dt.date, dict[str, int]] = {d: dict.fromkeys(series, 0) for d in days}
    for day, org, n in rows:
        if day not in table:
            continue
        key = names.get(org or "—", OTHERS_LABEL)
        table[day][key] = table[day].get(key, 0) + n
    colours = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(series)}
    colours[OTHERS_LABEL] = OTHERS
    width, height, left, bottom, top_pad = 720, 260, 56, 36, 12
    plot_h = height - bottom - top_pad
    peak = max((sum(v.values()) for v in table.values()), default=0)
    scale_max = 4 * nice_max(-(-peak // 4))  # four round steps up the axis
    chart = Chart(width, height, empty=peak == 0)
    chart.legend = [(colours[s], s) for s in series]
    slot = (width - left - 8) / max(1, len(days))
    bar_w = max(4.0, slot * 0.7)
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar_w) / 2
        y = float(height - bottom)
        for name in series:
            n = table[day].get(name, 0)
            if n <= 0:
                continue
            h = plot_h * n / scale_max
            y -= h
            chart.rects.append(
                Rect(
                    round(x, 1),
                    round(y, 1),
                    round(bar_w, 1),
                    round(h, 1),
                    colours[name],
                    f"{day:%d/%m} — {name} : {n}",
                )
            )
        if len(days) <= 16 or i % 2 == 0:
            chart.x_ticks.append(Tick(round(x + bar_w / 2, 1), f"{day:%d/%m}"))
    for k in range(5):
        value = scale_max // 4 * k
        chart.y_ticks.append(
            Tick(round(height - bottom - plot_h * k / 4, 1), f"{value:,}".replace(",", " "))
        )
    return chart, series, table


def horizontal_bars(items: list[tuple[str, int]]) -> Chart:
    """One bar per label, longest first (alerts per rule)."""
    row_h, left, right = 28, 300, 60
    width = 720
    height = max(1, len(items)) * row_h + 16
    peak = max((n for _, n in items), default=0)
    chart = Chart(width, height, empty=peak == 0)
    usable = width - left - right
    for i, (name, n) in enumerate(items):
        w = usable * n / peak if peak else 0
        y = 8 + i * row_h
        chart.rects.append(
            Rect(left, y + 4, round(max(w, 2), 1), row_h - 8, PALETTE[0], f"{name} : {n}")
        )
        chart.y_ticks.append(Tick(y + row_h / 2, name))
        chart.x_ticks.append(Tick(round(left + max(w, 2) + 6, 1), str(n)))
    return chart
