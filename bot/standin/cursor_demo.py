"""Cursor use in the demo organisation (`coe-bot usage demo`): the same people as the
Copilot demo (`github_demo.DemoOrg`), some of whom also use Cursor.

Every fourth team (by slug) took Cursor as its second tool: about 70 % of its people are
members, from a start day of their own; elsewhere about 5 % are (the curious). Members use
it on most weekdays once they start, a few stop using it (paid seats gone idle), and a
handful run up usage-based spend (premium models beyond the plan). Records are made per
person and day when asked, as the Copilot demo's are: the same arguments give the same
organisation.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.standin.cursor import FakeCursor, epoch_ms
from bot.standin.github_demo import DemoOrg, DemoPerson, _mix

MODELS = ("claude-4.5-sonnet", "gpt-5", "cursor-small", "gemini-2.5-pro")


@dataclass(frozen=True)
class _User:
    index: int
    person: DemoPerson
    since: dt.date
    stop_on: dt.date | None  # stopped using it (the seat stays paid)
    weekday: float
    heavy: bool  # runs up usage-based spend


class CursorDemo:
    """Who uses Cursor in `organisation`, and what Cursor's Admin API says about them."""

    def __init__(self, organisation: DemoOrg) -> None:
        self.organisation = organisation
        self.users: list[_User] = []
        org = organisation
        for index, person in enumerate(org.people):
            rng = random.Random(_mix(org.seed, index, 31))
            cursor_team = sum(map(ord, person.team_slug)) % 4 == 0
            if rng.random() >= (0.7 if cursor_team else 0.05):
                continue
            span = max(1, (org.end_day - org.start_day).days)
            since = org.start_day + dt.timedelta(days=rng.randrange(0, max(1, span * 2 // 3)))
            stopped = rng.random() < 0.12
            stop_on = since + dt.timedelta(days=rng.randrange(7, 40)) if stopped else None
            weekday = rng.uniform(0.45, 0.9)
            self.users.append(_User(index, person, since, stop_on, weekday, rng.random() < 0.08))

    def install(self, fake: FakeCursor) -> None:
        """Members, lazy daily usage and this cycle's spend, into the stand-in."""
        for user in self.users:
            fake.add_member(user.person.email, name=user.person.name)
        fake.usage_source = self.records
        cycle = self.organisation.end_day.replace(day=1)
        fake.set_spend(self.spend(cycle), cycle_start=cycle)

    def records(self, day: dt.date) -> Iterator[dict[str, Any]]:
        """Daily-usage records for `day`: active members only (inactive days are left out,
        as a team's export mostly does)."""
        org = self.organisation
        if not org.start_day <= day <= org.end_day:
            return
        for user in self.users:
            record = self._record(user, day)
            if record is not None:
                yield record

    def spend(self, cycle: dt.date) -> list[dict[str, Any]]:
        """Usage-based spend per member from `cycle` to the end of the demo, in cents: four
        cents a usage-based request (Cursor bills these beyond the plan)."""
        cents: dict[str, int] = {}
        day = max(cycle, self.organisation.start_day)
        while day <= self.organisation.end_day:
            for record in self.records(day):
                cents[record["email"]] = cents.get(record["email"], 0) + 4 * int(
                    record["usageBasedReqs"]
                )
            day += dt.timedelta(days=1)
        return [
            {"email": user.person.email, "spendCents": cents.get(user.person.email, 0)}
            for user in self.users
        ]

    def _record(self, user: _User, day: dt.date) -> dict[str, Any] | None:
        if day < user.since or (user.stop_on is not None and day > user.stop_on):
            return None
        mixed = _mix(self.organisation.seed, user.index, day.toordinal(), 37)
        chance = user.weekday if day.weekday() < 5 else 0.06
        if (mixed >> 11) / 2**53 >= chance:
            return None
        rng = random.Random(mixed)
        tabs = max(0, round(rng.gauss(220, 80)))
        applies = rng.randint(2, 30)
        accepts = round(applies * rng.uniform(0.55, 0.95))
        return {
            "date": epoch_ms(day),
            "email": user.person.email,
            "isActive": True,
            "totalLinesAdded": rng.randint(50, 900),
            "totalLinesDeleted": rng.randint(10, 300),
            "acceptedLinesAdded": rng.randint(20, 500),
            "acceptedLinesDeleted": rng.randint(5, 120),
            "totalApplies": applies,
            "totalAccepts": accepts,
            "totalRejects": applies - accepts,
            "totalTabsShown": tabs,
            "totalTabsAccepted": round(tabs * rng.uniform(0.25, 0.5)),
            "composerRequests": rng.randint(0, 6),
            "chatRequests": rng.randint(0, 15),
            "agentRequests": rng.randint(0, 12),
            "cmdkUsages": rng.randint(0, 8),
            "subscriptionIncludedReqs": rng.randint(5, 60),
            "apiKeyReqs": 0,
            "usageBasedReqs": rng.randint(10, 60) if user.heavy else rng.randint(0, 2),
            "bugbotUsages": rng.randint(0, 1),
            "mostUsedModel": rng.choice(MODELS),
            "applyMostUsedExtension": ".py",
            "tabMostUsedExtension": ".ts",
            "clientVersion": "1.7.2",
        }


class ClaudeCodeDemo:
    """Who uses Claude Code in `organisation` through the API (so Anthropic's analytics see
    them): about one team in five took it, 60 % of its people, from a start day of their
    own; elsewhere a few. Records are made per person and day when asked."""

    def __init__(self, organisation: DemoOrg) -> None:
        self.organisation = organisation
        self.users: list[_User] = []
        org = organisation
        for index, person in enumerate(org.people):
            rng = random.Random(_mix(org.seed, index, 53))
            claude_team = sum(map(ord, person.team_slug)) % 5 == 1
            if rng.random() >= (0.6 if claude_team else 0.03):
                continue
            span = max(1, (org.end_day - org.start_day).days)
            since = org.start_day + dt.timedelta(days=rng.randrange(0, max(1, span // 2)))
            weekday = rng.uniform(0.3, 0.8)
            self.users.append(_User(index, person, since, None, weekday, rng.random() < 0.1))

    def records(self, day: dt.date) -> Iterator[dict[str, Any]]:
        """Claude Code analytics records for `day` (active people only)."""
        org = self.organisation
        if not org.start_day <= day <= org.end_day:
            return
        for user in self.users:
            if day < user.since:
                continue
            mixed = _mix(org.seed, user.index, day.toordinal(), 59)
            if (mixed >> 11) / 2**53 >= (user.weekday if day.weekday() < 5 else 0.05):
                continue
            rng = random.Random(mixed)
            edits = rng.randint(3, 40)
            rejected = rng.randint(0, max(1, edits // 6))
            yield {
                "date": f"{day.isoformat()}T00:00:00Z",
                "actor": {"type": "user_actor", "email_address": user.person.email},
                "organization_id": "00000000-0000-4000-8000-00000000c0e0",
                "customer_type": "api",
                "subscription_type": None,
                "terminal_type": rng.choice(("vscode", "iTerm.app", "tmux")),
                "core_metrics": {
                    "num_sessions": rng.randint(1, 6),
                    "lines_of_code": {
                        "added": rng.randint(40, 900),
                        "removed": rng.randint(5, 300),
                    },
                    "commits_by_claude_code": rng.randint(0, 4),
                    "pull_requests_by_claude_code": rng.randint(0, 1),
                },
                "tool_actions": {
                    "edit_tool": {"accepted": edits - rejected, "rejected": rejected},
                    "write_tool": {"accepted": rng.randint(0, 5), "rejected": 0},
                },
                "model_breakdown": [
                    {
                        "model": "claude-sonnet-4-5-20250929",
                        "tokens": {"input": rng.randint(5_000, 90_000), "output": 9_000},
                        "estimated_cost": {
                            "amount": rng.randint(150, 2_400)
                            if user.heavy
                            else rng.randint(20, 600),
                            "currency": "USD",
                        },
                    }
                ],
            }
