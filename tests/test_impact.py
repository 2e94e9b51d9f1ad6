"""`/api/v1/impact`: pull requests pulled from the GitHub stand-in, mapped to teams through
the people directory, per team and week beside adoption, and a started team compared with
teams not started yet."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.impact import pulls
from bot.services import identities, rollout, teams
from bot.standin.github_pulls import FakeGitHubPulls, Pull, Review
from bot.usage.github import GitHubClient
from tests.conftest import Clock, RunningApp, start_app

TOKENS = "reader:metrics=impact-reader-token"
MONDAY = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)  # 2026-W23
WEEKS = 22  # to the end of October
START = dt.date(2026, 9, 7)  # payments' rollout: a Monday, week 15 of the 22
TEAMS = {"payments": 5, "search": 5, "mobile": 5, "tiny": 3, "ops": 3}


def people() -> list[tuple[str, str]]:
    return [(f"{team}-dev{n}", team) for team, count in TEAMS.items() for n in range(count)]


def history(fake: FakeGitHubPulls) -> None:
    """Two merged pull requests a person a week; payments' cycle time halves from its
    start (48 h → 24 h) and one in ten of its later ones is reverted; mobile's people merge
    one a week, only in the last four weeks; Dependabot merges one a week and Copilot
    reviews the first of each person's pair."""
    fake.add_repo("monolith")
    number = 0
    for week in range(WEEKS):
        monday = MONDAY + dt.timedelta(weeks=week)
        for login, team in people():
            if team == "mobile" and week < 18:  # mobile's people joined lately
                continue
            for k in range(2 if team != "mobile" else 1):
                number += 1
                ready = monday + dt.timedelta(hours=k * 3 + number % 5)
                after = team == "payments" and ready.date() >= START
                hours = (24 if after else 48) + (number % 7)
                fake.add_pull(
                    "monolith",
                    Pull(
                        number,
                        f"change {number}",
                        login,
                        ready,
                        merged_at=ready + dt.timedelta(hours=hours),
                        additions=40 + number % 50,
                        deletions=10,
                        labels=["ai-assisted"] if after and k == 0 else [],
                        reviews=[
                            Review(
                                "search-dev0" if team != "search" else "payments-dev0",
                                ready + dt.timedelta(hours=3),
                            ),
                            *(
                                [Review("copilot-pull-request-reviewer", ready, bot=True)]
                                if k == 0
                                else []
                            ),
                        ],
                    ),
                )
                if after and number % 10 == 0:
                    reverted_at = ready + dt.timedelta(hours=hours + 30)
                    fake.add_pull(
                        "monolith",
                        Pull(
                            10_000 + number,
                            f'Revert "change {number}"',
                            login,
                            reverted_at,
                            merged_at=reverted_at + dt.timedelta(hours=1),
                        ),
                    )
        fake.add_pull(
            "monolith",
            Pull(
                50_000 + week,
                "Bump httpx",
                "dependabot",
                monday,
                merged_at=monday + dt.timedelta(hours=2),
                author_bot=True,
            ),
        )


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[RunningApp]:
    clock.now = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
    running, runner = await start_app(
        settings.model_copy(update={"coe_api_token": SecretStr(TOKENS)}), clock
    )
    try:
        yield running
    finally:
        await runner.cleanup()


async def pulled(app: RunningApp, clock: Clock) -> None:
    now = clock()
    async with app.deps.sessions.begin() as session:
        roster = "user_id,team,is_champion,topics\n" + "".join(
            f"U{n:04d},{team},false,\n" for n, (_, team) in enumerate(people())
        )
        await teams.import_rows(session=session, rows=teams.read_csv(roster), actor="test", now=now)
        rows, problems = identities.read_csv(
            "slack_user_id,email,github_login\n"
            + "".join(
                f"U{n:04d},{login}@example.com,{login}\n" for n, (login, _) in enumerate(people())
            )
        )
        assert problems == []
        await identities.import_rows(session=session, rows=rows, now=now)
        for team, start in (("payments", START), ("mobile", START)):
            await rollout.set_start(
                session=session, team=team, wave="pilot", start=start, actor="test", now=now
            )
    async with FakeGitHubPulls(now=clock, org="acme") as fake:
        history(fake)
        async with GitHubClient(fake.api_url, fake.token) as github:
            done = await pulls.pull(sessions=app.deps.sessions, github=github, org="acme", now=now)
    assert done.reverts > 0


