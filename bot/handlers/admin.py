"""`/ai-coe`: CoE admin commands. Everything but `help` checks COE_ADMINS first."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import ConfigError, load_settings
from bot.deps import Deps
from bot.errors import BadInput
from bot.handlers import (
    champions_admin,
    digests_admin,
    report_admin,
    rollout_admin,
    survey_new,
    surveys,
    usage_admin,
)
from bot.handlers.common import check_text, guarded, open_modal_first, require_admin
from bot.handlers.prompts_admin import review_queue_message
from bot.services import policy
from bot.services.policy_pack import PackError
from bot.views import surveys as survey_views
from bot.views.admin import USAGE, reload_failed_message, reload_message
from bot.views.common import ephemeral_text
from bot.views.digests import DIGEST_LIST_PAGE
from bot.views.paging import offset_of
from bot.views.prompts import PromptActions
from bot.views.questions import CHAMPIONS_PAGE
from bot.views.surveys import SURVEY_LIST_PAGE

logger = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command("/ai-coe")
    async def ai_coe(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        try:
            text = check_text(command.get("text") or "", allow_empty=True, what="the subcommand")
        except BadInput as problem:
            await ack(ephemeral_text(str(problem)))
            return
        words = text.lower().split()
        if not words or words[0] in {"help", "-h", "--help", "?"}:
            await ack(ephemeral_text(USAGE))
            return
        if words[:2] == ["survey", "new"]:  # the modal must open within the trigger's 3 s
            await ack()
            work = _open_survey_form(deps, command["user_id"], command["trigger_id"], client)
            deps.background.spawn(guarded(work, respond, what="survey new"), name="survey-new")
            return
        await ack()
        work = _admin_command(deps, command["user_id"], text, respond)
        deps.background.spawn(guarded(work, respond, what="/ai-coe"), name="ai-coe")

    _register_pages(app, deps)


Pager = Callable[[Deps, int], Awaitable[dict[str, Any]]]


def _register_pages(app: AsyncApp, deps: Deps) -> None:
    """The Next / First page buttons of the CoE's lists: each checks the admin again."""
    pagers: dict[str, tuple[str, Pager]] = {
        DIGEST_LIST_PAGE: ("digest list", digests_admin.list_page),
        CHAMPIONS_PAGE: ("champions", champions_admin.list_page),
        SURVEY_LIST_PAGE: ("surveys", surveys.list_page),
        PromptActions.review_page.value: (
            "prompt review",
            lambda deps, offset: review_queue_message(deps, offset=offset),
        ),
    }
    for action_id, (what, pager) in pagers.items():
        app.action(action_id)(_page_listener(deps, what, pager))


def _page_listener(deps: Deps, what: str, pager: Pager) -> Callable[..., Awaitable[None]]:
    async def listener(
        ack: AsyncAck, action: dict[str, Any], body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()

        async def work() -> None:
            await require_admin(deps, body["user"]["id"])
            message = await pager(deps, offset_of(action.get("value")))
            await respond({**message, "replace_original": True})

        deps.background.spawn(guarded(work(), respond, what=what), name=f"{what} page")

    return listener


async def _open_survey_form(
    deps: Deps, user_id: str, trigger_id: str, client: AsyncWebClient
) -> None:
    async def fill() -> dict[str, Any]:  # the admin check may ask Slack: the modal opens first
        await require_admin(deps, user_id)
        return survey_new.modal()

    await open_modal_first(client, trigger_id, "New survey", fill)


async def _admin_command(deps: Deps, user_id: str, text: str, respond: AsyncRespond) -> None:
    await require_admin(deps, user_id)
    words = text.lower().split()
    if words[:1] == ["digest"]:
        await respond(await digests_admin.run(deps, user_id, text.split()))
        return
    if words[:1] == ["survey"]:
        reply = await surveys.admin(deps, user_id, text.split())
        sent = await respond(reply)
        if getattr(sent, "status_code", 200) != 200:  # Slack refused it after all
            logger.warning("survey reply refused by Slack: %s", getattr(sent, "body", ""))
            await respond(_refused(text.split()))
        return
    if words[:1] in (["champions"], ["teams"]):
        await respond(await champions_admin.run(deps, user_id, text))
        return
    if words[:2] == ["policy", "reload"]:
        await _reload(deps, user_id, respond)
        return
    if words[:2] == ["prompts", "review"]:
        await respond(await review_queue_message(deps))
        return
    if words[:1] == ["usage"]:
        await respond(await usage_admin.run(deps, text.split()[1:], user_id=user_id))
        return
    if words[:1] == ["rollout"]:
        await respond(await rollout_admin.run(deps, text.split()[1:], user_id=user_id))
        return
    if words[:1] == ["report"]:
        await respond(await report_admin.run(deps, text.split()[1:], user_id=user_id))
        return
    await respond(ephemeral_text(f"I don't know that subcommand.\n{USAGE}"))


def _refused(words: list[str]) -> dict[str, Any]:
    """A short reply for one Slack refused: the person always gets an answer."""
    if len(words) == 3 and words[1].lower() == "results":
        return survey_views.results_fallback(words[2], words[2])
    return ephemeral_text("That reply was too long for Slack; the command line has the same.")


async def _reload(deps: Deps, user_id: str, respond: AsyncRespond) -> None:
    configured = _configured_pack()
    if configured is not None:  # POLICY_PACK set or changed in .env since the start
        deps.policy.path = configured
    source = str(deps.policy.path or "the shipped default pack")
    try:
        active = deps.policy.load()
    except PackError as error:
        errors = [str(issue) for issue in error.issues]
        async with deps.sessions.begin() as session:
            await policy.audit_failed_load(
                session=session, actor=user_id, source=source, errors=errors, now=deps.clock()
            )
        await respond(reload_failed_message(errors, deps.policy.active.version))
        return
    async with deps.sessions.begin() as session:
        await policy.audit_load(
            session=session, actor=user_id, active=active, trigger="reload", now=deps.clock()
        )
    logger.info("policy pack reloaded by %s: version %s", user_id, active.version)
    meta = active.loaded.pack.metadata
    await respond(reload_message(meta.name, active.version, active.loaded.sha256, source))


def _configured_pack() -> Path | None:
    """POLICY_PACK as the environment and `.env` say now (a reload reads the pack the
    configuration names, as a restart would); None when neither sets it."""
    try:
        return load_settings().policy_pack
    except ConfigError:
        return None
