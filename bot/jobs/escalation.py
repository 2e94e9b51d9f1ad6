"""Every minute: escalate questions whose claim or answer deadline has passed.

The sweep claims each overdue question with `FOR UPDATE SKIP LOCKED` (PostgreSQL) and
changes it with a compare-and-set, and every message it queues has a once-only key: a
repeated run, a restart or a second replica escalates each step once.
"""

from __future__ import annotations

import logging

from bot import notices
from bot.deps import Deps
from bot.services import escalation

logger = logging.getLogger(__name__)


async def escalate_overdue(deps: Deps) -> int:
    """One sweep; returns how many messages it queued."""
    now = deps.clock()
    async with deps.sessions.begin() as session:
        found = await escalation.sweep(
            session=session,
            now=now,
            deadlines=deps.deadlines(),
            places=deps.places(),
        )
        queued = await notices.enqueue(session=session, notices=found, now=now)
    if queued:
        deps.outbox_wakeup.set()
        logger.info("escalation sweep queued %d messages", queued)
    return queued
