"""The outbox worker: claims due rows and posts them to Slack, once each."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import notices
from bot.deps import Deps
from bot.jobs import channels as channel_jobs
from bot.jobs import report
from bot.models import OutboxMessage
from bot.services import channels, outbox, questions
from bot.slack import PROBE_SECONDS, TOKEN_ERRORS

logger = logging.getLogger(__name__)

POLL_SECONDS = 2.0
# A DM that Slack refused for its recipient: a hint to ask `users.info`, never proof that
# they left (`account_inactive` is about our own token: `bot.slack.TOKEN_ERRORS`).
RECIPIENT_ERRORS = frozenset({"user_not_found", "user_disabled"})
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "invalid_blocks",
        "msg_too_long",
        "msg_blocks_too_long",
        "missing_scope",
        "restricted_action",
    }
)
TOKEN_RETRY = dt.timedelta(seconds=60)


async def send_due(deps: Deps, *, limit: int = 50, client: AsyncWebClient | None = None) -> int:
    """Claim and send one batch (with `deps.sender`, or `client`); how many were claimed."""
    now = deps.clock()
    async with deps.sessions.begin() as session:
        batch = list(await outbox.claim_due(session=session, now=now, limit=limit))
        shut = await channels.closed(session, {m.channel for m in batch})
    for message in batch:
        if message.channel in shut and message.status == "pending":
            await _known_closed(deps, message, shut[message.channel])
            continue
        refused = await _send(deps, client or deps.sender, message)
        if refused in channels.CLOSING_ERRORS and channels.is_channel(message.channel):
            shut[message.channel] = channels.CLOSING_ERRORS[refused]  # the rest of the batch
    return len(batch)


async def _known_closed(deps: Deps, message: OutboxMessage, reason: str) -> None:
    """A row for a channel known closed is not tried (Slack would refuse it): it fails
    with the error Slack gave, and goes on as a refused post would."""
    assert message.id is not None
    code = channels.ERROR_OF[reason]
    async with deps.sessions.begin() as session:
        await outbox.mark_failed(session=session, message_id=message.id, error=code)
        queued = await _failed_for_good(deps, session, message, code)
    if queued:
        deps.outbox_wakeup.set()


async def _send(deps: Deps, client: AsyncWebClient, message: OutboxMessage) -> str | None:
    """Post one row; the error code when Slack refused it for good, else None. A row
    claimed in `sending` (a crash, or an answer lost to a timeout or a reset) is first
    looked for in the conversation's history by its metadata: found, it is marked sent;
    unreadable, it waits (`mark_unknown`); absent, it is posted."""
    assert message.id is not None
    attempts = message.attempts + 1
    ephemeral_to = ephemeral_user(message)
    if message.status == "sending" and ephemeral_to is None:
        try:
            found = await _already_posted(client, message)
        except (SlackApiError, TimeoutError, OSError, aiohttp.ClientError) as error:
            await _unknown(
                deps, message.id, attempts, f"history unreadable: {type(error).__name__}"
            )
            return None
        if found is not None:
            await _sent(deps, message, found)
            return None
    method = "chat.postMessage" if ephemeral_to is None else "chat.postEphemeral"
    try:
        response: Any = None
        if message.kind == report.JOB:  # with its chart, when it can be drawn and shared
            method = "files.completeUploadExternal"
            response = await report.upload_summary(deps, client, message)
        if response is None and ephemeral_to is None:
            method = "chat.postMessage"
            response = await client.chat_postMessage(
                channel=message.channel,
                text=message.text,
                blocks=message.blocks,
                thread_ts=message.thread_ts,
                metadata={"event_type": outbox.EVENT_TYPE, "event_payload": {"row": message.id}},
            )
        elif response is None and ephemeral_to is not None:
            # Only `user` sees it, and Slack keeps no history of it to check against: a
            # row whose outcome was lost is sent again, and they may see it twice.
            response = await client.chat_postEphemeral(
                channel=message.channel,
                user=ephemeral_to,
                text=message.text,
                blocks=message.blocks,
                thread_ts=message.thread_ts,
            )
    except SlackApiError as error:
        code = str(error.response.get("error") or f"http_{error.response.status_code}")
        deps.metrics.slack_api_error(method, code)
        if code in TOKEN_ERRORS:  # our token, not the row: it waits, nobody's status changes
            if deps.token.refused(code, time.monotonic()):
                logger.critical(
                    "Slack refused the bot token (%s): nothing is sent until it works again; "
                    "reinstall the app or set a new SLACK_BOT_TOKEN",
                    code,
                )
            async with deps.sessions.begin() as session:
                await outbox.mark_retry(
                    session=session,
                    message_id=message.id,
                    attempts=message.attempts,
                    at=deps.clock() + TOKEN_RETRY,
                    error=code,
                )
            return None
        queued = 0
        async with deps.sessions.begin() as session:
            if code in PERMANENT_ERRORS:
                logger.warning("outbox message %s failed for good: %s", message.id, code)
                await outbox.mark_failed(session=session, message_id=message.id, error=code)
                queued = await _failed_for_good(deps, session, message, code)
            else:
                await outbox.mark_retry(
                    session=session,
                    message_id=message.id,
                    attempts=attempts,
                    at=deps.clock() + _delay(error, attempts),
                    error=code,
                )
        if queued:
            deps.outbox_wakeup.set()
        if code in RECIPIENT_ERRORS and message.kind == "question-champion-dm":
            from bot.jobs.people import recheck

            await recheck(deps, message.channel)
        return code if code in PERMANENT_ERRORS else None
    except (TimeoutError, OSError, aiohttp.ClientError) as error:  # posted, or not: unknown
        await _unknown(deps, message.id, attempts, type(error).__name__)
        return None
    answer = response or {}
    await _sent(deps, message, answer.get("ts") or answer.get("message_ts"))
    return None


async def _sent(deps: Deps, message: OutboxMessage, message_ts: str | None) -> None:
    """Mark a row sent, releasing the asker's notice it held (`questions.held_by`): the
    asker hears "<@champion> has your question" or "posted in #x" only once it is true."""
    assert message.id is not None
    held = questions.held_by(message.kind, message.dedupe_key)
    released = False
    async with deps.sessions.begin() as session:
        await outbox.mark_sent(
            session=session, message_id=message.id, now=deps.clock(), message_ts=message_ts
        )
        if held is not None:
            released = await outbox.release(session=session, dedupe_key=held, now=deps.clock())
    if released:
        deps.outbox_wakeup.set()


async def _failed_for_good(
    deps: Deps, session: AsyncSession, message: OutboxMessage, code: str
) -> int:
    """After a permanent refusal: a channel Slack says is closed is recorded as closed
    (its digest paused, the CoE told once), and what the row carried goes somewhere that
    works (`notices.redirect`). Returns how many rows were queued."""
    if code in notices.SIZE_ERRORS:  # its words still get there, without the layout
        return await notices.shortened(session=session, message=message, now=deps.clock())
    queued = 0
    if message.kind == "question-champion-dm":  # they never got it: the asker is not told so
        await outbox.drop_held(
            session=session, dedupe_key=questions.held_by(message.kind, message.dedupe_key) or ""
        )
    closing = channels.CLOSING_ERRORS.get(code)
    if closing and channels.is_channel(message.channel):
        queued += await channel_jobs.closed(deps, session, message.channel, closing)
    if closing or message.kind == "question-community-post":
        queued += await notices.redirect(
            session=session, message=message, places=deps.places(), now=deps.clock()
        )
    return queued


def ephemeral_user(message: OutboxMessage) -> str | None:
    """The one person an ephemeral row is for (`ref` "ephemeral:U…"), else None."""
    ref = message.ref or ""
    return ref.removeprefix(outbox.EPHEMERAL) if ref.startswith(outbox.EPHEMERAL) else None


async def _unknown(deps: Deps, message_id: int, attempts: int, error: str) -> None:
    async with deps.sessions.begin() as session:
        await outbox.mark_unknown(
            session=session,
            message_id=message_id,
            attempts=attempts,
            at=deps.clock() + _backoff(attempts),
            error=error,
        )


async def _already_posted(client: AsyncWebClient, message: OutboxMessage) -> str | None:
    """The ts of this row's message in its conversation (by metadata), or None. A DM to a
    user is read in the DM (`conversations.open`); a thread reply in its thread."""
    channel = message.channel
    if channel.startswith(("U", "W")):
        opened = await client.conversations_open(users=channel)
        channel = str(opened["channel"]["id"])
    if message.thread_ts:
        found = await client.conversations_replies(
            channel=channel, ts=message.thread_ts, limit=100, include_all_metadata=True
        )
    else:
        found = await client.conversations_history(
            channel=channel, limit=50, include_all_metadata=True
        )
    chart = report.filename(message) if message.kind == report.JOB else None
    for posted in found.get("messages") or []:
        if chart and any(f.get("name") == chart for f in posted.get("files") or []):
            return str(posted["ts"])
        meta = posted.get("metadata") or {}
        if (
            meta.get("event_type") == outbox.EVENT_TYPE
            and (meta.get("event_payload") or {}).get("row") == message.id
        ):
            return str(posted["ts"])
    return None


def _delay(error: SlackApiError, attempts: int) -> dt.timedelta:
    retry_after = error.response.headers.get("Retry-After") or error.response.headers.get(
        "retry-after"
    )
    if error.response.status_code == 429 and retry_after:
        return dt.timedelta(seconds=max(int(retry_after), 1))
    return _backoff(attempts)


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(2**attempts, 600))


@contextlib.asynccontextmanager
async def running_worker(deps: Deps) -> AsyncIterator[asyncio.Task[None]]:
    """Run the worker loop for the life of the context (aiohttp cleanup_ctx)."""
    task = asyncio.get_running_loop().create_task(_loop(deps), name="outbox-worker")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _loop(deps: Deps) -> None:
    while True:
        if deps.token.dead:
            await _wait_for_token(deps)
            continue
        try:
            claimed = await send_due(deps)
        except Exception:  # keep the worker alive through a database outage
            logger.exception("outbox worker pass failed")
            claimed = 0
        if claimed:
            continue
        deps.outbox_wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(deps.outbox_wakeup.wait(), timeout=POLL_SECONDS)


async def _wait_for_token(deps: Deps) -> None:
    """While Slack refuses our token: one `auth.test` a minute, nothing else."""
    await asyncio.sleep(PROBE_SECONDS)
    try:
        if await deps.token.probe(deps.sender):
            logger.warning("Slack accepts the bot token again: sending resumes")
            deps.outbox_wakeup.set()
            deps.survey_wakeup.set()
    except Exception:  # Slack unreachable: try again next minute
        logger.exception("auth.test failed")
