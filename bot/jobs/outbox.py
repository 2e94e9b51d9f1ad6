"""The outbox worker: claims due rows and posts them to Slack, once each."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.models import OutboxMessage
from bot.services import outbox

logger = logging.getLogger(__name__)

POLL_SECONDS = 2.0
LEAVER_ERRORS = frozenset({"user_not_found", "account_inactive", "user_disabled"})
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "account_inactive",
        "user_disabled",
        "cannot_dm_bot",
        "invalid_blocks",
        "msg_too_long",
        "msg_blocks_too_long",
        "invalid_auth",
        "not_authed",
        "missing_scope",
        "restricted_action",
    }
)


async def send_due(deps: Deps, *, limit: int = 50) -> int:
    """Claim and send one batch; returns how many were claimed."""
    now = deps.clock()
    async with deps.sessions.begin() as session:
        batch = list(await outbox.claim_due(session=session, now=now, limit=limit))
    for message in batch:
        await _send(deps, deps.sender, message)
    return len(batch)


async def _send(deps: Deps, client: AsyncWebClient, message: OutboxMessage) -> None:
    assert message.id is not None
    attempts = message.attempts + 1
    try:
        response = await client.chat_postMessage(
            channel=message.channel,
            text=message.text,
            blocks=message.blocks,
            thread_ts=message.thread_ts,
        )
    except SlackApiError as error:
        code = str(error.response.get("error") or f"http_{error.response.status_code}")
        deps.metrics.slack_api_error("chat.postMessage", code)
        async with deps.sessions.begin() as session:
            if code in PERMANENT_ERRORS:
                logger.warning("outbox message %s failed for good: %s", message.id, code)
                await outbox.mark_failed(session=session, message_id=message.id, error=code)
            else:
                await outbox.mark_retry(
                    session=session,
                    message_id=message.id,
                    attempts=attempts,
                    at=deps.clock() + _delay(error, attempts),
                    error=code,
                )
        if code in {"channel_not_found", "not_in_channel", "is_archived"} and (
            message.kind == "digest"
        ):
            from bot.jobs.digests import channel_failed

            await channel_failed(deps, message.channel, code)
        if code in LEAVER_ERRORS and message.kind == "question-champion-dm":
            from bot.jobs.escalation import champion_left

            await champion_left(deps, message.channel)
        return
    except (TimeoutError, OSError) as error:
        async with deps.sessions.begin() as session:
            await outbox.mark_retry(
                session=session,
                message_id=message.id,
                attempts=attempts,
                at=deps.clock() + _backoff(attempts),
                error=type(error).__name__,
            )
        return
    async with deps.sessions.begin() as session:
        await outbox.mark_sent(
            session=session, message_id=message.id, now=deps.clock(), message_ts=response.get("ts")
        )


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
