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


async def apply_retention(deps: Deps) -> dict[str, int] | None:
    """Daily, when RETENTION_DAYS is set: purge old free text, keep the numbers."""
    from bot.services import retention

    days = deps.settings.retention_days
    if days is None:
        return None
    async with deps.sessions.begin() as session:
        return await retention.purge(session=session, days=days, now=deps.clock())
