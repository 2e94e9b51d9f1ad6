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
each of the four cells, `BOOTSTRAP` times, a fixed seed; numpy). Under `MIN_PRS` pull requests
in any cell the comparison says "not enough pull requests" and gives no figure. Every
comparison reads "association, not causation".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import PullRequest, Team
from bot.services import identities, rollout
from bot.services.identities import UNMATCHED
from bot.services.survey_disclosure import Rules, merge_labels
from bot.services.usage_periods import Period, members_of, periods

AI_LABELS = frozenset({"ai-assisted"})  # the default policy pack's label
# Bot accounts that are AI coding agents (their GraphQL logins; [U]: as seen in public
# repositories, not a documented list). Other bots (Dependabot, Renovate) are bots, not AI.
AI_AGENTS = frozenset(
    {"copilot", "copilot-swe-agent", "devin-ai-integration", "claude", "codex", "cursor"}
)
MIN_PRS = 20  # in each cell of a comparison: fewer gives no figure
AFTER_WEEKS = 8  # the weeks compared after a start, at most
MIN_AFTER_DAYS = 14  # shortened to keep a team not started yet, never below two weeks
REVERT_DAYS = dt.timedelta(days=30)  # a revert counts within 30 days of the merge
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
    today: dt.date | None = None,
) -> dict[str, Any]:
    """`{"items": [...], "organisation": [...], "comparisons": [...]}` for the ISO weeks
    touching `since` … `until` (UTC days, inclusive); shapes in the module docstring. Hours
    are hours, sizes lines, shares 0–1. `comparisons` False leaves them out (empty);
    `today` (default `until`) says which weeks are over and which revert rates final."""
    today = today or until
    weeks = periods("week", since, until)
    rows = await _merged(session, weeks[0].first, weeks[-1].last)
    teams = await identities.login_teams(session=session)
    people = [r for r in rows if not r.author_is_bot]
    sizes: dict[str | None, int] = defaultdict(int)
    for login in {(r.author or "").lower() for r in people}:
        sizes[teams.get(login, UNMATCHED)] += 1
    labels = {str(k): v for k, v in merge_labels(sizes, rules.min_group).items()}
    prs = [_pr(r, weeks, teams, labels) for r in people]
    ends = {w.label: w.last for w in weeks}
    includes = members_of(labels)
    items = _items([p for p in prs if p is not None])
    for item in items:
        end = ends[item["week"]]
        item["complete"] = end < today  # the week is over
        item["revert_rate_final"] = end + REVERT_DAYS < today  # its 30 days have passed
        if item["team"].startswith("("):
            item["includes"] = sorted(includes.get(item["team"], ()))
    organisation = _organisation(rows, weeks)
    compared = await _comparisons(session, teams, rules, until, today) if comparisons else []
    return {"items": items, "organisation": organisation, "comparisons": compared}


_COLUMNS = (
    "author",
    "author_is_bot",
    "created_at",
    "ready_at",
    "first_review_at",
    "merged_at",
    "additions",
    "deletions",
    "review_count",
    "reviewers",
    "ai_reviewed",
    "labels",
    "reverted_by",
)


# what a comparison reads: no JSON columns to decode (a year of a large organisation)
_COMPARED = ("author", "author_is_bot", "created_at", "ready_at", "merged_at", "reverted_by")


async def _merged(
    session: AsyncSession, first: dt.date, last: dt.date, columns: tuple[str, ...] = _COLUMNS
) -> list[Any]:
    """The pull requests merged `first` … `last` (UTC days), as rows of `columns` (not
    whole objects: a quarter of a large organisation is ~100,000)."""
    start = dt.datetime.combine(first, dt.time(), dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC)
    query = sa_select(*(getattr(PullRequest, name) for name in columns)).where(
        col(PullRequest.merged_at) >= start, col(PullRequest.merged_at) < end
    )
    return list(await (await session.connection()).execute(query))


def _week_of(when: dt.datetime, weeks: list[Period]) -> str | None:
    """The label of the ISO week of `when` (UTC) if within `weeks` (consecutive ISO weeks,
    oldest first), or None."""
    year, week, _ = when.astimezone(dt.UTC).isocalendar()
    label = f"{year}-W{week:02d}"
    return label if weeks[0].first <= when.astimezone(dt.UTC).date() <= weeks[-1].last else None


def _pr(row: Any, weeks: list[Period], teams: dict[str, str], labels: dict[str, str]) -> _Pr | None:
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


def _organisation(rows: list[Any], weeks: list[Period]) -> list[dict[str, Any]]:
    merged: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        week = _week_of(row.merged_at, weeks) if row.merged_at else None
        if week is not None:
            merged[week].append(row)
    found = []
    for label in (w.label for w in weeks):
        these = merged.get(label)
        if not these:
            continue
        by_bots = [r for r in these if r.author_is_bot]
        by_agents = [r for r in by_bots if (r.author or "").lower() in AI_AGENTS]
        found.append(
            {
                "week": label,
                "merged_prs_all": len(these),  # people's and bots'
                "bot_authored_share": round(len(by_bots) / len(these), 3),
                "ai_authored_share": round(len(by_agents) / len(these), 3),
                "ai_reviewed_share": round(sum(r.ai_reviewed for r in these) / len(these), 3),
            }
        )
    return found


