"""`/prompts`: search, add, use, vote, share, report, edit and delete shared prompts."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import notices
from bot.deps import Deps
from bot.errors import BadInput, UserError
from bot.handlers.common import (
    button_id,
    check_text,
    guarded,
    on_button,
    open_modal,
    open_modal_first,
)
from bot.handlers.prompt_form import read_submission
from bot.models import Prompt
from bot.services import prompt_moderation, prompt_search, prompts
from bot.views import prompts as views
from bot.views.common import clip, ephemeral_text, escape, followup
from bot.views.paging import offset_of
from bot.views.prompts import PromptActions, PromptModal

logger = logging.getLogger(__name__)

QUERY_BUDGET_SECONDS = 1.5
UNAVAILABLE = "The prompt library is unavailable right now; please try again in a minute."


def register(app: AsyncApp, deps: Deps) -> None:
    vocabulary = prompt_search.Vocabulary()

    async def quick(
        work: Callable[[AsyncSession], Awaitable[dict[str, Any]]],
        key: tuple[Any, ...] | None = None,
    ) -> dict[str, Any]:
        """A read that answers inside the ack, or a friendly message if the database lags.
        With a `key`, the same search within a few seconds is answered from memory."""
        cached = deps.prompt_replies.get(key) if key else None
        if cached is not None:
            return cached
        try:
            async with asyncio.timeout(QUERY_BUDGET_SECONDS), deps.sessions() as session:
                reply = await work(session)
        except (TimeoutError, SQLAlchemyError, OSError) as error:
            logger.warning("prompt library read failed: %s", type(error).__name__)
            return ephemeral_text(UNAVAILABLE)
        if key:
            deps.prompt_replies.put(key, reply)
        return reply

    async def search_page(session: AsyncSession, query: str, offset: int) -> dict[str, Any]:
        page = await prompt_search.search(
            session=session,
            query=prompt_search.parse_query(query),
            vocabulary=vocabulary,
            offset=offset,
        )
        return views.results_message(query, page, offset)

    async def top(session: AsyncSession) -> dict[str, Any]:
        week_ago = deps.clock() - prompt_search.WEEK
        return views.top_message(
            await prompt_search.top_since(session=session, since=week_ago),
            await prompt_search.top_all_time(session=session),
        )

    @app.command("/prompts")
    async def prompts_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        try:
            text = check_text(command.get("text") or "", allow_empty=True, what="your search")
        except BadInput as problem:
            await ack(ephemeral_text(str(problem)))
            return
        verb = text.lower()
        if verb in {"help", "-h", "--help", "?"}:
            await ack(views.help_message())
        elif verb == "add":
            await ack()
            modal = views.prompt_modal(channel_id=command.get("channel_id"))
            work = open_modal(client, command["trigger_id"], modal)
            deps.background.spawn(guarded(work, respond, what="prompt modal"), name="modal")
        elif verb == "mine":
            user = command["user_id"]
            await ack(await quick(lambda s: _mine(s, user)))
        elif verb in {"", "top"}:
            await ack(await quick(top, key=("top",)))
        else:
            await ack(await quick(lambda s: search_page(s, text, 0), key=("search", verb, 0)))

    @app.action(PromptActions.more.value)
    async def more(ack: AsyncAck, action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        try:
            state = json.loads(action.get("value") or "{}")
            query, offset = str(state["q"]), offset_of(str(state.get("o", 0)))
        except (ValueError, KeyError, TypeError, AttributeError):
            stale = ephemeral_text("That button has expired: search again with `/prompts <words>`.")
            deps.background.spawn(guarded(_done(respond(stale)), respond, what="more"), name="more")
            return
        message = await quick(
            lambda s: search_page(s, query, offset), key=("search", query.lower(), offset)
        )
        deps.background.spawn(
            guarded(_done(respond({**message, "replace_original": True})), respond, what="more"),
            name="prompt-more",
        )

    _register_card_actions(app, deps)
    _register_modal(app, deps, vocabulary)


async def _team(deps: Deps, session: AsyncSession, user_id: str) -> str | None:
    """The person's team name, for the CoE's "which teams use which prompts"."""
    team = await deps.teams.team_of(session, user_id)
    return team.name if team else None


async def _then_forget(deps: Deps, work: Awaitable[None]) -> None:
    """Counts and statuses may have changed: cached search replies must not show old cards."""
    try:
        await work
    finally:
        deps.prompt_replies.clear()


async def _done(work: Awaitable[Any]) -> None:
    await work


PAGE_FETCH = 12  # more than a message's 50 blocks hold: paging keeps the ones that fit


async def _mine(
    session: AsyncSession, user_id: str, *, offset: int = 0, note: str = ""
) -> dict[str, Any]:
    found, total = await prompts.by_author(
        session=session, author_id=user_id, limit=PAGE_FETCH, offset=offset
    )
    return views.mine_message(list(found), total=total, offset=offset, note=note)


def _register_card_actions(app: AsyncApp, deps: Deps) -> None:
    def on(action_id: PromptActions, work: Callable[..., Awaitable[None]]) -> None:
        async def run(
            action: dict[str, Any],
            body: dict[str, Any],
            respond: AsyncRespond,
            client: AsyncWebClient,
        ) -> None:
            await _then_forget(
                deps, work(deps, button_id(action.get("value"), "prompt"), body, respond, client)
            )

        on_button(app, deps, action_id.value, run)

    on(PromptActions.use, _use)
    on(PromptActions.helpful, _helpful)
    on(PromptActions.share, _share)
    on(PromptActions.report, _report)
    on(PromptActions.edit, _edit)
    on(PromptActions.delete, _delete)

    async def mine_page(
        action: dict[str, Any], body: dict[str, Any], respond: AsyncRespond, _: AsyncWebClient
    ) -> None:
        offset = offset_of(action.get("value"))
        async with deps.sessions() as session:
            message = await _mine(session, body["user"]["id"], offset=offset)
        await respond({**message, "replace_original": True})

    on_button(app, deps, PromptActions.mine_page.value, mine_page)


async def _use(
    deps: Deps, prompt_id: int, body: dict[str, Any], respond: AsyncRespond, _: AsyncWebClient
) -> None:
    user = body["user"]["id"]
    async with deps.sessions.begin() as session:
        prompt = await prompts.get_visible(session=session, prompt_id=prompt_id, user_id=user)
        await prompts.record_use(
            session=session,
            prompt=prompt,
            user_id=user,
            team=await _team(deps, session, user),
            now=deps.clock(),
        )
    await respond(followup(views.full_prompt_message(prompt)))


async def _helpful(
    deps: Deps, prompt_id: int, body: dict[str, Any], respond: AsyncRespond, _: AsyncWebClient
) -> None:
    user = body["user"]["id"]
    async with deps.sessions.begin() as session:
        prompt = await prompts.get_visible(session=session, prompt_id=prompt_id, user_id=user)
        marked = await prompts.toggle_helpful(
            session=session, prompt=prompt, user_id=user, now=deps.clock()
        )
    title = escape(prompt.title)
    note = f"Marked *{title}* as helpful." if marked else f"Removed your helpful mark on *{title}*."
    await respond(followup(ephemeral_text(note)))


async def _share(
    deps: Deps, prompt_id: int, body: dict[str, Any], respond: AsyncRespond, _: AsyncWebClient
) -> None:
    user = body["user"]["id"]
    async with deps.sessions() as session:
        prompt = await prompts.get_visible(session=session, prompt_id=prompt_id, user_id=user)
    await respond(followup(views.shared_message(prompt, user)))


async def _report(
    deps: Deps, prompt_id: int, body: dict[str, Any], respond: AsyncRespond, _: AsyncWebClient
) -> None:
    user = body["user"]["id"]
    now = deps.clock()
    async with deps.sessions.begin() as session:
        prompt = await prompts.get_live(session=session, prompt_id=prompt_id)
        outcome = await prompt_moderation.report(
            session=session,
            prompt=prompt,
            user_id=user,
            reason=None,
            threshold=deps.settings.prompt_report_threshold,
            now=now,
        )
        if outcome.hidden_now:
            await notices.to_coe(
                session=session,
                places=deps.places(),
                dedupe_key=f"prompt-hidden:{prompt_id}:{outcome.open_reports}",
                kind="prompt-hidden",
                text=(
                    f":triangular_flag_on_post: The prompt *{escape(prompt.title)}* was hidden "
                    f"after {outcome.open_reports} reports. Review it with "
                    "`/ai-coe prompts review`."
                ),
                now=now,
            )
    if outcome.hidden_now:
        deps.outbox_wakeup.set()
    note = "Thanks, the CoE will look at it." if outcome.new_report else "You reported it already."
    await respond(followup(ephemeral_text(note)))


async def _edit(
    deps: Deps, prompt_id: int, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
) -> None:
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id")

    async def fill() -> dict[str, Any]:
        async with deps.sessions() as session:
            prompt = await prompts.get_live(session=session, prompt_id=prompt_id)
        prompts.check_may_change(prompt, user, is_admin=await deps.admins.is_admin(user))
        return views.prompt_modal(channel_id=channel, prompt=prompt)

    await open_modal_first(client, body["trigger_id"], "Edit prompt", fill)


async def _delete(
    deps: Deps, prompt_id: int, body: dict[str, Any], respond: AsyncRespond, _: AsyncWebClient
) -> None:
    user = body["user"]["id"]
    is_admin = await deps.admins.is_admin(user)
    async with deps.sessions.begin() as session:
        prompt = await prompts.remove(
            session=session, prompt_id=prompt_id, user_id=user, is_admin=is_admin, now=deps.clock()
        )
        message = await _mine(session, user, note=f"Deleted *{escape(prompt.title)}*.")
    await respond({**message, "replace_original": True})


def _register_modal(app: AsyncApp, deps: Deps, vocabulary: prompt_search.Vocabulary) -> None:
    @app.view(PromptModal.callback.value)
    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        submission = await read_submission(view)
        if submission.errors:
            await ack(response_action="errors", errors=submission.errors)
            return
        prompt_id = submission.prompt_id
        try:
            async with asyncio.timeout(QUERY_BUDGET_SECONDS * 2), deps.sessions.begin() as session:
                if prompt_id is None:
                    saved = await prompts.create(
                        session=session,
                        draft=submission.draft,
                        author_id=user,
                        team=await _team(deps, session, user),
                        now=deps.clock(),
                        needs_review=deps.settings.prompts_require_review,
                    )
                else:
                    saved = await prompts.edit(
                        session=session,
                        prompt_id=prompt_id,
                        draft=submission.draft,
                        editor_id=user,
                        is_admin=await deps.admins.is_admin(user),
                        now=deps.clock(),
                        started_from=submission.started_from,
                    )
        except prompts.StalePrompt as stale:
            await ack(response_action="errors", errors={PromptModal.body.value: _stale(stale)})
            return
        except prompts.DuplicatePrompt as duplicate:
            message = (
                f"This is already in the library as “{duplicate.existing_title[:100]}”: "
                "find it with /prompts."
            )
            await ack(response_action="errors", errors={PromptModal.body.value: message})
            return
        except UserError as problem:  # not allowed to edit, or the prompt was removed
            await ack(response_action="errors", errors={PromptModal.heading.value: str(problem)})
            return
        except (TimeoutError, SQLAlchemyError, OSError):
            await ack(response_action="errors", errors={PromptModal.heading.value: UNAVAILABLE})
            return
        vocabulary.forget()
        deps.prompt_replies.clear()
        await ack(
            response_action="update", view=views.saved_view(saved, edited=prompt_id is not None)
        )
        if saved.status == prompts.Status.pending and prompt_id is None:
            deps.background.spawn(_ask_for_review(deps, saved), name="prompt-review-request")


def _stale(stale: prompts.StalePrompt) -> str:
    """The field error for an edit someone else's save overtook: what it is now, in short."""
    gist = clip(" ".join(stale.body.split()), 120)
    return (
        f"{stale} It is now “{stale.title[:60]}”: {gist} Close this and open Edit again to"
        " start from the current text."
    )


async def _ask_for_review(deps: Deps, prompt: Prompt) -> None:
    """Tell the CoE a new prompt waits for review (when reviews are on)."""
    async with deps.sessions.begin() as session:
        await notices.to_coe(
            session=session,
            places=deps.places(),
            dedupe_key=f"prompt-pending:{prompt.id}",
            kind="prompt-pending",
            text=(
                f":inbox_tray: <@{prompt.author_id}> added *{escape(prompt.title)}*; it waits "
                "for review: `/ai-coe prompts review`."
            ),
            now=deps.clock(),
        )
    deps.outbox_wakeup.set()
