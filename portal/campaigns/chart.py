"""The campaign's funnel over time as a picture: per day, how many of its mailboxes
still wait for their message (pending) and how many had been notified, had viewed,
confirmed and been verified. Drawn here as SVG geometry (no script, no CDN, colours
from the style sheet by class); the page keeps the same numbers as a table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.labels import label

WIDTH, HEIGHT = 400, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 12, 28  # room for the axis labels
STEPS = ("pending", "notified", "viewed", "confirmed", "verified")


@dataclass(frozen=True)
class Series:
    step: str  # a CampaignMailbox status: the CSS class of its colour
    name: str
    points: str  # "x,y x,y …" for <polyline>
    last: int  # its count on the last day
    x: float  # where the last point is, for its marker
    y: float


@dataclass(frozen=True)
class Tick:
    at: float
    text: str
    anchor: str = "middle"  # the text's SVG text-anchor: the last day's ends at the edge


@dataclass(frozen=True)
class FunnelChart:
    width: int
    height: int
    series: list[Series]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def funnel_rows(
    timeline: list[tuple[date, list[int]]], targeted: int
) -> list[tuple[date, list[int]]]:
    """Per day: pending, notified, viewed, confirmed, verified (each step counts the
    mailboxes that had reached it by that day)."""
    return [(day, [max(targeted - counts[0], 0), *counts]) for day, counts in timeline]


def funnel_chart(rows: list[tuple[date, list[int]]], targeted: int) -> FunnelChart | None:
    """The chart of `funnel_rows`, scaled so that `targeted` mailboxes fill the height."""
    if not rows:
        return None
    top = max(targeted, *(n for _day, counts in rows for n in counts), 1)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(index: int) -> float:
        if len(rows) == 1:
            return LEFT + plot_width / 2
        return round(LEFT + plot_width * index / (len(rows) - 1), 1)

    def y(value: int) -> float:
        return round(TOP + plot_height * (1 - value / top), 1)

    series = []
    for position, step in enumerate(STEPS):
        values = [counts[position] for _day, counts in rows]
        points = " ".join(f"{x(i):g},{y(v):g}" for i, v in enumerate(values))
        series.append(
            Series(step, label("entry", step), points, values[-1], x(len(rows) - 1), y(values[-1]))
        )
    last = len(rows) - 1
    days = sorted({0, last // 2, last}) if last else [0]
    x_ticks = [
        Tick(x(i), f"{rows[i][0].month}/{rows[i][0].day}", "end" if i and i == last else "middle")
        for i in days
    ]
    y_ticks = [Tick(y(v), f"{v:,}") for v in sorted({0, top // 2, top})]
    return FunnelChart(WIDTH, HEIGHT, series, x_ticks, y_ticks)
