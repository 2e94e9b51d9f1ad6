"""`/ai-policy` and its buttons: answer from memory at once, record after the ack."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.batching import BatchWriter
from bot.deps import Deps
from bot.errors import BadInput
from bot.handlers.common import check_text, guarded
from bot.services import idempotency, policy
from bot.services.policy_search import PolicyAnswer
from bot.views.common import ephemeral_text, followup
from bot.views.policy import PolicyActions, answer_message, help_message, shared_message

logger = logging.getLogger(__name__)

NOT_RECORDED = (
    ":warning: This lookup was not recorded: the database is unavailable. "
    "The answer above comes from the policy pack in memory and is still current."
)


def register(app: AsyncApp, deps: Deps) -> None:
    lookups = _lookup_writer(deps)

    @functools.lru_cache(maxsize=4096)
    def reply_to(pack_sha256: str, text: str) -> tuple[PolicyAnswer, dict[str, Any]]:
        """Answers are pure in (pack, question): the same question is rendered once."""
        active = deps.policy.active
        answer = active.index.answer(text)
        return answer, answer_message(answer, active.loaded.pack)

    @app.command("/ai-policy")
    async def ai_policy(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        raw = command.get("text") or ""
        try:
            text = check_text(raw, allow_empty=True, what="your question")
        except BadInput as problem:
            await ack(ephemeral_text(str(problem)))
            deps.metrics.policy_lookups.labels(outcome="refused").inc()
            return
        if text.lower() in {"help", "-h", "--help", "?"}:
            await ack(help_message())
            return
        active = deps.policy.active
        answer, message = reply_to(active.loaded.sha256, text)
        await ack(message)
        deps.metrics.policy_lookups.labels(outcome=answer.outcome.value).inc()
        record = policy.LookupRecord(
            request_key=command.get("trigger_id"),
            user_id=command["user_id"],
            team_id=command.get("team_id"),
            channel_id=command.get("channel_id"),
            answer=answer,
            pack_version=active.version,
            at=deps.clock(),
        )
        lookups.add((record, respond))

    @app.action(PolicyActions.share.value)
    async def share(
        ack: AsyncAck, action: dict[str, Any], body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        active = deps.policy.active
        answer = active.index.answer((action.get("value") or "").strip())
        message = shared_message(answer, active.loaded.pack, body["user"]["id"])
        deps.background.spawn(
            guarded(_post(respond, message), respond, what="policy share"),
            name="policy-share",
        )

    @app.action(PolicyActions.ask_champion.value)
    async def ask_champion(
        ack: AsyncAck, action: dict[str, Any], body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        work = _hand_to_champions(deps, body, (action.get("value") or "").strip(), respond)
        deps.background.spawn(
            guarded(work, respond, what="policy hand-off"), name="policy-hand-off"
        )


async def _post(respond: AsyncRespond, message: dict[str, Any]) -> None:
    await respond(followup(message))


PendingLookup = tuple[policy.LookupRecord, AsyncRespond]


def _lookup_writer(deps: Deps) -> BatchWriter[PendingLookup]:
    """Lookups are stored in batches after the ack; if the database is down, each person
    is told their lookup was not recorded (the answer they got stands)."""

    async def flush(items: list[PendingLookup]) -> None:
        async with deps.sessions.begin() as session:
            await policy.record_lookups(session=session, records=[r for r, _ in items])

    async def not_recorded(items: list[PendingLookup], error: Exception) -> None:
        notice = followup(ephemeral_text(NOT_RECORDED))
        sent = await asyncio.gather(*(r(notice) for _, r in items), return_exceptions=True)
        failed = sum(isinstance(outcome, BaseException) for outcome in sent)
        if failed:
            logger.warning("could not tell %d people their lookup was not recorded", failed)

    return BatchWriter(flush, not_recorded, background=deps.background, delay=deps.batch_delay)


async def _hand_to_champions(
    deps: Deps, body: dict[str, Any], question: str, respond: AsyncRespond
) -> None:
    """The pack had no answer: the question goes to a champion, as `/ask-champion` would."""
    from bot.handlers.questions import route_new

    user_id = body["user"]["id"]
    if not question:
        raise BadInput("That button has no question attached; please ask again.")
    text = check_text(question, what="your question")
    digest = hashlib.sha256(f"{user_id}:{text}".encode()).hexdigest()[:16]
    async with deps.sessions.begin() as session:
        first = await idempotency.claim_request(
            session=session, key=f"policy-hand-off:{digest}", now=deps.clock()
        )
    if not first:
        await respond(followup(ephemeral_text("You already passed this question to a champion.")))
        return
    await route_new(deps, user_id, text)
    await respond(
        followup(
            ephemeral_text(
                "I've passed your question to a champion; you'll get a DM when someone has it."
            )
        )
    )
