"""The figures of one month's report: plain data for the page, its charts and the Slack
summary. Nothing here names a person: usage, impact and survey figures come from the
functions that apply the minimum-group rules, and champions' answer times are counted
over the whole organisation, a month under the minimum group left out.

Months are calendar months in UTC. Six months are shown (the report's month and the five
before it), so a trend reads at a glance; impact comparisons run to the month's last day.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import PolicyFeedback, PolicyLookup, Question, SurveyRun
from bot.services import impact_figures, survey_results, usage_figures
from bot.services.costs import Costs
from bot.services.policy import ActivePolicy, review_status
from bot.services.survey_definitions import QuestionType
from bot.services.survey_disclosure import Rules
from bot.services.usage_periods import periods

MONTHS_SHOWN = 6
TOOL_NAMES = {"copilot": "GitHub Copilot", "cursor": "Cursor", "claude_code": "Claude Code"}
ANY_TOOL = "Any tool"
MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")  # ASCII digits only


class BadMonth(ValueError):
    """A month that is not `YYYY-MM`, or one that has not begun."""


def parse_month(text: str, *, today: dt.date) -> dt.date:
    """The first day of `text` (`YYYY-MM`). Raises `BadMonth` for another shape, a year
    before 2000, or a month after `today`'s."""
    match = MONTH.fullmatch(text)
    if not match:
        raise BadMonth(f"month must look like 2026-11, not {text[:20]!r}")
    if int(match[1]) < 2000:
        raise BadMonth("month must be 2000-01 or later")
    first = dt.date(int(match[1]), int(match[2]), 1)
    if first > today.replace(day=1):
        raise BadMonth(f"{first:%Y-%m} has not begun yet")
    return first


