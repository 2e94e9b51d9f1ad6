"""Cursor usage per team per week or month, in the same item shape as Copilot's
(`usage_figures.figures` calls this; per-person rows leave only through that function).

Definitions (Cursor's fields, MEASUREMENT_FACTS §3; the docs/usage.md table):
- `seats`: members in the period's last member snapshot, removed members left out;
- `active_people`: distinct members with an `isActive` day in the period;
- `engaged_people`: active on at least 3 days for every 7 of the period pulled so far;
- `acceptance_rate`: Tab completions accepted / shown (`totalTabsAccepted` /
  `totalTabsShown`), the closest to Copilot's acceptance but **never compared or summed
  across tools**: each tool counts a suggestion its own way;
- `chat_people`: members with chat requests; `agent_people`: agent or composer requests;
- `idle_seats`: members in the snapshot with no active day in the 30 days before it (the
  member list has no join date, so a member added in those 30 days who has not started
  counts as idle);
- `matched_share`: of the e-mails seen (members and usage), the share matched to a team
  by e-mail through the people directory (`identities.email_teams`).

Teams under the minimum group are merged per tool (a team of 20 Copilot users with 3 on
Cursor shows its Cursor figures only inside "(other teams)").
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import CursorMember, CursorUserDay
from bot.services import identities
from bot.services.identities import UNMATCHED
from bot.services.survey_disclosure import Rules, merge_labels
from bot.services.usage_periods import (
    Period,
    covered_days,
    engaged_days,
    members_of,
    pulled_windows,
)

TOOL = "cursor"
IDLE_AFTER = dt.timedelta(days=30)
FIGURES = (
    "seats",
    "active_people",
    "engaged_people",
    "acceptance_rate",
    "chat_people",
    "agent_people",
    "idle_seats",
    "matched_share",
    "impact",
)


@dataclass
class _Member:
    active_days: int = 0
    tabs_shown: int = 0
    tabs_accepted: int = 0
    chat: bool = False
    agent: bool = False


async def items(
    *,
    session: AsyncSession,
    spans: list[Period],
    rules: Rules,
    impact: dict[tuple[str, str], dict[str, Any]],
) -> list[dict[str, Any]]:
    """One item per (period, team label) for Cursor, `tool` "cursor"; shapes as Copilot's
    (`usage_figures.figures`). Periods past the newest pulled day are left out; a period
    with neither a usage day nor a member snapshot is "not measured"."""
    if not spans:
        return []
    windows = await pulled_windows(session, TOOL)
    if not windows:
        return []  # Cursor never pulled: nothing to say, not even "not measured"
    newest = max(last for _, last in windows)
    snapshots = await _snapshots(session, spans)
    # Nothing is known past the newest pulled day or member snapshot.
    horizon = max([newest, *(d for d in snapshots.values() if d)])
    spans = [s for s in spans if s.first <= horizon]
    usage = await _usage(session, spans)
    members = {day: await _members_on(session, day) for day in set(snapshots.values()) if day}
    emails = {e for used in usage.values() for e in used}
    emails |= {e for held in members.values() for e in held}
    teams = await identities.email_teams(session=session)
    sizes: dict[str | None, int] = defaultdict(int)
    for email in emails:
        sizes[teams.get(email, UNMATCHED)] += 1
    labels = {str(name): label for name, label in merge_labels(sizes, rules.min_group).items()}
    found: list[dict[str, Any]] = []
    for span in spans:
        used, day = usage.get(span.label, {}), snapshots[span.label]
        covered = covered_days(span, windows)
        if not used and not covered and day is None:
            found.append(_not_measured(span))
            continue
        held = members[day] if day else {}
        found += _items(span, used, held, day, teams, labels, covered, impact)
    return found


async def _usage(session: AsyncSession, spans: list[Period]) -> dict[str, dict[str, _Member]]:
    """Period label → e-mail → their Cursor use in it (from the stored days)."""
    query = sa_select(
        col(CursorUserDay.day),
        col(CursorUserDay.email),
        col(CursorUserDay.is_active),
        col(CursorUserDay.total_tabs_shown),
        col(CursorUserDay.total_tabs_accepted),
        col(CursorUserDay.chat_requests),
        col(CursorUserDay.agent_requests) + col(CursorUserDay.composer_requests),
    ).where(col(CursorUserDay.day).between(spans[0].first, spans[-1].last))
    found: dict[str, dict[str, _Member]] = defaultdict(dict)
    rows = await (await session.connection()).execute(query)
    for day, email, active, shown, accepted, chat, agent in rows:
        span = next((s for s in spans if s.first <= day <= s.last), None)
        if span is None:
            continue
        member = found[span.label].setdefault(email, _Member())
        member.active_days += 1 if active else 0
        member.tabs_shown += int(shown or 0)
        member.tabs_accepted += int(accepted or 0)
        member.chat = member.chat or bool(chat)
        member.agent = member.agent or bool(agent)
    return found


async def _snapshots(session: AsyncSession, spans: list[Period]) -> dict[str, dt.date | None]:
    """Period label → the last member snapshot up to its end (None before the first)."""
    snapshot = col(CursorMember.snapshot_day)
    query = sa_select(snapshot).where(snapshot <= spans[-1].last).group_by(snapshot)
    days = sorted(d for (d,) in await (await session.connection()).execute(query))
    found: dict[str, dt.date | None] = {}
    for span in spans:
        before = [d for d in days if d <= span.last]
        found[span.label] = before[-1] if before else None
    return found


async def _members_on(session: AsyncSession, day: dt.date) -> dict[str, bool]:
    """The members of the snapshot of `day` (not removed): e-mail → idle."""
    listed = await session.exec(
        select(CursorMember.email).where(
            col(CursorMember.snapshot_day) == day, col(CursorMember.is_removed).is_(False)
        )
    )
    active = set(
        (
            await session.exec(
                select(CursorUserDay.email)
                .where(
                    col(CursorUserDay.day).between(day - IDLE_AFTER, day),
                    col(CursorUserDay.is_active).is_(True),
                )
                .distinct()
            )
        ).all()
    )
    return {email: email not in active for email in listed.all()}


def _items(
    span: Period,
    usage: dict[str, _Member],
    members: dict[str, bool],
    snapshot_day: dt.date | None,
    teams: dict[str, str],
    labels: dict[str, str],
    covered: int,
    impact: dict[tuple[str, str], dict[str, Any]],
) -> list[dict[str, Any]]:
    emails = {*usage, *members}
    grouped: dict[str, set[str]] = defaultdict(set)
    if not emails:  # pulled, and nobody was a member or used it: one row of zeros
        grouped["(all teams)"] = set()
    includes = members_of(labels)  # every team under a label, seen this period or not
    for email in emails:
        grouped[labels[teams.get(email, UNMATCHED)]].add(email)
    matched = sum(1 for email in emails if email in teams)
    share = round(matched / len(emails), 3) if emails else None
    threshold = engaged_days(covered or span.days)  # the days pulled, in a partial period
    found = []
    for label, people in sorted(grouped.items()):
        used = [usage[p] for p in people if p in usage]
        shown = sum(u.tabs_shown for u in used)
        counted = covered > 0 or bool(usage)  # days pulled: no use is 0
        item: dict[str, Any] = {
            "team": label,
            "period": span.label,
            "tool": TOOL,
            "measured": True,
            "complete": covered == span.days,
            "seats": sum(1 for p in people if p in members) if snapshot_day else None,
            "active_people": sum(1 for u in used if u.active_days > 0) if counted else None,
            "engaged_people": (
                sum(1 for u in used if u.active_days >= threshold) if counted else None
            ),
            "acceptance_rate": (
                round(sum(u.tabs_accepted for u in used) / shown, 3) if shown else None
            ),
            "chat_people": sum(1 for u in used if u.chat) if counted else None,
            "agent_people": sum(1 for u in used if u.agent) if counted else None,
            "idle_seats": sum(1 for p in people if members.get(p)) if snapshot_day else None,
            "matched_share": share,
            "impact": impact.get((span.label, label)),
        }
        if label in includes and (label != next(iter(includes[label])) or len(includes[label]) > 1):
            item["includes"] = sorted(includes[label])
        found.append(item)
    return found


def _not_measured(span: Period) -> dict[str, Any]:
    return {
        "team": "(all teams)",
        "period": span.label,
        "tool": TOOL,
        "measured": False,
        "complete": False,
        **dict.fromkeys(FIGURES),
    }
