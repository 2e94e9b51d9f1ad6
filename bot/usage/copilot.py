"""Pulling GitHub Copilot's usage into coe-bot: the per-user daily report, the user↔team
report, and a snapshot of the seats.

Sources (https://docs.github.com/en/enterprise-cloud@latest/rest/copilot/copilot-usage-metrics,
https://docs.github.com/en/rest/copilot/copilot-user-management): a 1-day report answers
`{"download_links": [...], "report_day": ...}`; each link is an NDJSON file, several per
report, and links expire, so they are fetched when needed and never stored. A day settles
within two to three full UTC days, so each pull takes days D-5 … D-2 again (D: today, UTC)
and a re-pulled day replaces what was stored (nothing doubles). 204, or 404 for a day
newer than D-3, means "not ready yet". The seats list has no history: each pull stores
today's list.

A record that breaks the documented shape (a required field missing, a negative count, a
day other than the one asked for) is skipped with its report, file and line; the rest of
the day is stored, and the pull's summary (`UsagePull`) says what was skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Date, String, delete, insert, literal
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import Sessions
from bot.models import (
    CopilotSeat,
    CopilotUserDay,
    CopilotUserPeriod,
    CopilotUserTeam,
    UsagePull,
)
from bot.services.usage_figures import sums_by_login
from bot.services.usage_periods import PERIODS, periods
from bot.usage import copilot_records as records
from bot.usage.github import GitHubClient, GitHubError, message_of
from bot.usage.vendor import close_abandoned

logger = logging.getLogger(__name__)

SOURCE = "copilot"
SETTLE_DAYS = 2  # a day is complete "within two full UTC days" (GitHub's docs)
HISTORY_DAYS = 365  # "up to 1 year from the current date" (GitHub's docs, enterprise reports)
REPULL_FROM = 5  # each pull takes D-5 … D-2 again: IDE telemetry finalises within 3 days
FIRST_PULL_DAYS = 120  # a first pull reaches this far back: a baseline before a rollout
NOT_READY_WITHIN = 3  # a 404 for a day newer than D-3 means "not ready", not "none"
LINK_RETRIES = 2  # expired download links: ask for the report again this many times
SKIPPED_KEPT = 100  # skipped records listed in a pull's summary (all are counted)
REPORTS = ("users-1-day", "user-teams-1-day")

PERIOD_COLUMNS = (
    "entity",
    "kind",
    "start",
    "user_login",
    "active_days",
    "generations",
    "acceptances",
    "chat_days",
    "agent_days",
)

Progress = Callable[[int, int, str], None]  # (steps done, steps in all, what is being done)


@dataclass(frozen=True)
class Target:
    """Whose reports: an enterprise's (de-duplicated across its orgs) or an org's."""

    org: str | None = None
    enterprise: str | None = None

    def __post_init__(self) -> None:
        if not (self.org or self.enterprise):
            raise ValueError("set USAGE_GITHUB_ORG or USAGE_GITHUB_ENTERPRISE")

    @property
    def entity(self) -> str:
        return f"enterprise:{self.enterprise}" if self.enterprise else f"org:{self.org}"

    @property
    def reports(self) -> str:
        if self.enterprise:
            return f"/enterprises/{self.enterprise}/copilot/metrics/reports"
        return f"/orgs/{self.org}/copilot/metrics/reports"


@dataclass
class _Tally:
    """What a pull did, kept as it goes and written to its `UsagePull` row at the end."""

    stored: set[dt.date] = field(default_factory=set)  # days whose users-1-day was stored
    days_not_ready: list[str] = field(default_factory=list)
    rows: int = 0
    seats: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    skipped_count: int = 0

    def skip(self, where: str, line: int, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < SKIPPED_KEPT:
            self.skipped.append({"file": where, "line": line, "reason": reason})

    def add(self, fetched: _Fetched, report: str, day: dt.date) -> None:
        """A stored report's rows and skipped records."""
        self.rows += len(fetched.rows)
        if report == "users-1-day":
            self.stored.add(day)
        for item in fetched.tally.skipped:
            self.skip(item["file"], item["line"], item["reason"])
        self.skipped_count += fetched.tally.skipped_count - len(fetched.tally.skipped)