def previous_month(today: dt.date) -> dt.date:
    """The first day of the month before `today`'s."""
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def month_end(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


@dataclass
class Report:
    """One month's report. Money is in cents (US dollars, `costs.yaml`), times in hours,
    shares 0–1; `None` means not measured or withheld, never zero."""

    month: str  # "2026-11"
    title: str  # "November 2026"
    first: dt.date
    last: dt.date
    generated_at: dt.datetime
    months: list[str]  # the six months shown, oldest first
    # adoption and cost
    active: list[dict[str, Any]] = field(default_factory=list)  # month, tool, people
    teams: list[dict[str, Any]] = field(default_factory=list)  # the month, one row a team
    team_months: list[dict[str, Any]] = field(default_factory=list)  # month, team, share, spend
    spend_cents: int | None = None
    reclaimable_cents: int | None = None
    priced: bool = False
    unpriced: list[str] = field(default_factory=list)  # tools used, not priced (all or part)
    complete: bool = False  # every tool's pull reached the month's last day
    # impact
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    waves: list[dict[str, Any]] = field(default_factory=list)  # wave, teams, started
    # surveys, champions, policy
    surveys: list[dict[str, Any]] = field(default_factory=list)  # one a run
    survey_points: list[dict[str, Any]] = field(default_factory=list)  # run, question, mean
    answers: list[dict[str, Any]] = field(default_factory=list)  # one a month
    min_group: int = 5
    policy: dict[str, Any] = field(default_factory=dict)
    costs_problem: str | None = None

    @property
    def headline(self) -> dict[str, Any]:
        """The month's key figures: people using any tool (and the month before), spend,
        reclaimable, the comparisons that could be made and how many were faster."""
        people = {(a["month"], a["tool"]): a["people"] for a in self.active}
        before = self.months[-2] if len(self.months) > 1 else None
        compared = [c for c in self.comparisons if c["enough"]]
        return {
            "active_people": people.get((self.month, ANY_TOOL)),
            "active_people_before": people.get((before, ANY_TOOL)) if before else None,
            "spend_cents": self.spend_cents,
            "reclaimable_cents": self.reclaimable_cents,
            "compared": len(compared),
            "faster": sum(1 for c in compared if c["cycle_time_hours"]["interval_95"][1] < 0),
            "slower": sum(1 for c in compared if c["cycle_time_hours"]["interval_95"][0] > 0),
        }


async def gather(
    *,
    session: AsyncSession,
    month: dt.date,
    rules: Rules,
    costs: Costs | None,
    policy: ActivePolicy,
    now: dt.datetime,
) -> Report:
    """The report of the month starting `month` (a first day), read as of `now` (UTC).
    Costs None leaves spend unpriced (null). Raises nothing of its own; database errors
    pass through."""
    last = month_end(month)
    oldest = month
    for _ in range(MONTHS_SHOWN - 1):
        oldest = previous_month(oldest)
    shown = [p.label for p in periods("month", oldest, last)]
    report = Report(
        month=f"{month:%Y-%m}",
        title=f"{month:%B %Y}",
        first=month,
        last=last,
        generated_at=now,
        months=shown,
        min_group=rules.min_group,
    )
    await _adoption(session, report, oldest, rules, costs)
    await _impact(session, report, rules, now.date())
    await _surveys(session, report, oldest, rules)
    await _answers(session, report, oldest, rules)
    await _policy(session, report, policy)
    return report


async def _adoption(
    session: AsyncSession, report: Report, oldest: dt.date, rules: Rules, costs: Costs | None
) -> None:
    items = await usage_figures.figures(
        session=session,
        period="month",
        since=oldest,
        until=report.last,
        rules=rules,
        impact=False,
        tools=tuple(TOOL_NAMES),
        costs=costs,
    )
    measured = [i for i in items if i["measured"]]
    people: dict[tuple[str, str], int] = defaultdict(int)
    any_tool: dict[str, int] = {}
    for item in measured:
        if item["tool"] == "any":
            any_tool[item["period"]] = item["active_people"]
        elif item["active_people"] is not None:
            people[(item["period"], TOOL_NAMES[item["tool"]])] += item["active_people"]
    for (period, tool), count in sorted(people.items()):
        report.active.append({"month": period, "tool": tool, "people": count})
    for period in report.months:
        # without an "any tool" item (made when two tools or more had use), at most one
        # tool had anyone: its people are everyone's
        used = [n for (p, _), n in people.items() if p == period]
        total = any_tool.get(period)
        if total is None and used and sum(1 for n in used if n) <= 1:
            total = max(used)
        if total is not None:
            report.active.append({"month": period, "tool": ANY_TOOL, "people": total})
    teams: dict[tuple[str, str], dict[str, Any]] = {}
    for item in measured:
        if item["tool"] == "any" or _empty(item):
            continue
        row = teams.setdefault(
            (item["period"], item["team"]),
            {
                "month": item["period"],
                "team": item["team"],
                "includes": set(),
                "seats": None,
                "active_people": None,
                "engaged_people": None,
                "tools": {},
                "spend_cents": None,
                "reclaimable_cents": None,
                "note": item.get("note"),
            },
        )
        # a merged label holds each tool's own small teams: the row names them all
        row["includes"] |= set(item.get("includes") or ())
        row["note"] = row["note"] or item.get("note")
        row["tools"][item["tool"]] = item["active_people"]
        if item["tool"] == "copilot":
            row["seats"] = item["seats"]
            row["active_people"] = item["active_people"]
            row["engaged_people"] = item["engaged_people"]
        for money in ("spend_cents", "reclaimable_cents"):
            if item.get(money) is not None:
                row[money] = (row[money] or 0) + item[money]
    for row in teams.values():
        row["includes"] = sorted(row["includes"])
    report.team_months = sorted(teams.values(), key=lambda r: (r["month"], r["team"]))
    report.teams = [r for r in report.team_months if r["month"] == report.month]
    this_month = [i for i in measured if i["period"] == report.month and i["tool"] != "any"]
    spent = [i["spend_cents"] for i in this_month if i.get("spend_cents") is not None]
    report.priced = bool(spent)
    report.spend_cents = sum(spent) if spent else None
    idle = [i["reclaimable_cents"] for i in this_month if i.get("reclaimable_cents") is not None]
    report.reclaimable_cents = sum(idle) if idle else None
    # a tool whose spend is missing for any team that used or held it: the total is partial
    report.unpriced = [
        TOOL_NAMES[tool]
        for tool in TOOL_NAMES
        if any(
            i["tool"] == tool
            and (i["active_people"] or i["seats"])
            and i.get("spend_cents") is None
            for i in this_month
        )
    ]
    report.complete = bool(this_month) and all(i["complete"] for i in this_month)


def _empty(item: dict[str, Any]) -> bool:
    """The row of zeros a tool gives when it was pulled and nobody held or used it."""
    return (
        item["team"] == usage_figures.ALL_TEAMS
        and not item["active_people"]
        and not (item["seats"])
    )


async def _impact(session: AsyncSession, report: Report, rules: Rules, today: dt.date) -> None:
    found = await impact_figures.figures(
        session=session,
        since=report.first,
        until=min(report.last, today),
        rules=rules,
        today=today,
    )
    report.comparisons = found["comparisons"]
    waves: dict[str, dict[str, Any]] = {}
    for item in found["comparisons"]:
        wave = waves.setdefault(item["wave"], {"wave": item["wave"], "teams": 0, "start": None})
        wave["teams"] += 1
        start = dt.date.fromisoformat(item["start"])
        wave["start"] = min(wave["start"] or start, start)
    report.waves = sorted(waves.values(), key=lambda w: (w["start"], w["wave"]))


async def _surveys(session: AsyncSession, report: Report, oldest: dt.date, rules: Rules) -> None:
    """Each run started in the six months, oldest first, with the means of its rating
    questions (Likert 1–5, NPS −100…100 apart) as `survey_disclosure` releases them."""
    start = dt.datetime.combine(oldest, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(report.last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    runs = (
        await session.exec(
            select(SurveyRun)
            .where(col(SurveyRun.started_at) >= start, col(SurveyRun.started_at) < end)
            .order_by(col(SurveyRun.started_at), col(SurveyRun.id))
        )
    ).all()
    for run in runs:
        released, results = await survey_results.released_results(
            session=session, run=run, rules=rules
        )
        label = f"{released.definition.title} ({run.started_at:%d %b})"
        row: dict[str, Any] = {
            "run": label,
            "started": run.started_at.date(),
            "status": run.status,
            "respondents": results.respondents,
            "response_rate": round(results.response_rate, 3) if results.reached else None,
            "withheld": results.respondents < rules.min_group,
            "nps": None,
        }
        for result in results.questions:
            if result.question.type == QuestionType.nps and result.nps is not None:
                row["nps"] = round(result.nps)
            elif result.question.type == QuestionType.likert and result.mean is not None:
                report.survey_points.append(
                    {
                        "run": label,
                        "started": run.started_at.date().isoformat(),
                        "question": result.question.measures or result.question.id,
                        "mean": round(result.mean, 2),
                    }
                )
        report.surveys.append(row)


async def _answers(session: AsyncSession, report: Report, oldest: dt.date, rules: Rules) -> None:
    """Per month: questions asked, answered, and the median and 90th percentile hours from
    asking to the first answer (wall-clock hours). A month with fewer answered questions
    than the minimum group shows counts only: a time over three answers is one champion's."""
    start = dt.datetime.combine(oldest, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(report.last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    rows = (
        await session.exec(
            select(Question.created_at, Question.answered_at).where(
                col(Question.created_at) >= start, col(Question.created_at) < end
            )
        )
    ).all()
    by_month: dict[str, list[float | None]] = defaultdict(list)
    for created, answered in rows:
        hours = (
            (_utc(answered) - _utc(created)).total_seconds() / 3600
            if answered is not None
            else None
        )
        by_month[f"{created:%Y-%m}"].append(hours)
    for period in report.months:
        times = sorted(h for h in by_month.get(period, []) if h is not None)
        enough = len(times) >= rules.min_group
        report.answers.append(
            {
                "month": period,
                "asked": len(by_month.get(period, [])),
                "answered": len(times),
                "median_hours": round(statistics.median(times), 1) if enough else None,
                "p90_hours": round(_percentile(times, 0.9), 1) if enough else None,
            }
        )


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted `values`."""
    rank = max(1, -(-len(values) * share // 1))
    return values[int(rank) - 1]


async def _policy(session: AsyncSession, report: Report, policy: ActivePolicy) -> None:
    meta = policy.loaded.pack.metadata
    status = review_status(policy, report.generated_at.date())
    start = dt.datetime.combine(report.first, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(report.last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    outcomes = dict(
        (
            await session.exec(
                select(PolicyLookup.outcome, func.count())
                .where(col(PolicyLookup.created_at) >= start, col(PolicyLookup.created_at) < end)
                .group_by(col(PolicyLookup.outcome))
            )
        ).all()
    )
    votes = dict(
        (
            await session.exec(
                select(PolicyFeedback.helpful, func.count())
                .where(
                    col(PolicyFeedback.created_at) >= start, col(PolicyFeedback.created_at) < end
                )
                .group_by(col(PolicyFeedback.helpful))
            )
        ).all()
    )
    report.policy = {
        "name": meta.name,
        "version": meta.version,
        "last_reviewed": meta.last_reviewed,
        "review_due": status.due,
        "overdue_days": max(status.overdue_days, 0),
        "lookups": sum(outcomes.values()),
        "unanswered": outcomes.get("no_match", 0),
        "voted_right": votes.get(True, 0),
        "voted_wrong": votes.get(False, 0),
    }