async def _comparisons(
    session: AsyncSession, teams: dict[str, str], rules: Rules, until: dt.date, today: dt.date
) -> list[dict[str, Any]]:
    """One item per started team. The minimum group is decided on each comparison's own
    pull requests, whatever range was asked: a team, or the teams it is compared with,
    with fewer people than `rules.min_group` get no figure."""
    started = {
        r.team: r
        for t in (await session.exec(select(Team))).all()
        if (r := rollout.of(t)) is not None
    }
    if not started:
        return []
    first = min(r.baseline_first for r in started.values())
    rows = [r for r in await _merged(session, first, until, _COMPARED) if not r.author_is_bot]
    oldest = (await session.exec(select(func.min(PullRequest.created_at)))).one()
    by_team: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        login = (row.author or "").lower()
        team = teams.get(login)
        if team is None or row.merged_at is None:
            continue
        ready = row.ready_at or row.created_at
        by_team[team].append(
            _Row(
                row.merged_at.date(),
                _hours(row.merged_at, ready),
                row.reverted_by is not None,
                login,
            )
        )
    data_from = oldest.date() if oldest else None

    def compare_all() -> list[dict[str, Any]]:
        return [
            _compare(plan, started, by_team, until, today, rules.min_group, data_from)
            for _, plan in sorted(started.items())
        ]

    # the bootstraps are CPU work (numpy lets go of the GIL for most of it): off the loop,
    # so Slack's requests are acked meanwhile
    return await asyncio.to_thread(compare_all)


@dataclass(frozen=True)
class _Row:
    merged: dt.date
    hours: float
    reverted: bool
    author: str


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
    by_team: dict[str, list[_Row]],
    until: dt.date,
    today: dt.date,
    min_group: int,
    data_from: dt.date | None,
) -> dict[str, Any]:
    """The team's weeks from its start (`after_window`) against the teams not started by
    their end (never started, or starting later), over the same weeks and the same
    baseline weeks."""
    item: dict[str, Any] = {
        "team": plan.team,
        "wave": plan.wave,
        "start": plan.start.isoformat(),
        "baseline": [plan.baseline_first.isoformat(), plan.baseline_last.isoformat()],
        "reading": READING,
    }
    if plan.start > until:
        return {**item, "enough": False, "detail": "starts after the range asked: not started yet"}
    starts = {t: (started[t].start if t in started else None) for t in by_team}
    after_last, controls = after_window(plan, starts, until)

    def cell(teams: list[str], first: dt.date, last: dt.date) -> list[_Row]:
        return [r for t in teams for r in by_team.get(t, []) if first <= r.merged <= last]

    cells = {
        "team_before": cell([plan.team], plan.baseline_first, plan.baseline_last),
        "team_after": cell([plan.team], plan.start, after_last),
        "control_before": cell(controls, plan.baseline_first, plan.baseline_last),
        "control_after": cell(controls, plan.start, after_last),
    }
    item |= {
        "after": [plan.start.isoformat(), after_last.isoformat()],
        "baseline_complete": data_from is not None and data_from <= plan.baseline_first,
        # reverts count within 30 days of a merge: until those have passed, too low
        "revert_rate_final": after_last + REVERT_DAYS < today,
        "control_teams": len(controls),
        "prs": {k: len(v) for k, v in cells.items()},
    }
    own = {r.author for k in ("team_before", "team_after") for r in cells[k]}
    others = {r.author for k in ("control_before", "control_after") for r in cells[k]}
    if len(own) < min_group:
        return {
            **{k: v for k, v in item.items() if k not in ("prs", "control_teams")},
            "enough": False,
            "detail": f"fewer than {min_group} people: not compared (nobody is singled out)",
        }
    if not controls:
        return {
            **item,
            "enough": False,
            "detail": "every other team had started by then: nothing to compare with",
        }
    if len(others) < min_group:
        return {
            **{k: v for k, v in item.items() if k not in ("prs", "control_teams")},
            "enough": False,
            "detail": f"the teams not started yet have fewer than {min_group} people: not"
            " compared (nobody is singled out)",
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
        "cycle_time_hours": _did(cells, lambda r: r.hours, np.median),
        "revert_rate": _did(cells, lambda r: float(r.reverted), np.mean),
    }


def _did(cells: dict[str, list[_Row]], value: Callable[[_Row], float], stat: Any) -> dict[str, Any]:
    """The difference in differences of `stat` (`numpy.median` or `numpy.mean`) over each
    row's `value` (`change`), the four medians or rates it is made of, and its 95 %
    bootstrap interval: each cell resampled with replacement `BOOTSTRAP` times (numpy's
    PCG64 generator, seed `SEED`, so the same rows give the same interval), in chunks of
    about two million values so a large organisation's cells stay within memory."""
    arrays = {k: np.fromiter((value(r) for r in v), float, len(v)) for k, v in cells.items()}
    point = {k: float(stat(a)) for k, a in arrays.items()}
    rng = np.random.default_rng(SEED)
    draws: dict[str, Any] = {}
    for name, values in arrays.items():
        chunk = max(1, 2_000_000 // len(values))
        parts = []
        for first in range(0, BOOTSTRAP, chunk):
            size = min(chunk, BOOTSTRAP - first)
            picks = rng.integers(0, len(values), size=(size, len(values)))
            parts.append(stat(values[picks], axis=1))
        draws[name] = np.concatenate(parts)
    diffs = np.sort(
        (draws["team_after"] - draws["team_before"])
        - (draws["control_after"] - draws["control_before"])
    )
    low, high = diffs[int(0.025 * BOOTSTRAP)], diffs[int(0.975 * BOOTSTRAP) - 1]
    change = (point["team_after"] - point["team_before"]) - (
        point["control_after"] - point["control_before"]
    )
    return {
        **{name: round(v, 3) for name, v in point.items()},
        "change": round(change, 3),
        "interval_95": [round(float(low), 3), round(float(high), 3)],
    }
