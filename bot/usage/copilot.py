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

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import Sessions
from bot.models import CopilotSeat, CopilotUserDay, CopilotUserTeam, UsagePull
from bot.usage.github import GitHubClient, GitHubError

logger = logging.getLogger(__name__)

SOURCE = "copilot"
SETTLE_DAYS = 2  # a day is complete "within two full UTC days" (GitHub's docs)
HISTORY_DAYS = 365  # "up to 1 year from the current date" (GitHub's docs, enterprise reports)
REPULL_FROM = 5  # each pull takes D-5 … D-2 again: IDE telemetry finalises within 3 days
NOT_READY_WITHIN = 3  # a 404 for a day newer than D-3 means "not ready", not "none"
LINK_RETRIES = 2  # expired download links: ask for the report again this many times
SKIPPED_KEPT = 100  # skipped records listed in a pull's summary (all are counted)

COUNTERS = (
    "user_initiated_interaction_count",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
)
LOC = ("loc_suggested_to_add_sum", "loc_added_sum", "loc_deleted_sum")
FLAGS = ("used_chat", "used_agent", "used_cli")
REVIEW_FLAGS = ("used_copilot_code_review_active", "used_copilot_code_review_passive")
# Keys the schema documents that coe-bot reads or leaves on purpose (the per-IDE, feature,
# language and model breakdowns); anything else on a record is kept in `extra`.
KNOWN = frozenset(
    {
        "day",
        "user_id",
        "user_login",
        "enterprise_id",
        "organization_id",
        "loc_suggested_to_delete_sum",
    }
    | set(COUNTERS)
    | set(LOC)
    | set(FLAGS)
    | set(REVIEW_FLAGS)
    | {
        "totals_by_ide",
        "totals_by_feature",
        "totals_by_language_feature",
        "totals_by_language_model",
        "totals_by_model_feature",
        "totals_by_cli",
    }
)
NOISE = frozenset({"etl_id", "day_partition", "entity_id_partition"})  # ETL columns