@dataclass
class _Fetched:
    """One report of one day, read and parsed, not yet stored."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    tally: _Tally = field(default_factory=_Tally)


async def window(
    *, session: AsyncSession, today: dt.date, target: str | None = None
) -> tuple[dt.date, dt.date]:
    """The days a pull takes by default (UTC, inclusive): D-5 … D-2, or, before a pull of
    `target` (an entity, "org:NAME") has finished, `FIRST_PULL_DAYS` back to D-2 (the same
    for `coe-bot usage pull` and the daily job, so a CoE that only waits for the job still
    gets its baseline; a newly configured org gets its own)."""
    first, last = default_window(today)
    if not await done_before(session=session, source=SOURCE, target=target):
        first = today - dt.timedelta(days=FIRST_PULL_DAYS)
    return first, last


async def done_before(*, session: AsyncSession, source: str, target: str | None = None) -> bool:
    """Whether a pull of `source` (of `target`, when given; pulls from before targets were
    kept count for any) has finished before: a first pull reaches further back."""
    query = select(UsagePull.id).where(
        col(UsagePull.source) == source, col(UsagePull.status) == "done"
    )
    if target is not None:
        query = query.where((col(UsagePull.target) == target) | col(UsagePull.target).is_(None))
    return (await session.exec(query)).first() is not None


async def has_demo(sessions: Sessions, source: str) -> bool:
    """Whether pulls of `source` from a stand-in (the demo's) have figures stored."""
    async with sessions() as session:
        found = await session.exec(
            select(UsagePull.id).where(col(UsagePull.source) == source, col(UsagePull.standin))
        )
        return found.first() is not None


async def forget_demo(*, session: AsyncSession, source: str) -> int:
    """Delete what pulls of `source` from a stand-in stored (the demo's invented figures),
    before real data of that source comes in; how many pulls they were."""
    demo = (
        await session.exec(
            select(UsagePull).where(col(UsagePull.source) == source, col(UsagePull.standin))
        )
    ).all()
    if not demo:
        return 0
    if source == SOURCE:
        entities = {run.target for run in demo if run.target}
        for table in (CopilotUserDay, CopilotUserPeriod, CopilotUserTeam):
            await session.exec(delete(table).where(col(table.entity).in_(entities)))
        orgs = {entity.split(":", 1)[1] for entity in entities if entity.startswith("org:")}
        await session.exec(delete(CopilotSeat).where(col(CopilotSeat.org).in_(orgs)))
    elif source == "cursor":
        from bot.models import CursorMember, CursorSpend, CursorUserDay

        for other in (CursorUserDay, CursorMember, CursorSpend):
            await session.exec(delete(other))
    else:
        from bot.models import ClaudeCodeUserDay

        await session.exec(delete(ClaudeCodeUserDay))
    for run in demo:
        await session.delete(run)
    return len(demo)


def _many(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def summary(run: UsagePull) -> str:
    """One line saying what a pull did, for the command line and the job log."""
    if run.status == "failed":
        return f"Copilot pull failed: {run.error}"
    waiting = f" ({run.days_not_ready} not ready yet)" if run.days_not_ready else ""
    return (
        f"Copilot {run.first_day} … {run.last_day}: {_many(run.days_stored, 'day')} stored"
        f"{waiting}, {_many(run.rows_stored, 'row')}, {_many(run.seats_stored, 'seat')};"
        f" {_many(run.skipped_count, 'record')} skipped"
    )


def default_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The days a daily pull takes: D-5 … D-2 (UTC), since days settle late."""
    return today - dt.timedelta(days=REPULL_FROM), today - dt.timedelta(days=SETTLE_DAYS)


async def pull(
    *,
    sessions: Sessions,
    github: GitHubClient,
    target: Target,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime,
    progress: Progress | None = None,
    standin: bool = False,
) -> UsagePull:
    """Pull `first_day` … `last_day` (UTC days, inclusive) of the per-user and user↔team
    reports, then today's seats (org targets only: the enterprise seat list refuses App
    tokens). Returns the pull's row (`status` "done" or "failed"). Raises `GitHubError`
    (after recording it on the row) when GitHub refuses the token or stays unavailable."""
    if last_day < first_day:
        raise ValueError("the last day is before the first")
    today = now.date()
    days = [first_day + dt.timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    steps = 2 * len(days) + (1 if target.org else 0)
    async with sessions.begin() as session:
        await close_abandoned(session=session, source=SOURCE, now=now)
        run = UsagePull(
            source=SOURCE,
            target=target.entity,
            standin=standin,
            started_at=now,
            first_day=first_day,
            last_day=last_day,
        )
        session.add(run)
    tally = _Tally()
    started = time.monotonic()
    done = 0
    jobs = [(day, report) for day in days for report in REPORTS]

    def fetch(job: tuple[dt.date, str]) -> asyncio.Task[_Fetched | None]:
        day, report = job
        return asyncio.create_task(_fetch_day(github, target, report, day, today, now, tally))

    # The next report is fetched and parsed while this one is stored: GitHub's side (and
    # the download) overlaps the database's, one report ahead at most (memory stays one
    # report's rows).
    ahead: asyncio.Task[_Fetched | None] | None = fetch(jobs[0]) if jobs else None
    try:
        for number, (day, report) in enumerate(jobs):
            if progress:
                progress(done, steps, f"{report} {day}")
            assert ahead is not None
            fetched = await ahead
            ahead = fetch(jobs[number + 1]) if number + 1 < len(jobs) else None
            if fetched is not None:
                await _replace_day(sessions, report, target.entity, day, fetched.rows)
                tally.add(fetched, report, day)
            done += 1
        if target.org:
            if progress:
                progress(done, steps, "seats")
            await _pull_seats(sessions, github, target.org, today, tally)
            done += 1
    except GitHubError as error:
        await refresh_periods(sessions=sessions, entity=target.entity, days=tally.stored)
        await _finish(sessions, run, tally, _later(now, started), error=str(error))
        raise
    except BaseException as error:  # a bug, Ctrl-C, a cancelled job: never left "running"
        with contextlib.suppress(Exception):
            await refresh_periods(sessions=sessions, entity=target.entity, days=tally.stored)
            reason = "interrupted" if not isinstance(error, Exception) else repr(error)
            await _finish(sessions, run, tally, _later(now, started), error=reason[:300])
        raise
    finally:
        if ahead is not None:
            ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError, GitHubError):
                await ahead
    await refresh_periods(sessions=sessions, entity=target.entity, days=tally.stored)
    if progress:
        progress(done, steps, "done")
    return await _finish(sessions, run, tally, _later(now, started))


async def refresh_periods(*, sessions: Sessions, entity: str, days: Iterable[dt.date]) -> int:
    """Sum the ISO weeks and calendar months holding `days` again from the stored days
    (`copilot_user_period`, what the figures read), each in one transaction; how many."""
    spans = {(kind, p) for day in days for kind in PERIODS for p in periods(kind, day, day)}
    for kind, span in sorted(spans, key=lambda k: (k[0], k[1].first)):
        async with sessions.begin() as session:
            await session.exec(
                delete(CopilotUserPeriod).where(
                    col(CopilotUserPeriod.entity) == entity,
                    col(CopilotUserPeriod.kind) == kind,
                    col(CopilotUserPeriod.start) == span.first,
                )
            )
            sums = sums_by_login(
                span.first,
                span.last,
                literal(entity, String()),
                literal(kind, String()),
                literal(span.first, Date()),
                entity=entity,
            )
            await session.exec(insert(CopilotUserPeriod).from_select(PERIOD_COLUMNS, sums))
    return len(spans)


def _later(now: dt.datetime, started: float) -> dt.datetime:
    """`now` moved on by the time the pull took (`now` is the caller's clock)."""
    return now + dt.timedelta(seconds=round(time.monotonic() - started, 3))


async def _finish(
    sessions: Sessions,
    run: UsagePull,
    tally: _Tally,
    now: dt.datetime,
    *,
    error: str | None = None,
) -> UsagePull:
    async with sessions.begin() as session:
        stored = await session.merge(run)
        stored.finished_at = now
        stored.status = "failed" if error else "done"
        stored.error = error[:500] if error else None
        stored.days_stored = len(tally.stored)
        stored.days_not_ready = len(tally.days_not_ready)
        stored.rows_stored = tally.rows
        stored.seats_stored = tally.seats
        stored.skipped_count = tally.skipped_count
        stored.skipped = tally.skipped
    return stored


async def _fetch_day(
    github: GitHubClient,
    target: Target,
    report: str,
    day: dt.date,
    today: dt.date,
    now: dt.datetime,
    tally: _Tally,
) -> _Fetched | None:
    """One report for one day, read and parsed; None when there is nothing to store (not
    ready yet, or a day GitHub refuses, noted in `tally`)."""
    for _attempt in range(LINK_RETRIES + 1):
        response = await github.get(f"{target.reports}/{report}", params={"day": day.isoformat()})
        if response.status_code == 204 or (
            response.status_code == 404 and day > today - dt.timedelta(days=NOT_READY_WITHIN)
        ):
            if report == "users-1-day":
                tally.days_not_ready.append(day.isoformat())
            return None
        if response.status_code == 404:
            tally.skip(f"{report} {day}", 0, "GitHub has no report for this day")
            return None
        if response.status_code in (400, 422):  # a day GitHub will not give (too old)
            tally.skip(
                f"{report} {day}",
                0,
                f"GitHub refused the day: {message_of(response)[:200] or response.status_code}",
            )
            return None
        if response.status_code >= 400:
            raise GitHubError(
                f"GitHub answered {response.status_code} for the {report} report of {day}",
                status=response.status_code,
            )
        links = [str(link) for link in response.json().get("download_links") or []]
        fetched = _Fetched()
        if await _read_files(github, links, report, day, target, now, fetched.rows, fetched.tally):
            return fetched
        logger.info("download links for %s %s expired; asking again", report, day)
    raise GitHubError(f"the download links of the {report} report of {day} kept expiring")


async def _read_files(
    github: GitHubClient,
    links: list[str],
    report: str,
    day: dt.date,
    target: Target,
    now: dt.datetime,
    rows: list[dict[str, Any]],
    tally: _Tally,
) -> bool:
    """Every file of one report into `rows`; False when a link had expired (start again)."""
    parse = records.user_day if report == "users-1-day" else records.user_team
    seen: set[tuple[int, int]] = set()  # (user_id, team_id or 0): one row each per day
    for number, link in enumerate(links, start=1):
        where = f"{report} {day} file {number} of {len(links)}"
        async with github.download(link) as response:
            if response.status_code in (400, 401, 403, 404, 410):
                return False
            if response.status_code >= 300:
                raise GitHubError(f"GitHub answered {response.status_code} for {where}")
            line_number = 0
            async for line in response.aiter_lines():
                line_number += 1
                if not line.strip():
                    continue
                try:
                    row = parse(records.record(line), day, target.entity, now)
                except records.Skip as problem:
                    tally.skip(where, line_number, str(problem))
                    continue
                key = (row["user_id"], row.get("team_id", 0))
                if key in seen:
                    tally.skip(where, line_number, "a second record for this user on this day")
                    continue
                seen.add(key)
                rows.append(row)
    return True


async def _replace_day(
    sessions: Sessions,
    report: str,
    entity: str,
    day: dt.date,
    rows: list[dict[str, Any]],
) -> None:
    table: Any = CopilotUserDay if report == "users-1-day" else CopilotUserTeam
    columns = records.DAY_COLUMNS if report == "users-1-day" else records.TEAM_COLUMNS
    async with sessions.begin() as session:
        await session.exec(delete(table).where(col(table.entity) == entity, col(table.day) == day))
        await insert_rows(session, table, columns, rows)


async def insert_rows(
    session: AsyncSession, table: Any, columns: Iterable[str], rows: list[dict[str, Any]]
) -> None:
    """Insert many rows: PostgreSQL's COPY (asyncpg) where it is available, else one
    executemany INSERT."""
    if not rows:
        return
    names = list(columns)
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        records = [
            tuple(
                json.dumps(row[n]) if n == "extra" and row[n] is not None else row[n] for n in names
            )
            for row in rows
        ]
        await raw.copy_records_to_table(table.__tablename__, records=records, columns=names)
        return
    await session.exec(insert(table), params=rows)


async def _pull_seats(
    sessions: Sessions,
    github: GitHubClient,
    org: str,
    today: dt.date,
    tally: _Tally,
) -> None:
    """Today's seat list, page by page (`Link: rel="next"`), replacing today's snapshot."""
    rows: list[dict[str, Any]] = []
    url: str | None = f"/orgs/{org}/copilot/billing/seats"
    params: dict[str, Any] | None = {"per_page": 100}
    page = 0
    while url:
        page += 1
        response = await github.get(url, params=params)
        if response.status_code >= 400:
            raise GitHubError(f"GitHub answered {response.status_code} for the seats of {org}")
        for number, seat in enumerate(response.json().get("seats") or [], start=1):
            try:
                rows.append(records.seat(seat, org, today))
            except records.Skip as problem:
                tally.skip(f"seats page {page}", number, str(problem))
        url = response.links.get("next", {}).get("url")
        params = None  # the next link carries its own query
    async with sessions.begin() as session:
        await session.exec(
            delete(CopilotSeat).where(
                col(CopilotSeat.org) == org, col(CopilotSeat.snapshot_day) == today
            )
        )
        unique = {row["user_id"]: row for row in rows}  # one seat object per grant
        await insert_rows(session, CopilotSeat, records.SEAT_COLUMNS, list(unique.values()))
    tally.seats = len(unique)


async def purge(*, session: AsyncSession, before: dt.date) -> int:
    """Delete per-person rows (days, their weekly and monthly sums, team rows, seat
    snapshots) older than `before` (UTC day); `USAGE_RAW_RETENTION_DAYS` sets it. Returns
    rows deleted."""
    deleted = 0
    for table, column in (
        (CopilotUserDay, CopilotUserDay.day),
        (CopilotUserPeriod, CopilotUserPeriod.start),
        (CopilotUserTeam, CopilotUserTeam.day),
        (CopilotSeat, CopilotSeat.snapshot_day),
    ):
        result = await session.exec(delete(table).where(col(column) < before))
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted
