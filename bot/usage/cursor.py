"""Pulling Cursor's usage into coe-bot through its Admin API (MEASUREMENT_FACTS §3,
https://cursor.com/docs/account/teams/admin-api): the team's members (a daily snapshot:
the list has no history), each member's daily usage, and this cycle's spend per member.

The one `httpx.AsyncClient` for Cursor is built in `CursorClient`: HTTP Basic with the
admin key as user name and an empty password; 429 waits `Retry-After` (Cursor sends 60);
server errors and dropped connections back off. Daily usage is asked for in windows of at
most 30 days (the documented limit) and a re-pulled day replaces what was stored. Usage is
aggregated hourly, so a pull more often than hourly learns nothing new.

Errors (all `CursorError`): `CursorAuthError` (401: the key is wrong, or not an admin
key), `CursorUnavailable` (retries used up, or a wait over `max_wait` seconds), and
`CursorError` for any other refusal, with Cursor's message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Self

import httpx
from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import Sessions
from bot.models import CursorMember, CursorSpend, CursorUserDay, UsagePull
from bot.usage import vendor
from bot.usage.copilot import done_before, insert_rows
from bot.usage.github import Retrying

logger = logging.getLogger(__name__)

SOURCE = "cursor"
WINDOW_DAYS = 30  # "Date range cannot exceed 30 days" (Cursor's current docs)
DAY_MS = 86_400_000
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
SPEND_PAGE = 100
# Cursor's camelCase counters → our columns (MEASUREMENT_FACTS §3, daily-usage fields).
COUNTERS = {
    "totalAccepts": "total_accepts",
    "totalApplies": "total_applies",
    "totalRejects": "total_rejects",
    "totalTabsShown": "total_tabs_shown",
    "totalTabsAccepted": "total_tabs_accepted",
    "acceptedLinesAdded": "accepted_lines_added",
    "totalLinesAdded": "total_lines_added",
    "chatRequests": "chat_requests",
    "composerRequests": "composer_requests",
    "agentRequests": "agent_requests",
    "cmdkUsages": "cmdk_usages",
    "subscriptionIncludedReqs": "subscription_included_reqs",
    "usageBasedReqs": "usage_based_reqs",
    "apiKeyReqs": "api_key_reqs",
    "bugbotUsages": "bugbot_usages",
}
KNOWN = {
    *COUNTERS,
    "date",
    "day",
    "email",
    "userId",
    "isActive",
    "mostUsedModel",
    "clientVersion",
    # kept by Cursor, not by coe-bot: lines deleted and the most used extensions
    "totalLinesDeleted",
    "acceptedLinesDeleted",
    "applyMostUsedExtension",
    "tabMostUsedExtension",
}
DAY_COLUMNS = (
    "day",
    "email",
    "is_active",
    *COUNTERS.values(),
    "most_used_model",
    "client_version",
    "extra",
    "pulled_at",
)


class CursorError(Exception):
    """Cursor refused or could not answer; `str()` is one line a CoE admin can act on."""


class CursorAuthError(CursorError):
    pass


class CursorUnavailable(CursorError):
    pass


class Skip(ValueError):
    """A record that breaks the documented shape: skipped, with why."""


class CursorClient:
    """`async with CursorClient(api_url, api_key) as cursor: await cursor.post(path, body)`."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        retrying: Retrying | None = None,
        sleep: vendor.Sleep = asyncio.sleep,
    ) -> None:
        self.retrying = retrying or Retrying()
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=api_url.rstrip("/"),
            auth=httpx.BasicAuth(api_key, ""),
            headers={"User-Agent": "coe-bot"},
            timeout=TIMEOUT,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def get(self, path: str) -> Any:
        return await self._request("GET", path, None)

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        return await self._request("POST", path, body)

    async def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        """The JSON of a 2xx answer, after retries; raises a `CursorError`."""

        def refusal(response: httpx.Response) -> Exception:
            if response.status_code == 401:
                return CursorAuthError(
                    "Cursor refused USAGE_CURSOR_API_KEY (401): use an admin API key of"
                    " the team (dashboard → Settings → Advanced → Admin API Keys)"
                )
            return CursorError(
                f"Cursor answered {response.status_code} for {method} {path}:"
                f" {vendor.message_of(response)}"
            )

        response = await vendor.send(
            lambda: self._http.request(method, path, json=body),
            what=f"Cursor {method} {path}",
            retrying=self.retrying,
            sleep=self._sleep,
            refusal=refusal,
            unavailable=CursorUnavailable,
        )
        return response.json()


