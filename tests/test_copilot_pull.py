"""The Copilot importer against the GitHub stand-in: every fault, nothing doubled on a
re-pull, late days updated, bad records skipped with where they were."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import col, select

from bot.models import AuditEvent, CopilotSeat, CopilotUserDay, CopilotUserTeam, UsagePull
from bot.services import identities
from bot.standin.github import FakeGitHub
from bot.usage import copilot
from bot.usage.github import (
    GitHubAuthError,
    GitHubClient,
    GitHubPermissionError,
    GitHubUnavailable,
    Retrying,
)
from tests.conftest import Clock, Waits

NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
TODAY = NOW.date()
FIRST, LAST = copilot.default_window(TODAY)  # 2026-10-28 … 2026-10-31
ORG = copilot.Target(org="standin-org")


@pytest.fixture
async def github(clock: Clock) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(now=clock) as fake:
        yield fake


@pytest.fixture
async def client(github: FakeGitHub, waits: Waits) -> AsyncIterator[GitHubClient]:
    async with GitHubClient(github.api_url, github.token, sleep=waits) as made:
        yield made


def user_day(user_id: int, day: dt.date, **fields: Any) -> dict[str, Any]:
    return {
        "day": day.isoformat(),
        "user_id": user_id,
        "user_login": f"dev{user_id}",
        "user_initiated_interaction_count": 4,
        "code_generation_activity_count": 10,
        "code_acceptance_activity_count": 3,
        "loc_added_sum": 20,
        "used_chat": True,
        **fields,
    }


def seat(user_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "created_at": "2026-06-01T08:00:00Z",
        "last_activity_at": "2026-10-30T16:05:11Z",
        "pending_cancellation_date": None,
        "plan_type": "business",
        "assignee": {"login": f"dev{user_id}", "id": user_id, "type": "User"},
        "assigning_team": {"slug": "platform", "id": 42},
        **fields,
    }


def fill(github: FakeGitHub, users: range, days: list[dt.date]) -> None:
    for day in days:
        for user in users:
            github.add_user_day(user_day(user, day))
            github.add_user_team(
                day, user_id=user, user_login=f"dev{user}", team_id=42, slug="platform"
            )
    github.set_seats([seat(user) for user in users])


async def run(sessions: Any, client: GitHubClient, **window: dt.date) -> UsagePull:
    return await copilot.pull(
        sessions=sessions,
        github=client,
        target=ORG,
        first_day=window.get("first_day", FIRST),
        last_day=window.get("last_day", LAST),
        now=NOW,
    )


async def stored(sessions: Any, table: Any) -> list[Any]:
    async with sessions() as session:
        return list((await session.exec(select(table))).all())


def window_days() -> list[dt.date]:
    return [FIRST + dt.timedelta(days=n) for n in range((LAST - FIRST).days + 1)]


async def test_a_pull_stores_users_teams_and_seats_and_a_repull_doubles_nothing(
    github: FakeGitHub, client: GitHubClient, sessions: Any
) -> None:
    fill(github, range(1, 8), window_days())
    first = await run(sessions, client)
    # 2026-10-31 is not ready on 2026-11-02 (two full UTC days): 3 days of 7 people, each a
    # user row and a team row
    assert (first.status, first.days_stored, first.rows_stored, first.seats_stored) == (
        "done",
        3,
        2 * 3 * 7,
        7,
    )
    assert first.days_not_ready == 1
    days = await stored(sessions, CopilotUserDay)
    assert len(days) == 3 * 7
    assert {d.day for d in days} == set(window_days()[:3])
    row = next(d for d in days if d.user_id == 1)
    assert (row.user_login, row.code_generation_activity_count, row.used_chat) == ("dev1", 10, True)
    assert len(await stored(sessions, CopilotUserTeam)) == 3 * 7
    assert len(await stored(sessions, CopilotSeat)) == 7

    again = await run(sessions, client)
    assert again.status == "done"
    assert len(await stored(sessions, CopilotUserDay)) == 3 * 7
    assert len(await stored(sessions, CopilotUserTeam)) == 3 * 7
    assert len(await stored(sessions, CopilotSeat)) == 7


async def test_a_late_settling_day_is_replaced_by_the_repull(
    github: FakeGitHub, client: GitHubClient, sessions: Any
) -> None:
    day = window_days()[0]
    github.add_user_day(user_day(1, day, code_generation_activity_count=5))
    github.add_user_day(user_day(2, day))
    await run(sessions, client, first_day=day, last_day=day)
    github.add_user_day(user_day(1, day, code_generation_activity_count=9))  # telemetry arrived
    await run(sessions, client, first_day=day, last_day=day)
    rows = {r.user_id: r for r in await stored(sessions, CopilotUserDay)}
    assert rows[1].code_generation_activity_count == 9
    assert len(rows) == 2


async def test_a_report_split_over_several_files_is_read_whole(
    github: FakeGitHub, client: GitHubClient, sessions: Any
) -> None:
    github.files_per_report = 3
    fill(github, range(1, 11), window_days()[:1])
    pulled = await run(sessions, client, first_day=FIRST, last_day=FIRST)
    assert len({c.path for c in github.calls_to("download")}) == 2 * 3  # users and teams
    assert pulled.rows_stored == 20
    assert len(await stored(sessions, CopilotUserDay)) == 10


async def test_expired_links_are_asked_for_again_and_nothing_is_half_stored(
    github: FakeGitHub, client: GitHubClient, sessions: Any
) -> None:
    github.files_per_report = 2
    fill(github, range(1, 5), window_days()[:1])
    github.fail("download", status=403, after=1)  # the second file's link has expired
    pulled = await run(sessions, client, first_day=FIRST, last_day=FIRST)
    assert pulled.status == "done"
    assert len(await stored(sessions, CopilotUserDay)) == 4
    assert len(github.calls_to("users-1-day")) == 2  # the report asked for fresh links


async def test_rate_limits_and_server_errors_are_waited_out(
    github: FakeGitHub, client: GitHubClient, sessions: Any, waits: Waits
) -> None:
    fill(github, range(1, 4), window_days()[:1])
    github.fail("users-1-day", status=429, retry_after=7)
    github.fail("user-teams-1-day", secondary=True, retry_after=3)
    github.fail("seats", status=502, times=2)
    pulled = await run(sessions, client, first_day=FIRST, last_day=FIRST)
    assert pulled.status == "done"
    assert waits.seconds[:2] == [7.0, 3.0]
    assert len(waits.seconds) == 4  # and two backoffs for the 502s
    assert len(await stored(sessions, CopilotSeat)) == 3


async def test_a_secondary_limit_without_retry_after_waits_a_minute(
    github: FakeGitHub, client: GitHubClient, sessions: Any, waits: Waits
) -> None:
    fill(github, range(1, 3), window_days()[:1])
    github.fail("users-1-day", secondary=True)
    await run(sessions, client, first_day=FIRST, last_day=FIRST)
    assert waits.seconds[0] >= 60


async def test_the_primary_limit_waits_until_its_reset(
    github: FakeGitHub, client: GitHubClient, sessions: Any, waits: Waits, clock: Clock
) -> None:
    """The stand-in's reset is on its own clock (the tests'): the wait follows the header."""
    fill(github, range(1, 3), window_days()[:1])
    github.fail("users-1-day", status=403, retry_after=120)
    pulled = await run(sessions, client, first_day=FIRST, last_day=FIRST)
    assert pulled.status == "done"
    assert len(waits.seconds) == 1


async def test_a_wait_longer_than_allowed_fails_the_pull_with_what_github_said(
    github: FakeGitHub, sessions: Any, waits: Waits
) -> None:
    fill(github, range(1, 3), window_days()[:1])
    github.fail("users-1-day", status=429, retry_after=3600)
    async with GitHubClient(
        github.api_url, github.token, sleep=waits, retrying=Retrying(max_wait=600)
    ) as impatient:
        with pytest.raises(GitHubUnavailable, match="3600 s"):
            await run(sessions, impatient, first_day=FIRST, last_day=FIRST)
    [failed] = await stored(sessions, UsagePull)
    assert failed.status == "failed"
    assert "3600 s" in (failed.error or "")
    assert await stored(sessions, CopilotUserDay) == []


async def test_a_wrong_token_and_a_missing_permission_say_what_to_fix(
    github: FakeGitHub, sessions: Any, waits: Waits
) -> None:
    async with GitHubClient(github.api_url, "ghs_wrong", sleep=waits) as wrong:
        with pytest.raises(GitHubAuthError, match="USAGE_GITHUB_TOKEN"):
            await run(sessions, wrong)
    github.permissions = frozenset({"copilot_seats"})
    async with GitHubClient(github.api_url, github.token, sleep=waits) as limited:
        with pytest.raises(
            GitHubPermissionError, match="GitHub wants organization_copilot_metrics=read"
        ):
            await run(sessions, limited)
    assert [p.status for p in await stored(sessions, UsagePull)] == ["failed", "failed"]
    assert waits.seconds == []  # a refusal is not retried


async def test_bad_records_are_skipped_with_where_they_were(
    github: FakeGitHub, client: GitHubClient, sessions: Any
) -> None:
    day = FIRST
    github.source = lambda asked: [
        user_day(1, asked),
        {"day": asked.isoformat(), "user_login": "no-id"},  # user_id missing
        user_day(3, asked, code_acceptance_activity_count=-2),
        user_day(4, asked, future_field={"kept": True}, etl_id="x1"),
    ]
    pulled = await run(sessions, client, first_day=day, last_day=day)
    assert pulled.status == "done"
    assert pulled.skipped_count == 2
    reasons = sorted(s["reason"] for s in pulled.skipped)
    assert reasons == ["code_acceptance_activity_count is negative (-2)", "no user_id"]
    assert all(s["file"].startswith(f"users-1-day {day} file 1 of 1") for s in pulled.skipped)
    assert all(s["line"] >= 1 for s in pulled.skipped)
    rows = {r.user_id: r for r in await stored(sessions, CopilotUserDay)}
    assert sorted(rows) == [1, 4]
    assert rows[4].extra == {"future_field": {"kept": True}}  # unknown kept, ETL noise not


async def test_a_record_for_another_day_is_skipped(
    github: FakeGitHub, client: GitHubClient, sessions: Any
) -> None:
    """A file holding a record of another day is what a broken export looks like."""
    github.source = lambda day: [user_day(1, day), {**user_day(2, day), "day": "2025-01-01"}]
    pulled = await run(sessions, client, first_day=FIRST, last_day=FIRST)
    assert [r.user_id for r in await stored(sessions, CopilotUserDay)] == [1]
    assert [s["reason"] for s in pulled.skipped] == [
        f"day 2025-01-01 is not the day asked for ({FIRST})"
    ]


async def test_days_not_ready_are_not_failures_and_are_filled_later(
    github: FakeGitHub, client: GitHubClient, sessions: Any, clock: Clock
) -> None:
    newest = LAST  # not ready on TODAY
    github.add_user_day(user_day(1, newest))
    pulled = await run(sessions, client, first_day=newest, last_day=newest)
    assert (pulled.status, pulled.days_not_ready, pulled.days_stored) == ("done", 1, 0)
    clock.advance(days=1)
    later = await copilot.pull(
        sessions=sessions,
        github=client,
        target=ORG,
        first_day=newest,
        last_day=newest,
        now=NOW + dt.timedelta(days=1),
    )
    assert (later.days_not_ready, later.days_stored) == (0, 1)


async def test_seats_page_through_the_link_header(
    github: FakeGitHub, client: GitHubClient, sessions: Any
) -> None:
    github.set_seats(
        [seat(n) for n in range(1, 231)]
        + [seat(999, pending_cancellation_date="2026-12-01", last_activity_at=None)]
    )
    pulled = await run(sessions, client, first_day=FIRST, last_day=FIRST)
    assert pulled.seats_stored == 231
    assert len(github.calls_to("seats")) == 3  # 100 a page
    async with sessions() as session:
        cancelled = (
            await session.exec(select(CopilotSeat).where(col(CopilotSeat.user_id) == 999))
        ).one()
    assert cancelled.pending_cancellation_date == dt.date(2026, 12, 1)
    assert cancelled.last_activity_at is None
    assert cancelled.snapshot_day == TODAY


async def test_the_token_never_goes_to_a_download_link(
    github: FakeGitHub, client: GitHubClient, sessions: Any
) -> None:
    fill(github, range(1, 3), window_days()[:1])
    await run(sessions, client, first_day=FIRST, last_day=FIRST)
    downloads = github.calls_to("download")
    assert downloads
    assert all(not c.authorization for c in downloads)


async def test_the_daily_job_pulls_once_a_day_and_purges_old_rows(
    github: FakeGitHub, settings: Any, clock: Clock, sessions: Any, slack: Any
) -> None:
    """And asks Slack by e-mail about a tool's user the people directory has not seen."""
    from pydantic import SecretStr

    from bot.jobs import usage
    from tests.conftest import start_app

    off, runner = await start_app(settings, clock)
    try:
        assert await usage.pull_copilot(off.deps) is False  # real Slack, no GitHub token
    finally:
        await runner.cleanup()
    fill(github, range(1, 4), window_days())
    old = TODAY - dt.timedelta(days=401)  # kept from an earlier year of pulls
    async with sessions.begin() as session:
        session.add(CopilotUserDay(entity="org:standin-org", day=old, user_id=9, user_login="x"))
    configured = settings.model_copy(
        update={
            "usage_github_token": SecretStr(github.token),
            "usage_github_api_url": github.api_url,
            "usage_github_org": github.org,
        }
    )
    slack.add_user("U0NEWBIE", "newbie", email="newbie@example.com")
    async with sessions.begin() as session:
        rows, _ = identities.read_csv(
            "slack_user_id,email,github_login\n,newbie@example.com,dev1\n"
        )
        await identities.import_rows(session=session, rows=rows, now=NOW)
    app, runner = await start_app(configured, clock)
    try:
        assert await usage.pull_copilot(app.deps) is True
        assert await usage.pull_copilot(app.deps) is False  # once a UTC day
        clock.advance(days=1)
        assert await usage.pull_copilot(app.deps) is True  # the next day: the usual window
    finally:
        await runner.cleanup()
    days = await stored(sessions, CopilotUserDay)
    # the 400-day-old row is gone; the last day, not ready the first day, came the next
    assert {d.day for d in days} == set(window_days())
    first, second = await stored(sessions, UsagePull)
    assert (first.status, second.status) == ("done", "done")
    # the first pull reaches back for a baseline, as `coe-bot usage pull` does
    assert first.first_day == clock().date() - dt.timedelta(days=1 + copilot.FIRST_PULL_DAYS)
    assert second.first_day == clock().date() - dt.timedelta(days=copilot.REPULL_FROM)
    async with sessions() as session:
        matches = await identities.resolve(session=session, logins=["DEV1"])
    assert matches["dev1"].slack_user_id == "U0NEWBIE"
    assert len(slack.calls_to("users.lookupByEmail")) == 1


