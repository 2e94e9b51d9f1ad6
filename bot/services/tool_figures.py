"""Cursor's and Claude Code's usage per team per week or month, in the same item shape as
Copilot's (`usage_figures.figures` calls `items`; per-person rows leave only through that
function). Both tools name people by e-mail, matched to teams through the people
directory (`identities.email_teams`).

Definitions (the tools' own fields, MEASUREMENT_FACTS §3–4; the docs/usage.md tables):
- `seats`: Cursor: members in the period's last member snapshot, removed members left
  out; Claude Code: null (Anthropic's analytics list no seats);
- `active_people`: Cursor: an `isActive` day; Claude Code: a day with a session;
- `engaged_people`: active on at least 3 days for every 7 of the period pulled;
- `acceptance_rate`: Cursor: Tab completions accepted / shown; Claude Code: tool actions
  (edits, writes) accepted / (accepted + rejected). **Never compared or summed across
  tools**: each counts a suggestion its own way;
- `chat_people`: Cursor: chat requests (Claude Code: null); `agent_people`: Cursor: agent
  or composer requests; Claude Code: everyone active (it is an agent);
- `idle_seats`: Cursor: members with no active day in the 30 days before the snapshot
  (the list has no join date); Claude Code: null;
- `matched_share`: of the e-mails seen, the share matched to a team;
- `not_measured`: who this source cannot see (Claude Code: people signed in with a
  claude.ai subscription), never counted as not using the tool.

Teams under the minimum group are merged per tool (a team of 20 Copilot users with 3 on
Cursor shows its Cursor figures only inside "(other teams)").
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import ClaudeCodeUserDay, CursorMember, CursorSpend, CursorUserDay
from bot.services import identities
from bot.services.costs import Costs
from bot.services.identities import UNMATCHED
from bot.services.survey_disclosure import Rules, merge_labels
from bot.services.usage_periods import (
    UNPRICED,
    Money,
    Period,
    covered_days,
    engaged_threshold,
    members_of,
    pulled_windows,
)

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
    shown: int = 0  # suggestions offered (the acceptance rate's denominator)
    accepted: int = 0
    chat: bool = False
    agent: bool = False


@dataclass(frozen=True)
class Tool:
    """An e-mail-keyed tool: its name in items and pulls, the query of its stored days
    (rows: day, e-mail, active, offered, accepted, chat count, agent count), whether it
    has a member list (seats), and who it cannot see."""

    name: str
    days: Callable[[dt.date, dt.date], Any]
    members: bool
    chat: bool
    not_measured: str | None = None
    title: str = ""  # as people know it: "Cursor"
    suggestions: str = "suggestions"  # what its acceptance rate counts


def _cursor_days(first: dt.date, last: dt.date) -> Any:
    return sa_select(
        col(CursorUserDay.day),
        col(CursorUserDay.email),
        col(CursorUserDay.is_active),
        col(CursorUserDay.total_tabs_shown),
        col(CursorUserDay.total_tabs_accepted),
        col(CursorUserDay.chat_requests),
        col(CursorUserDay.agent_requests) + col(CursorUserDay.composer_requests),
    ).where(col(CursorUserDay.day).between(first, last))


def _claude_code_days(first: dt.date, last: dt.date) -> Any:
    day = ClaudeCodeUserDay
    return sa_select(
        col(day.day),
        col(day.actor),
        col(day.sessions) > 0,
        col(day.tool_accepted) + col(day.tool_rejected),
        col(day.tool_accepted),
        literal(0),
        col(day.sessions),
    ).where(col(day.day).between(first, last), col(day.actor_type) == "user")


CURSOR = Tool(
    "cursor",
    _cursor_days,
    members=True,
    chat=True,
    title="Cursor",
    suggestions="Tab completions",
)
CLAUDE_CODE = Tool(
    "claude_code",
    _claude_code_days,
    members=False,
    chat=False,
    not_measured="people signed in with a claude.ai Team or Enterprise subscription",
    title="Claude Code",
    suggestions="tool actions (edits, writes)",
)
TOOLS = {tool.name: tool for tool in (CURSOR, CLAUDE_CODE)}


async def items(
    *,
    session: AsyncSession,
    tool: Tool,
    spans: list[Period],
    rules: Rules,
    impact: dict[tuple[str, str], dict[str, Any]],
    costs: Costs | None = None,
) -> list[dict[str, Any]]:
    """One item per (period, team label) for `tool`; shapes as Copilot's
    (`usage_figures.figures`), plus `not_measured`. Periods past the newest pulled day are
    left out; a period with neither a pulled day nor a member snapshot is "not measured"."""
    if not spans:
        return []
    windows = await pulled_windows(session, tool.name)
    if not windows:
        return []  # never pulled: nothing to say, not even "not measured"
    newest = max(last for _, last in windows)
    snapshots = (
        await _snapshots(session, spans)
        if tool.members
        else dict.fromkeys((s.label for s in spans), None)
    )
    # Nothing is known past the newest pulled day or member snapshot.
    horizon = max([newest, *(d for d in snapshots.values() if d)])
    spans = [s for s in spans if s.first <= horizon]
    if not spans:  # the whole range is past what was pulled: nothing to say
        return []
    usage = await _usage(session, tool, spans)
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
            found.append(_not_measured(tool, span))
            continue
        held = members[day] if day else {}
        # a month without a member list is not priced (null), never $0
        priced = costs is not None and (day is not None or not tool.members)
        money = await _money(session, tool, costs, span, held) if priced and costs else None
        found += _items(tool, span, used, held, day, teams, labels, covered, impact, money)
    return found


async def totals(
    *, session: AsyncSession, tool: Tool, first: dt.date, last: dt.date, min_group: int
) -> dict[str, Any] | None:
    """Organisation-wide figures of `tool` for `first` … `last` (UTC days, inclusive), for
    the digest, shaped as `usage_figures.totals`: `first_day` and `last_day` (the days a
    finished pull asked for), `seats` (members in the last snapshot up to `last`; None for
    Claude Code or before the first snapshot), `active_people`, `engaged_people` (3 days
    for every 7 covered), `acceptance_rate` (the tool's own, never compared across tools),
    plus `not_measured` (who the source cannot see). None when no finished pull asked for
    a day of the span; only the days, `not_measured`, `min_group` and `too_few` True when
    fewer than `min_group` people are seen (nobody is singled out)."""
    windows = await pulled_windows(session, tool.name)
    overlaps = [(max(a, first), min(b, last)) for a, b in windows if a <= last and b >= first]
    if not overlaps:
        return None
    span = Period("digest", min(a for a, _ in overlaps), max(b for _, b in overlaps))
    covered = covered_days(span, windows)
    usage = (await _usage(session, tool, [span])).get(span.label, {})
    snapshot = (await _snapshots(session, [span]))[span.label] if tool.members else None
    members = await _members_on(session, snapshot) if snapshot else {}
    days = {"first_day": span.first, "last_day": span.last, "not_measured": tool.not_measured}
    if len({*usage, *members}) < min_group:
        return {**days, "too_few": True, "min_group": min_group}
    shown = sum(u.shown for u in usage.values())
    return {
        **days,
        "too_few": False,
        "seats": len(members) if snapshot else None,
        "active_people": sum(1 for u in usage.values() if u.active_days > 0),
        "engaged_people": (
            sum(1 for u in usage.values() if u.active_days >= threshold)
            if (threshold := engaged_threshold(covered))
            else None
        ),
        "acceptance_rate": (
            round(sum(u.accepted for u in usage.values()) / shown, 3) if shown else None
        ),
    }


async def _usage(
    session: AsyncSession, tool: Tool, spans: list[Period]
) -> dict[str, dict[str, _Member]]:
    """Period label → e-mail → their use of `tool` in it (from the stored days)."""
    query = tool.days(spans[0].first, spans[-1].last)
    found: dict[str, dict[str, _Member]] = defaultdict(dict)
    rows = await (await session.connection()).execute(query)
    for day, email, active, shown, accepted, chat, agent in rows:
        span = next((s for s in spans if s.first <= day <= s.last), None)
        if span is None:
            continue
        member = found[span.label].setdefault(email, _Member())
        member.active_days += 1 if active else 0
        member.shown += int(shown or 0)
        member.accepted += int(accepted or 0)
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
    tool: Tool,
    span: Period,
    usage: dict[str, _Member],
    members: dict[str, bool],
    snapshot_day: dt.date | None,
    teams: dict[str, str],
    labels: dict[str, str],
    covered: int,
    impact: dict[tuple[str, str], dict[str, Any]],
    money: Money | None,
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
    threshold = engaged_threshold(covered or span.days)  # the days pulled, if partial
    found = []
    for label, people in sorted(grouped.items()):
        used = [usage[p] for p in people if p in usage]
        shown = sum(u.shown for u in used)
        counted = covered > 0 or bool(usage)  # days pulled: no use is 0
        item: dict[str, Any] = {
            "team": label,
            "period": span.label,
            "tool": tool.name,
            "measured": True,
            "complete": covered == span.days,
            "seats": sum(1 for p in people if p in members) if snapshot_day else None,
            "active_people": sum(1 for u in used if u.active_days > 0) if counted else None,
            "engaged_people": (
                sum(1 for u in used if u.active_days >= threshold)
                if counted and threshold
                else None
            ),
            "acceptance_rate": (round(sum(u.accepted for u in used) / shown, 3) if shown else None),
            "chat_people": sum(1 for u in used if u.chat) if counted and tool.chat else None,
            "agent_people": sum(1 for u in used if u.agent) if counted else None,
            "idle_seats": sum(1 for p in people if members.get(p)) if snapshot_day else None,
            "matched_share": share,
            "impact": impact.get((span.label, label)),
            "not_measured": tool.not_measured,
            **(
                money.figures(people, members, sum(1 for u in used if u.active_days > 0))
                if money
                else UNPRICED
            ),
        }
        if not tool.members:  # no seats: nothing to reclaim (null, not $0)
            item["reclaimable_cents"] = None
        if label in includes and (label != next(iter(includes[label])) or len(includes[label]) > 1):
            item["includes"] = sorted(includes[label])
        found.append(item)
    return found


def _not_measured(tool: Tool, span: Period) -> dict[str, Any]:
    return {
        "team": "(all teams)",
        "period": span.label,
        "tool": tool.name,
        "measured": False,
        "complete": False,
        **dict.fromkeys(FIGURES),
        "not_measured": tool.not_measured,
        **UNPRICED,
    }


async def _money(
    session: AsyncSession, tool: Tool, costs: Costs, span: Period, members: dict[str, bool]
) -> Money:
    """A month's prices: each member's seat (`costs.yaml`), and the usage-based spend the
    vendor reported for it (Cursor: the cycle starting in the month; Claude Code: the
    estimated cost of its days)."""
    price = costs.seat_price(tool.name, None)
    seats = dict.fromkeys(members, price) if price is not None else {}
    unpriced = frozenset(members) if price is None and tool.members else frozenset()
    if tool is CURSOR:
        query: Any = sa_select(col(CursorSpend.email), col(CursorSpend.spend_cents)).where(
            col(CursorSpend.cycle_start).between(span.first, span.last)
        )
    else:
        query = (
            sa_select(col(ClaudeCodeUserDay.actor), func.sum(ClaudeCodeUserDay.cost_cents))
            .where(
                col(ClaudeCodeUserDay.day).between(span.first, span.last),
                col(ClaudeCodeUserDay.actor_type) == "user",
            )
            .group_by(col(ClaudeCodeUserDay.actor))
        )
    used: dict[str, int] = defaultdict(int)
    for person, cents in await (await session.connection()).execute(query):
        used[str(person)] += int(cents or 0)
    return Money({k: v for k, v in seats.items() if v is not None}, dict(used), unpriced)


async def active_by_period(
    *, session: AsyncSession, tool: Tool, spans: list[Period]
) -> dict[str, set[str]]:
    """Period label → the e-mails active on `tool` in it (for counting people once across
    tools)."""
    if not spans:
        return {}
    usage = await _usage(session, tool, spans)
    return {label: {e for e, m in used.items() if m.active_days} for label, used in usage.items()}
