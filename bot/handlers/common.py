"""Helpers every listener uses: input checks and the error boundary after the ack."""

from __future__ import annotations

import logging
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from bot.deps import Deps
from bot.errors import BadInput, NotAllowed, UserError
from bot.views.common import ephemeral_text, followup

logger = logging.getLogger(__name__)

MAX_TEXT = 3000
Respond = Callable[..., Awaitable[Any]]


def check_text(text: str, *, allow_empty: bool = False, what: str = "your text") -> str:
    """Return the stripped text, or raise `BadInput` with a message a person can act on."""
    stripped = text.strip()
    if not stripped and not allow_empty:
        raise BadInput(f"Please add {what} after the command.")
    if len(text) > MAX_TEXT:
        raise BadInput(
            f"That is {len(text):,} characters; please keep {what} under {MAX_TEXT:,} characters."
        )
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t\r" for ch in text):
        raise BadInput(f"{what.capitalize()} contains control characters; please retype it.")
    return stripped


async def guarded(work: Awaitable[None], respond: Respond, *, what: str) -> None:
    """Run work that follows an ack; tell the person what went wrong instead of going quiet."""
    try:
        await work
    except UserError as error:
        await respond(followup(ephemeral_text(str(error))))
    except Exception:
        reference = uuid.uuid4().hex[:8]
        logger.exception("%s failed (reference %s)", what, reference)
        await respond(
            followup(
                ephemeral_text(
                    f"Sorry, something went wrong on our side. If it keeps happening, "
                    f"tell the CoE and quote reference `{reference}`."
                )
            )
        )


async def require_admin(deps: Deps, user_id: str) -> None:
    if not await deps.admins.is_admin(user_id):
        raise NotAllowed(
            "Sorry, `/ai-coe` commands are for CoE admins only (set in `COE_ADMINS`). "
            "Nothing was changed."
        )