async def test_a_day_github_refuses_is_skipped_and_the_rest_stored(
    github: FakeGitHub, client: GitHubClient, sessions: Any
) -> None:
    """Days past GitHub's year of history are refused (400): named, not fatal."""
    old = TODAY - dt.timedelta(days=366)
    github.add_user_day(user_day(1, FIRST))
    pulled = await run(sessions, client, first_day=old, last_day=old)
    assert pulled.status == "done"
    assert pulled.skipped[0]["file"] == f"users-1-day {old}"
    assert pulled.skipped[0]["reason"].startswith("GitHub refused the day")


async def test_a_day_that_fails_after_others_keeps_the_days_before_it(
    github: FakeGitHub, sessions: Any, client: GitHubClient
) -> None:
    # The importer reads the next report while it stores the one before: a failure on the
    # third day still leaves the first two stored, whole, and the pull says what failed.
    days = window_days()
    fill(github, range(1, 4), days)
    github.fail("users-1-day", status=502, times=50, after=2)  # GitHub stays down
    with pytest.raises(GitHubUnavailable):
        await run(sessions, client)
    kept = {row.day for row in await stored(sessions, CopilotUserDay)}
    assert kept == set(days[:2])
    assert len(await stored(sessions, CopilotUserDay)) == 2 * 3
    [failed] = await stored(sessions, UsagePull)
    assert failed.status == "failed"
    assert failed.days_stored == 2


