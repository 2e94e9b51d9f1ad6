"""Survey delivery: recipients are outbox rows, claimed in batches and sent as DMs.

- Claims use `FOR UPDATE SKIP LOCKED` on PostgreSQL (a compare-and-set on SQLite), so
  several workers or replicas never take the same person.
- Each DM carries message metadata naming its recipient row. A row left in `sending` by a
  crash (its lease ran out) is settled by reading the DM's recent history first: if the
  invitation is there, it is marked sent instead of being sent again.
- 429: the whole worker waits `Retry-After` and slows down (`Pacer`); 5xx and connection
  errors back off per row; `user_not_found`, `cannot_dm_bot` and friends fail the row with
  the reason, and so does a person the directory learnt was deactivated since the run
  began (Slack would take that DM with `ok: true`, and it would go nowhere). A refused
  bot token (`bot.slack.TOKEN_ERRORS`, `account_inactive` included) is not the
  recipient's doing: the row waits and delivery stops until the token works.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import ColumnElement, or_, update
from sqlmodel import col, select

from bot.deps import Deps
from bot.models import SurveyRecipient, SurveyRun
from bot.schedules import wall_to_utc
from bot.services import people, surveys
from bot.services.survey_definitions import SurveyDefinition
from bot.slack import TOKEN_ERRORS, build_client
from bot.views.surveys import invitation

logger = logging.getLogger(__name__)

EVENT_TYPE = "coe_survey_invite"
UNKNOWN_OUTCOME = "unknown_outcome"  # could not learn whether Slack posted it: never resent
SETTLE_TRIES = 8
BATCH = 200
CONCURRENCY = 32
LOOPS = 2
PERMANENT = frozenset(
    {
        "user_not_found",
        "cannot_dm_bot",
        "user_disabled",
        "invalid_blocks",
        "channel_not_found",
        "not_allowed_token_type",
        "missing_scope",
    }
)
TOKEN_WAIT = dt.timedelta(seconds=60)


class Pacer:
    """Spaces sends so the worker runs just under Slack's limit instead of into it.

    It starts at `rate`. A 429 pauses every send for `Retry-After`. Between two 429s the
    sends that got through, divided by the time between them (pause included), is the rate
    the limit allows; the pacer then runs at 97 % of that. (After the first 429 there is no
    such cycle yet, so it halves.) It probes upwards by 1 % a minute in case the limit rose.
    """

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self._since_429 = 0
        self._last_429: float | None = None
        self._last_change = time.monotonic()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next, self._paused_until)
            self._next = start + 1.0 / self.rate
        await asyncio.sleep(max(0.0, start - time.monotonic()))

    def rate_limited(self, retry_after: float) -> None:
        now = time.monotonic()
        if now < self._paused_until:  # sent before the pause began: the rate is already cut
            return
        self._paused_until = now + retry_after
        if self._last_429 is None:
            self.rate = max(1.0, self.rate / 2)
        else:
            allowed = self._since_429 / max(now - self._last_429, 1e-3)
            self.rate = max(1.0, min(self.rate, 0.97 * allowed))
        self._last_429, self._since_429 = now, 0
        self._last_change = now

    def succeeded(self) -> None:
        self._since_429 += 1
        now = time.monotonic()
        if now - self._last_change > 60:
            self.rate *= 1.01
            self._last_change = now


@dataclass(slots=True)
class Outcome:
    row_id: int
    status: str
    error: str | None = None
    ts: str | None = None
    channel: str | None = None
    retry_at: dt.datetime | None = None


async def claim(
    deps: Deps, *, reminders: bool, limit: int = BATCH
) -> list[tuple[SurveyRecipient, SurveyRun]]:
    now = deps.clock()
    lease = now + dt.timedelta(seconds=deps.settings.survey_lease_seconds)
    due: ColumnElement[bool]
    if reminders:
        due = col(SurveyRecipient.reminder_status).in_(["pending", "unknown"]) & (
            col(SurveyRecipient.next_attempt_at) <= now
        )
    else:
        due = or_(
            (col(SurveyRecipient.status) == "pending")
            & (col(SurveyRecipient.next_attempt_at) <= now),
            (col(SurveyRecipient.status) == "sending") & (col(SurveyRecipient.claimed_until) < now),
        )
    async with deps.sessions.begin() as session:
        rows = (
            await session.exec(
                select(SurveyRecipient, SurveyRun)
                .join(SurveyRun, col(SurveyRun.id) == col(SurveyRecipient.run_id))
                .where(due, col(SurveyRun.status) == "open")
                .order_by(col(SurveyRecipient.id))
                .limit(limit)
                .with_for_update(skip_locked=True, of=SurveyRecipient)
            )
        ).all()
        taken: list[tuple[SurveyRecipient, SurveyRun]] = []
        for recipient, run in rows:
            values: dict[str, Any] = {"claimed_until": lease, "attempts": recipient.attempts + 1}
            if reminders:
                values["reminder_status"] = (
                    "unknown" if recipient.reminder_status == "unknown" else "sending"
                )
                expect = col(SurveyRecipient.reminder_status) == recipient.reminder_status
            else:
                values["status"] = "sending"
                expect = (col(SurveyRecipient.status) == recipient.status) & (
                    # a lease that ran out is taken by one loop: the one that saw it first
                    col(SurveyRecipient.claimed_until).is_(None)
                    if recipient.claimed_until is None
                    else col(SurveyRecipient.claimed_until) == recipient.claimed_until
                )
            result = await session.exec(
                update(SurveyRecipient)
                .where(col(SurveyRecipient.id) == recipient.id, expect)
                .values(**values)
                # the object keeps the state it was claimed in: `_send` settles a row that
                # was "sending" (a crash, a lost answer) before anything is sent again
                .execution_options(synchronize_session=False)
            )
            if result.rowcount:
                taken.append((recipient, run))
    return taken


async def _already_delivered(
    client: AsyncWebClient, recipient: SurveyRecipient, *, reminder: bool = False
) -> tuple[str, str] | None:
    """After a crash or an unknown outcome: is our invitation (or reminder) already in this
    person's DM? (ts, channel) Raises what the Web API raises when history is unreadable."""
    channel = recipient.dm_channel
    if channel is None:
        opened = await client.conversations_open(users=recipient.user_id)
        channel = str(opened["channel"]["id"])
    history = await client.conversations_history(
        channel=channel, limit=20, include_all_metadata=True
    )
    for message in history.get("messages") or []:
        meta = message.get("metadata") or {}
        payload = meta.get("event_payload") or {}
        if (
            meta.get("event_type") == EVENT_TYPE
            and payload.get("recipient") == recipient.id
            and bool(payload.get("reminder")) == reminder
        ):
            return str(message["ts"]), channel
    return None


