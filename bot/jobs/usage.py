"""Daily: pull the AI tools' own usage (GitHub Copilot), on the scheduler's leader only,
once per UTC day (`job_run`): D-5 … D-2, or 120 days back the first time; and purge
per-person rows past `USAGE_RAW_RETENTION_DAYS`."""

from __future__ import annotations

import datetime as dt
import logging

from bot.deps import Deps
from bot.impact import pulls
from bot.jobs import people
from bot.services import idempotency, identities, rollout
from bot.usage import claude_code, copilot, cursor, runs, sources
from bot.usage.github import GitHubError

logger = logging.getLogger(__name__)

JOB = "copilot-pull"
CURSOR_JOB = "cursor-pull"
CLAUDE_CODE_JOB = "claude-code-pull"
PULL_REQUESTS_JOB = "pull-requests-pull"


async def pull_copilot(deps: Deps) -> bool:
    """True when a pull ran now. A source that is not set up is skipped quietly; a pull
    that fails is logged with GitHub's answer (the next day's pull takes the days again)."""
    now = deps.clock()
    today = now.date()
    settings = deps.settings
    if not settings.usage_github_token and not sources.uses_standin(settings):
        return False  # Copilot is off: real Slack, no GitHub token
    async with deps.sessions() as session:
        demo = await sources.demo_spec(session=session)
    if sources.uses_standin(settings) and demo is None:
        return False  # the stand-in is empty until `coe-bot usage demo`
    async with deps.sessions.begin() as session:
        if not await idempotency.claim_job_period(
            session=session, job=JOB, period=today.isoformat(), now=now
        ):
            return False
    try:
        pulled = await runs.copilot_pull(settings=settings, sessions=deps.sessions, now=now)
    except (GitHubError, sources.SourceOff) as error:
        logger.warning("daily Copilot pull failed: %s", error)
        return True
    run = pulled.run
    if pulled.demo_cleared:
        logger.info("the demo's invented Copilot figures were removed before real ones")
    logger.info("%s", copilot.summary(run))
    async with deps.sessions() as session:
        missing = await identities.emails_to_look_up(session=session)
    if missing:  # people the directory has not seen yet: ask Slack by e-mail
        await people.look_up_emails(deps, missing)
    async with deps.sessions.begin() as session:
        purged = await copilot.purge(
            session=session,
            before=today - dt.timedelta(days=settings.usage_raw_retention_days),
        )
    if purged:
        logger.info(
            "purged %d Copilot rows older than %d days", purged, settings.usage_raw_retention_days
        )
    return True


async def pull_cursor(deps: Deps) -> bool:
    """True when a Cursor pull ran now: once per UTC day, yesterday and today (120 days
    back the first time), then per-person rows past `USAGE_RAW_RETENTION_DAYS` purged. Off
    without a key (unless on the stand-in); a failed pull is logged with Cursor's answer."""
    return await _pull_daily(deps, "cursor")


async def pull_claude_code(deps: Deps) -> bool:
    """As `pull_cursor`, for Claude Code (Anthropic's Admin API)."""
    return await _pull_daily(deps, "claude_code")


async def pull_pull_requests(deps: Deps) -> bool:
    """Once a day: the pull requests updated since the last pull (GitHub org or the demo's
    stand-in). True when a pull ran now; a failure is logged, and the next pull resumes."""
    now = deps.clock()
    settings = deps.settings
    if sources.uses_standin(settings):
        async with deps.sessions() as session:
            if await sources.demo_spec(session=session) is None:
                return False  # the stand-in is empty until `coe-bot usage demo`
    elif not (settings.usage_github_token and settings.usage_github_org):
        return False  # off: no GitHub org to read
    async with deps.sessions.begin() as session:
        if not await idempotency.claim_job_period(
            session=session, job=PULL_REQUESTS_JOB, period=now.date().isoformat(), now=now
        ):
            return False
    try:
        done = await runs.pull_requests_pull(settings=settings, sessions=deps.sessions, now=now)
    except (GitHubError, sources.SourceOff) as error:
        logger.warning("daily pull-request pull failed: %s", error)
        return True
    logger.info(
        "pull requests: %d repositories, %d stored, %d points", done.repos, done.stored, done.points
    )
    async with deps.sessions.begin() as session:
        baselines = [r.baseline_first for r in await rollout.listing(session=session)]
        purged = await pulls.purge(
            session=session,
            before=now.date() - dt.timedelta(days=settings.usage_raw_retention_days),
            keep_from=min(baselines, default=None),
        )
    if purged:
        logger.info("purged %d pull requests past retention (baselines kept)", purged)
    return True


async def _pull_daily(deps: Deps, source: str) -> bool:
    now = deps.clock()
    today = now.date()
    settings = deps.settings
    key = (
        settings.usage_cursor_api_key if source == "cursor" else settings.usage_anthropic_admin_key
    )
    if key is None and settings.has_slack_credentials:
        return False  # off: real Slack, no key for this source
    async with deps.sessions() as session:
        demo = await sources.demo_spec(session=session)
    if key is None and demo is None:
        return False  # the stand-in is empty until `coe-bot usage demo`
    job = CURSOR_JOB if source == "cursor" else CLAUDE_CODE_JOB
    async with deps.sessions.begin() as session:
        if not await idempotency.claim_job_period(
            session=session, job=job, period=today.isoformat(), now=now
        ):
            return False
    pull = runs.cursor_pull if source == "cursor" else runs.claude_code_pull
    try:
        pulled = await pull(settings=settings, sessions=deps.sessions, now=now)
    except (cursor.CursorError, claude_code.AnthropicError, sources.SourceOff) as error:
        logger.warning("daily %s pull failed: %s", source, error)
        return True
    summary = cursor.summary if source == "cursor" else claude_code.summary
    logger.info("%s", summary(pulled.run))
    purge = cursor.purge if source == "cursor" else claude_code.purge
    async with deps.sessions.begin() as session:
        await purge(
            session=session, before=today - dt.timedelta(days=settings.usage_raw_retention_days)
        )
    return True
