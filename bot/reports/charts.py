"""The report's charts: Vega-Lite specs built with Vega-Altair from a `Report`, rendered by
vl-convert (Vega's own renderer, no browser) as SVG for the page and PNG for Slack. The
rendered SVG carries no script and fetches nothing: text is drawn with the reader's
sans-serif font. A chart with nothing to show is None, and the page says why instead."""

from __future__ import annotations

from typing import Any

import altair as alt
import vl_convert

from bot.reports.monthly import ANY_TOOL, Report

WIDTH = 560
HEIGHT = 220
FONT = "Helvetica, Arial, sans-serif"
CONFIG: dict[str, Any] = {
    "font": FONT,
    "view": {"stroke": None},
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "gridColor": "#e6e6e6"},
    "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom"},
    "title": {"fontSize": 13, "anchor": "start"},
}
TOOL_COLOURS = {
    "GitHub Copilot": "#4c78a8",
    "Cursor": "#f58518",
    "Claude Code": "#54a24b",
    ANY_TOOL: "#222222",
}


def _data(rows: list[dict[str, Any]]) -> alt.Data:
    return alt.Data(values=[{k: _plain(v) for k, v in row.items()} for row in rows])  # type: ignore[no-untyped-call]


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, float, str, type(None))) else str(value)


def _months(report: Report) -> alt.X:
    return alt.X(
        "month:O",
        title=None,
        sort=report.months,
        scale=alt.Scale(domain=report.months),
        axis=alt.Axis(labelAngle=0),
    )


def _finish(chart: Any, title: str) -> dict[str, Any]:
    spec: dict[str, Any] = chart.properties(title=title).to_dict()
    spec["config"] = CONFIG
    return spec


