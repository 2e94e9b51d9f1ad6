"""One pull of a source as the command line and the daily job run it: open the configured
source (or its stand-in), take the default window for that source and target unless days
are given, clear the demo's invented figures once the first real data of a source can come
(Copilot: after a finished pull, its rows being the demo org's; Cursor and Claude Code:
after a first request with the real key was answered), and pull. Every pull is audited
(`usage.pull`), a failed one too. `coe-bot usage pull` and `bot.jobs.usage` call these."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.db import Sessions
from bot.impact import pulls
from bot.models import UsagePull
from bot.services import audit
from bot.usage import claude_code, copilot, cursor, sources

PULL_ACTION = "usage.pull"


@dataclass(frozen=True)
class Pulled:
    run: UsagePull
    first: dt.date
    last: dt.date
    target: str  # whose data: "org:NAME", "cursor:HOST"
    demo_cleared: int  # pulls of the demo whose figures were deleted first


async def copilot_pull(
    *,
    settings: Settings,
    sessions: Sessions,
    now: dt.datetime,
    since: dt.date | None = None,
    until: dt.date | None = None,
    progress: copilot.Progress | None = None,
    started: sources.Announce | None = None,
    actor: str = "scheduler",
) -> Pulled:
    """Pull Copilot: raises `sources.SourceOff` or `GitHubError`. `started(target, first,
    last)` is told before the pull begins (the command line prints it)."""
    today = now.date()
    standin = sources.uses_standin(settings)
    async with sessions() as session:
        demo = await sources.demo_spec(session=session)
    async with sources.open_github(settings, demo, today=today) as (github, target):
        async with sessions() as session:
            first, last = await copilot.window(session=session, today=today, target=target.entity)
        first, last = since or first, until or last
        first = min(first, last)  # --until alone, before the usual window: that one day on
        if started:
            started(target.entity, first, last)
        try:
            run = await copilot.pull(
                sessions=sessions,
                github=github,
                target=target,
                first_day=first,
                last_day=last,
                now=now,
                progress=progress,
                standin=standin,
            )
        except Exception as error:
            await _audit_failure(
                sessions, copilot.SOURCE, target.entity, first, last, error, actor, now
            )
            raise
    cleared = 0
    if not standin and run.status == "done":  # the demo's rows are its own org's: now they go
        async with sessions.begin() as session:
            cleared = await copilot.forget_demo(session=session, source=copilot.SOURCE)
    pulled = Pulled(run, first, last, target.entity, cleared)
    await _audit(sessions, pulled, actor, now)
    return pulled


async def cursor_pull(
    *,
    settings: Settings,
    sessions: Sessions,
    now: dt.datetime,
    since: dt.date | None = None,
    until: dt.date | None = None,
    started: sources.Announce | None = None,
    actor: str = "scheduler",
) -> Pulled:
    """Pull Cursor: raises `sources.SourceOff` or `cursor.CursorError`."""
    return await _vendor_pull(cursor.SOURCE, settings, sessions, now, since, until, started, actor)


async def claude_code_pull(
    *,
    settings: Settings,
    sessions: Sessions,
    now: dt.datetime,
    since: dt.date | None = None,
    until: dt.date | None = None,
    started: sources.Announce | None = None,
    actor: str = "scheduler",
) -> Pulled:
    """Pull Claude Code: raises `sources.SourceOff` or `claude_code.AnthropicError`."""
    return await _vendor_pull(
        claude_code.SOURCE, settings, sessions, now, since, until, started, actor
    )


async def _vendor_pull(
    source: str,
    settings: Settings,
    sessions: Sessions,
    now: dt.datetime,
    since: dt.date | None,
    until: dt.date | None,
    started: sources.Announce | None,
    actor: str,
) -> Pulled:
    """Cursor or Claude Code (e-mail-keyed, a window back from today)."""
    today = now.date()
    is_cursor = source == cursor.SOURCE
    key = settings.usage_cursor_api_key if is_cursor else settings.usage_anthropic_admin_key
    url = settings.usage_cursor_api_url if is_cursor else settings.usage_anthropic_api_url
    vendor = "cursor" if is_cursor else "anthropic"
    target = f"{vendor}:stand-in" if key is None else f"{vendor}:{url}"
    window = cursor.window if is_cursor else claude_code.window
    async with sessions() as session:
        demo = await sources.demo_spec(session=session)
    opened = (
        sources.open_cursor(settings, demo, today=today)
        if is_cursor
        else sources.open_anthropic(settings, demo, today=today)
    )
    async with opened as client:
        async with sessions() as session:
            first, last = await window(session=session, today=today, target=target)
        first, last = since or first, until or last
        first = min(first, last)
        if started:
            started(target, first, last)
        cleared = 0
        try:
            if key is not None and await copilot.has_demo(sessions, source):
                await _answered(client, today)  # a wrong key or URL forgets nothing
                async with sessions.begin() as session:
                    cleared = await copilot.forget_demo(session=session, source=source)
        except Exception as error:
            await _audit_failure(sessions, source, target, first, last, error, actor, now)
            raise
        common: dict[str, Any] = {
            "sessions": sessions,
            "first_day": first,
            "last_day": last,
            "now": now,
            "target": target,
            "standin": key is None,
        }
        try:
            if isinstance(client, cursor.CursorClient):
                run = await cursor.pull(cursor=client, **common)
            else:
                run = await claude_code.pull(anthropic=client, **common)
        except Exception as error:
            await _audit_failure(sessions, source, target, first, last, error, actor, now)
            raise
    pulled = Pulled(run, first, last, target, cleared)
    await _audit(sessions, pulled, actor, now)
    return pulled


async def pull_requests_pull(
    *, settings: Settings, sessions: Sessions, now: dt.datetime, actor: str = "scheduler"
) -> pulls.Pulled:
    """Pull the organisation's pull requests (`bot.impact.pulls`), audited
    (`usage.pull`, source "pull_requests"). Raises `sources.SourceOff` or `GitHubError`."""
    async with sessions() as session:
        demo = await sources.demo_spec(session=session)
    async with sources.open_pull_requests(settings, demo, today=now.date()) as (github, org):
        try:
            done = await pulls.pull(sessions=sessions, github=github, org=org, now=now)
        except Exception as error:
            await _audit_failure(
                sessions, "pull_requests", f"org:{org}", now.date(), now.date(), error, actor, now
            )
            raise
    await _audited(
        sessions,
        actor,
        now,
        f"org:{org}",
        {
            "source": "pull_requests",
            "status": "done",
            "repos": done.repos,
            "pages": done.pages,
            "rows_stored": done.stored,
            "points": done.points,
            "reverts": done.reverts,
        },
    )
    return done


async def _answered(
    client: cursor.CursorClient | claude_code.AnthropicClient, today: dt.date
) -> None:
    """One small request with the real key; raises the vendor's error when it is refused."""
    if isinstance(client, cursor.CursorClient):
        await client.get("/teams/members")
    else:
        await client.get(claude_code.PATH, {"starting_at": today.isoformat(), "limit": 1})


