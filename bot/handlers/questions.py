"""`/ask-champion`: reuse earlier answers, route to a champion, claim, answer, pass, rate."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot import notices
from bot.deps import Deps
from bot.errors import BadInput, NotRecorded, UserError
from bot.handlers.common import (
    button_id,
    check_text,
    metadata_id,
    on_button,
    open_modal_first,
)
from bot.models import Question, parse_id
from bot.services import champions, idempotency, outbox, questions
from bot.services.questions import Notice
from bot.views import questions as views
from bot.views.common import ephemeral_text, followup
from bot.views.paging import offset_of
from bot.views.questions import ANSWER_BLOCK, ANSWER_MODAL, QuestionActions

logger = logging.getLogger(__name__)
BUDGET_SECONDS = 1.5


async def commit_notices(
    deps: Deps,
    work: Callable[[Any], Awaitable[list[Notice]]],
    *,
    connect_within: float | None = None,
) -> None:
    """Run a question change and queue what it says, in one transaction; wake the sender.

    With `connect_within` (seconds), only getting a connection is bounded: `TimeoutError`
    then means nothing was written. Once connected the transaction runs to its end, so a
    timeout can never hide a commit that went through."""
    async with deps.sessions() as session:
        if connect_within is not None:
            async with asyncio.timeout(connect_within):
                await session.connection()
        found = await work(session)
        await notices.enqueue(session=session, notices=found, now=deps.clock())
        await session.commit()
    deps.outbox_wakeup.set()


async def route_new(
    deps: Deps, user_id: str, text: str, *, connect_within: float | None = None
) -> None:
    async def work(session: Any) -> list[Notice]:
        team = await deps.teams.team_of(session, user_id)
        _, found = await questions.ask(
            session=session,
            asker_id=user_id,
            team_id=team.id if team else None,
            text_=text,
            now=deps.clock(),
            deadlines=deps.deadlines(),
            places=deps.places(),
        )
        return found

    await commit_notices(deps, work, connect_within=connect_within)


CONNECT_SECONDS = 1.0  # to get a connection in the ack path; then the question is stored
EVENT_RECORD_SECONDS = 2.0  # an event not durable by then is answered 503 (Slack retries)
NOT_RECORDED = (
    ":warning: Sorry, your question was *not recorded*: coe-bot is too busy right now. "
    "Please send it again in a minute."
)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command("/ask-champion")
    async def ask_champion(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        user = command["user_id"]
        try:
            text = check_text(command.get("text") or "", what="your question")
        except BadInput as problem:
            await ack(
                {**views.help_message(), "text": str(problem)}
                if "Please add" in str(problem)
                else ephemeral_text(str(problem))
            )
            return
        verb = text.lower()
        acted = _ACT.fullmatch(text)
        if verb in {"help", "?"}:
            await ack(views.help_message())
        elif verb == "queue":
            await ack(await _quick(deps, lambda s: _queue(s, user)))
        elif re.fullmatch(r"away (on|off)", verb):
            await ack(await _quick(deps, lambda s: _away(s, user, verb.endswith("on")), write=True))
        elif acted:
            await ack(await _act(deps, user, acted))
        elif len(text.split()) < MIN_WORDS and "?" not in text:
            await ack({**views.help_message(), "text": TOO_SHORT})
        else:
            matches = await _similar(deps, text)
            if matches:
                await ack(views.reuse_message(text, matches))
                return
            try:  # recorded before the ack, or the ack says it was not
                await route_new(deps, user, text, connect_within=CONNECT_SECONDS)
            except (TimeoutError, SQLAlchemyError, OSError) as error:
                logger.warning("ask-champion not recorded: %r", error)
                await ack(ephemeral_text(NOT_RECORDED))
                return
            await ack(ephemeral_text("Thanks! Finding a champion for your question…"))

    _register_actions(app, deps)
    _register_answers(app, deps)


MIN_WORDS = 3
TOO_SHORT = (
    "Ask a whole question (three words or more, or end it with ?), like "
    "`/ask-champion how do I test code that calls an LLM?`"
)
# A champion without buttons (a keyboard, a script): claim 12, pass 12, answer 12 <text>
_ACT = re.compile(r"(?is)(claim|pass)\s+#?(\d{1,10})\s*|(answer)\s+#?(\d{1,10})\s+(.+)")


async def _act(deps: Deps, user: str, found: re.Match[str]) -> dict[str, Any]:
    """`claim N`, `pass N` or `answer N <text>` typed to /ask-champion: the same change as
    the buttons, recorded before the ack; a refusal says why and changes nothing."""
    verb = (found[1] or found[3]).lower()
    question_id = parse_id(found[2] or found[4])
    if question_id is None:
        return ephemeral_text("There is no question with that number.")

    def work(session: Any) -> Awaitable[list[Notice]]:
        now = deps.clock()
        if verb == "claim":
            return questions.claim(session=session, question_id=question_id, user_id=user, now=now)
        if verb == "pass":
            return questions.pass_on(
                session=session,
                question_id=question_id,
                user_id=user,
                now=now,
                deadlines=deps.deadlines(),
                places=deps.places(),
            )
        answer = check_text(found[5], what="your answer")
        return questions.answer(
            session=session, question_id=question_id, user_id=user, text_=answer, now=now
        )

    try:
        await commit_notices(deps, work, connect_within=CONNECT_SECONDS)
    except UserError as problem:
        return ephemeral_text(str(problem))
    except (TimeoutError, SQLAlchemyError, OSError) as error:
        logger.warning("ask-champion %s not recorded: %r", verb, error)
        return ephemeral_text(NOT_RECORDED)
    done = {
        "claim": f"You've claimed question #{question_id}. Answer it with "
        f"`/ask-champion answer {question_id} <your answer>`, the *Answer* button or a reply "
        "in its thread.",
        "pass": f"Passed on question #{question_id}. Thanks for letting us know.",
        "answer": f":white_check_mark: Thanks! Your answer to question #{question_id} was sent.",
    }
    return ephemeral_text(done[verb])


async def _quick(
    deps: Deps, work: Callable[[Any], Awaitable[dict[str, Any]]], *, write: bool = False
) -> dict[str, Any]:
    try:
        async with asyncio.timeout(BUDGET_SECONDS):
            if write:
                async with deps.sessions.begin() as session:
                    return await work(session)
            async with deps.sessions() as session:
                return await work(session)
    except UserError as problem:
        return ephemeral_text(str(problem))
    except (TimeoutError, SQLAlchemyError, OSError):
        return ephemeral_text("Questions are unavailable right now; please try again shortly.")


QUEUE_FETCH = 16  # more than a message's 50 blocks hold: paging keeps the ones that fit


async def _queue(session: Any, user_id: str, offset: int = 0) -> dict[str, Any]:
    found, total = await questions.queue(
        session=session, champion_id=user_id, limit=QUEUE_FETCH, offset=offset
    )
    return views.queue_message(list(found), user_id, total=total, offset=offset)


async def _away(session: Any, user_id: str, away: bool) -> dict[str, Any]:
    await champions.set_available(session=session, user_id=user_id, available=not away)
    state = "away: no new questions will reach you" if away else "back: new questions can reach you"
    return ephemeral_text(f"You're {state}.")


async def _similar(deps: Deps, text: str) -> list[Any]:
    try:
        async with asyncio.timeout(BUDGET_SECONDS), deps.sessions() as session:
            return await questions.similar_answered(session=session, text_=text)
    except (TimeoutError, SQLAlchemyError, OSError):
        return []  # reuse is a nicety: route the question anyway


def _register_actions(app: AsyncApp, deps: Deps) -> None:
    def on(action_id: QuestionActions, work: Callable[..., Awaitable[None]]) -> None:
        async def run(
            action: dict[str, Any],
            body: dict[str, Any],
            respond: AsyncRespond,
            client: AsyncWebClient,
        ) -> None:
            await work(deps, action, body, respond, client)

        on_button(app, deps, action_id.value, run)

    on(QuestionActions.claim, _claim)
    on(QuestionActions.pass_on, _pass)
    on(QuestionActions.answer, _open_answer)
    on(QuestionActions.helpful, _rate(True))
    on(QuestionActions.not_helpful, _rate(False))
    on(QuestionActions.reuse_resolved, _reuse_resolved)
    on(QuestionActions.reuse_escalate, _reuse_escalate)
    on(QuestionActions.queue_page, _queue_page)


async def _queue_page(
    deps: Deps,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    _: AsyncWebClient,
) -> None:
    async with deps.sessions() as session:
        message = await _queue(session, body["user"]["id"], offset_of(action.get("value")))
    await respond({**message, "replace_original": True})


async def _claim(
    deps: Deps,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    _: AsyncWebClient,
) -> None:
    user, question_id = body["user"]["id"], button_id(action.get("value"), "question")
    await commit_notices(
        deps,
        lambda s: questions.claim(
            session=s, question_id=question_id, user_id=user, now=deps.clock()
        ),
    )
    await respond(
        followup(
            ephemeral_text(
                "You've claimed it. Answer with the *Answer* button or by replying in the thread."
            )
        )
    )


async def _pass(
    deps: Deps,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    _: AsyncWebClient,
) -> None:
    user, question_id = body["user"]["id"], button_id(action.get("value"), "question")
    await commit_notices(
        deps,
        lambda s: questions.pass_on(
            session=s,
            question_id=question_id,
            user_id=user,
            now=deps.clock(),
            deadlines=deps.deadlines(),
            places=deps.places(),
        ),
    )
    await respond(followup(ephemeral_text("Passed on. Thanks for letting us know.")))


async def _open_answer(
    deps: Deps,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    question_id = button_id(action.get("value"), "question")

    async def fill() -> dict[str, Any]:
        async with deps.sessions() as session:
            question = await session.get(Question, question_id)
        if question is None or question.status not in {"open", "claimed"}:
            raise BadInput("This question has been answered already.")
        return views.answer_modal(question, {"question_id": question_id})

    await open_modal_first(client, body["trigger_id"], "Answer the question", fill)


def _rate(helpful: bool) -> Callable[..., Awaitable[None]]:
    async def rate(
        deps: Deps,
        action: dict[str, Any],
        body: dict[str, Any],
        respond: AsyncRespond,
        _: AsyncWebClient,
    ) -> None:
        async with deps.sessions.begin() as session:
            await questions.rate(
                session=session,
                question_id=button_id(action.get("value"), "question"),
                user_id=body["user"]["id"],
                helpful=helpful,
            )
        note = "Glad it helped!" if helpful else "Thanks, the CoE will see that it didn't help."
        await respond(followup(ephemeral_text(note)))

    return rate


def _reuse_state(action: dict[str, Any]) -> dict[str, Any]:
    try:
        state = json.loads(action.get("value") or "{}")
        return state if isinstance(state, dict) and isinstance(state.get("q"), str) else {}
    except ValueError:
        return {}


async def _reuse_resolved(
    deps: Deps,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    _: AsyncWebClient,
) -> None:
    state, user = _reuse_state(action), body["user"]["id"]
    if not state or not isinstance(state.get("m"), int):
        raise BadInput("That button has lost its question; please ask again.")
    async with deps.sessions.begin() as session:
        team = await deps.teams.team_of(session, user)
        await questions.resolve_by_reuse(
            session=session,
            asker_id=user,
            team_id=team.id if team else None,
            text_=state["q"],
            reused_from=state["m"],
            now=deps.clock(),
        )
    await respond(
        {**ephemeral_text("Glad an earlier answer helped! :tada:"), "replace_original": True}
    )


async def _reuse_escalate(
    deps: Deps,
    action: dict[str, Any],
    body: dict[str, Any],
    respond: AsyncRespond,
    _: AsyncWebClient,
) -> None:
    state = _reuse_state(action)
    if not state:
        raise BadInput("That button has lost its question; please ask again.")
    await route_new(deps, body["user"]["id"], state["q"])
    await respond(
        {
            **ephemeral_text("Thanks! Your question is on its way to a champion."),
            "replace_original": True,
        }
    )


def _register_answers(app: AsyncApp, deps: Deps) -> None:
    @app.view(ANSWER_MODAL)
    async def on_answer(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view.get("state", {}).get("values", {})
        text = str(values.get(ANSWER_BLOCK, {}).get(ANSWER_BLOCK, {}).get("value") or "").strip()
        question_id = metadata_id(view, "question_id")
        if question_id is None:
            await ack(
                response_action="errors", errors={ANSWER_BLOCK: "This form lost its question."}
            )
            return
        try:
            check_text(text, what="your answer")
            await commit_notices(
                deps,
                lambda s: questions.answer(
                    session=s,
                    question_id=question_id,
                    user_id=body["user"]["id"],
                    text_=text,
                    now=deps.clock(),
                ),
            )
        except UserError as problem:
            await ack(response_action="errors", errors={ANSWER_BLOCK: str(problem)})
            return
        await ack()

    @app.event("message")
    async def dm_message(ack: AsyncAck, body: dict[str, Any]) -> None:
        """A champion's reply in a question DM's thread is their answer. Acknowledged means
        durable: the claim, the answer and the reply to the thread (an outbox row) commit
        before the 200; if they cannot, `NotRecorded` answers 503 and Slack sends it again."""
        event = body.get("event", {})
        if not (
            event.get("channel_type") == "im"
            and event.get("thread_ts")
            and event.get("user")
            and not event.get("subtype")
            and not event.get("bot_id")
        ):
            await ack()
            return
        try:
            async with asyncio.timeout(EVENT_RECORD_SECONDS):
                await _record_thread_answer(deps, body)
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            raise NotRecorded(str(body.get("event_id"))) from error
        await ack()
        deps.outbox_wakeup.set()


async def _record_thread_answer(deps: Deps, body: dict[str, Any]) -> None:
    event = body["event"]
    key = f"event:{body.get('event_id') or event.get('ts')}"
    async with deps.sessions.begin() as session:
        if not await idempotency.claim_request(session=session, key=key, now=deps.clock()):
            return
        dm = await outbox.find_sent(
            session=session, message_ts=event["thread_ts"], kind_prefix="question-champion-dm"
        )
        if dm is None or not (dm.ref or "").startswith("question:"):
            return
        question_id = int((dm.ref or "").split(":", 1)[1])
        try:
            text = check_text(event.get("text") or "", what="your answer")
            found = await questions.answer(
                session=session,
                question_id=question_id,
                user_id=event["user"],
                text_=text,
                now=deps.clock(),
            )
            await notices.enqueue(session=session, notices=found, now=deps.clock())
            reply = ":white_check_mark: Thanks! Your answer was sent."
        except UserError as problem:  # refused before anything was written
            reply = str(problem)
        await outbox.enqueue(
            session=session,
            dedupe_key=f"thread-answer-reply:{key}",
            kind="thread-answer-reply",
            channel=event["channel"],
            text=reply,
            thread_ts=event["thread_ts"],
            now=deps.clock(),
        )