def adoption(report: Report) -> dict[str, Any] | None:
    """People active in each tool and in any tool, per month (lines)."""
    if not report.active:
        return None
    tools = sorted({a["tool"] for a in report.active}, key=lambda t: (t == ANY_TOOL, t))
    chart = (
        alt.Chart(_data(report.active))
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=_months(report),
            y=alt.Y("people:Q", title="people active"),
            color=alt.Color(
                "tool:N",
                title=None,
                scale=alt.Scale(domain=tools, range=[TOOL_COLOURS.get(t, "#888") for t in tools]),
            ),
            tooltip=["month:O", "tool:N", "people:Q"],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return _finish(chart, "People using AI coding tools each month")


def team_use(report: Report) -> dict[str, Any] | None:
    """Copilot's active people per team and month (a heat map with the counts): how far
    each team has come, whatever its size."""
    rows = [r for r in report.team_months if r["active_people"] is not None]
    if not rows:
        return None
    teams = sorted({r["team"] for r in rows})
    base = alt.Chart(_data(rows)).encode(
        x=_months(report),
        y=alt.Y("team:N", title=None, sort=teams),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("active_people:Q", title="people active", scale=alt.Scale(scheme="blues")),
        tooltip=["team:N", "month:O", "active_people:Q", "seats:Q"],
    )
    top = max(r["active_people"] for r in rows) or 1
    labels = base.mark_text(fontSize=11).encode(
        text="active_people:Q",
        color=alt.condition(
            f"datum.active_people > {top * 0.6}", alt.value("white"), alt.value("#222")
        ),
    )
    chart = (cells + labels).properties(width=WIDTH, height=max(120, 22 * len(teams)))
    return _finish(chart, "GitHub Copilot: people active by team each month")


def spend(report: Report) -> dict[str, Any] | None:
    """Monthly spend by team (stacked bars, US dollars)."""
    rows = [
        {"month": r["month"], "team": r["team"], "dollars": r["spend_cents"] / 100}
        for r in report.team_months
        if r["spend_cents"]
    ]
    if not rows:
        return None
    chart = (
        alt.Chart(_data(rows))
        .mark_bar()
        .encode(
            x=_months(report),
            y=alt.Y("sum(dollars):Q", title="US dollars", axis=alt.Axis(format="$,.0f")),
            color=alt.Color("team:N", title=None, scale=alt.Scale(scheme="tableau20")),
            tooltip=["team:N", "month:O", alt.Tooltip("dollars:Q", format="$,.0f")],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return _finish(chart, "AI-tool spend by team each month (seats and usage)")


def impact(report: Report) -> dict[str, Any] | None:
    """Each compared team's change in median cycle time against teams not started yet,
    with its 95 % interval, grouped by wave (dots and whiskers; left of 0 is faster)."""
    compared = sorted((c for c in report.comparisons if c["enough"]), key=lambda c: c["start"])
    rows = [
        {
            "team": f"{c['team']} ({c['wave']}, {c['start']})",
            "wave": c["wave"],
            "change": c["cycle_time_hours"]["change"],
            "low": c["cycle_time_hours"]["interval_95"][0],
            "high": c["cycle_time_hours"]["interval_95"][1],
        }
        for c in compared
    ]
    if not rows:
        return None
    order = [r["team"] for r in rows]
    waves = list(dict.fromkeys(r["wave"] for r in rows))
    wave = alt.Color("wave:N", title="wave", sort=waves, scale=alt.Scale(domain=waves))
    y = alt.Y("team:N", title=None, sort=order)
    base = alt.Chart(_data(rows))
    whiskers = base.mark_rule(strokeWidth=2).encode(
        y=y,
        x=alt.X("low:Q", title="change in median cycle time (hours)"),
        x2="high:Q",
        color=wave,
    )
    dots = base.mark_point(filled=True, size=70).encode(
        y=y, x="change:Q", color=wave, tooltip=["team:N", "change:Q", "low:Q", "high:Q"]
    )
    zero = alt.Chart(_data([{"x": 0}])).mark_rule(color="#888", strokeDash=[4, 3]).encode(x="x:Q")
    chart = (whiskers + dots + zero).properties(width=WIDTH, height=max(80, 26 * len(rows)))
    return _finish(chart, "Cycle time after rollout, against teams not started yet")


def surveys(report: Report) -> dict[str, Any] | None:
    """Mean answers (1–5) of each rating question, run by run."""
    if not report.survey_points:
        return None
    runs = list(dict.fromkeys(p["run"] for p in report.survey_points))
    chart = (
        alt.Chart(_data(report.survey_points))
        .mark_line(point=True)
        .encode(
            x=alt.X("run:N", title=None, sort=runs, axis=alt.Axis(labelAngle=0, labelLimit=140)),
            y=alt.Y("mean:Q", title="mean answer (1–5)", scale=alt.Scale(domain=[1, 5])),
            color=alt.Color("question:N", title=None),
            tooltip=["run:N", "question:N", "mean:Q"],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return _finish(chart, "Survey answers, run by run")


def answer_times(report: Report) -> dict[str, Any] | None:
    """Median hours to a champion's first answer per month (bars), the 90th percentile
    as a tick; months under the minimum group are left out."""
    rows = [a for a in report.answers if a["median_hours"] is not None]
    if not rows:
        return None
    x = _months(report)
    base = alt.Chart(_data(rows))
    bars = base.mark_bar(color="#4c78a8", size=26).encode(
        x=x,
        y=alt.Y("median_hours:Q", title="hours to first answer"),
        tooltip=["month:O", "median_hours:Q", "p90_hours:Q", "answered:Q"],
    )
    ticks = base.mark_tick(color="#e45756", thickness=2, size=30).encode(x=x, y="p90_hours:Q")
    chart = (bars + ticks).properties(width=WIDTH, height=HEIGHT)
    return _finish(chart, "Champions' time to first answer: median (bar), 90th percentile (red)")


CHARTS = {
    "adoption": adoption,
    "team_use": team_use,
    "spend": spend,
    "impact": impact,
    "surveys": surveys,
    "answer_times": answer_times,
}


def specs(report: Report) -> dict[str, dict[str, Any] | None]:
    """Every chart's Vega-Lite spec by name (None: nothing to draw)."""
    return {name: build(report) for name, build in CHARTS.items()}


def svg(spec: dict[str, Any]) -> str:
    """`spec` drawn as an SVG document (a string starting `<svg`)."""
    drawn: str = vl_convert.vegalite_to_svg(spec)
    return drawn


def png(spec: dict[str, Any], *, scale: float = 2.0) -> bytes:
    """`spec` drawn as PNG bytes, at `scale` times its size (2: sharp on a laptop)."""
    drawn: bytes = vl_convert.vegalite_to_png(spec, scale=scale)
    return drawn
