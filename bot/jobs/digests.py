"""Every minute: post each subscription's digest once per period (or nothing if empty).

The post is an outbox row keyed by (subscription, period), claimed through `job_run`, so
a repeated fire, a restart or a second replica posts once. A fire missed while the bot
was down goes out once on start if it is within the grace window, never as a burst.
"""

from __future__ import annotations

import logging

from bot.deps import Deps
from bot.services import digests, idempotency, outbox
from bot.views.digests import digest_message

logger = logging.getLogger(__name__)


async def post_due(deps: Deps) -> int:
    """Queue the digests that are due; how many were queued."""
    now = deps.clock()
    queued = 0
    async with deps.sessions() as session:
        subscriptions = [s for s in await digests.listing(session=session) if s.status == "active"]
    for subscription in subscriptions:
        fire = digests.due_period(subscription, now)
        if fire is None:
            continue
        period = fire.key
        async with deps.sessions.begin() as session:
            job = f"digest:{subscription.id}"
            if not await idempotency.claim_job_period(
                session=session,
                job=job,
                period=period,
                now=now,
                formerly=[fire.at.isoformat()],  # the key before it named the local time
            ):
                continue
            digest = await digests.build(
                session=session,
                start=fire.at - digests.PERIOD,
                end=fire.at,
                sections=subscription.sections,
                pack=deps.policy.active.loaded.pack,
                min_group=deps.settings.survey_min_group,
            )
            if not digest.has_news:
                logger.info("digest for %s: nothing happened this week", subscription.channel_id)
                continue
            message = digest_message(digest)
            queued += await outbox.enqueue(
                session=session,
                dedupe_key=f"{job}:{period}",
                kind="digest",
                channel=subscription.channel_id,
                text=message["text"],
                blocks=message["blocks"],
                now=now,
            )
    if queued:
        deps.outbox_wakeup.set()
    return queued
