"""Events API listeners. Slack retries an event it thinks timed out; each runs once."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.deps import Deps
from bot.errors import BadInput, NotRecorded
from bot.handlers.common import check_text
from bot.jobs import channels as channel_jobs
from bot.jobs import people
from bot.services import channels, idempotency, outbox, policy
from bot.services.policy_search import Outcome
from bot.views.policy import mention_reply

logger = logging.getLogger(__name__)
_MENTION = re.compile(r"<@[A-Z0-9]+>")


RECORD_SECONDS = 2.0  # how long a mention may wait for the database before Slack is told 503


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_mention")
    async def app_mention(ack: AsyncAck, body: dict[str, Any]) -> None:
        """Acknowledged means durable: the event's claim, its lookup and the reply (an outbox
        row) are written in one transaction before the 200. If that cannot happen in
        `RECORD_SECONDS`, `NotRecorded` makes the answer 503 and Slack delivers it again."""
        try:
            async with asyncio.timeout(RECORD_SECONDS):
                queued = await _queue_mention_reply(deps, body)
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            raise NotRecorded(str(body.get("event_id"))) from error
        await ack()
        if queued:
            deps.outbox_wakeup.set()

    @app.event("user_change")
    @app.event("team_join")
    async def user_changed(ack: AsyncAck, body: dict[str, Any]) -> None:
        """Someone joined or changed (Slack sends `user_change` for every status emoji):
        the directory takes it as an idempotent upsert, and a champion whose account was
        deactivated is retired with their questions rerouted, before the 200, so a retried
        delivery finds the work done and changes nothing."""
        user = (body.get("event") or {}).get("user")
        if isinstance(user, dict) and user.get("id"):
            try:
                async with asyncio.timeout(RECORD_SECONDS):
                    await people.apply_users(deps, [user], source=body["event"]["type"])
            except (SQLAlchemyError, OSError, TimeoutError) as error:
                raise NotRecorded(str(body.get("event_id"))) from error
        await ack()

    @app.event("channel_archive")
    @app.event("group_archive")
    @app.event("channel_left")
    @app.event("group_left")
    async def channel_closed(ack: AsyncAck, body: dict[str, Any]) -> None:
        """A channel was archived, or coe-bot was removed from it: recorded (the CoE told
        once, its digest paused) before the 200, so a retry finds the work done."""
        event = body["event"]
        channel = channels.channel_id(event["channel"])
        reason = "archived" if event["type"].endswith("_archive") else "removed"
        if channel is not None:
            await _channel_changed(
                deps, body, lambda s: channel_jobs.closed(deps, s, channel, reason)
            )
        await ack()

    @app.event("channel_unarchive")
    @app.event("group_unarchive")
    async def channel_unarchived(ack: AsyncAck, body: dict[str, Any]) -> None:
        """Back from the archive: after the 200, `conversations.info` says whether coe-bot
        is still in it before it counts as open (the hourly re-check covers a crash)."""
        await ack()
        channel = channels.channel_id(body["event"]["channel"])
        if channel is not None:
            deps.background.spawn(channel_jobs.recheck_one(deps, channel), name="channel-recheck")

    @app.event("member_joined_channel")
    async def member_joined(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        """Someone joined a channel; when it is coe-bot (invited back), `conversations.info`
        confirms after the 200 that the channel is open (it may be archived still)."""
        await ack()
        event = body["event"]
        channel = channels.channel_id(event["channel"])
        if channel is not None and event["user"] == (context.bot_user_id or _bot_user(body)):
            deps.background.spawn(channel_jobs.recheck_one(deps, channel), name="channel-recheck")


async def _channel_changed(
    deps: Deps, body: dict[str, Any], change: Callable[[AsyncSession], Awaitable[int]]
) -> None:
    try:
        async with asyncio.timeout(RECORD_SECONDS):
            async with deps.sessions.begin() as session:
                queued = await change(session)
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        raise NotRecorded(str(body.get("event_id"))) from error
    if queued:
        deps.outbox_wakeup.set()


def _bot_user(body: dict[str, Any]) -> str | None:
    """The bot's user ID from the event's `authorizations` (Bolt's context has it too)."""
    for authorization in body.get("authorizations") or []:
        if isinstance(authorization, dict) and authorization.get("is_bot"):
            return str(authorization.get("user_id"))
    return None


async def _queue_mention_reply(deps: Deps, body: dict[str, Any]) -> bool:
    """Claim the event and queue its threaded answer; False for a retried delivery."""
    event = body["event"]
    key = f"event:{body.get('event_id') or event.get('event_ts')}"
    question = _MENTION.sub("", event.get("text") or "")
    thread = event.get("thread_ts") or event["ts"]
    active = deps.policy.active
    answer = None
    asker = event.get("user")
    team = deps.team_tiers.of(asker) if asker else None
    try:
        text = check_text(question, allow_empty=True, what="your question")
        answer = active.index.answer(text, team_tier=team[1] if team else None)
        message = mention_reply(
            answer, active.loaded.pack, asker=asker, team=team[0] if team else None
        )
    except BadInput as problem:
        message = {"text": str(problem), "blocks": None}
    # An ask-back is for the asker alone (only they can choose): ephemeral, in the thread.
    ask_back = answer is not None and answer.outcome is Outcome.ambiguous and asker is not None
    async with deps.sessions.begin() as session:
        if not await idempotency.claim_request(session=session, key=key, now=deps.clock()):
            logger.info("skipping a retried delivery of %s", key)
            return False
        await outbox.enqueue(
            session=session,
            dedupe_key=f"mention-reply:{key}",
            kind="mention-ask" if ask_back else "mention-reply",
            channel=event["channel"],
            text=str(message.get("text") or ""),
            blocks=message.get("blocks"),
            thread_ts=thread,
            now=deps.clock(),
            ref=f"{outbox.EPHEMERAL}{asker}" if ask_back else None,
        )
        if answer is not None:
            await policy.record_lookups(
                session=session,
                records=[
                    policy.LookupRecord(
                        request_key=key,
                        user_id=event.get("user") or "unknown",
                        team_id=body.get("team_id"),
                        channel_id=event["channel"],
                        answer=answer,
                        pack_version=active.version,
                        at=deps.clock(),
                    )
                ],
            )
    if answer is not None:
        deps.metrics.policy_lookups.labels(outcome=answer.outcome.value).inc()
    return True