async def get(app: RunningApp, path: str) -> tuple[int, Any]:
    headers = {"Authorization": "Bearer impact-reader-token"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{app.url}/api/v1{path}", headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_impact_per_team_and_week_keeps_bots_apart_and_merges_small_teams(
    app: RunningApp, clock: Clock
) -> None:
    await pulled(app, clock)
    status, body = await get(app, "/impact?since=2026-08-03&until=2026-11-02")
    assert status == 200, body
    assert body["reading"] == "association, not causation"
    items = body["items"]
    assert {i["team"] for i in items} == {"payments", "search", "mobile", "(other teams)"}
    before = next(i for i in items if i["team"] == "payments" and i["week"] == "2026-W33")
    after = next(i for i in items if i["team"] == "payments" and i["week"] == "2026-W40")
    assert before["merged_prs"] == 10  # five people, two each; Dependabot's not among them
    assert 48 <= before["cycle_time_hours"] <= 55
    assert 24 <= after["cycle_time_hours"] <= 31
    for item in (before, after):  # never a speed figure without its quality pair
        assert "revert_rate" in item
        assert "reviews_per_reviewer" in item
    assert before["first_review_hours"] == 3.0
    assert 0.4 < after["ai_label_share"] <= 0.5  # the reverts carry no label
    assert before["ai_label_share"] == 0.0
    [week] = [o for o in body["organisation"] if o["week"] == "2026-W40"]
    assert week["bot_authored_share"] > 0  # Dependabot's: a bot...
    assert week["ai_authored_share"] == 0  # ...not an AI agent
    assert 0.4 < week["ai_reviewed_share"] < 0.6  # Copilot reviews the first of each pair
    assert "dev0" not in str(body)  # nobody named


async def test_a_started_team_is_compared_with_teams_not_started_yet(
    app: RunningApp, clock: Clock
) -> None:
    await pulled(app, clock)
    status, body = await get(app, "/impact?since=2026-06-01&until=2026-11-02")
    assert status == 200
    comparisons = {c["team"]: c for c in body["comparisons"]}
    payments = comparisons["payments"]
    assert payments["enough"] is True
    assert payments["reading"] == "association, not causation"
    assert payments["baseline"] == ["2026-06-15", "2026-09-06"]
    assert payments["control_teams"] == 3  # search, tiny, ops: never started (mobile did)
    cycle = payments["cycle_time_hours"]
    assert -28 < cycle["change"] < -20  # 48 h → 24 h, search unchanged
    low, high = cycle["interval_95"]
    assert low <= cycle["change"] <= high < 0  # the interval excludes no change
    assert payments["revert_rate"]["change"] > 0  # the pair: faster, and more reverts
    mobile = comparisons["mobile"]
    assert mobile["enough"] is False
    assert "not enough pull requests" in mobile["detail"]
    assert "cycle_time_hours" not in mobile
    status, one = await get(app, "/impact?since=2026-06-01&until=2026-11-02&team=Payments")
    assert [c["team"] for c in one["comparisons"]] == ["payments"]
    assert {i["team"] for i in one["items"]} == {"payments"}


async def test_bad_ranges_are_refused(app: RunningApp) -> None:
    for query, field in (
        ("?since=2026-12-01", "since"),
        ("?since=2026-10-10&until=2026-10-01", "since"),
        ("?since=2024-01-01&until=2026-01-01", "since"),
        ("?since=yesterday", "since"),
    ):
        status, body = await get(app, f"/impact{query}")
        assert status in (400, 422), (query, body)
        assert field in str(body)


