"""Once a month: the last month's report summarised in the CoE channel, with one chart
(a PNG the outbox worker uploads with Slack's external upload flow) and a signed link.

It is due at 09:00 `BUSINESS_TIMEZONE` on the month's first `BUSINESS_DAYS` day, and
posts within `GRACE` of that (a server down all that day posts when it is back, never a
week later). One post per month, however many replicas or fires: the `(job, month)`
claim in `job_run` and the outbox row are written in one transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import notices
from bot.config import secret_bytes
from bot.deps import Deps
from bot.models import JobRun, OutboxMessage
from bot.reports import links, page
from bot.reports.monthly import parse_month, previous_month
from bot.schedules import wall_to_utc
from bot.services import idempotency

logger = logging.getLogger(__name__)

JOB = "report-monthly"
AT = dt.time(9, 0)
GRACE = dt.timedelta(days=2)


def due_at(now: dt.datetime, deps: Deps) -> dt.datetime:
    """When this month's post is due (UTC): 09:00 local on the first business day of the
    month `now` is in, locally, and not before that month began in UTC."""
    hours = deps.settings.working_hours()
    first = now.astimezone(hours.zone).date().replace(day=1)
    local = first
    while local.weekday() not in hours.weekdays:
        local += dt.timedelta(days=1)
    # never before the month has ended in UTC, which the figures count in (east of UTC+9,
    # 09:00 on the 1st is still the last day of the month in UTC)
    month_over = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    return max(wall_to_utc(dt.datetime.combine(local, AT), hours.zone), month_over)


async def post_monthly(deps: Deps) -> bool:
    """Queue the summary of last month's report for the CoE when it is due; True when it
    was queued now. Not due, already posted, or nowhere to post: False, nothing changes."""
    now = deps.clock()
    due = due_at(now, deps)
    if not due <= now < due + GRACE:
        return False
    places = deps.places()
    if not places.for_coe():
        logger.info("monthly report: no COE_CHANNEL or COE_ADMINS to post it to")
        return False
    month = previous_month(due.astimezone(deps.settings.working_hours().zone).date())
    label = f"{month:%Y-%m}"
    async with deps.sessions() as session:
        done = await session.exec(
            select(JobRun.id).where(col(JobRun.job) == JOB, col(JobRun.period) == label)
        )
        if done.first() is not None:
            return False
    report = await page.build(
        sessions=deps.sessions,
        settings=deps.settings,
        policy=deps.policy.active,
        month=month,
        now=now,
    )
    async with deps.sessions.begin() as session:
        if not await idempotency.claim_job_period(session=session, job=JOB, period=label, now=now):
            return False
        link = await _link(session, deps, label, now)
        await notices.to_coe(
            session=session,
            places=places,
            dedupe_key=f"{JOB}:{label}",
            kind=JOB,
            text=page.summary_text(report, link),
            now=now,
        )
    deps.outbox_wakeup.set()
    logger.info("monthly report for %s queued for the CoE", label)
    return True


async def _link(
    session: AsyncSession, deps: Deps, month: str, now: dt.datetime
) -> links.Link | None:
    """A signed link (audited), when the server knows its secret and where it is reached."""
    settings = deps.settings
    if settings.report_link_secret is None or settings.public_url is None:
        return None
    return await links.issue(
        session=session,
        secret=secret_bytes(settings.report_link_secret.get_secret_value()),
        base_url=settings.public_url,
        month=month,
        now=now,
        actor="scheduler",
        purpose="coe-channel",
    )


def month_of(dedupe_key: str) -> str | None:
    """The month a report row is for, from its key (`report-monthly:2026-11:C…`)."""
    parts = dedupe_key.split(":")
    return parts[1] if len(parts) > 2 and parts[0] == JOB else None


def filename(message: OutboxMessage) -> str:
    """The chart's file name: unique to the row, so a lost answer is found in history."""
    return f"coe-bot-report-{month_of(message.dedupe_key)}-{message.id}.png"


async def upload_summary(deps: Deps, client: AsyncWebClient, message: OutboxMessage) -> Any:
    """Post a report row's summary with its chart through `files_upload_v2` (Slack's
    external upload: files.getUploadURLExternal, the upload, files.completeUploadExternal);
    Slack's answer, or None when the summary should go as a plain message instead: no
    chart to draw, or no `files:write` scope (the app was not reinstalled; logged).
    SlackApiError passes through. An upload step that failed, or files.completeUploadExternal
    answering `file_not_found` (a completion whose answer was lost, retried), raises
    ConnectionError: the outcome is unknown, and the worker looks for the file in the
    channel's history before trying again."""
    month = month_of(message.dedupe_key)
    if month is None:
        return None
    try:
        first = parse_month(month, today=deps.clock().date())
        report = await page.build(
            sessions=deps.sessions,
            settings=deps.settings,
            policy=deps.policy.active,
            month=first,
            now=deps.clock(),
        )
        png = await asyncio.to_thread(page.summary_chart, report)
    except Exception:  # the summary still goes, as text: the page has the figures
        logger.exception("monthly report %s: the chart could not be drawn; text alone", month)
        return None
    if png is None:
        return None
    channel = message.channel
    if channel.startswith(("U", "W")):  # a CoE admin by DM: files are shared to a conversation
        opened = await client.conversations_open(users=channel)
        channel = str(opened["channel"]["id"])
    try:
        return await client.files_upload_v2(
            channel=channel,
            file=png,
            filename=filename(message),
            title=f"AI coding tools — {report.title}",
            alt_txt=f"Chart: people using AI coding tools each month, to {report.title}",
            initial_comment=message.text,
        )
    except SlackApiError as error:
        if error.response.get("error") == "file_not_found":  # completed once, answer lost
            raise ConnectionError("files.completeUploadExternal: file_not_found") from error
        if error.response.get("error") == "missing_scope":
            logger.warning(
                "Slack refused the report's chart (missing_scope: files:write): reinstall the"
                " app from manifest.yml; the summary is posted without it"
            )
            return None
        raise
    except SlackRequestError as error:  # the upload URL refused the bytes: nothing shared
        raise ConnectionError(str(error)) from error