DAY_COLUMNS = (
    "entity",
    "day",
    "user_id",
    "user_login",
    *COUNTERS,
    *LOC,
    *FLAGS,
    "used_code_review",
    "extra",
    "pulled_at",
)
TEAM_COLUMNS = ("entity", "day", "user_id", "team_id", "user_login", "slug")
SEAT_COLUMNS = (
    "org",
    "snapshot_day",
    "user_id",
    "user_login",
    "plan_type",
    "assigning_team",
    "created_at",
    "last_activity_at",
    "last_activity_editor",
    "last_authenticated_at",
    "pending_cancellation_date",
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


class Skip(ValueError):
    """A record that breaks the documented shape; `str()` says why."""


@dataclass
class _Tally:
    """What a pull did, kept as it goes and written to its `UsagePull` row at the end."""

    days_stored: int = 0
    days_not_ready: list[str] = field(default_factory=list)
    rows: int = 0
    seats: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    skipped_count: int = 0

    def skip(self, where: str, line: int, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < SKIPPED_KEPT:
            self.skipped.append({"file": where, "line": line, "reason": reason})


async def done_before(*, session: AsyncSession) -> bool:
    """Whether a Copilot pull has finished before (a first pull reaches further back)."""
    found = await session.exec(
        select(UsagePull.id).where(col(UsagePull.source) == SOURCE, col(UsagePull.status) == "done")
    )
    return found.first() is not None


def summary(run: UsagePull) -> str:
    """One line saying what a pull did, for the command line and the job log."""
    if run.status == "failed":
        return f"Copilot pull failed: {run.error}"
    waiting = f" ({run.days_not_ready} not ready yet)" if run.days_not_ready else ""
    return (
        f"Copilot {run.first_day} … {run.last_day}: {run.days_stored:,} days stored{waiting},"
        f" {run.rows_stored:,} rows, {run.seats_stored:,} seats;"
        f" {run.skipped_count:,} records skipped"
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
        run = UsagePull(source=SOURCE, started_at=now, first_day=first_day, last_day=last_day)
        session.add(run)
    tally = _Tally()
    started = time.monotonic()
    done = 0
    try:
        for day in days:
            for report in ("users-1-day", "user-teams-1-day"):
                if progress:
                    progress(done, steps, f"{report} {day}")
                await _pull_day(sessions, github, target, report, day, today, now, tally)
                done += 1
        if target.org:
            if progress:
                progress(done, steps, "seats")
            await _pull_seats(sessions, github, target.org, today, tally)
            done += 1
    except GitHubError as error:
        await _finish(sessions, run, tally, _later(now, started), error=str(error))
        raise
    if progress:
        progress(done, steps, "done")
    return await _finish(sessions, run, tally, _later(now, started))


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
        stored.days_stored = tally.days_stored
        stored.days_not_ready = len(tally.days_not_ready)
        stored.rows_stored = tally.rows
        stored.seats_stored = tally.seats
        stored.skipped_count = tally.skipped_count
        stored.skipped = tally.skipped
    return stored


async def _pull_day(
    sessions: Sessions,
    github: GitHubClient,
    target: Target,
    report: str,
    day: dt.date,
    today: dt.date,
    now: dt.datetime,
    tally: _Tally,
) -> None:
    """One report for one day, stored in one transaction that replaces the day."""
    for _attempt in range(LINK_RETRIES + 1):
        response = await github.get(f"{target.reports}/{report}", params={"day": day.isoformat()})
        if response.status_code == 204 or (
            response.status_code == 404 and day > today - dt.timedelta(days=NOT_READY_WITHIN)
        ):
            if report == "users-1-day":
                tally.days_not_ready.append(day.isoformat())
            return
        if response.status_code == 404:
            tally.skip(f"{report} {day}", 0, "GitHub has no report for this day")
            return
        if response.status_code in (400, 422):  # a day GitHub will not give (too old)
            tally.skip(f"{report} {day}", 0, f"GitHub refused the day: {_message(response)}")
            return
        if response.status_code >= 400:
            raise GitHubError(
                f"GitHub answered {response.status_code} for the {report} report of {day}",
                status=response.status_code,
            )
        links = [str(link) for link in response.json().get("download_links") or []]
        rows: list[dict[str, Any]] = []
        local = _Tally()
        if await _read_files(github, links, report, day, target, now, rows, local):
            await _replace_day(sessions, report, target.entity, day, rows)
            tally.rows += len(rows)
            tally.days_stored += report == "users-1-day"
            for item in local.skipped:
                tally.skip(item["file"], item["line"], item["reason"])
            tally.skipped_count += local.skipped_count - len(local.skipped)
            return
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
    parse = _user_day if report == "users-1-day" else _user_team
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
                    rows.append(parse(_record(line), day, target.entity, now))
                except Skip as problem:
                    tally.skip(where, line_number, str(problem))
    return True


def _message(response: Any) -> str:
    try:
        return str(response.json().get("message", ""))[:200] or str(response.status_code)
    except ValueError:
        return str(response.status_code)


def _record(line: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError:
        raise Skip("not JSON") from None
    if not isinstance(record, dict):
        raise Skip("not a JSON object")
    return record


def _user_day(
    record: dict[str, Any], day: dt.date, entity: str, now: dt.datetime
) -> dict[str, Any]:
    """A `users-1-day` record as a `copilot_user_day` row; raises `Skip`."""
    _same_day(record, day)
    row: dict[str, Any] = {
        "entity": entity,
        "day": day,
        "user_id": _id(record, "user_id"),
        "user_login": _login(record),
        "pulled_at": now,
    }
    for name in COUNTERS:
        row[name] = _count(record, name, required=True)
    for name in LOC:
        row[name] = _count(record, name, required=False)
    for name in FLAGS:
        row[name] = record.get(name) is True
    row["used_code_review"] = any(record.get(name) is True for name in REVIEW_FLAGS)
    extra = {k: v for k, v in record.items() if k not in KNOWN and k not in NOISE}
    row["extra"] = extra or None
    return row


def _user_team(
    record: dict[str, Any], day: dt.date, entity: str, _now: dt.datetime
) -> dict[str, Any]:
    """A `user-teams-1-day` record as a `copilot_user_team` row; raises `Skip`."""
    _same_day(record, day)
    slug = record.get("slug")
    if not isinstance(slug, str) or not slug:
        raise Skip("no team slug")
    return {
        "entity": entity,
        "day": day,
        "user_id": _id(record, "user_id"),
        "team_id": _id(record, "team_id"),
        "user_login": _login(record),
        "slug": slug[:100],
    }


def _same_day(record: dict[str, Any], day: dt.date) -> None:
    if "day" not in record:
        raise Skip("no day")
    if record["day"] != day.isoformat():
        raise Skip(f"day {str(record['day'])[:20]} is not the day asked for ({day})")


def _id(record: dict[str, Any], name: str) -> int:
    value = record.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Skip(f"no {name}" if value is None else f"{name} is not a positive integer")
    return value


def _login(record: dict[str, Any]) -> str:
    login = record.get("user_login")
    if not isinstance(login, str) or not login:
        raise Skip("no user_login")
    return login[:100]


def _count(record: dict[str, Any], name: str, *, required: bool) -> int:
    value = record.get(name)
    if value is None:
        if required:
            raise Skip(f"no {name}")
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise Skip(f"{name} is not a whole number")
    if value < 0:
        raise Skip(f"{name} is negative ({value})")
    return value


async def _replace_day(
    sessions: Sessions,
    report: str,
    entity: str,
    day: dt.date,
    rows: list[dict[str, Any]],
) -> None:
    table: Any = CopilotUserDay if report == "users-1-day" else CopilotUserTeam
    columns = DAY_COLUMNS if report == "users-1-day" else TEAM_COLUMNS
    async with sessions.begin() as session:
        await session.exec(delete(table).where(col(table.entity) == entity, col(table.day) == day))
        await _insert(session, table, columns, rows)


async def _insert(
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
                rows.append(_seat(seat, org, today))
            except Skip as problem:
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
        await _insert(session, CopilotSeat, SEAT_COLUMNS, list(unique.values()))
    tally.seats = len(unique)


def _seat(seat: Any, org: str, today: dt.date) -> dict[str, Any]:
    if not isinstance(seat, dict):
        raise Skip("not a JSON object")
    assignee = seat.get("assignee")
    if not isinstance(assignee, dict):
        raise Skip("no assignee")
    team = seat.get("assigning_team")
    cancel = seat.get("pending_cancellation_date")
    return {
        "org": org,
        "snapshot_day": today,
        "user_id": _id(assignee, "id"),
        "user_login": _text(assignee.get("login"), "assignee login", 100),
        "plan_type": str(seat.get("plan_type") or "unknown")[:20],
        "assigning_team": str(team.get("slug"))[:100] if isinstance(team, dict) else None,
        "created_at": _moment(seat.get("created_at"), "created_at", required=True),
        "last_activity_at": _moment(seat.get("last_activity_at"), "last_activity_at"),
        "last_activity_editor": str(seat.get("last_activity_editor") or "")[:200] or None,
        "last_authenticated_at": _moment(
            seat.get("last_authenticated_at"), "last_authenticated_at"
        ),
        "pending_cancellation_date": _date(cancel) if cancel else None,
    }


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value:
        raise Skip(f"no {name}")
    return value[:limit]


def _moment(value: Any, name: str, *, required: bool = False) -> dt.datetime | None:
    if value is None:
        if required:
            raise Skip(f"no {name}")
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Skip(f"{name} is not a date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _date(value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise Skip("pending_cancellation_date is not a date") from None


async def purge(*, session: AsyncSession, before: dt.date) -> int:
    """Delete per-person rows (days, team rows, seat snapshots) older than `before` (UTC
    day); `USAGE_RAW_RETENTION_DAYS` sets it. Returns rows deleted."""
    deleted = 0
    for table, column in (
        (CopilotUserDay, CopilotUserDay.day),
        (CopilotUserTeam, CopilotUserTeam.day),
        (CopilotSeat, CopilotSeat.snapshot_day),
    ):
        result = await session.exec(delete(table).where(col(column) < before))
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted
