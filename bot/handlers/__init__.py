"""Bolt listeners, one module per feature; `register_all` wires them to the app."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.errors import NotRecorded, UserError
from bot.handlers import (
    admin,
    events,
    home,
    policy,
    prompts,
    prompts_admin,
    questions,
    survey_new,
    surveys,
)
from bot.views.common import ephemeral_text

logger = logging.getLogger(__name__)


def register_all(app: AsyncApp, deps: Deps) -> None:
    policy.register(app, deps)
    admin.register(app, deps)
    events.register(app, deps)
    prompts.register(app, deps)
    prompts_admin.register(app, deps)
    questions.register(app, deps)
    surveys.register(app, deps)
    survey_new.register(app, deps)
    home.register(app, deps)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        """The one error handler for listeners: friendly for UserError, logged otherwise."""
        if isinstance(error, UserError):
            return _json_reply(ephemeral_text(str(error)))
        if isinstance(error, NotRecorded):  # nothing acknowledged that is not durable
            logger.warning("event %s not recorded; Slack will retry: %r", error, error.__cause__)
            return BoltResponse(status=503, body="")
        reference = uuid.uuid4().hex[:8]
        kind = body.get("command") or body.get("type") or "request"
        logger.error("%s failed (reference %s)", kind, reference, exc_info=error)
        return _json_reply(
            ephemeral_text(
                "Sorry, something went wrong on our side. "
                f"Quote reference `{reference}` to the CoE."
            )
        )


def _json_reply(message: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200, body=json.dumps(message), headers={"content-type": "application/json"}
    )
