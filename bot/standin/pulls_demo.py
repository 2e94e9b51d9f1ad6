"""The demo organisation's pull requests, for the GitHub GraphQL stand-in: from the first
team's baseline (13 weeks before its start) to the demo's last day, one repository a team,
so that `/api/v1/impact` shows a believable before/after for the teams that started early.

Each person merges about two pull requests a week (fewer in their team's first weeks with
the tools, as GitHub's guidance expects a dip while people ramp up). From their team's
start (`DemoTeam.adopted_on`, also the rollout start `coe-bot usage demo` records) the
invented effect is modest and mixed, as published studies find: cycle time about 20 %
shorter, pull requests about 15 % larger, reverts a little more frequent (4 % from 3 %),
half of them labelled AI-assisted, a third reviewed by Copilot code review, and a few
opened by the Copilot coding agent (a Bot). Dependabot opens one a week in each
repository. The same organisation always gives the same pull requests.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random

from bot.standin.github_demo import DemoOrg, DemoPerson, DemoTeam, _mix
from bot.standin.github_pulls import FakeGitHubPulls, Pull, Review

CYCLE_HOURS = 40.0  # median before the team's start
SPEEDUP = 0.8
SIZE = 120
REVERTS = (0.03, 0.04)


def repo_of(team: DemoTeam) -> str:
    return f"{team.slug}-service"


class PullsDemo:
    """`install(fake)` gives the stand-in a repository a team and its pull requests."""

    def __init__(self, organisation: DemoOrg, *, history_days: int | None = None) -> None:
        self.org = organisation
        if history_days is None:  # from the first team's baseline (12 weeks before its start)
            first = min((t.adopted_on for t in organisation.teams), default=organisation.end_day)
            self.first_day = first - dt.timedelta(weeks=13)
        else:
            self.first_day = organisation.end_day - dt.timedelta(days=history_days - 1)
        self._teams = {repo_of(t): t for t in organisation.teams}

    def install(self, fake: FakeGitHubPulls) -> None:
        for repo in self._teams:
            fake.add_repo(repo)
        fake.source = self.pulls

    @functools.cache  # noqa: B019 - one organisation, a few repositories, kept for its life
    def pulls(self, repo: str) -> list[Pull]:
        team = self._teams.get(repo)
        if team is None:
            return []
        people = [p for p in self.org.people if p.team == team.name]
        made: list[Pull] = []
        number = 0
        day = self.first_day
        while day <= self.org.end_day:
            if day.weekday() == 0:
                number += 1
                made.append(_dependabot(number, day))
            if day.weekday() < 5:
                for person in people:
                    for pull in self._day(team, person, people, day, number + 1):
                        number = pull.number
                        made.append(pull)
            day += dt.timedelta(days=1)
        return made + self._reverts(made, number)

    def _day(
        self,
        team: DemoTeam,
        person: DemoPerson,
        people: list[DemoPerson],
        day: dt.date,
        start: int,
    ) -> list[Pull]:
        rng = random.Random(_mix(self.org.seed, person.github_id, day.toordinal(), 91))
        after = day >= team.adopted_on
        ramp = after and (day - team.adopted_on).days < 21
        if rng.random() >= (0.32 if ramp else 0.4):  # two a week, fewer while ramping up
            return []
        opened = dt.datetime.combine(day, dt.time(9), dt.UTC) + dt.timedelta(
            minutes=rng.randint(0, 8 * 60)
        )
        cycle = rng.lognormvariate(math.log(CYCLE_HOURS * (SPEEDUP if after else 1.0)), 0.7)
        review = min(cycle * rng.uniform(0.05, 0.3), cycle)
        agent = after and rng.random() < 0.04
        draft = rng.random() < 0.2
        ready = opened + dt.timedelta(hours=rng.uniform(1, 20)) if draft else opened
        merged = ready + dt.timedelta(hours=cycle)
        mates = [p.login for p in people if p.login != person.login] or [person.login]
        reviewer = mates[rng.randrange(len(mates))]  # a teammate reviews it
        reviews = [Review(reviewer, ready + dt.timedelta(hours=review))]
        if after and rng.random() < 0.33:
            reviews.append(Review("copilot-pull-request-reviewer", ready, "COMMENTED", bot=True))
        size = int(rng.lognormvariate(math.log(SIZE * (1.15 if after else 1.0)), 0.8))
        return [
            Pull(
                start,
                f"{'[agent] ' if agent else ''}{team.slug}: change {start}",
                "Copilot" if agent else person.login,
                opened,
                ready_at=ready if draft else None,
                merged_at=merged,
                additions=int(size * 0.7),
                deletions=size - int(size * 0.7),
                author_bot=agent,
                merge_commit=f"{_mix(self.org.seed, start, person.github_id):040x}"[-40:],
                labels=["ai-assisted"] if after and rng.random() < 0.5 else [],
                reviews=reviews,
            )
        ]

    def _reverts(self, made: list[Pull], number: int) -> list[Pull]:
        reverts = []
        for pull in made:
            if pull.author_bot or pull.merged_at is None:
                continue
            team = self._teams[repo_of_title(pull.title, self._teams)]
            rate = REVERTS[1] if pull.created_at.date() >= team.adopted_on else REVERTS[0]
            rng = random.Random(_mix(self.org.seed, pull.number, 17))
            if rng.random() < rate:
                number += 1
                at = pull.merged_at + dt.timedelta(hours=rng.uniform(2, 24 * 10))
                reverts.append(
                    Pull(
                        number,
                        f'Revert "{pull.title}"',
                        pull.author,
                        at,
                        merged_at=at + dt.timedelta(hours=2),
                        additions=pull.deletions,
                        deletions=pull.additions,
                        body=f"This reverts commit {pull.merge_commit}.",
                    )
                )
        return reverts


def repo_of_title(title: str, teams: dict[str, DemoTeam]) -> str:
    slug = title.removeprefix("[agent] ").split(":", 1)[0]
    return f"{slug}-service"


def _dependabot(number: int, day: dt.date) -> Pull:
    opened = dt.datetime.combine(day, dt.time(6), dt.UTC)
    return Pull(
        number,
        "Bump the dependencies group",
        "dependabot",
        opened,
        merged_at=opened + dt.timedelta(hours=5),
        additions=12,
        deletions=12,
        author_bot=True,
    )


def waves(organisation: DemoOrg) -> dict[str, tuple[str, dt.date]]:
    """Each team's rollout wave and start: the first team is the pilot; then by the share of
    people with the tools once the team has started (10 %, 25 %, 50 %, everyone)."""
    total = len(organisation.people) or 1
    sizes = {
        t.name: sum(1 for p in organisation.people if p.team == t.name) for t in organisation.teams
    }
    found: dict[str, tuple[str, dt.date]] = {}
    covered = 0
    for index, team in enumerate(sorted(organisation.teams, key=lambda t: (t.adopted_on, t.name))):
        covered += sizes[team.name]
        share = covered / total
        wave = (
            "pilot"
            if index == 0
            else "10%"
            if share <= 0.1
            else "25%"
            if share <= 0.25
            else "50%"
            if share <= 0.5
            else "everyone"
        )
        found[team.name] = (wave, team.adopted_on)
    return found