async def _local_hour(
    deps: Deps,
    client: AsyncWebClient,
    definition: SurveyDefinition,
    recipient: SurveyRecipient,
    *,
    reminder: bool,
) -> dt.datetime | None:
    """When the survey asks for delivery at a local hour: the time to wait for, if any.

    Checked on a recipient's first claim only (`users.info` gives their time zone)."""
    hour = definition.schedule.local_hour if definition.schedule else None
    if hour is None or reminder or recipient.attempts > 1:  # counted when claimed
        return None
    info = await client.users_info(user=recipient.user_id)
    try:
        zone = ZoneInfo(str((info.get("user") or {}).get("tz") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    now = deps.clock()
    today = now.astimezone(zone).date()
    target = wall_to_utc(dt.datetime.combine(today, dt.time(hour)), zone)
    if target < now - dt.timedelta(hours=1):  # today's hour is past: tomorrow's
        target = wall_to_utc(dt.datetime.combine(today + dt.timedelta(days=1), dt.time(hour)), zone)
    return target if target > now else None


async def _send(
    deps: Deps,
    client: AsyncWebClient,
    pacer: Pacer,
    recipient: SurveyRecipient,
    run: SurveyRun,
    *,
    reminder: bool,
) -> Outcome:
    assert recipient.id is not None
    unsettled = (
        recipient.reminder_status == "unknown" if reminder else recipient.status == "sending"
    )
    if unsettled:  # a crash or a lost answer: Slack may have it already
        try:
            found = await _already_delivered(client, recipient, reminder=reminder)
        except (SlackApiError, TimeoutError, aiohttp.ClientError, OSError) as error:
            if recipient.attempts >= SETTLE_TRIES:
                return Outcome(recipient.id, "failed", UNKNOWN_OUTCOME)
            backoff = dt.timedelta(seconds=min(2**recipient.attempts, 600))
            reason = f"history unreadable: {type(error).__name__}"
            return Outcome(recipient.id, "unknown", reason, retry_at=deps.clock() + backoff)
        if found:
            return Outcome(recipient.id, "sent", ts=found[0], channel=found[1])
    try:
        definition = SurveyDefinition.model_validate(run.definition)
        later = await _local_hour(deps, client, definition, recipient, reminder=reminder)
        if later is not None:
            return Outcome(recipient.id, "pending", surveys.LOCAL_HOUR, retry_at=later)
        text, blocks = invitation(definition, run.id or 0, reminder=reminder)
        await pacer.wait()
        response = await client.chat_postMessage(
            channel=recipient.user_id,
            text=text,
            blocks=blocks,
            metadata={
                "event_type": EVENT_TYPE,
                "event_payload": {"recipient": recipient.id, "reminder": reminder},
            },
        )
        pacer.succeeded()
        return Outcome(recipient.id, "sent", ts=response.get("ts"), channel=response.get("channel"))
    except SlackApiError as error:
        code = str(error.response.get("error") or f"http_{error.response.status_code}")
        deps.metrics.slack_api_error("chat.postMessage", code)
        if error.response.status_code == 429:
            wait = float(error.response.headers.get("Retry-After") or 1)
            pacer.rate_limited(wait)
            return Outcome(
                recipient.id, "pending", code, retry_at=deps.clock() + dt.timedelta(seconds=wait)
            )
        if code in TOKEN_ERRORS:  # our token was refused: the row waits, it is not theirs
            if deps.token.refused(code, time.monotonic()):
                logger.critical("Slack refused the bot token (%s): survey delivery waits", code)
            return Outcome(recipient.id, "pending", code, retry_at=deps.clock() + TOKEN_WAIT)
        if code in PERMANENT:
            return Outcome(recipient.id, "failed", code)
        backoff = dt.timedelta(seconds=min(2**recipient.attempts, 600))
        return Outcome(recipient.id, "pending", code, retry_at=deps.clock() + backoff)
    except (TimeoutError, aiohttp.ClientError, OSError) as error:  # posted, or not: unknown
        backoff = dt.timedelta(seconds=min(2**recipient.attempts, 60))
        return Outcome(
            recipient.id, "unknown", type(error).__name__, retry_at=deps.clock() + backoff
        )


async def _record(deps: Deps, outcomes: list[Outcome], *, reminders: bool) -> None:
    now = deps.clock()
    async with deps.sessions.begin() as session:
        for o in outcomes:
            if reminders:
                status = {"sent": "sent", "failed": "failed", "unknown": "unknown"}.get(
                    o.status, "pending"
                )
                values: dict[str, Any] = {"reminder_status": status, "claimed_until": None}
            elif o.status == "unknown":  # settled from the DM's history when the lease ends
                values = {"status": "sending", "last_error": o.error, "claimed_until": o.retry_at}
            elif o.status == "sent":
                values = {
                    "status": "sent",
                    "sent_at": now,
                    "message_ts": o.ts,
                    "dm_channel": o.channel,
                    "claimed_until": None,
                    "last_error": None,
                }
            else:
                values = {"status": o.status, "last_error": o.error, "claimed_until": None}
            if o.retry_at is not None:
                values["next_attempt_at"] = o.retry_at
            await session.exec(
                update(SurveyRecipient).where(col(SurveyRecipient.id) == o.row_id).values(**values)
            )


async def _send_all(
    deps: Deps,
    client: AsyncWebClient,
    pacer: Pacer,
    batch: list[tuple[SurveyRecipient, SurveyRun]],
    *,
    reminders: bool,
) -> list[Outcome]:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(recipient: SurveyRecipient, run: SurveyRun) -> Outcome:
        async with limit:
            return await _send(deps, client, pacer, recipient, run, reminder=reminders)

    return list(await asyncio.gather(*(one(r, run) for r, run in batch)))


async def _left_since(
    deps: Deps, batch: list[tuple[SurveyRecipient, SurveyRun]]
) -> tuple[list[tuple[SurveyRecipient, SurveyRun]], list[Outcome]]:
    """Rows whose person the directory now knows as deactivated (or a bot) fail without a
    DM: Slack would accept it with `ok: true` and it would go nowhere. (the rest, their
    outcomes)"""
    async with deps.sessions() as session:
        entries = await people.known(session=session, user_ids=[r.user_id for r, _ in batch])
    outcomes: list[Outcome] = []
    rest: list[tuple[SurveyRecipient, SurveyRun]] = []
    for recipient, run in batch:
        person = entries.get(recipient.user_id)
        if person is not None and not person.reachable and recipient.id is not None:
            reason = "deactivated" if person.deleted else "bot"
            outcomes.append(Outcome(recipient.id, "failed", reason))
        else:
            rest.append((recipient, run))
    return rest, outcomes


async def deliver_once(deps: Deps, client: AsyncWebClient, pacer: Pacer) -> int:
    """Claim and send one batch of invitations, then one of reminders; how many were sent."""
    total = 0
    for reminders in (False, True):
        batch = await claim(deps, reminders=reminders)
        if not batch:
            continue
        batch, outcomes = await _left_since(deps, batch)
        outcomes += await _send_all(deps, client, pacer, batch, reminders=reminders)
        await _record(deps, outcomes, reminders=reminders)
        total += sum(1 for o in outcomes if o.status == "sent")
    return total


@contextlib.asynccontextmanager
async def running_delivery(deps: Deps) -> AsyncIterator[asyncio.Task[None]]:
    """The delivery loop with its own HTTP connection pool, for the life of the app."""
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY * 2))
    client = build_client(
        token=deps.client.token,
        base_url=deps.settings.slack_api_url,
        metrics=deps.metrics,
        wait_on_rate_limit=False,
        session=session,
    )
    pacer = Pacer(deps.settings.survey_send_rate)
    loop = asyncio.get_running_loop()
    # Two loops share one pacer: while one claims or records a batch, the other sends.
    tasks = [
        loop.create_task(_loop(deps, client, pacer), name=f"survey-delivery-{n}")
        for n in range(LOOPS)
    ]
    try:
        yield tasks[0]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await session.close()


async def _loop(deps: Deps, client: AsyncWebClient, pacer: Pacer) -> None:
    while True:
        if deps.token.dead:  # the outbox worker probes the token and wakes us
            deps.survey_wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(deps.survey_wakeup.wait(), timeout=30.0)
            continue
        try:
            sent = await deliver_once(deps, client, pacer)
        except Exception:  # keep delivering through a database or network outage
            logger.exception("survey delivery pass failed")
            sent = 0
        if sent:
            continue
        deps.survey_wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(deps.survey_wakeup.wait(), timeout=2.0)