async def test_the_demo_organisation_shows_a_before_and_after_for_its_early_teams(
    app: RunningApp, clock: Clock
) -> None:
    """`coe-bot usage demo` records each team's wave and start (its seats' first day), and
    its year of pull requests gives the early teams a comparison with the later ones."""
    from bot.standin.github_demo import build_demo
    from bot.standin.pulls_demo import PullsDemo
    from bot.usage import demo
    from bot.usage.sources import DemoSpec

    spec = DemoSpec(people=120, days=120, seed=7, end_day=clock().date())
    await demo.install(sessions=app.deps.sessions, spec=spec, now=clock())
    organisation = build_demo(
        people=spec.people, days=spec.days, seed=spec.seed, end_day=spec.end_day
    )
    async with FakeGitHubPulls(now=clock, points_per_hour=10**6) as fake:
        PullsDemo(organisation).install(fake)
        async with GitHubClient(fake.api_url, fake.token) as github:
            done = await pulls.pull(
                sessions=app.deps.sessions, github=github, org=fake.org, now=clock()
            )
    assert done.stored > 5000
    assert done.reverts > 0
    status, body = await get(app, "/impact?since=2026-05-01")
    assert status == 200
    compared = [c for c in body["comparisons"] if c["enough"]]
    assert compared, body["comparisons"]
    waves = {c["wave"] for c in body["comparisons"]}
    assert "pilot" in waves
    changes = [c["cycle_time_hours"]["change"] for c in compared]
    assert sum(change < 0 for change in changes) > len(changes) / 2  # mostly faster...
    assert any(c["cycle_time_hours"]["interval_95"][1] < 0 for c in compared)
    for item in compared:
        assert "revert_rate" in item  # ...and the pair is always there
        assert item["reading"] == "association, not causation"
    assert any(o["ai_authored_share"] > 0 for o in body["organisation"])
    # Copilot's acceptance never shows without its pair, the team's review load
    from bot.standin.github import FakeGitHub
    from bot.usage import copilot

    async with FakeGitHub(now=clock) as fake_github:
        organisation.install(fake_github)
        async with GitHubClient(fake_github.api_url, fake_github.token) as github:
            run = await copilot.pull(
                sessions=app.deps.sessions,
                github=github,
                target=copilot.Target(org=fake_github.org),
                first_day=spec.end_day - dt.timedelta(days=20),
                last_day=spec.end_day - dt.timedelta(days=2),
                now=clock(),
            )
    assert run.status == "done"
    status, usage = await get(app, "/usage?since=2026-10-19&until=2026-11-01")
    assert status == 200
    rows = [i for i in usage["items"] if i["tool"] == "copilot" and i["measured"]]
    own = [i for i in rows if not i["team"].startswith("(")]
    assert own
    assert all(i["reviews_per_reviewer"] is not None for i in own if i["acceptance_rate"])
    assert all(i["reviews_per_reviewer"] is None for i in rows if i["team"].startswith("("))
    assert all(i["cycle_time_hours"] is not None for i in own if i["active_people"])
    # self-reported time saved (the survey impact) is never without measured cycle time
    status, metrics = await get(app, "/metrics?since=2026-10-19&until=2026-11-01")
    assert status == 200
    assert metrics["items"]
    assert all("cycle_time_hours" in row["impact"] for row in metrics["items"])
    assert any(row["impact"]["cycle_time_hours"] for row in metrics["items"])


async def test_no_comparison_singles_out_a_small_team_whatever_the_range(
    app: RunningApp, clock: Clock
) -> None:
    """The minimum group is decided on each comparison's own pull requests: a small team
    is never compared, nor compared against, even when the range asked holds no pull
    requests (nothing merged in it); a start after the range is 'not started yet'."""
    await pulled(app, clock)
    async with app.deps.sessions.begin() as session:
        await rollout.set_start(
            session=session, team="tiny", wave="10%", start=START, actor="test", now=clock()
        )
    # the second range holds no merged pull request: no item, nothing merged by it
    for query in ("?since=2026-06-01&until=2026-11-02", "?since=2026-11-02&until=2026-11-03"):
        status, body = await get(app, f"/impact{query}")
        assert status == 200
        tiny = next(c for c in body["comparisons"] if c["team"] == "tiny")
        assert tiny["enough"] is False
        assert "fewer than 5 people: not compared" in tiny["detail"]
        assert "prs" not in tiny  # not even how many pull requests its people merged
        assert "cycle_time_hours" not in tiny
    # search starts too (mobile and tiny did): payments would be compared with ops's three
    async with app.deps.sessions.begin() as session:
        for team in ("search",):
            await rollout.set_start(
                session=session, team=team, wave="50%", start=START, actor="test", now=clock()
            )
    status, body = await get(app, "/impact?since=2026-06-01&until=2026-11-02")
    by_team = {c["team"]: c for c in body["comparisons"]}
    assert by_team["payments"]["enough"] is False
    assert "the teams not started yet have fewer than 5 people" in by_team["payments"]["detail"]
    assert "control_teams" not in by_team["payments"]
    status, body = await get(app, "/impact?since=2026-06-01&until=2026-09-01")
    by_team = {c["team"]: c for c in body["comparisons"]}
    assert by_team["payments"]["detail"] == "starts after the range asked: not started yet"
    status, body = await get(app, "/impact?team=nosuch")
    assert body["items"] == []
    assert "merged into" in body["detail"]
