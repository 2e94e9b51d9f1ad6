"""Daily: remind the CoE once per overdue period that the policy needs review (in the CoE
channel, or by DM to the CoE admins when that channel is closed)."""

from __future__ import annotations

import logging

from bot import notices
from bot.deps import Deps
from bot.services import idempotency
from bot.services.policy import review_status
from bot.views.common import escape

logger = logging.getLogger(__name__)

JOB = "policy-review-reminder"


async def remind_if_overdue(deps: Deps) -> bool:
    """True when a reminder was queued now; a repeat fire in the same period does nothing."""
    active = deps.policy.active
    meta = active.loaded.pack.metadata
    now = deps.clock()
    status = review_status(active, now.date())
    places = deps.places()
    if not status.overdue or not places.for_coe():
        return False
    period = f"{meta.version}:{meta.last_reviewed.isoformat()}:{status.period}"
    text = (
        f":calendar: The AI policy pack *{escape(meta.name)}* (version {escape(meta.version)}) "
        f"was due for review on {status.due.isoformat()}: last reviewed "
        f"{meta.last_reviewed.isoformat()}, every {meta.review_interval_days} days. "
        f"Please review it, update `last_reviewed`, and run `/ai-coe policy reload`."
    )
    async with deps.sessions.begin() as session:
        if not await idempotency.claim_job_period(session=session, job=JOB, period=period, now=now):
            return False
        await notices.to_coe(
            session=session,
            places=places,
            dedupe_key=f"{JOB}:{period}",
            kind=JOB,
            text=text,
            now=now,
        )
    deps.outbox_wakeup.set()
    logger.info("policy review reminder queued for period %s", period)
    return True
