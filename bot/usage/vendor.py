"""What the Cursor and Anthropic importers share: sending a request with retries that
follow a vendor's rate-limit answer, and keeping a pull's tally on its `usage_pull` row.

Retries: 429 and 5xx wait `Retry-After` (seconds) when the vendor sends it, else
`default_429` seconds for a 429 and an exponential backoff for a 5xx or a dropped
connection; a wait over `Retrying.max_wait` fails at once with the time the vendor named.
Other 4xx answers are not retried: the caller's `refusal` turns them into its error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import Sessions
from bot.models import UsagePull
from bot.usage.github import Retrying

logger = logging.getLogger(__name__)

SKIPPED_KEPT = 100  # skipped records listed on a pull's row (all are counted)
Sleep = Callable[[float], Awaitable[None]]


async def send(
    request: Callable[[], Awaitable[httpx.Response]],
    *,
    what: str,
    retrying: Retrying,
    sleep: Sleep,
    refusal: Callable[[httpx.Response], Exception],
    unavailable: Callable[[str], Exception],
    default_429: float = 60.0,
) -> httpx.Response:
    """A 2xx answer to `request` (called again for each attempt); raises what `refusal`
    makes of a 4xx other than 429, or `unavailable(message)` when retries run out or the
    vendor asks for too long a wait. `what` names the request in messages."""
    for attempt in range(retrying.attempts):
        wait: float
        try:
            response = await request()
        except httpx.TransportError as error:
            wait = retrying.base_delay * 2**attempt
            logger.info("%s: %s; again in %.0f s", what, error, wait)
        else:
            if response.status_code < 300:
                return response
            if response.status_code != 429 and response.status_code < 500:
                raise refusal(response)
            named = seconds(response.headers.get("retry-after"))
            backoff = (
                default_429 if response.status_code == 429 else retrying.base_delay * 2**attempt
            )
            wait = named if named is not None else backoff
            if wait > retrying.max_wait:
                raise unavailable(
                    f"{what}: asked to wait {wait:.0f} s, longer than"
                    f" {retrying.max_wait:.0f} s: try again later"
                )
        if attempt + 1 < retrying.attempts:
            await sleep(wait + random.uniform(0, min(1.0, wait / 10)))
    raise unavailable(f"{what}: no answer after {retrying.attempts} attempts")


def seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def message_of(response: httpx.Response) -> str:
    """The vendor's own words for a refusal (`message`, or `error.message`), clipped."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message", ""))[:200]
    return str(body.get("message") or error or "")[:200]


@dataclass
class Tally:
    """What a pull did, kept as it goes and written to its `UsagePull` row at the end."""

    days: set[dt.date] = field(default_factory=set)
    rows: int = 0
    members: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    skipped_count: int = 0

    def skip(self, where: str, line: int, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < SKIPPED_KEPT:
            self.skipped.append({"file": where, "line": line, "reason": reason})


async def finish(
    sessions: Sessions,
    run: UsagePull,
    tally: Tally,
    now: dt.datetime,
    started: float,
    *,
    error: str | None = None,
) -> UsagePull:
    """Write `tally` and the outcome to the pull's row; the row as stored."""
    async with sessions.begin() as session:
        stored = await session.merge(run)
        stored.finished_at = now + dt.timedelta(seconds=round(time.monotonic() - started, 3))
        stored.status = "failed" if error else "done"
        stored.error = error[:500] if error else None
        stored.days_stored = len(tally.days)
        stored.rows_stored = tally.rows
        stored.seats_stored = tally.members
        stored.skipped_count = tally.skipped_count
        stored.skipped = tally.skipped
    return stored


async def run_pull(
    *,
    sessions: Sessions,
    source: str,
    target: str | None,
    standin: bool,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime,
    work: Callable[[Tally], Awaitable[None]],
    expected: type[Exception],
) -> UsagePull:
    """Open a pull's row, run `work(tally)`, and close the row with what it did: "done",
    or "failed" with `expected`'s message (then raised again), or "interrupted" for Ctrl-C
    or a cancelled job, or the bug's repr. A pull still running from a killed process is
    closed first (`close_abandoned`)."""
    async with sessions.begin() as session:
        await close_abandoned(session=session, source=source, now=now)
        run = UsagePull(
            source=source,
            target=target,
            standin=standin,
            started_at=now,
            first_day=first_day,
            last_day=last_day,
        )
        session.add(run)
    tally = Tally()
    started = time.monotonic()
    try:
        await work(tally)
    except expected as error:
        await finish(sessions, run, tally, now, started, error=str(error))
        raise
    except BaseException as error:  # a bug, Ctrl-C, a cancelled job: never left "running"
        reason = "interrupted" if not isinstance(error, Exception) else repr(error)
        with contextlib.suppress(Exception):
            await finish(sessions, run, tally, now, started, error=reason[:300])
        raise
    return await finish(sessions, run, tally, now, started)


ABANDONED_AFTER = dt.timedelta(hours=6)  # no pull runs this long: its process is gone


async def close_abandoned(*, session: AsyncSession, source: str, now: dt.datetime) -> int:
    """Mark pulls of `source` still "running" after `ABANDONED_AFTER` as failed
    ("interrupted": their process was killed); how many."""
    stale = await session.exec(
        select(UsagePull).where(
            col(UsagePull.source) == source,
            col(UsagePull.status) == "running",
            col(UsagePull.started_at) < now - ABANDONED_AFTER,
        )
    )
    found = 0
    for run in stale.all():
        run.status, run.error, run.finished_at = "failed", "interrupted", now
        found += 1
    return found
