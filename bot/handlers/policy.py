"""`/ai-policy` and its buttons: answer from memory at once, record after the ack."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.batching import BatchWriter
from bot.deps import Deps
from bot.errors import BadInput
from bot.handlers.common import check_text, guarded, open_modal
from bot.services import idempotency, policy
from bot.services.policy_search import PolicyAnswer
from bot.views.common import ephemeral_text, followup
from bot.views.policy import (
    Choice,
    PolicyActions,
    answer_message,
    details_view,
    help_message,
    shared_message,
)

logger = logging.getLogger(__name__)

NOT_RECORDED = (
    ":warning: This lookup was not recorded: the database is unavailable. "
    "The answer above comes from the policy pack in memory and is still current."
)


def register(app: AsyncApp, deps: Deps) -> None:
    lookups = _lookup_writer(deps)

    @functools.lru_cache(maxsize=4096)
    def reply_to(
        pack_sha256: str, text: str, team: tuple[str, str] | None
    ) -> tuple[PolicyAnswer, dict[str, Any]]:
        """Answers are pure in (pack, question, the asker's team default tier): each is
        understood and rendered once."""
        active = deps.policy.active
        answer = active.index.answer(text, team_tier=team[1] if team else None)
        message = answer_message(answer, active.loaded.pack, team=team[0] if team else None)
        return answer, message

    def record(
        body: dict[str, Any], answer: PolicyAnswer, key: str | None, respond: AsyncRespond
    ) -> None:
        deps.metrics.policy_lookups.labels(outcome=answer.outcome.value).inc()
        channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
        team = body.get("team_id") or (body.get("team") or {}).get("id")
        user = body.get("user_id") or (body.get("user") or {}).get("id") or "unknown"
        entry = policy.LookupRecord(
            request_key=key,
            user_id=user,
            team_id=team,
            channel_id=channel,
            answer=answer,
            pack_version=deps.policy.active.version,
            at=deps.clock(),
        )
        lookups.add((entry, respond))

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
        team = deps.team_tiers.of(command["user_id"])
        answer, message = reply_to(deps.policy.active.loaded.sha256, text, team)
        await ack(message)
        record(command, answer, command.get("trigger_id"), respond)

    @app.action(re.compile(rf"^{PolicyActions.choose.value}-\d+$"))
    async def choose(
        ack: AsyncAck, action: dict[str, Any], body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """A tier or category pressed on an ask-back: the answer replaces the question."""
        await ack()
        choice, _ = Choice.decode(action.get("value"))
        user = body["user"]["id"]
        if choice.asker and choice.asker != user:
            await respond(followup(ephemeral_text(ONLY_ASKER.format(asker=choice.asker))))
            return
        answer, team = _answer(deps, choice, user)
        message = answer_message(
            answer,
            deps.policy.active.loaded.pack,
            asker=choice.asker,
            team=team,
            shareable=choice.asker is None,
        )
        await respond({**message, "replace_original": True})
        record(body, answer, f"choose:{action.get('action_ts') or body.get('trigger_id')}", respond)

    @app.action(PolicyActions.details.value)
    async def details(
        ack: AsyncAck,
        action: dict[str, Any],
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        """The full cell, tool configuration and sources, in a modal for whoever pressed."""
        await ack()
        choice, _ = Choice.decode(action.get("value"))
        answer, _ = _answer(deps, choice, choice.asker or body["user"]["id"])
        view = details_view(answer, deps.policy.active.loaded.pack)
        work = open_modal(client, body["trigger_id"], view)
        deps.background.spawn(guarded(work, respond, what="policy details"), name="details")

    @app.action(re.compile(rf"^{PolicyActions.feedback.value}-(up|down)$"))
    async def feedback(
        ack: AsyncAck, action: dict[str, Any], body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """👍 / 👎: stored for the CoE (one vote per person and answer), thanked privately."""
        await ack()
        choice, vote = Choice.decode(action.get("value"))
        if vote not in {"up", "down"} or not choice.query:
            await respond(followup(ephemeral_text("That button has no answer attached.")))
            return
        user = body["user"]["id"]
        answer, _ = _answer(deps, choice, choice.asker or user)
        deps.background.spawn(
            guarded(_vote(deps, user, answer, vote == "up", respond), respond, what="feedback"),
            name="policy-feedback",
        )

    @app.action(PolicyActions.share.value)
    async def share(
        ack: AsyncAck, action: dict[str, Any], body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        choice, _ = Choice.decode(action.get("value"))
        answer, _ = _answer(deps, choice, body["user"]["id"])
        message = shared_message(answer, deps.policy.active.loaded.pack, body["user"]["id"])
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


ONLY_ASKER = (
    "Only <@{asker}> can choose here, as it's their question. "
    "Ask your own with `/ai-policy`, or mention me."
)
THANKS = {
    True: "Thanks: noted that this answer was right.",
    False: "Thanks: the CoE reviews every answer marked wrong, and it helps them fix the policy "
    "or how I read questions. If you need an answer now, `/ask-champion`.",
}


def _answer(deps: Deps, choice: Choice, user_id: str) -> tuple[PolicyAnswer, str | None]:
    """Answer a question carried by a button as `user_id`'s team would get it: (the
    answer, that team's name when it has a default tier)."""
    team = deps.team_tiers.of(user_id)
    answer = deps.policy.active.index.answer(
        choice.query,
        tier=choice.tier,
        category=choice.category,
        team_tier=team[1] if team else None,
        enrolled=choice.enrolled,
    )
    return answer, team[0] if team else None


async def _vote(
    deps: Deps, user: str, answer: PolicyAnswer, helpful: bool, respond: AsyncRespond
) -> None:
    async with deps.sessions.begin() as session:
        await policy.record_feedback(
            session=session,
            user_id=user,
            answer=answer,
            helpful=helpful,
            pack_version=deps.policy.active.version,
            at=deps.clock(),
        )
    deps.metrics.policy_feedback.labels(vote="up" if helpful else "down").inc()
    await respond(followup(ephemeral_text(THANKS[helpful])))


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
