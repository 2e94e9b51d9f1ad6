"""Scheduled jobs: APScheduler fires them inside the running loop; their state is in our tables.

Each job is a plain async function taking `Deps`, so tests call it directly with a moved
clock. A job that fires twice, after a restart or on two replicas does its work once,
because it first claims a (job, period) row.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.deps import Deps
from bot.jobs import (
    channels,
    digests,
    escalation,
    guardrails,
    housekeeping,
    people,
    policy_review,
    report,
    surveys,
    usage,
)
from bot.jobs.leader import leading

logger = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 3600


def _guard(
    name: str, job: Callable[[Deps], Awaitable[object]], deps: Deps
) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await job(deps)
        except Exception:  # a failing job must not stop the scheduler
            logger.exception("scheduled job %s failed", name)

    return run


def build_scheduler(deps: Deps) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(
        timezone="UTC",
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
    )
    every_minute = IntervalTrigger(minutes=1)
    jobs: list[tuple[str, str, Callable[[Deps], Awaitable[object]], Any]] = [
        (
            "policy-review-reminder",
            "policy review reminder",
            policy_review.remind_if_overdue,
            CronTrigger(hour=9, minute=0, timezone="UTC"),
        ),
        (
            "question-escalation",
            "question escalation sweep",
            escalation.escalate_overdue,
            every_minute,
        ),
        ("survey-schedules", "scheduled survey runs", surveys.run_schedules, every_minute),
        ("survey-tick", "survey reminders and closing", surveys.tick, every_minute),
        ("digests", "weekly digests", digests.post_due, every_minute),
        (
            "directory-sync",
            "people directory sync (users.list, at most once per DIRECTORY_TTL_HOURS)",
            people.sync_directory,
            IntervalTrigger(hours=1),
        ),
        (
            "channel-recheck",
            "closed channels re-read (conversations.info)",
            channels.recheck_closed,
            IntervalTrigger(hours=1),
        ),
        (
            usage.JOB,
            "daily Copilot usage pull (D-5 … D-2) and raw-row retention",
            usage.pull_copilot,
            CronTrigger(hour=6, minute=20, timezone="UTC"),
        ),
        (
            usage.CURSOR_JOB,
            "daily Cursor usage pull (yesterday and today) and raw-row retention",
            usage.pull_cursor,
            CronTrigger(hour=6, minute=35, timezone="UTC"),
        ),
        (
            usage.CLAUDE_CODE_JOB,
            "daily Claude Code usage pull (yesterday and today) and raw-row retention",
            usage.pull_claude_code,
            CronTrigger(hour=6, minute=50, timezone="UTC"),
        ),
        (
            usage.PULL_REQUESTS_JOB,
            "daily pull of the organisation's pull requests (what changed since the last)",
            usage.pull_pull_requests,
            CronTrigger(hour=5, minute=40, timezone="UTC"),
        ),
        (
            guardrails.JOB,
            "soft guardrails on AI-tool spend (costs.yaml), told once a month per team",
            guardrails.check,
            CronTrigger(hour=7, minute=10, timezone="UTC"),
        ),
        (
            report.JOB,
            "the monthly report's summary to the CoE (09:00 local, first business day)",
            report.post_monthly,
            IntervalTrigger(minutes=15),
        ),
        (
            "retention",
            "retention purge",
            housekeeping.apply_retention,
            CronTrigger(hour=3, minute=41, timezone="UTC"),
        ),
        (
            "housekeeping",
            "housekeeping",
            housekeeping.forget_old_requests,
            CronTrigger(hour=3, minute=17, timezone="UTC"),
        ),
    ]
    for job_id, name, job, trigger in jobs:
        scheduler.add_job(
            _guard(job_id, job, deps), trigger, id=job_id, name=name, replace_existing=True
        )
    return scheduler


@contextlib.asynccontextmanager
async def running_scheduler(deps: Deps) -> AsyncIterator[AsyncIOScheduler]:
    """The scheduler, started paused inside the running loop; it runs only while this
    process leads (`bot.jobs.leader`), and is shut down on exit."""
    scheduler = build_scheduler(deps)
    scheduler.start(paused=True)

    def lead() -> None:
        # The reminder is idempotent per period, so checking once on taking over is safe.
        scheduler.add_job(
            _guard("policy-review", policy_review.remind_if_overdue, deps),
            id="policy-review-now",
            name="policy review check on taking over",
            replace_existing=True,
        )
        scheduler.add_job(
            _guard("directory-sync", people.sync_directory, deps),
            id="directory-sync-now",
            name="people directory sync on taking over",
            replace_existing=True,
        )
        scheduler.resume()

    try:
        async with leading(deps.engine, start=lead, stop=scheduler.pause):
            yield scheduler
    finally:
        scheduler.shutdown(wait=False)
