"""Daily clean-up of short-lived rows."""

from __future__ import annotations

import datetime as dt

from bot.deps import Deps
from bot.services import idempotency

KEEP_REQUEST_KEYS = dt.timedelta(days=2)


async def forget_old_requests(deps: Deps) -> int:
    async with deps.sessions.begin() as session:
        return await idempotency.forget_requests_before(
            session=session, before=deps.clock() - KEEP_REQUEST_KEYS
        )