async def test_a_second_record_for_a_user_and_day_is_skipped_not_a_crash(
    github: FakeGitHub, client: GitHubClient, sessions: Any
) -> None:
    github.files_per_report = 2  # the duplicate sits in the other file
    github.source = lambda day: [
        user_day(1, day),
        user_day(2, day),
        user_day(1, day, user_initiated_interaction_count=9),  # the export repeats a user
    ]
    pulled = await run(sessions, client, first_day=FIRST, last_day=FIRST)
    assert pulled.status == "done"
    assert {r.user_id for r in await stored(sessions, CopilotUserDay)} == {1, 2}
    assert [i["reason"] for i in pulled.skipped] == ["a second record for this user on this day"]


async def test_a_pull_left_running_by_a_killed_process_is_closed_as_interrupted(
    github: FakeGitHub, client: GitHubClient, sessions: Any
) -> None:
    async with sessions.begin() as session:
        session.add(
            UsagePull(
                source="copilot",
                started_at=NOW - dt.timedelta(hours=7),
                first_day=FIRST,
                last_day=LAST,
            )
        )
    fill(github, range(1, 3), window_days()[:1])
    await run(sessions, client, first_day=FIRST, last_day=FIRST)
    old, new = sorted(await stored(sessions, UsagePull), key=lambda p: p.id)
    assert (old.status, old.error) == ("failed", "interrupted")
    assert new.status == "done"


