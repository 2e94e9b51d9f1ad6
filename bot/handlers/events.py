"""Events API listeners. Slack retries an event it thinks timed out; each runs once."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.errors import BadInput
from bot.handlers.common import check_text
from bot.services import idempotency, policy
from bot.views.policy import mention_reply

logger = logging.getLogger(__name__)
_MENTION = re.compile(r"<@[A-Z0-9]+>")


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_mention")
    async def app_mention(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        deps.background.spawn(_answer_mention(deps, body, client), name="app-mention")


async def _answer_mention(deps: Deps, body: dict[str, Any], client: AsyncWebClient) -> None:
    event = body["event"]
    key = f"event:{body.get('event_id') or event.get('event_ts')}"
    async with deps.sessions.begin() as session:
        if not await idempotency.claim_request(session=session, key=key, now=deps.clock()):
            logger.info("skipping a retried delivery of %s", key)
            return
    question = _MENTION.sub("", event.get("text") or "")
    thread = event.get("thread_ts") or event["ts"]
    try:
        text = check_text(question, allow_empty=True, what="your question")
    except BadInput as problem:
        await client.chat_postMessage(channel=event["channel"], thread_ts=thread, text=str(problem))
        return
    active = deps.policy.active
    answer = active.index.answer(text)
    message = mention_reply(answer, active.loaded.pack)
    await client.chat_postMessage(channel=event["channel"], thread_ts=thread, **message)
    deps.metrics.policy_lookups.labels(outcome=answer.outcome.value).inc()
    async with deps.sessions.begin() as session:
        record = policy.LookupRecord(
            request_key=key,
            user_id=event.get("user") or "unknown",
            team_id=body.get("team_id"),
            channel_id=event["channel"],
            answer=answer,
            pack_version=active.version,
            at=deps.clock(),
        )
        await policy.record_lookups(session=session, records=[record])
