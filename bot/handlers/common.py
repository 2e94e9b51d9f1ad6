"""Helpers every listener uses: input checks and the error boundary after the ack."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.errors import BadInput, NotAllowed, UserError
from bot.models import parse_id
from bot.services.text import control_problem, normalise_newlines
from bot.views.common import ephemeral_text, followup

logger = logging.getLogger(__name__)

MAX_TEXT = 3000
Respond = Callable[..., Awaitable[Any]]


def check_text(text: str, *, allow_empty: bool = False, what: str = "your text") -> str:
    """Return the stripped text, or raise `BadInput` with a message a person can act on."""
    text = normalise_newlines(text)
    stripped = text.strip()
    if not stripped and not allow_empty:
        raise BadInput(f"Please add {what} after the command.")
    if len(text) > MAX_TEXT:
        raise BadInput(
            f"That is {len(text):,} characters; please keep {what} under {MAX_TEXT:,} characters."
        )
    problem = control_problem(text, what)
    if problem:
        raise BadInput(problem)
    return stripped


def button_id(value: str | None, what: str) -> int:
    """The numeric ID a button carries in its value, or `BadInput` naming what it lacks."""
    found = parse_id(value)
    if found is None:
        raise BadInput(f"That button points at no {what}.")
    return found


# What Slack says when a trigger_id is past its 3 seconds or used already
# (https://api.slack.com/methods/views.open#errors).
EXPIRED_TRIGGER = frozenset({"expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"})


async def open_modal(client: AsyncWebClient, trigger_id: str, view: dict[str, Any]) -> None:
    """Open a modal that needs no slow work. Raises BadInput ("click it again") when Slack
    says the trigger expired, so the person never sees an internal-error reference."""
    from slack_sdk.errors import SlackApiError

    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        if error.response.get("error") in EXPIRED_TRIGGER:
            raise BadInput("Slack took too long to open that; please try again.") from None
        raise


async def open_modal_first(
    client: AsyncWebClient,
    trigger_id: str,
    title: str,
    fill: Callable[[], Awaitable[dict[str, Any]]],
) -> None:
    """Open a modal before any slow work and fill it after: a "Loading…" view goes up from
    `trigger_id` at once (a trigger is good for 3 seconds), then `fill()` builds the real
    view and `views.update` replaces the loading one, with the hash `views.open` returned
    (on a hash conflict it fills without: a loading view holds nothing to lose). A
    `UserError` from `fill` is shown
    in the modal. Raises BadInput ("click it again") when Slack says the trigger expired,
    so the person never sees an internal-error reference."""
    from slack_sdk.errors import SlackApiError

    from bot.views.common import loading_view, notice_view

    try:
        opened = await client.views_open(trigger_id=trigger_id, view=loading_view(title))
    except SlackApiError as error:
        if error.response.get("error") in EXPIRED_TRIGGER:
            raise BadInput(
                "Slack took too long to open that; please click the button again."
            ) from None
        raise
    view = opened["view"]
    try:
        filled = await fill()
    except UserError as problem:
        filled = notice_view(title, str(problem))
    try:
        await client.views_update(view_id=view["id"], hash=view["hash"], view=filled)
    except SlackApiError as error:
        code = error.response.get("error")
        if code == "hash_conflict":
            # The loading view holds nothing a person typed, so nothing can be lost: fill it
            # anyway rather than leave it loading for ever.
            await client.views_update(view_id=view["id"], view=filled)
        elif code != "not_found":
            raise  # not_found: closed meanwhile, nothing to fill


def metadata_id(view: dict[str, Any], key: str) -> int | None:
    """The row id a modal keeps in its `private_metadata` JSON under `key`, or None."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None
    return parse_id(metadata.get(key)) if isinstance(metadata, dict) else None


async def tell(respond: Respond, message: dict[str, Any]) -> None:
    """Reply through the request's response_url. Actions in a modal or on App Home have none;
    then the reply is logged instead of failing the work it reports on."""
    try:
        await respond(message)
    except ValueError:  # Bolt: "respond is unsupported here as there is no response_url"
        logger.info("no response_url to reply through: %s", str(message.get("text"))[:200])


async def guarded(work: Awaitable[None], respond: Respond, *, what: str) -> None:
    """Run work that follows an ack; tell the person what went wrong instead of going quiet."""
    try:
        await work
    except UserError as error:
        await tell(respond, followup(ephemeral_text(str(error))))
    except Exception:
        reference = uuid.uuid4().hex[:8]
        logger.exception("%s failed (reference %s)", what, reference)
        await tell(
            respond,
            followup(
                ephemeral_text(
                    f"Sorry, something went wrong on our side. If it keeps happening, "
                    f"tell the CoE and quote reference `{reference}`."
                )
            ),
        )


async def require_admin(deps: Deps, user_id: str) -> None:
    if not await deps.admins.is_admin(user_id):
        raise NotAllowed(
            "Sorry, `/ai-coe` commands are for CoE admins only (set in `COE_ADMINS`). "
            "Nothing was changed."
        )


ButtonWork = Callable[
    [dict[str, Any], dict[str, Any], AsyncRespond, AsyncWebClient], Awaitable[None]
]


def on_button(app: AsyncApp, deps: Deps, action_id: str, work: ButtonWork) -> None:
    """A button: ack at once, then do `work(action, body, respond, client)` after the ack,
    with the error boundary that tells the person what went wrong."""

    async def listener(
        ack: AsyncAck,
        action: dict[str, Any],
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        job = work(action, body, respond, client)
        deps.background.spawn(guarded(job, respond, what=action_id), name=action_id)

    app.action(action_id)(listener)