async def test_real_data_clears_the_demo_once_it_comes_and_the_demo_refuses_to_mix_with_it(
    settings: Any, clock: Clock, sessions: Any
) -> None:
    from pydantic import SecretStr

    from bot.errors import BadInput
    from bot.usage import demo, runs
    from bot.usage.sources import DemoSpec

    # what `coe-bot usage demo` and a pull of the stand-in left behind
    async with sessions.begin() as session:
        session.add(
            UsagePull(
                source="copilot",
                target="org:standin-org",
                standin=True,
                status="done",
                started_at=NOW,
                first_day=FIRST,
                last_day=LAST,
            )
        )
        session.add(CopilotUserDay(entity="org:standin-org", day=FIRST, user_id=5, user_login="x"))
    async with FakeGitHub(now=clock, org="acme") as acme:
        fill(acme, range(1, 3), window_days())
        configured = settings.model_copy(
            update={
                "usage_github_token": SecretStr("wrong"),
                "usage_github_api_url": acme.api_url,
                "usage_github_org": "acme",
            }
        )
        # a refused token keeps the demo (it goes only after a finished real pull)
        with pytest.raises(Exception, match="401"):
            await runs.copilot_pull(settings=configured, sessions=sessions, now=clock())
        assert {r.entity for r in await stored(sessions, CopilotUserDay)} == {"org:standin-org"}
        configured = configured.model_copy(update={"usage_github_token": SecretStr(acme.token)})
        pulled = await runs.copilot_pull(settings=configured, sessions=sessions, now=clock())
    assert pulled.demo_cleared == 1
    assert pulled.target == "org:acme"
    # acme's first pull: 120 days back, although the stand-in had been pulled before
    assert pulled.first == clock().date() - dt.timedelta(days=copilot.FIRST_PULL_DAYS)
    entities = {row.entity for row in await stored(sessions, CopilotUserDay)}
    assert entities == {"org:acme"}  # the demo's invented rows are gone
    with pytest.raises(BadInput, match="org:acme"):
        await demo.install(
            sessions=sessions,
            spec=DemoSpec(people=20, days=14, seed=1, end_day=clock().date()),
            now=clock(),
        )
    assert {row.entity for row in await stored(sessions, CopilotUserDay)} == {"org:acme"}
    failed, audited = [e for e in await stored(sessions, AuditEvent) if e.action == "usage.pull"]
    assert (failed.subject, failed.details["status"]) == ("org:acme", "failed")
    assert (audited.subject, audited.details["demo_cleared"]) == ("org:acme", 1)