REPULL_DAYS = 2  # each pull takes yesterday and today again: Cursor aggregates hourly
FIRST_PULL_DAYS = 120  # a first pull reaches this far back (Cursor's retention is undocumented)


async def window(
    *, session: AsyncSession, today: dt.date, target: str | None = None
) -> tuple[dt.date, dt.date]:
    """The days a pull takes by default (UTC, inclusive): yesterday and today, or, before
    a Cursor pull of `target` has finished, `FIRST_PULL_DAYS` back to today."""
    done = await done_before(session=session, source=SOURCE, target=target)
    back = REPULL_DAYS - 1 if done else FIRST_PULL_DAYS
    return today - dt.timedelta(days=back), today


def epoch_ms(day: dt.date) -> int:
    """Midnight UTC of `day` in epoch milliseconds (Cursor's dates)."""
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp() * 1000)


def windows(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """`first` … `last` (UTC days, inclusive) in windows of at most `WINDOW_DAYS` days."""
    found = []
    start = first
    while start <= last:
        end = min(last, start + dt.timedelta(days=WINDOW_DAYS - 1))
        found.append((start, end))
        start = end + dt.timedelta(days=1)
    return found


def user_day(record: Any, now: dt.datetime) -> dict[str, Any]:
    """A daily-usage record as a `cursor_user_day` row; raises `Skip`. Counters left out
    (an inactive day) are 0; a negative or non-integer counter is refused."""
    if not isinstance(record, dict):
        raise Skip("not an object")
    date = record.get("date")
    if isinstance(date, str) and date.isdigit():
        date = int(date)
    if not isinstance(date, int) or isinstance(date, bool):
        raise Skip("no date (epoch milliseconds)")
    email = record.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise Skip("no email")
    row: dict[str, Any] = {
        "day": dt.datetime.fromtimestamp(date / 1000, tz=dt.UTC).date(),
        "email": email.strip().lower(),
        "is_active": bool(record.get("isActive")),
        "most_used_model": _text(record.get("mostUsedModel"), 100),
        "client_version": _text(record.get("clientVersion"), 50),
        "pulled_at": now,
    }
    for key, column in COUNTERS.items():
        value = record.get(key, 0)
        if value is None:
            value = 0
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise Skip(f"{key} is not a count: {value!r}"[:120])
        row[column] = value
    extra = {k: v for k, v in record.items() if k not in KNOWN}
    row["extra"] = extra or None
    return row


def _text(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if value not in (None, "") else None


async def pull(
    *,
    sessions: Sessions,
    cursor: CursorClient,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime,
    target: str | None = None,
    standin: bool = False,
) -> UsagePull:
    """Pull the members (today's snapshot), `first_day` … `last_day` of daily usage (UTC
    days, inclusive; days after today are not asked for) and this cycle's spend. Returns the
    pull's row (`source` "cursor"; `rows_stored` the usage rows, `seats_stored` the
    members). Raises `CursorError` (after recording it on the row)."""
    if last_day < first_day:
        raise ValueError("the last day is before the first")
    last_day = min(last_day, now.date())

    async def work(tally: vendor.Tally) -> None:
        tally.members = await _pull_members(sessions, cursor, now.date())
        for start, end in windows(first_day, last_day):
            await _pull_window(sessions, cursor, start, end, now, tally)
        await _pull_spend(sessions, cursor, now.date())

    return await vendor.run_pull(
        sessions=sessions,
        source=SOURCE,
        target=target,
        standin=standin,
        first_day=first_day,
        last_day=last_day,
        now=now,
        work=work,
        expected=CursorError,
    )


async def _pull_members(sessions: Sessions, cursor: CursorClient, today: dt.date) -> int:
    answer = await cursor.get("/teams/members")
    rows = []
    for member in answer.get("teamMembers") or []:
        if not isinstance(member, dict) or not isinstance(member.get("email"), str):
            continue
        if not isinstance(member.get("id"), int):
            continue
        rows.append(
            CursorMember(
                snapshot_day=today,
                member_id=member["id"],
                email=member["email"].strip().lower(),
                name=str(member.get("name") or "")[:200],
                role=str(member.get("role") or "member")[:40],
                is_removed=bool(member.get("isRemoved")),
            )
        )
    async with sessions.begin() as session:
        await session.exec(delete(CursorMember).where(col(CursorMember.snapshot_day) == today))
        session.add_all(rows)
    return len(rows)


async def _pull_window(
    sessions: Sessions,
    cursor: CursorClient,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    tally: vendor.Tally,
) -> None:
    """One window of daily usage, its days replaced in one transaction."""
    body = {"startDate": epoch_ms(start), "endDate": epoch_ms(end) + DAY_MS - 1}
    answer = await cursor.post("/teams/daily-usage-data", body)
    where = f"daily-usage-data {start} … {end}"
    rows: list[dict[str, Any]] = []
    seen: set[tuple[dt.date, str]] = set()
    for number, record in enumerate(answer.get("data") or [], start=1):
        try:
            row = user_day(record, now)
        except Skip as problem:
            tally.skip(where, number, str(problem))
            continue
        if not start <= row["day"] <= end:
            tally.skip(where, number, f"a record for {row['day']}, outside the window asked")
            continue
        key = (row["day"], row["email"])
        if key in seen:
            tally.skip(where, number, "a second record for this member and day")
            continue
        seen.add(key)
        rows.append(row)
    async with sessions.begin() as session:
        await session.exec(
            delete(CursorUserDay).where(
                col(CursorUserDay.day) >= start, col(CursorUserDay.day) <= end
            )
        )
        await insert_rows(session, CursorUserDay, DAY_COLUMNS, rows)
    tally.rows += len(rows)
    tally.days |= {start + dt.timedelta(days=n) for n in range((end - start).days + 1)}


async def _pull_spend(sessions: Sessions, cursor: CursorClient, today: dt.date) -> None:
    """This cycle's spend per member, every page, replacing the cycle's rows."""
    page, pages = 1, 1
    spend: dict[str, dict[str, Any]] = {}
    cycle: dt.date | None = None
    while page <= pages:
        answer = await cursor.post("/teams/spend", {"page": page, "pageSize": SPEND_PAGE})
        pages = int(answer.get("totalPages") or 1)
        started = answer.get("subscriptionCycleStart")
        if isinstance(started, int):
            cycle = dt.datetime.fromtimestamp(started / 1000, tz=dt.UTC).date()
        for item in answer.get("teamMemberSpend") or []:
            email, cents = item.get("email"), item.get("spendCents", 0)
            if isinstance(email, str) and isinstance(cents, int) and cents >= 0:
                premium = item.get("fastPremiumRequests")
                spend[email.strip().lower()] = {
                    "spend_cents": cents,
                    "fast_premium_requests": premium if isinstance(premium, int) else 0,
                }
        page += 1
    if cycle is None:
        return  # no cycle named: nothing to file it under
    async with sessions.begin() as session:
        await session.exec(delete(CursorSpend).where(col(CursorSpend.cycle_start) == cycle))
        session.add_all(
            CursorSpend(cycle_start=cycle, email=email, as_of=today, **figures)
            for email, figures in spend.items()
        )


async def purge(*, session: AsyncSession, before: dt.date) -> int:
    """Delete per-person Cursor rows (days, member snapshots, spend) older than `before`
    (a UTC day); how many day rows went."""
    result = await session.exec(delete(CursorUserDay).where(col(CursorUserDay.day) < before))
    await session.exec(delete(CursorMember).where(col(CursorMember.snapshot_day) < before))
    await session.exec(delete(CursorSpend).where(col(CursorSpend.cycle_start) < before))
    return int(result.rowcount or 0)


def summary(run: UsagePull) -> str:
    """One line for the command line and the logs."""
    state = "done" if run.status == "done" else f"failed: {run.error}"
    return (
        f"Cursor {run.first_day} … {run.last_day}: {run.rows_stored:,} member-days,"
        f" {run.seats_stored:,} members, {run.skipped_count:,} records skipped ({state})"
    )
