"""Which GitHub a Copilot pull talks to, and which Cursor a Cursor pull talks to.

With `USAGE_GITHUB_TOKEN` set: GitHub itself (`USAGE_GITHUB_API_URL`, the org or enterprise
named). Without it, when coe-bot runs against the Slack stand-in (no Slack credentials):
the GitHub stand-in, filled by `coe-bot usage demo`. With real Slack credentials and no
GitHub token, the source is off: a real workspace never gets invented figures. Cursor
follows the same rule with `USAGE_CURSOR_API_KEY`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.models import AuditEvent
from bot.usage.claude_code import AnthropicClient
from bot.usage.copilot import Target
from bot.usage.cursor import CursorClient
from bot.usage.github import GitHubClient

if TYPE_CHECKING:
    from bot.standin.github_demo import DemoOrg

DEMO_ACTION = "usage.demo"
# Told before a pull begins: (whose data, first day, last day).
Announce = Callable[[str, dt.date, dt.date], None]


class SourceOff(Exception):
    """This source is not set up; `str()` says what to set."""


@dataclass(frozen=True)
class DemoSpec:
    """What `coe-bot usage demo` made: enough to build the same organisation again."""

    people: int
    days: int
    seed: int
    end_day: dt.date

    def as_details(self) -> dict[str, Any]:
        return {
            "people": self.people,
            "days": self.days,
            "seed": self.seed,
            "end_day": self.end_day.isoformat(),
        }


def uses_standin(settings: Settings) -> bool:
    """True when Copilot comes from the stand-in: no GitHub token, and no Slack either."""
    return settings.usage_github_token is None and not settings.has_slack_credentials


def target_of(settings: Settings) -> Target:
    """The configured org or enterprise; raises `SourceOff` naming what is missing."""
    if settings.usage_github_token is None:
        raise SourceOff(
            "Copilot is off: set USAGE_GITHUB_TOKEN and USAGE_GITHUB_ORG (or"
            " USAGE_GITHUB_ENTERPRISE); see the README's 'Measuring the tools'"
        )
    if not (settings.usage_github_org or settings.usage_github_enterprise):
        raise SourceOff(
            "USAGE_GITHUB_TOKEN is set: name USAGE_GITHUB_ORG or USAGE_GITHUB_ENTERPRISE"
        )
    return Target(org=settings.usage_github_org, enterprise=settings.usage_github_enterprise)


async def demo_spec(*, session: AsyncSession) -> DemoSpec | None:
    """The latest demo organisation made with `coe-bot usage demo`, if any."""
    event = (
        await session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.action) == DEMO_ACTION)
            .order_by(col(AuditEvent.id).desc())
            .limit(1)
        )
    ).first()
    if event is None:
        return None
    details = event.details
    return DemoSpec(
        people=int(details["people"]),
        days=int(details["days"]),
        seed=int(details["seed"]),
        end_day=dt.date.fromisoformat(str(details["end_day"])),
    )


@asynccontextmanager
async def open_github(
    settings: Settings, demo: DemoSpec | None, *, today: dt.date
) -> AsyncIterator[tuple[GitHubClient, Target]]:
    """A client for the configured GitHub, or for the stand-in holding `demo`; raises
    `SourceOff` when neither applies."""
    if not uses_standin(settings):
        target = target_of(settings)
        assert settings.usage_github_token is not None
        token = settings.usage_github_token.get_secret_value()
        async with GitHubClient(settings.usage_github_api_url, token) as client:
            yield client, target
        return
    if demo is None:
        raise SourceOff(
            "Copilot comes from the GitHub stand-in here (no Slack or GitHub credentials),"
            " and it is empty: run `coe-bot usage demo` first"
        )
    from bot.standin.github import FakeGitHub

    organisation = demo_organisation(demo, today)
    async with FakeGitHub(today=lambda: today) as github:
        organisation.install(github)
        target = Target(org=github.org, enterprise=None)
        async with GitHubClient(github.api_url, github.token) as client:
            yield client, target


@asynccontextmanager
async def open_pull_requests(
    settings: Settings, demo: DemoSpec | None, *, today: dt.date
) -> AsyncIterator[tuple[GitHubClient, str]]:
    """A client and organisation for the pull requests: the configured GitHub org (the
    Copilot settings), or the GraphQL stand-in holding `demo`'s pull requests;
    raises `SourceOff` when neither applies (an enterprise alone names no repositories)."""
    if not uses_standin(settings):
        if not settings.usage_github_org:
            raise SourceOff(
                "pull requests need USAGE_GITHUB_ORG (the organisation whose repositories"
                " count) and USAGE_GITHUB_TOKEN with read access to its pull requests"
            )
        assert settings.usage_github_token is not None
        token = settings.usage_github_token.get_secret_value()
        async with GitHubClient(settings.usage_github_api_url, token) as client:
            yield client, settings.usage_github_org
        return
    if demo is None:
        raise SourceOff(
            "pull requests come from the GitHub stand-in here (no Slack or GitHub"
            " credentials), and it is empty: run `coe-bot usage demo` first"
        )
    from bot.standin.github_pulls import FakeGitHubPulls
    from bot.standin.pulls_demo import PullsDemo

    organisation = demo_organisation(demo, today)
    now = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    async with FakeGitHubPulls(now=lambda: now, points_per_hour=10**6) as fake:
        PullsDemo(organisation).install(fake)
        async with GitHubClient(fake.api_url, fake.token) as client:
            yield client, fake.org


def demo_organisation(demo: DemoSpec, today: dt.date) -> DemoOrg:
    """The demo organisation as of `today`: it goes on using the tools after the demo was
    made (same start, same people, days up to today)."""
    from bot.standin.github_demo import build_demo

    end = max(demo.end_day, today)
    return build_demo(
        people=demo.people, days=demo.days + (end - demo.end_day).days, seed=demo.seed, end_day=end
    )


def cursor_uses_standin(settings: Settings) -> bool:
    """True when Cursor comes from the stand-in: no Cursor key, and no Slack either."""
    return settings.usage_cursor_api_key is None and not settings.has_slack_credentials


@asynccontextmanager
async def open_cursor(
    settings: Settings, demo: DemoSpec | None, *, today: dt.date
) -> AsyncIterator[CursorClient]:
    """A client for the configured Cursor team, or for the stand-in holding `demo`'s Cursor
    users; raises `SourceOff` when neither applies."""
    if settings.usage_cursor_api_key is not None:
        key = settings.usage_cursor_api_key.get_secret_value()
        async with CursorClient(settings.usage_cursor_api_url, key) as client:
            yield client
        return
    if not cursor_uses_standin(settings):
        raise SourceOff(
            "Cursor is off: set USAGE_CURSOR_API_KEY (an admin API key of the team); see the"
            " README's 'Measuring the tools'"
        )
    if demo is None:
        raise SourceOff(
            "Cursor comes from the Cursor stand-in here (no Slack or Cursor credentials),"
            " and it is empty: run `coe-bot usage demo` first"
        )
    from bot.standin.cursor import FakeCursor
    from bot.standin.cursor_demo import CursorDemo

    organisation = demo_organisation(demo, today)
    now = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    async with FakeCursor(now=lambda: now, rate_limit=10**6) as fake:
        CursorDemo(organisation).install(fake)
        async with CursorClient(fake.api_url, fake.api_key) as client:
            yield client


@asynccontextmanager
async def open_anthropic(
    settings: Settings, demo: DemoSpec | None, *, today: dt.date
) -> AsyncIterator[AnthropicClient]:
    """A client for the configured Anthropic organisation, or for the stand-in holding
    `demo`'s Claude Code users; raises `SourceOff` when neither applies."""
    if settings.usage_anthropic_admin_key is not None:
        key = settings.usage_anthropic_admin_key.get_secret_value()
        async with AnthropicClient(settings.usage_anthropic_api_url, key) as client:
            yield client
        return
    if settings.has_slack_credentials:
        raise SourceOff(
            "Claude Code is off: set USAGE_ANTHROPIC_ADMIN_KEY (an Admin API key of the"
            " organisation); see the README's 'Measuring the tools'"
        )
    if demo is None:
        raise SourceOff(
            "Claude Code comes from the Anthropic stand-in here (no Slack or Anthropic"
            " credentials), and it is empty: run `coe-bot usage demo` first"
        )
    from bot.standin.anthropic import FakeAnthropic
    from bot.standin.cursor_demo import ClaudeCodeDemo

    organisation = demo_organisation(demo, today)
    now = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    async with FakeAnthropic(now=lambda: now) as fake:
        fake.source = ClaudeCodeDemo(organisation).records
        async with AnthropicClient(fake.api_url, fake.admin_key) as client:
            yield client
