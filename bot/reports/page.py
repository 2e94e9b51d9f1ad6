"""The monthly report as one HTML page: a Jinja2 template (autoescaped) with its CSS and
charts inline, so it opens offline, prints, and fetches nothing. `CSP` is the header the
server sends with it: nothing may load from anywhere, inline styles and `data:` images only."""

from __future__ import annotations

import asyncio
import datetime as dt

import jinja2
from markupsafe import Markup

from bot.config import Settings
from bot.db import Sessions
from bot.reports import charts, monthly
from bot.reports.links import Link
from bot.reports.monthly import ANY_TOOL, TOOL_NAMES, Report
from bot.services import costs
from bot.services.policy import ActivePolicy
from bot.views.common import plural

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none';"
    " form-action 'none'"
)

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("bot", "reports"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _dollars(cents: int | None) -> str:
    return "—" if cents is None else f"${cents / 100:,.0f}"


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _signed(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:+,.{digits}f}"


_ENV.filters.update(dollars=_dollars, percent=_percent, number=_number, signed=_signed)


def render(report: Report, *, drawn: dict[str, str | None]) -> str:
    """The page for `report` with `drawn` (chart name → SVG, or None) inline."""
    template = _ENV.get_template("monthly.html")
    css = _ENV.loader.get_source(_ENV, "report.css")[0]  # type: ignore[union-attr]
    return template.render(
        report=report,
        headline=report.headline,
        charts={
            k: Markup(v) if v else None for k, v in drawn.items()
        },  # vl-convert's SVG escapes its text
        css=Markup(css),  # our own file
        tools=TOOL_NAMES,
        any_tool=ANY_TOOL,
        today=report.generated_at.date(),
    )


def draw(report: Report) -> dict[str, str | None]:
    """Every chart of `report` as SVG (None where there is nothing to draw)."""
    return {name: charts.svg(spec) if spec else None for name, spec in charts.specs(report).items()}


async def html(report: Report) -> str:
    """The whole page; the charts are drawn in a worker thread (vl-convert holds no lock
    the event loop needs, and a page takes a few hundred milliseconds of CPU)."""
    drawn = await asyncio.to_thread(draw, report)
    return render(report, drawn=drawn)


async def build(
    *,
    sessions: Sessions,
    settings: Settings,
    policy: ActivePolicy,
    month: dt.date,
    now: dt.datetime,
) -> Report:
    """The report of the month starting `month`, with the costs in force (a costs file with
    problems leaves spend unpriced, and the page says why)."""
    problem = None
    try:
        prices = costs.for_settings(settings)
    except costs.CostsError as error:
        prices, problem = None, f"costs file has problems: {error}"[:300]
    async with sessions() as session:
        report = await monthly.gather(
            session=session,
            month=month,
            rules=settings.survey_rules(),
            costs=prices,
            policy=policy,
            now=now,
        )
    report.costs_problem = problem
    return report


def summary_chart(report: Report) -> bytes | None:
    """The chart posted in Slack with the summary (PNG): adoption, else spend."""
    found = charts.adoption(report) or charts.spend(report)
    return charts.png(found) if found else None


def summary_text(report: Report, link: Link | None) -> str:
    """The Slack summary (mrkdwn) of `report`: who used the tools, what they cost, what
    changed in delivery, and the link to the page (or how to get one)."""
    head = report.headline
    lines = [f":bar_chart: *AI coding tools — {report.title}*"]
    people = head["active_people"]
    if people is not None:
        before = head["active_people_before"]
        trend = f" ({people - before:+,} on the month before)" if before is not None else ""
        lines.append(f"• *{people:,}* people used an AI coding tool{trend}.")
    else:
        lines.append("• No tool usage was pulled for this month.")
    if head["spend_cents"] is not None:
        idle = head["reclaimable_cents"]
        extra = f"; {_dollars(idle)} on seats nobody used" if idle else ""
        unpriced = (
            f" (not priced, all or part: {', '.join(report.unpriced)})" if report.unpriced else ""
        )
        lines.append(f"• Spend {_dollars(head['spend_cents'])}{unpriced}{extra}.")
    if head["compared"]:
        lines.append(
            f"• Delivery: {plural(head['compared'], 'team')} compared with teams not started yet;"
            f" {head['faster']} faster, {head['slower']} slower beyond the 95 % interval"
            " (association, not causation)."
        )
    if not report.complete:
        lines.append("_Some of the month's days were not pulled yet: figures may still grow._")
    if link:
        lines.append(f"<{link.url}|Open the report> (this link works until {link.expires:%d %B}).")
    else:
        lines.append("Set PUBLIC_URL so this summary can link to the report.")
    return "\n".join(lines)


def generated_stamp(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


_ENV.filters["stamp"] = generated_stamp
