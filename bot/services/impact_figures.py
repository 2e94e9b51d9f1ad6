"""Delivery impact per team and week from the stored pull requests, and each started
team's change against teams not started yet. The one place pull-request rows (which name
their authors) become figures: teams under the minimum group are merged, no figure names
or ranks a person.

Per team and ISO week of merge (people's pull requests only: Bot authors are apart):
- `merged_prs`; `cycle_time_hours`: median ready-for-review → merged (DORA's lead time
  for changes, at pull-request level); `first_review_hours`: median ready → first review
  by a person other than the author; `pr_size`: median additions + deletions;
- `reviews_per_reviewer`: people's reviews on those pull requests / distinct reviewers
  (review load); `revert_rate`: share reverted within 30 days (change-failure proxy);
  `ai_label_share`: share carrying the policy's AI-assisted label (`AI_LABELS`).
Paired by construction (never one without the other): cycle time with revert rate, the
AI-assisted share with review load.

Organisation-wide, per week: `ai_authored_share` (merged pull requests by Bot accounts,
such as the Copilot coding agent, Dependabot, Renovate, among all merged) and
`ai_reviewed_share` (merged pull requests a Bot reviewed, such as Copilot code review).

Comparisons (`comparisons`): for each team with a rollout start (`/ai-coe rollout`), the
change in its median cycle time and revert rate from its baseline (the 12 whole weeks
before its start week) to the weeks after it (at most 8, shortened to no less than two
when that keeps a team not started yet), minus the same change over the same weeks for the
teams not started by their end (staggered difference-in-differences with Callaway &
Sant'Anna's "not yet treated" controls), with a 95 % bootstrap interval (pull requests resampled in
each of the four cells, `BOOTSTRAP` times, a fixed seed). Under `MIN_PRS` pull requests
in any cell the comparison says "not enough pull requests" and gives no figure. Every
comparison reads "association, not causation".
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import PullRequest, Team
from bot.services import identities, rollout
from bot.services.identities import UNMATCHED
from bot.services.survey_disclosure import Rules, merge_labels
from bot.services.usage_periods import Period, periods

AI_LABELS = frozenset({"ai-assisted"})  # the default policy pack's label
MIN_PRS = 20  # in each cell of a comparison: fewer gives no figure
AFTER_WEEKS = 8  # the weeks compared after a start, at most
MIN_AFTER_DAYS = 14  # shortened to keep a team not started yet, never below two weeks
BOOTSTRAP = 400
SEED = 20
READING = "association, not causation"


@dataclass(frozen=True)
class _Pr:
    week: str
    team: str
    cycle_hours: float
    review_hours: float | None
    size: int
    reviews: int
    reviewers: tuple[str, ...]
    reverted: bool
    ai_label: bool


def _hours(later: dt.datetime, earlier: dt.datetime) -> float:
    return max((later - earlier).total_seconds(), 0.0) / 3600


def _ai_label(labels: Sequence[str]) -> bool:
    return any(label.lower().replace(" ", "-").replace("_", "-") in AI_LABELS for label in labels)


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


async def figures(
    *,
    session: AsyncSession,
    since: dt.date,
    until: dt.date,
    rules: Rules,
    comparisons: bool = True,
) -> dict[str, Any]:
    """`{"items": [...], "organisation": [...], "comparisons": [...]}` for the ISO weeks
    touching `since` … `until` (UTC days, inclusive); shapes in the module docstring. Hours
    are hours, sizes lines, shares 0–1. `comparisons` False leaves them out (empty)."""
    weeks = periods("week", since, until)
    rows = await _merged(session, weeks[0].first, weeks[-1].last)
    teams = await identities.login_teams(session=session)
    people, bots = [r for r in rows if not r.author_is_bot], [r for r in rows if r.author_is_bot]
    sizes: dict[str | None, int] = defaultdict(int)
    for login in {(r.author or "").lower() for r in people}:
        sizes[teams.get(login, UNMATCHED)] += 1
    labels = {str(k): v for k, v in merge_labels(sizes, rules.min_group).items()}
    prs = [_pr(r, weeks, teams, labels) for r in people]
    items = _items([p for p in prs if p is not None])
    organisation = _organisation(rows, bots, weeks)
    compared = await _comparisons(session, teams, labels, until) if comparisons else []
    return {"items": items, "organisation": organisation, "comparisons": compared}


async def _merged(session: AsyncSession, first: dt.date, last: dt.date) -> list[PullRequest]:
    start = dt.datetime.combine(first, dt.time(), dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC)
    query = select(PullRequest).where(
        col(PullRequest.merged_at) >= start, col(PullRequest.merged_at) < end
    )
    return list((await session.exec(query)).all())


def _week_of(when: dt.datetime, weeks: list[Period]) -> str | None:
    day = when.astimezone(dt.UTC).date()
    return next((w.label for w in weeks if w.first <= day <= w.last), None)


def _pr(
    row: PullRequest, weeks: list[Period], teams: dict[str, str], labels: dict[str, str]
) -> _Pr | None:
    if row.merged_at is None:
        return None
    week = _week_of(row.merged_at, weeks)
    if week is None:
        return None
    ready = row.ready_at or row.created_at
    team = teams.get((row.author or "").lower(), UNMATCHED)
    return _Pr(
        week=week,
        team=labels.get(team, team),
        cycle_hours=_hours(row.merged_at, ready),
        review_hours=_hours(row.first_review_at, ready) if row.first_review_at else None,
        size=row.additions + row.deletions,
        reviews=row.review_count,
        reviewers=tuple(row.reviewers),
        reverted=row.reverted_by is not None,
        ai_label=_ai_label(row.labels),
    )


def _items(prs: list[_Pr]) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str], list[_Pr]] = defaultdict(list)
    for pr in prs:
        grouped[(pr.week, pr.team)].append(pr)
    found = []
    for (week, team), mine in sorted(grouped.items()):
        reviewers = {who for p in mine for who in p.reviewers}
        found.append(
            {
                "week": week,
                "team": team,
                "merged_prs": len(mine),
                "cycle_time_hours": _median([p.cycle_hours for p in mine]),
                "revert_rate": round(sum(p.reverted for p in mine) / len(mine), 3),
                "first_review_hours": _median(
                    [p.review_hours for p in mine if p.review_hours is not None]
                ),
                "pr_size": _median([float(p.size) for p in mine]),
                "ai_label_share": round(sum(p.ai_label for p in mine) / len(mine), 3),
                "reviews_per_reviewer": (
                    round(sum(p.reviews for p in mine) / len(reviewers), 1) if reviewers else None
                ),
            }
        )
    return found


def _organisation(
    rows: list[PullRequest], bots: list[PullRequest], weeks: list[Period]
) -> list[dict[str, Any]]:
    found = []
    for week in weeks:
        merged = [r for r in rows if r.merged_at and _week_of(r.merged_at, [week])]
        if not merged:
            continue
        authored = [r for r in bots if r.merged_at and _week_of(r.merged_at, [week])]
        found.append(
            {
                "week": week.label,
                "merged_prs": len(merged),
                "ai_authored_share": round(len(authored) / len(merged), 3),
                "ai_reviewed_share": round(sum(r.ai_reviewed for r in merged) / len(merged), 3),
            }
        )
    return found


async def _comparisons(
    session: AsyncSession, teams: dict[str, str], labels: dict[str, str], until: dt.date
) -> list[dict[str, Any]]:
    """One item per started team whose own label is shown (a merged team is not compared)."""
    started = {
        r.team: r
        for t in (await session.exec(select(Team))).all()
        if (r := rollout.of(t)) is not None
    }
    if not started:
        return []
    first = min(r.baseline_first for r in started.values())
    rows = [r for r in await _merged(session, first, until) if not r.author_is_bot]
    by_team: dict[str, list[tuple[dt.date, float, bool]]] = defaultdict(list)
    for row in rows:
        team = teams.get((row.author or "").lower())
        if team is None or row.merged_at is None:
            continue
        ready = row.ready_at or row.created_at
        by_team[team].append(
            (row.merged_at.date(), _hours(row.merged_at, ready), row.reverted_by is not None)
        )
    found = []
    for name, plan in sorted(started.items()):
        if labels.get(name, name) != name:
            continue  # merged under the minimum group: no comparison names it
        found.append(_compare(plan, started, by_team, until))
    return found


def after_window(
    plan: rollout.Rollout, starts: dict[str, dt.date | None], until: dt.date
) -> tuple[dt.date, list[str]]:
    """The last day of the weeks compared after `plan`'s start, and the teams not started
    by then (`starts`: every team with pull requests → its start or None). At most
    `AFTER_WEEKS` weeks and never past `until`; shortened (to no less than `MIN_AFTER_DAYS`)
    when that keeps a team not started yet to compare with."""
    end = min(until, plan.start + dt.timedelta(weeks=AFTER_WEEKS, days=-1))
    later = {t: s for t, s in starts.items() if t != plan.team and (s is None or s > plan.start)}

    def controls(last: dt.date) -> list[str]:
        return sorted(t for t, s in later.items() if s is None or s > last)

    if not controls(end):
        latest = max((s for s in later.values() if s is not None), default=None)
        if latest is not None and latest - dt.timedelta(days=1) >= plan.start + dt.timedelta(
            days=MIN_AFTER_DAYS - 1
        ):
            end = min(end, latest - dt.timedelta(days=1))
    return end, controls(end)


def _compare(
    plan: rollout.Rollout,
    started: dict[str, rollout.Rollout],
    by_team: dict[str, list[tuple[dt.date, float, bool]]],
    until: dt.date,
) -> dict[str, Any]:
    """The team's weeks from its start (`after_window`) against the teams not started by
    their end (never started, or starting later), over the same weeks and the same
    baseline weeks."""
    starts = {t: (started[t].start if t in started else None) for t in by_team}
    after_last, controls = after_window(plan, starts, until)

    def cell(teams: list[str], first: dt.date, last: dt.date) -> list[tuple[float, bool]]:
        return [(h, r) for t in teams for d, h, r in by_team.get(t, []) if first <= d <= last]

    window = (plan.start, after_last)
    cells = {
        "team_before": cell([plan.team], plan.baseline_first, plan.baseline_last),
        "team_after": cell([plan.team], *window),
        "control_before": cell(controls, plan.baseline_first, plan.baseline_last),
        "control_after": cell(controls, *window),
    }
    item: dict[str, Any] = {
        "team": plan.team,
        "wave": plan.wave,
        "start": plan.start.isoformat(),
        "baseline": [plan.baseline_first.isoformat(), plan.baseline_last.isoformat()],
        "after": [window[0].isoformat(), window[1].isoformat()],
        "control_teams": len(controls),
        "prs": {k: len(v) for k, v in cells.items()},
        "reading": READING,
    }
    if not controls:
        return {
            **item,
            "enough": False,
            "detail": "no team had not started yet over the same weeks: nothing to compare with",
        }
    if min(len(v) for v in cells.values()) < MIN_PRS:
        return {
            **item,
            "enough": False,
            "detail": f"not enough pull requests (fewer than {MIN_PRS} in a cell)",
        }
    return {
        **item,
        "enough": True,
        "cycle_time_hours": _did(cells, _median_hours),
        "revert_rate": _did(cells, _revert_rate),
    }


def _median_hours(cell: list[tuple[float, bool]]) -> float:
    return statistics.median(hours for hours, _ in cell)


def _revert_rate(cell: list[tuple[float, bool]]) -> float:
    return sum(reverted for _, reverted in cell) / len(cell)


def _did(
    cells: dict[str, list[tuple[float, bool]]], measure: Callable[[list[tuple[float, bool]]], float]
) -> dict[str, Any]:
    """The difference in differences of `measure`, and its 95 % bootstrap interval."""

    def estimate(c: dict[str, list[tuple[float, bool]]]) -> float:
        return (measure(c["team_after"]) - measure(c["team_before"])) - (
            measure(c["control_after"]) - measure(c["control_before"])
        )

    rng = random.Random(SEED)
    draws = sorted(
        estimate({k: rng.choices(v, k=len(v)) for k, v in cells.items()}) for _ in range(BOOTSTRAP)
    )
    low, high = draws[int(0.025 * BOOTSTRAP)], draws[int(0.975 * BOOTSTRAP) - 1]
    return {
        "team_before": round(measure(cells["team_before"]), 3),
        "team_after": round(measure(cells["team_after"]), 3),
        "change": round(estimate(cells), 3),
        "interval_95": [round(low, 3), round(high, 3)],
    }
