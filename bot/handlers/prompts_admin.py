"""`/ai-coe prompts review` and its buttons: CoE admins publish, hide or delete prompts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.deps import Deps
from bot.handlers.common import button_id, guarded, require_admin
from bot.services import prompt_moderation
from bot.views.common import escape
from bot.views.prompts import PromptActions, review_message

DECISIONS = {
    PromptActions.review_publish: "publish",
    PromptActions.review_hide: "hide",
    PromptActions.review_delete: "delete",
}
DONE = {"publish": "Published", "hide": "Kept hidden", "delete": "Deleted"}


PAGE_FETCH = 12  # more than a message's 50 blocks hold: paging keeps the ones that fit


async def review_queue_message(deps: Deps, *, offset: int = 0, note: str = "") -> dict[str, Any]:
    async with deps.sessions() as session:
        found, total = await prompt_moderation.review_queue(
            session=session, limit=PAGE_FETCH, offset=offset
        )
    return review_message(list(found), total=total, offset=offset, note=note)


def register(app: AsyncApp, deps: Deps) -> None:
    def listener(decision: str) -> Callable[..., Awaitable[None]]:
        async def decide(
            ack: AsyncAck, action: dict[str, Any], body: dict[str, Any], respond: AsyncRespond
        ) -> None:
            await ack()
            work = _decide(deps, body["user"]["id"], action.get("value"), decision, respond)
            deps.background.spawn(guarded(work, respond, what="prompt review"), name="review")

        return decide

    for action_id, decision in DECISIONS.items():
        app.action(action_id.value)(listener(decision))

    async def _decide(
        deps: Deps, user_id: str, value: str | None, decision: str, respond: AsyncRespond
    ) -> None:
        await require_admin(deps, user_id)
        prompt_id = button_id(value, "prompt")
        async with deps.sessions.begin() as session:
            prompt = await prompt_moderation.moderate(
                session=session,
                prompt_id=prompt_id,
                decision=decision,
                admin_id=user_id,
                now=deps.clock(),
            )
        deps.prompt_replies.clear()
        note = f"{DONE[decision]}: *{escape(prompt.title)}*."
        message = await review_queue_message(deps, note=note)
        await respond({**message, "replace_original": True})