async def _audited(
    sessions: Sessions, actor: str, now: dt.datetime, subject: str, details: dict[str, Any]
) -> None:
    """One `usage.pull` audit event: who pulled whose data, and what came of it."""
    async with sessions.begin() as session:
        await audit.record(
            session=session,
            actor=actor,
            action=PULL_ACTION,
            now=now,
            subject=subject,
            details=details,
        )


async def _audit_failure(
    sessions: Sessions,
    source: str,
    target: str,
    first: dt.date,
    last: dt.date,
    error: Exception,
    actor: str,
    now: dt.datetime,
) -> None:
    await _audited(
        sessions,
        actor,
        now,
        target,
        {
            "source": source,
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
            "status": "failed",
            "error": str(error)[:300],
            "demo_cleared": 0,
        },
    )


async def _audit(sessions: Sessions, pulled: Pulled, actor: str, now: dt.datetime) -> None:
    """Who pulled what (a pull that failed is on its `usage_pull` row, with GitHub's or
    Cursor's answer)."""
    run = pulled.run
    await _audited(
        sessions,
        actor,
        now,
        pulled.target,
        {
            "source": run.source,
            "first_day": pulled.first.isoformat(),
            "last_day": pulled.last.isoformat(),
            "status": run.status,
            "rows_stored": run.rows_stored,
            "skipped": run.skipped_count,
            "demo_cleared": pulled.demo_cleared,
        },
    )
