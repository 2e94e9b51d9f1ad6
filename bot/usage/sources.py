"""Which GitHub a Copilot pull talks to.

With `USAGE_GITHUB_TOKEN` set: GitHub itself (`USAGE_GITHUB_API_URL`, the org or enterprise
named). Without it, when coe-bot runs against the Slack stand-in (no Slack credentials):
the GitHub stand-in, filled by `coe-bot usage demo`. With real Slack credentials and no
GitHub token, the source is off: a real workspace never gets invented figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.models import AuditEvent
from bot.usage.copilot import Target
from bot.usage.github import GitHubClient

DEMO_ACTION = "usage.demo"


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
    from bot.standin.github_demo import build_demo

    # The organisation goes on using Copilot after the demo was made: same start, same
    # people, days up to today.
    end = max(demo.end_day, today)
    organisation = build_demo(
        people=demo.people, days=demo.days + (end - demo.end_day).days, seed=demo.seed, end_day=end
    )
    async with FakeGitHub(today=lambda: today) as github:
        organisation.install(github)
        target = Target(org=github.org, enterprise=None)
        async with GitHubClient(github.api_url, github.token) as client:
            yield client, target
