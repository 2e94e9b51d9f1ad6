"""Copilot usage per team per week or month: the one function through which per-person
usage leaves the database (`figures`), with the minimum-group rule applied.

Definitions (docs/usage.md has the table and its sources):
- `seats`: seats in the period's last seat snapshot (GitHub's seat API is the source of
  truth for licences; pending cancellations still count: they are paid this cycle). The
  API keeps no history, so a period before the first pull's snapshot has no seat figures.
- `active_people`: distinct people with `user_initiated_interaction_count > 0` on a day of
  the period (how GitHub's dashboard counts an active user).
- `engaged_people`: active on at least 3 days a week: 3 days in a week; in a month, at
  least 3 days for every 7 of its days (13 in a 30-day month, 14 in a 31-day one); in a
  period pulled only in part, 3 for every 7 of the days pulled; null when fewer than 5
  days were pulled (never "engaged" on fewer than 3 days).
- `acceptance_rate`: acceptances / generations over the period (GitHub's formula); never
  compared or summed across tools.
- `chat_people`, `agent_people`: distinct people with `used_chat` / `used_agent`.
- `idle_seats`: seats (not pending cancellation) never used and granted over 30 days
  before the snapshot, or last used over 30 days before it. Idle may mean telemetry off.
- `matched_share`: of the logins seen in the period (seats and usage), the share matched
  to a team (`bot.services.identities`); the rest are counted under "(unmatched)".
- A period with a seat snapshot but no day pulled has null usage figures; days pulled with
  nobody using Copilot are 0 (a baseline before a rollout), not null.

Teams with fewer people than the minimum group (`SURVEY_MIN_GROUP`) are merged as survey
results are (`survey_disclosure.merge_labels`), once for the whole request (by the people
each team has in it), so a team keeps its row from week to week; a merged row's
`includes` names the teams in it. A period with no pulled day and no seat
snapshot is "not measured" (`measured` false, figures null), never zero.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, case, func, literal
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import (
    CopilotSeat,
    CopilotUserDay,
    CopilotUserPeriod,
    CopilotUserTeam,
    Person,
    Team,
    UsageNote,
)
from bot.services import adoption, identities, impact_figures, tool_figures
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
    periods,
    pulled_windows,
)

TOOL = "copilot"
ALL_TEAMS = "(all teams)"
IDLE_AFTER = dt.timedelta(days=30)


@dataclass
class _Person:
    active_days: int = 0
    generations: int = 0
    acceptances: int = 0
    chat: bool = False
    agent: bool = False


async def figures(
    *,
    session: AsyncSession,
    period: str,
    since: dt.date,
    until: dt.date,
    rules: Rules,
    team: str | None = None,
    impact: bool = True,
    tools: tuple[str, ...] = (TOOL,),
    costs: Costs | None = None,
) -> list[dict[str, Any]]:
    """One item per (tool, period, team label) from `since` to `until` (UTC days,
    inclusive), for each of `tools` ("copilot"; "cursor", "claude_code": `tool_figures`):
    `team`, `period`, `tool`, `measured`, `complete` (a finished pull reached the
    period's last day), `seats`, `active_people`,
    `engaged_people`, `acceptance_rate` (0–1, None without generations), `chat_people`,
    `agent_people`, `idle_seats`, `matched_share` (0–1), and `impact` (the team's survey
    impact in the period, from `adoption.weekly`; None throughout with `impact` False, for
    a caller that has it already); with `costs` (`costs.yaml`) and monthly periods,
    `spend_cents`, `cost_per_active_person_cents` and `reclaimable_cents` (idle seats'
    price), else null; `note`, the CoE's note on the team's month (monthly periods);
    `reviews_per_reviewer` and `cycle_time_hours`, the team's review load and median cycle
    time that week from its pull requests (weeks, a team's own row; else null), so that
    acceptance and self-reported time saved never show without their measured pairs.
    `team` keeps only that label's items.
    Raises ValueError for an unknown `period` or tool."""
    unknown = set(tools) - {TOOL, *tool_figures.TOOLS}
    if unknown:
        raise ValueError(f"unknown tool {sorted(unknown)[0]!r}")
    spans = periods(period, since, until)
    if not spans:
        return []  # `since` after `until`: no period
    everything = list(spans)
    windows = await pulled_windows(session, TOOL)
    newest = max((last for _, last in windows), default=None)
    usage = await _usage(session, period, spans)
    snapshots = await _snapshots(session, spans)
    # Nothing is known past the newest pulled day or seat snapshot: later periods are left
    # out rather than shown with today's seats.
    horizon = max([d for d in (newest, *snapshots.values()) if d], default=None)
    spans = [s for s in spans if horizon is None or s.first <= horizon]
    seats = {day: await _seats_on(session, day) for day in set(snapshots.values()) if day}
    logins = {login for people in usage.values() for login in people}
    logins |= {login for held in seats.values() for login in held}
    teams = await _teams(session, logins, until)
    labels = _labels(logins, teams, rules.min_group)
    said = await _impact(session, everything, rules) if impact else {}
    items: list[dict[str, Any]] = []
    for span in spans if TOOL in tools else []:
        day = snapshots[span.label]
        used = usage.get(span.label, {})
        covered = covered_days(span, windows)
        if not used and not covered and day is None:
            items.append(_not_measured(span))
            continue
        held = seats[day] if day else {}
        # a month without a seat list is not priced (null), never $0
        money = await _money(session, costs, day) if costs and period == "month" and day else None
        items += _items(span, used, held, day, teams, labels, covered, said, money)
    for name in tools:
        if name in tool_figures.TOOLS:
            items += await tool_figures.items(
                session=session,
                tool=tool_figures.TOOLS[name],
                spans=everything,
                rules=rules,
                impact=said,
                costs=costs if period == "month" else None,
            )
    if len(tools) > 1:
        items += await _any_tool(session, everything, usage, tools)
    notes = await _notes(session, everything) if period == "month" else {}
    paired = (
        await delivery(session=session, spans=everything, rules=rules) if period == "week" else {}
    )
    for item in items:
        item["note"] = notes.get((item["period"], item["team"].lower()))
        measured = paired.get((item["period"], item["team"]), {})
        item["reviews_per_reviewer"] = measured.get("reviews_per_reviewer")
        item["cycle_time_hours"] = measured.get("cycle_time_hours")
    if not team:
        return items
    wanted = team.lower()
    known = wanted in {label.lower() for label in labels.values()}
    # a team's rows, and the periods nobody was measured in, if it is a team shown here
    return [i for i in items if i["team"].lower() == wanted or (known and not i["measured"])]


def _labels(logins: set[str], teams: dict[str, str], min_group: int) -> dict[str, str]:
    """Team → the label shown, decided once for the whole request from how many people
    each team has in it (so a team does not move in and out of "(other teams)" week by
    week): teams under `min_group` merge as survey results do."""
    sizes: dict[str | None, int] = defaultdict(int)
    for login in logins:
        sizes[teams.get(login, UNMATCHED)] += 1
    return {str(name): label for name, label in merge_labels(sizes, min_group).items()}


async def _usage(
    session: AsyncSession, kind: str | None, spans: list[Period]
) -> dict[str, dict[str, _Person]]:
    """Period label → lower-cased login → their use in the period. Weeks and months come
    from the importer's sums (`copilot_user_period`); with `kind` None, the one span given
    is summed from the stored days."""
    if kind is not None:
        query = sa_select(
            col(CopilotUserPeriod.start),
            col(CopilotUserPeriod.user_login),
            col(CopilotUserPeriod.active_days),
            col(CopilotUserPeriod.generations),
            col(CopilotUserPeriod.acceptances),
            col(CopilotUserPeriod.chat_days),
            col(CopilotUserPeriod.agent_days),
        ).where(
            col(CopilotUserPeriod.kind) == kind,
            col(CopilotUserPeriod.start).between(spans[0].first, spans[-1].first),
        )
    else:
        query = sums_by_login(spans[0].first, spans[-1].last, literal(spans[0].first, Date()))
    labels = {span.first: span.label for span in spans}
    found: dict[str, dict[str, _Person]] = defaultdict(dict)
    rows = await (await session.connection()).execute(query)
    for start, login, days, gen, acc, chat, agent in rows:
        found[labels[start]][login] = _Person(
            int(days or 0), int(gen or 0), int(acc or 0), bool(chat), bool(agent)
        )
    return found


def sums_by_login(first: dt.date, last: dt.date, *leading: Any, entity: str | None = None) -> Any:
    """A query of the `leading` columns, then per lower-cased login over `first` … `last`
    (UTC days, inclusive) of the stored days: the login, active days, generations,
    acceptances, days with chat and days with agent use. What the importer sums into
    `copilot_user_period` and what the digest's seven days are counted from."""

    def days_with(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    login = func.lower(CopilotUserDay.user_login)
    query = (
        sa_select(
            *leading,
            login,
            days_with(col(CopilotUserDay.user_initiated_interaction_count) > 0),
            func.sum(CopilotUserDay.code_generation_activity_count),
            func.sum(CopilotUserDay.code_acceptance_activity_count),
            days_with(col(CopilotUserDay.used_chat)),
            days_with(col(CopilotUserDay.used_agent)),
        )
        .where(col(CopilotUserDay.day).between(first, last))
        .group_by(login)
    )
    return query if entity is None else query.where(col(CopilotUserDay.entity) == entity)


async def _snapshots(session: AsyncSession, spans: list[Period]) -> dict[str, dt.date | None]:
    """Period label → the last seat snapshot day up to its end (None before the first)."""
    snapshot = col(CopilotSeat.snapshot_day)
    query = sa_select(snapshot).where(snapshot <= spans[-1].last).group_by(snapshot)
    days: list[dt.date] = sorted(d for (d,) in await (await session.connection()).execute(query))
    found: dict[str, dt.date | None] = {}
    for span in spans:
        before = [d for d in days if d <= span.last]
        found[span.label] = before[-1] if before else None
    return found


async def _seats_on(session: AsyncSession, day: dt.date) -> dict[str, bool]:
    """The seats of the snapshot of `day`: lower-cased login → idle."""
    seats = await session.exec(select(CopilotSeat).where(col(CopilotSeat.snapshot_day) == day))
    used = await _used_lately(session, day)
    return {seat.user_login.lower(): _idle(seat, used) for seat in seats}


async def _used_lately(session: AsyncSession, day: dt.date) -> set[str]:
    """Lower-cased logins the usage reports show active in the 30 days up to `day`: their
    seats are in use whatever `last_activity_at` says (it needs IDE telemetry)."""
    login = func.lower(CopilotUserDay.user_login)
    query = (
        sa_select(login)
        .where(
            col(CopilotUserDay.day).between(day - IDLE_AFTER, day),
            col(CopilotUserDay.user_initiated_interaction_count) > 0,
        )
        .distinct()
    )
    return {str(name) for (name,) in await (await session.connection()).execute(query)}


def _telemetry_off(seat: CopilotSeat) -> bool:
    """An idle seat whose holder signed in within the 30 days: `last_activity_at` records
    IDE activity only with telemetry on (GitHub's seat API docs), so the seat may be in
    use with telemetry off."""
    cutoff = dt.datetime.combine(seat.snapshot_day, dt.time(), tzinfo=dt.UTC) - IDLE_AFTER
    return seat.last_authenticated_at is not None and seat.last_authenticated_at >= cutoff


def _idle(seat: CopilotSeat, used_lately: set[str]) -> bool:
    """Not pending cancellation, not used (or, never used, not granted) in the 30 days
    before its snapshot, and not shown active in those days by the usage reports."""
    cutoff = dt.datetime.combine(seat.snapshot_day, dt.time(), tzinfo=dt.UTC) - IDLE_AFTER
    used = seat.last_activity_at or seat.created_at
    return (
        seat.pending_cancellation_date is None
        and used < cutoff
        and seat.user_login.lower() not in used_lately
    )


async def _teams(session: AsyncSession, logins: set[str], last: dt.date) -> dict[str, str]:
    """Lower-cased login → coe-bot team name: through the person's Slack user and the roster,
    else their GitHub team (the latest user↔team report up to `last`) when a coe-bot team
    has its slug as name; else none."""
    known = await identities.login_teams(session=session)
    found = {login: known[login] for login in logins if login in known}
    rest = logins - set(found)
    if not rest:
        return found
    names = {_slug(n): n for n in (await session.exec(select(Team.name))).all()}
    if not names:
        return found
    latest = (
        await session.exec(
            select(func.max(CopilotUserTeam.day)).where(col(CopilotUserTeam.day) <= last)
        )
    ).one()
    slugs = await session.exec(
        select(CopilotUserTeam.user_login, CopilotUserTeam.slug).where(
            col(CopilotUserTeam.day) == latest
        )
    )
    for login, slug in slugs.all():
        if login.lower() in rest and _slug(slug) in names:
            found.setdefault(login.lower(), names[_slug(slug)])
    return found


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _items(
    span: Period,
    usage: dict[str, _Person],
    seats: dict[str, bool],
    snapshot_day: dt.date | None,
    teams: dict[str, str],
    labels: dict[str, str],
    covered: int,
    impact: dict[tuple[str, str], dict[str, Any]],
    money: Money | None,
) -> list[dict[str, Any]]:
    logins = {*usage, *seats}
    if not logins:  # pulled, and nobody had a seat or used it: one row of zeros
        return [_item(span, ALL_TEAMS, set(), usage, seats, snapshot_day, None, covered, {}, money)]
    merged: dict[str, set[str]] = defaultdict(set)
    includes = members_of(labels)  # every team under a label, seen this period or not
    for login in logins:
        merged[labels[teams.get(login, UNMATCHED)]].add(login)
    matched = sum(1 for login in logins if login in teams)
    share = round(matched / len(logins), 3) if logins else None
    items = []
    for label, people in sorted(merged.items()):
        item = _item(span, label, people, usage, seats, snapshot_day, share, covered, impact, money)
        if label != next(iter(includes[label])) or len(includes[label]) > 1:
            item["includes"] = sorted(includes[label])  # the teams merged under this label
        items.append(item)
    return items


def _item(
    span: Period,
    label: str,
    people: set[str],
    usage: dict[str, _Person],
    seats: dict[str, bool],
    snapshot_day: dt.date | None,
    share: float | None,
    covered: int,
    impact: dict[tuple[str, str], dict[str, Any]],
    money: Money | None = None,
) -> dict[str, Any]:
    used = [usage[p] for p in people if p in usage]
    generations = sum(u.generations for u in used)
    counted = covered > 0 or bool(usage)  # days pulled: zero use is 0, not "not measured"
    threshold = engaged_threshold(covered or span.days)  # the days pulled, if partial
    return {
        "team": label,
        "period": span.label,
        "tool": TOOL,
        "measured": True,
        "complete": covered == span.days,
        "seats": sum(1 for p in people if p in seats) if snapshot_day else None,
        "active_people": sum(1 for u in used if u.active_days > 0) if counted else None,
        "engaged_people": (
            sum(1 for u in used if u.active_days >= threshold) if counted and threshold else None
        ),
        "acceptance_rate": (
            round(sum(u.acceptances for u in used) / generations, 3) if generations else None
        ),
        "chat_people": sum(1 for u in used if u.chat) if counted else None,
        "agent_people": sum(1 for u in used if u.agent) if counted else None,
        "idle_seats": sum(1 for p in people if seats.get(p)) if snapshot_day else None,
        "matched_share": share,
        "impact": impact.get((span.label, label)),
        **(
            money.figures(people, seats, sum(1 for u in used if u.active_days > 0))
            if money
            else UNPRICED
        ),
    }


async def _any_tool(
    session: AsyncSession,
    spans: list[Period],
    copilot: dict[str, dict[str, _Person]],
    tools: tuple[str, ...],
) -> list[dict[str, Any]]:
    """Per period, one "(all teams)" item with tool "any" (when two tools or more have use
    in the range): `active_people` counts each person once, however many tools they used
    (a GitHub login and an e-mail are one person when both lead to one Slack user; people
    matched to none count once per tool)."""
    logins = {login for used in copilot.values() for login in used}
    matches = await identities.resolve(session=session, logins=logins) if logins else {}
    directory = dict(
        (
            await session.exec(
                select(func.lower(col(Person.email)), Person.user_id).where(
                    col(Person.email).is_not(None)
                )
            )
        ).all()
    )
    people: dict[str, set[str]] = defaultdict(set)
    measured: set[str] = set()
    sources = 1 if TOOL in tools and copilot else 0
    if TOOL in tools:
        for label, used in copilot.items():
            measured.add(label)
            for login, person in used.items():
                if person.active_days:
                    people[label].add(matches[login].slack_user_id or f"login:{login}")
    for name in tools:
        if name not in tool_figures.TOOLS:
            continue
        active = await tool_figures.active_by_period(
            session=session, tool=tool_figures.TOOLS[name], spans=spans
        )
        sources += bool(active)
        for label, emails in active.items():
            measured.add(label)
            people[label] |= {directory.get(email) or f"email:{email}" for email in emails}
    if sources < 2:
        return []  # one tool: its own figures say it all
    return [
        {
            **_not_measured(span),
            "tool": "any",
            "measured": True,
            "complete": None,
            "active_people": len(people[span.label]),
            "note": None,
        }
        for span in spans
        if span.label in measured
    ]


async def delivery(
    *, session: AsyncSession, spans: list[Period], rules: Rules
) -> dict[tuple[str, str], dict[str, Any]]:
    """(week, team) → the team's `reviews_per_reviewer` and `cycle_time_hours` that week
    from its merged pull requests (`impact_figures`): acceptance is never shown without
    review load, nor self-reported time saved without measured cycle time. A merged row
    holds different teams in each source, so it gets none."""
    found = await impact_figures.figures(
        session=session,
        since=spans[0].first,
        until=spans[-1].last,
        rules=rules,
        comparisons=False,
    )
    return {
        (item["week"], item["team"]): {
            "reviews_per_reviewer": item["reviews_per_reviewer"],
            "cycle_time_hours": item["cycle_time_hours"],
        }
        for item in found["items"]
        if not item["team"].startswith("(")
    }


async def _notes(session: AsyncSession, spans: list[Period]) -> dict[tuple[str, str], str]:
    """(month label, team label lower case) → the CoE's note (`/ai-coe usage note`)."""
    rows = await session.exec(
        select(UsageNote).where(col(UsageNote.month).in_([s.label for s in spans]))
    )
    return {(note.month, note.team): note.text for note in rows.all()}


async def _money(session: AsyncSession, costs: Costs, day: dt.date) -> Money:
    """Each seat's monthly price by its plan (`plan_type`) in the snapshot of `day`."""
    plans = await session.exec(
        select(CopilotSeat.user_login, CopilotSeat.plan_type).where(
            col(CopilotSeat.snapshot_day) == day
        )
    )
    prices = {login.lower(): costs.seat_price(TOOL, plan) for login, plan in plans.all()}
    return Money(
        {k: v for k, v in prices.items() if v is not None},
        {},
        frozenset(k for k, v in prices.items() if v is None),
    )


def _not_measured(span: Period) -> dict[str, Any]:
    return {
        "team": ALL_TEAMS,
        "period": span.label,
        "tool": TOOL,
        "measured": False,
        "complete": False,
        **dict.fromkeys(
            (
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
        ),
        **UNPRICED,
    }


async def _impact(
    session: AsyncSession, spans: list[Period], rules: Rules
) -> dict[tuple[str, str], dict[str, Any]]:
    """(period label, team) → the survey impact of the weeks starting in the period,
    averaged by respondents, only where `adoption.weekly` shows it (minimum group)."""
    if not spans:
        return {}
    since = dt.datetime.combine(spans[0].first, dt.time(), tzinfo=dt.UTC)
    until = dt.datetime.combine(spans[-1].last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    rows = await adoption.weekly(session=session, since=since, until=until, rules=rules)
    sums: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        year, week = (int(part) for part in row["week"].split("-W"))
        monday = dt.date.fromisocalendar(year, week, 1)
        span = next((s for s in spans if s.first <= monday <= s.last), None)
        respondents = row["adoption"]["survey_respondents"]
        if span is None or row["impact"]["impact_hidden"]:
            continue
        for name in ("satisfaction", "perceived_productivity", "hours_saved"):
            value = row["impact"].get(name)
            if value is not None:
                sums[(span.label, row["team"])][name] += [value] * respondents
    return {
        key: {name: round(sum(v) / len(v), 2) for name, v in values.items()}
        for key, values in sums.items()
    }


async def idle_seats(*, session: AsyncSession, team: str | None = None) -> list[dict[str, Any]]:
    """The idle seats of the latest snapshot, by name: `github_login`, `slack_user_id` (or
    None), `team` (or "(unmatched)"), `plan_type`, `granted_at`, `last_activity_at`,
    `last_activity_editor`, `last_authenticated_at`, `may_have_telemetry_off` (signed in
    within the 30 days: look before reclaiming), `snapshot_day`; the longest idle first.
    This names people: the API serves it only to the `seats` scope (licences are reclaimed
    person by person), and no usage figure is attached. Idle: see the module docstring."""
    day = (await session.exec(select(func.max(CopilotSeat.snapshot_day)))).one()
    if day is None:
        return []
    snapshot = await session.exec(select(CopilotSeat).where(col(CopilotSeat.snapshot_day) == day))
    used = await _used_lately(session, day)
    seats = [seat for seat in snapshot if _idle(seat, used)]
    logins = {seat.user_login.lower() for seat in seats}
    matches = await identities.resolve(session=session, logins=logins)
    teams = await _teams(session, logins, day)
    items = [
        {
            "github_login": seat.user_login,
            "slack_user_id": matches[seat.user_login.lower()].slack_user_id,
            "team": teams.get(seat.user_login.lower(), UNMATCHED),
            "plan_type": seat.plan_type,
            "granted_at": seat.created_at,
            "last_activity_at": seat.last_activity_at,
            "last_activity_editor": seat.last_activity_editor,
            "last_authenticated_at": seat.last_authenticated_at,
            "may_have_telemetry_off": _telemetry_off(seat),
            "snapshot_day": day,
        }
        for seat in sorted(seats, key=lambda s: (s.last_activity_at or s.created_at, s.user_login))
    ]
    return [item for item in items if team is None or item["team"] == team]


async def totals(
    *,
    session: AsyncSession,
    first: dt.date,
    last: dt.date,
    min_group: int,
    seats_as_of: dt.date | None = None,
) -> dict[str, Any] | None:
    """Organisation-wide Copilot figures for `first` … `last` (UTC days, inclusive), for
    the digest: `first_day` and `last_day` (the days the figures cover: up to the newest
    stored day, as GitHub settles a day two days later), `seats` (the latest snapshot up
    to `seats_as_of`, default `last`, or None), `active_people`, `engaged_people` (3 days
    for every 7 covered), `acceptance_rate`. None when no usage day was pulled for the span
    or fewer than `min_group` people are seen."""
    stored = (
        await session.exec(
            select(func.max(CopilotUserDay.day)).where(col(CopilotUserDay.day).between(first, last))
        )
    ).one()
    if stored is None:
        return None
    span = Period(f"{first}…{stored}", first, stored)
    usage = (await _usage(session, None, [span])).get(span.label, {})
    as_of = Period("seats", first, seats_as_of or last)
    snapshot_day = (await _snapshots(session, [as_of]))[as_of.label]
    seats = await _seats_on(session, snapshot_day) if snapshot_day else {}
    if not usage or len({*usage, *seats}) < min_group:
        return None
    generations = sum(u.generations for u in usage.values())
    return {
        "first_day": first,
        "last_day": stored,
        "seats": len(seats) if snapshot_day else None,
        "active_people": sum(1 for u in usage.values() if u.active_days > 0),
        "engaged_people": (
            sum(1 for u in usage.values() if u.active_days >= threshold)
            if (threshold := engaged_threshold(span.days))
            else None
        ),
        "acceptance_rate": (
            round(sum(u.acceptances for u in usage.values()) / generations, 3)
            if generations
            else None
        ),
    }
