"""The pull-request importer against the GitHub GraphQL stand-in: what is stored (bots
apart, reviews, ready-for-review, reverts), incremental pulls, a resume after a kill that
fetches nothing twice, the point budget, and GitHub's faults."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import parse
from sqlmodel import select

from bot.impact import pulls
from bot.models import PullRequest, PullRequestCursor
from bot.standin.github_pulls import FakeGitHubPulls, Pull, Review, cost_of
from bot.usage.github import GitHubAuthError, GitHubClient, GitHubUnavailable, Retrying
from tests.conftest import Clock, Waits

T0 = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)


def at(days: float, hours: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(days=days, hours=hours)


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeGitHubPulls]:
    async with FakeGitHubPulls(now=clock, org="acme") as made:
        yield made


@pytest.fixture
async def github(fake: FakeGitHubPulls, waits: Waits) -> AsyncIterator[GitHubClient]:
    retrying = Retrying(attempts=3, base_delay=0.01)
    async with GitHubClient(fake.api_url, fake.token, retrying=retrying, sleep=waits) as made:
        yield made


async def stored(sessions: Any) -> dict[tuple[str, int], PullRequest]:
    async with sessions() as session:
        rows = (await session.exec(select(PullRequest))).all()
    return {(r.repo, r.number): r for r in rows}


def many(fake: FakeGitHubPulls, repo: str, count: int, *, start: int = 1) -> None:
    for n in range(start, start + count):
        fake.add_pull(repo, Pull(n, f"change {n}", "ana", at(n / 24), merged_at=at(n / 24, 2)))


async def test_a_pull_stores_people_apart_from_bots_with_reviews_and_reverts(
    fake: FakeGitHubPulls, github: GitHubClient, sessions: Any, clock: Clock
) -> None:
    fake.add_repo("api")
    fake.add_pull(  # opened as a draft, ready a day later, reviewed by a person and Copilot
        "api",
        Pull(
            1,
            "Add invoices endpoint",
            "ana",
            at(0),
            ready_at=at(1),
            merged_at=at(2),
            additions=120,
            deletions=30,
            merge_commit="a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2",
            labels=["ai-assisted"],
            reviews=[
                Review("copilot-pull-request-reviewer", at(1, 1), "COMMENTED", bot=True),
                Review("ana", at(1, 2), "COMMENTED"),  # the author's own reply: not a review
                Review("ben", at(1, 3)),
                Review("cy", at(1, 5), "CHANGES_REQUESTED"),
            ],
        ),
    )
    fake.add_pull("api", Pull(2, "Bump httpx", "dependabot", at(3), author_bot=True))
    fake.add_pull(  # GitHub's Revert button, 5 days after the merge
        "api", Pull(3, 'Revert "Add invoices endpoint"', "ben", at(7), merged_at=at(7, 1))
    )
    fake.add_pull(
        "api", Pull(4, "Old fix", "cy", at(0), merged_at=at(0, 3), merge_commit="ff00" * 10)
    )
    fake.add_pull(  # a revert by sha, too late: 40 days after
        "api", Pull(5, "Undo old fix", "cy", at(40), body="This reverts commit ff00ff00.")
    )
    fake.add_pull("api", Pull(6, "Ghost's change", None, at(8)))
    done = await pulls.pull(sessions=sessions, github=github, org="acme", now=clock())
    assert (done.repos, done.pages, done.stored, done.reverts) == (1, 1, 6, 1)
    rows = await stored(sessions)
    first = rows[("api", 1)]
    assert (first.author, first.author_is_bot) == ("ana", False)
    assert first.ready_at == at(1)
    assert first.first_review_at == at(1, 3)  # ben: neither the bot nor the author
    assert (first.review_count, first.reviewers, first.ai_reviewed) == (2, ["ben", "cy"], True)
    assert (first.additions, first.deletions, first.labels) == (120, 30, ["ai-assisted"])
    assert first.reverted_by == 3
    assert rows[("api", 2)].author_is_bot
    assert rows[("api", 2)].ready_at == at(3)  # never a draft: ready when opened
    assert rows[("api", 4)].reverted_by is None  # reverted after the 30 days
    assert rows[("api", 5)].reverts_sha == "ff00ff00"
    assert rows[("api", 6)].author is None
    assert done.points == pulls.POINTS_PER_PAGE == fake.points_spent


async def test_a_repull_fetches_only_what_changed_and_an_unchanged_repo_list_is_free(
    fake: FakeGitHubPulls, github: GitHubClient, sessions: Any, clock: Clock
) -> None:
    many(fake, "api", 250)
    many(fake, "web", 30)
    first = await pulls.pull(sessions=sessions, github=github, org="acme", now=clock())
    assert (first.pages, first.stored) == (3 + 1, 280)
    assert fake.rest_requests == 1
    again = await pulls.pull(sessions=sessions, github=github, org="acme", now=clock())
    # one page a repository, stopped at the watermark; the repo list answered 304
    assert again.pages == 2
    assert fake.rest_requests == 1
    fake.add_pull("api", Pull(7, "change 7, again", "ana", at(1), updated_at=at(30)))
    fake.add_pull("api", Pull(999, "new", "ben", at(31)))
    later = await pulls.pull(sessions=sessions, github=github, org="acme", now=clock())
    assert later.pages == 2
    rows = await stored(sessions)
    assert len(rows) == 281
    assert rows[("api", 7)].title == "change 7, again"


async def test_another_orgs_pull_requests_the_demos_go_before_the_first_real_pull(
    github: GitHubClient, sessions: Any, clock: Clock, waits: Waits
) -> None:
    async with FakeGitHubPulls(now=clock, org="standin-org") as demo_fake:
        many(demo_fake, "demo-service", 30)
        async with GitHubClient(demo_fake.api_url, demo_fake.token, sleep=waits) as demo:
            await pulls.pull(sessions=sessions, github=demo, org="standin-org", now=clock())
    assert {repo for repo, _ in await stored(sessions)} == {"demo-service"}
    async with FakeGitHubPulls(now=clock, org="acme") as real_fake:
        many(real_fake, "api", 5)
        async with GitHubClient(real_fake.api_url, real_fake.token, sleep=waits) as real:
            done = await pulls.pull(sessions=sessions, github=real, org="acme", now=clock())
    assert done.forgotten == "standin-org"
    assert {repo for repo, _ in await stored(sessions)} == {"api"}


async def test_a_killed_pull_resumes_where_it_stopped_and_fetches_nothing_twice(
    fake: FakeGitHubPulls, github: GitHubClient, sessions: Any, clock: Clock
) -> None:
    many(fake, "aaa", 30)  # one page, pulled first (repositories in name order)
    many(fake, "api", 450)  # five pages
    real = github.graphql
    calls = 0

    async def dies_on_the_fourth(query: str, variables: dict[str, Any]) -> Any:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise KeyboardInterrupt  # the process killed mid-pull
        return await real(query, variables)

    github.graphql = dies_on_the_fourth  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        await pulls.pull(sessions=sessions, github=github, org="acme", now=clock())
    assert len(await stored(sessions)) == 30 + 200  # aaa, and api's first two pages
    async with sessions() as session:
        state = await session.get(PullRequestCursor, "api")
    assert state is not None
    assert state.after is not None
    assert state.watermark is None
    github.graphql = real  # type: ignore[method-assign]
    before = fake.graphql_requests
    resumed = await pulls.pull(sessions=sessions, github=github, org="acme", now=clock())
    # api's pages 3 to 5 only: aaa, completed in the same run, is not asked again
    assert fake.graphql_requests - before == 3
    assert resumed.stored == 250
    assert len(await stored(sessions)) == 480
    again = await pulls.pull(sessions=sessions, github=github, org="acme", now=clock())
    assert again.pages == 2  # a new run: each repository's first page, to its watermark
    async with sessions() as session:
        state = await session.get(PullRequestCursor, "api")
    assert state is not None
    assert state.after is None
    assert state.watermark is not None


async def test_the_point_budget_waits_for_the_next_hour_instead_of_spending_more(
    fake: FakeGitHubPulls, github: GitHubClient, sessions: Any, clock: Clock, waits: Waits
) -> None:
    many(fake, "api", 700)  # seven pages, 21 points
    elapsed = [0.0]

    def ticks() -> float:  # ten seconds a query
        elapsed[0] += 10
        return elapsed[0]

    async def sleep(seconds: float) -> None:
        await waits(seconds)
        elapsed[0] += seconds

    budget = pulls.Budget(points_per_hour=9, clock=ticks)
    done = await pulls.pull(
        sessions=sessions, github=github, org="acme", now=clock(), budget=budget, sleep=sleep
    )
    assert done.stored == 700
    assert done.points == 21
    assert len(waits.seconds) == 2  # after pages 3 and 6
    assert all(3500 < w <= 3600 for w in waits.seconds)


async def test_githubs_limits_and_errors_are_waited_out_or_named(
    fake: FakeGitHubPulls, github: GitHubClient, sessions: Any, clock: Clock, waits: Waits
) -> None:
    many(fake, "api", 10)
    fake.fail(502)  # a query past GitHub's 10 s timeout
    fake.fail(403, retry_after=61)  # a secondary rate limit
    done = await pulls.pull(sessions=sessions, github=github, org="acme", now=clock())
    assert done.stored == 10
    assert 61 in waits.seconds
    fake.points_per_hour = 0  # GitHub's own primary limit spent: 200 with RATE_LIMITED
    fake.add_pull("api", Pull(11, "new", "ana", at(20)))
    with pytest.raises(GitHubUnavailable, match="GraphQL points are spent"):
        await pulls.pull(sessions=sessions, github=github, org="acme", now=clock())
    async with GitHubClient(fake.api_url, "wrong", sleep=waits) as refused:
        with pytest.raises(GitHubAuthError):
            await pulls.pull(sessions=sessions, github=refused, org="acme", now=clock())


def test_the_stand_in_charges_what_github_documents() -> None:
    """The importer's own query: 1 + 100 × 3 nested connections = 301 requests, 3
    points; a smaller one never costs less than 1."""
    assert cost_of(parse(pulls.QUERY), {}) == 3
    two_levels = (
        'query { repository(owner: "a", name: "b") {'
        " pullRequests(first: 50) { nodes { labels(first: 10) { nodes { name } } } } } }"
    )
    assert cost_of(parse(two_levels), {}) == 1  # 1 + 50 = 51 requests: 0.51, at least 1


async def test_retention_keeps_every_baseline(
    fake: FakeGitHubPulls, github: GitHubClient, sessions: Any, clock: Clock
) -> None:
    many(fake, "api", 48)  # one an hour from 10:00 on 1 September
    await pulls.pull(sessions=sessions, github=github, org="acme", now=clock())
    async with sessions.begin() as session:  # a baseline from 2 September keeps that day
        assert (
            await pulls.purge(
                session=session, before=dt.date(2026, 12, 1), keep_from=dt.date(2026, 9, 2)
            )
            == 14
        )  # created on 1 September (09:00 on): before the baseline
    assert min(n for _, n in await stored(sessions)) == 15
    async with sessions.begin() as session:
        assert await pulls.purge(session=session, before=dt.date(2026, 9, 3), keep_from=None) == 24
    assert sorted(n for _, n in await stored(sessions)) == list(range(39, 49))


async def test_the_stand_in_shows_nothing_that_has_not_happened_yet(
    fake: FakeGitHubPulls, github: GitHubClient, sessions: Any, clock: Clock
) -> None:
    """A source may plan ahead (the demo's does): GitHub shows a pull request as it is now."""
    now = clock()
    fake.add_pull(
        "api",
        Pull(
            1,
            "opened, merged tomorrow",
            "ana",
            now - dt.timedelta(hours=5),
            merged_at=now + dt.timedelta(days=1),
            reviews=[
                Review("ben", now - dt.timedelta(hours=1)),
                Review("cy", now + dt.timedelta(hours=2)),
            ],
        ),
    )
    fake.add_pull("api", Pull(2, "opened tomorrow", "ana", now + dt.timedelta(days=1)))
    await pulls.pull(sessions=sessions, github=github, org="acme", now=now)
    rows = await stored(sessions)
    assert list(rows) == [("api", 1)]
    assert rows[("api", 1)].merged_at is None
    assert rows[("api", 1)].reviewers == ["ben"]
    clock.advance(days=2)
    await pulls.pull(sessions=sessions, github=github, org="acme", now=clock())
    rows = await stored(sessions)
    assert rows[("api", 1)].merged_at == now + dt.timedelta(days=1)
    assert rows[("api", 1)].reviewers == ["ben", "cy"]
    assert ("api", 2) in rows
