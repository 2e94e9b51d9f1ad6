"""Copilot figures per team: people matched across systems, small teams merged, periods a
source cannot see left "not measured"; and the command line a CoE uses to get there."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot.errors import BadInput
from bot.services import identities, people, teams, usage_figures
from bot.services.survey_disclosure import Rules
from bot.standin.github import FakeGitHub
from bot.usage import copilot
from bot.usage.github import GitHubClient
from tests.conftest import Clock
from tests.helpers import clean_env, coe_bot_command

NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
MONDAY = dt.date(2026, 10, 19)  # ISO week 2026-W43
RULES = Rules(min_group=5, min_text=10)


def day_of(user: int, day: dt.date, interactions: int, generations: int, accepted: int) -> Any:
    return {
        "day": day.isoformat(),
        "user_id": user,
        "user_login": f"Dev{user}",
        "user_initiated_interaction_count": interactions,
        "code_generation_activity_count": generations,
        "code_acceptance_activity_count": accepted,
        "used_agent": user % 2 == 0,
        "used_chat": True,
    }


def seat(user: int, *, last_used: str | None, granted: str = "2026-06-01T08:00:00Z") -> Any:
    return {
        "created_at": granted,
        "last_activity_at": last_used,
        "pending_cancellation_date": None,
        "plan_type": "business",
        "assignee": {"login": f"Dev{user}", "id": user, "type": "User"},
    }


async def organisation(sessions: Any) -> None:
    """Payments: 6 people (users 1-6); search: 3 (7-9); users 10-12 are nobody we know.
    Users 1-6 match through e-mail and the directory, 7-9 through a Slack user ID."""
    async with sessions.begin() as session:
        await people.apply(
            session=session,
            users=[
                {"id": f"U0P{n}", "name": f"p{n}", "profile": {"email": f"p{n}@example.com"}}
                for n in range(1, 7)
            ],
            now=NOW,
        )
        await teams.import_rows(
            session=session,
            rows=[
                (n, {"user_id": f"U0P{n}", "team": "payments", "is_champion": "", "topics": ""})
                for n in range(1, 7)
            ]
            + [
                (n, {"user_id": f"U0P{n}", "team": "search", "is_champion": "", "topics": ""})
                for n in range(7, 10)
            ],
            actor="test",
            now=NOW,
        )
        rows, problems = identities.read_csv(
            "slack_user_id,email,github_login\n"
            + "".join(f",P{n}@Example.com,dev{n}\n" for n in range(1, 7))
            + "".join(f"U0P{n},,DEV{n}\n" for n in range(7, 10))
        )
        assert problems == []
        await identities.import_rows(session=session, rows=rows, now=NOW)


async def pull(
    github: FakeGitHub, sessions: Any, first: dt.date, last: dt.date, now: dt.datetime = NOW
) -> None:
    async with GitHubClient(github.api_url, github.token) as client:
        await copilot.pull(
            sessions=sessions,
            github=client,
            target=copilot.Target(org=github.org),
            first_day=first,
            last_day=last,
            now=now,
        )


async def test_a_week_per_team_with_small_teams_merged_and_the_unmatched_counted(
    sessions: Any, clock: Clock
) -> None:
    await organisation(sessions)
    async with FakeGitHub(now=clock) as github:
        for offset in range(5):  # Monday to Friday
            day = MONDAY + dt.timedelta(days=offset)
            for user in (1, 2, 3):  # active every weekday: engaged
                github.add_user_day(day_of(user, day, 5, 10, 4))
            if offset == 0:
                github.add_user_day(day_of(4, day, 2, 10, 1))  # one day: active, not engaged
                github.add_user_day(day_of(5, day, 0, 0, 0))  # telemetry, no prompt: not active
                github.add_user_day(day_of(7, day, 3, 5, 5))
                github.add_user_day(day_of(10, day, 1, 1, 1))
        github.set_seats(
            [seat(n, last_used="2026-10-30T10:00:00Z") for n in (1, 2, 3, 4, 5, 7, 8, 10, 11, 12)]
            + [seat(6, last_used=None)]  # granted in June, never used: idle
        )
        saturday = dt.datetime(2026, 10, 24, 6, 0, tzinfo=dt.UTC)
        await pull(github, sessions, MONDAY, MONDAY, now=saturday)  # the week's seat snapshot
        await pull(github, sessions, MONDAY, MONDAY + dt.timedelta(days=6))
    async with sessions() as session:
        items = await usage_figures.figures(
            session=session, period="week", since=MONDAY, until=MONDAY, rules=RULES
        )
    by_team = {item["team"]: item for item in items}
    # search (3) and the unmatched (3) are merged: either alone would be under 5 people
    assert set(by_team) == {"payments", "(other teams)"}
    pay = by_team["payments"]
    assert (pay["period"], pay["tool"], pay["measured"], pay["complete"]) == (
        "2026-W43",
        "copilot",
        True,
        True,
    )
    assert (pay["seats"], pay["idle_seats"]) == (6, 1)
    assert (pay["active_people"], pay["engaged_people"]) == (4, 3)
    assert pay["acceptance_rate"] == round((3 * 5 * 4 + 1) / (3 * 5 * 10 + 10 + 0), 3)
    assert (pay["chat_people"], pay["agent_people"]) == (5, 2)  # users 2 and 4 use agent mode
    other = by_team["(other teams)"]
    assert (other["seats"], other["active_people"]) == (5, 2)
    assert pay["matched_share"] == other["matched_share"] == round(8 / 11, 3)  # 9 unseen


async def test_a_merged_row_names_every_merged_team_even_when_one_alone_was_active(
    sessions: Any, clock: Clock
) -> None:
    """A week in which only search's people used Copilot: its "(other teams)" row must not
    name search alone (3 people: that would single them out)."""
    await organisation(sessions)
    before = MONDAY - dt.timedelta(days=7)
    async with FakeGitHub(now=clock) as github:
        github.add_user_day(day_of(7, before, 3, 5, 5))  # search only, the week before
        github.add_user_day(day_of(10, MONDAY, 1, 1, 1))  # someone unknown, the week after
        for user in (1, 2, 3, 4, 5, 6):
            github.add_user_day(day_of(user, MONDAY, 5, 10, 4))
        await pull(github, sessions, before, MONDAY)
    async with sessions() as session:
        items = await usage_figures.figures(
            session=session, period="week", since=before, until=MONDAY, rules=RULES
        )
    # search is too small to stand alone: whatever row it is merged into names every team
    # in that row for the whole range, although only search was active that week
    [early] = [i for i in items if i["period"] == "2026-W42"]
    [later] = [i for i in items if i["period"] == "2026-W43" and i["team"] == early["team"]]
    assert early["includes"] == later["includes"]
    assert len(early["includes"]) >= 2
    assert early["active_people"] == 1


async def test_days_pulled_with_no_use_are_zero_and_a_period_is_complete_only_when_whole(
    sessions: Any, clock: Clock
) -> None:
    """A baseline before a rollout is zero use, not "not measured"; a month the first
    pull started in the middle of is not complete, and engaged counts its days pulled."""
    await organisation(sessions)
    async with FakeGitHub(now=clock) as github:
        for day in (dt.date(2026, 10, 14), dt.date(2026, 10, 15), dt.date(2026, 10, 16)):
            github.add_user_day(day_of(1, day, 5, 10, 4))  # three days of the 16 pulled
        await pull(github, sessions, dt.date(2026, 10, 5), dt.date(2026, 10, 20))
    async with sessions() as session:
        weeks = await usage_figures.figures(
            session=session,
            period="week",
            since=dt.date(2026, 10, 5),
            until=dt.date(2026, 10, 11),
            rules=RULES,
        )
        months = await usage_figures.figures(
            session=session,
            period="month",
            since=dt.date(2026, 10, 1),
            until=dt.date(2026, 10, 31),
            rules=RULES,
        )
    [week] = weeks  # 5-11 October: pulled, nobody used Copilot
    assert (week["measured"], week["complete"], week["active_people"]) == (True, True, 0)
    [month] = months
    assert (month["measured"], month["complete"]) == (True, False)
    # 16 days pulled: engaged is 3 for every 7 of them (7 days), not of October's 31 (14)
    assert (month["active_people"], month["engaged_people"]) == (1, 0)
    async with sessions() as session:
        later = await usage_figures.figures(
            session=session,
            period="week",
            since=dt.date(2026, 10, 19),
            until=dt.date(2026, 10, 25),
            rules=RULES,
        )
    # 19-25 October: two days pulled, too few to need 3 active days — engaged is not
    # counted (null), never "everyone active is engaged"
    [partial] = later
    assert (partial["complete"], partial["active_people"], partial["engaged_people"]) == (
        False,
        0,
        None,
    )


async def test_a_period_nothing_was_pulled_for_is_not_measured_not_zero(sessions: Any) -> None:
    async with sessions() as session:
        [item] = await usage_figures.figures(
            session=session,
            period="month",
            since=dt.date(2026, 9, 1),
            until=dt.date(2026, 9, 30),
            rules=RULES,
        )
    assert (item["period"], item["measured"], item["active_people"], item["seats"]) == (
        "2026-09",
        False,
        None,
        None,
    )


def test_periods_are_iso_weeks_and_calendar_months() -> None:
    weeks = usage_figures.periods("week", dt.date(2026, 12, 30), dt.date(2027, 1, 5))
    assert [(w.label, w.first, w.last) for w in weeks] == [
        ("2026-W53", dt.date(2026, 12, 28), dt.date(2027, 1, 3)),
        ("2027-W01", dt.date(2027, 1, 4), dt.date(2027, 1, 10)),
    ]
    months = usage_figures.periods("month", dt.date(2026, 2, 10), dt.date(2026, 3, 1))
    assert [(m.label, m.days, m.engaged_days) for m in months] == [
        ("2026-02", 28, 12),
        ("2026-03", 31, 14),
    ]
    with pytest.raises(ValueError, match="week, month"):
        usage_figures.periods("year", dt.date(2026, 1, 1), dt.date(2026, 1, 2))


def test_a_people_csv_names_each_bad_line_and_keeps_the_good_ones() -> None:
    rows, problems = identities.read_csv(
        "slack_user_id,email,github_login\n"
        "U0ANA,ana@example.com,ana-dev\n"
        ",,bob\n"
        "U0CAR,not-an-email,carol\n"
        "someone,,dave\n"
        ",x@example.com,-bad-\n"
        ",ana2@example.com,ANA-DEV\n"
        "U0ERIN,,erin-dev,surplus\n"
    )
    assert [r.github_login for r in rows] == ["ana-dev"]
    assert problems == [
        "line 3: bob: give an email or a slack_user_id",
        "line 4: 'not-an-email' is not an e-mail address",
        "line 5: 'someone' is not a Slack user ID (U… or W…)",
        "line 6: '-bad-' is not a GitHub login",
        "line 7: ANA-DEV is also on line 2",
        "line 8: more fields than the header's three",
    ]
    with pytest.raises(BadInput, match="slack_user_id,email,github_login"):
        identities.read_csv("login,email\nana,ana@example.com\n")


async def test_a_people_csv_row_naming_two_people_is_refused_and_moves_are_told(
    sessions: Any,
) -> None:
    await organisation(sessions)  # p1…p6@example.com are U0P1…U0P6 in the directory
    first, _ = identities.read_csv(
        "slack_user_id,email,github_login\n,p1@example.com,yusuf\n,p2@example.com,pedro\n"
    )
    async with sessions.begin() as session:
        await identities.import_rows(session=session, rows=first, now=NOW)
    rows, problems = identities.read_csv(
        "slack_user_id,email,github_login\n"
        "U0P3,p1@example.com,conflict\n"  # p1's e-mail, someone else's Slack ID
        "U0ZZZZZZ,,ghost\n"  # a Slack user the directory has not listed
        "U0P4,,yusuf\n"  # was p1 (by e-mail), now U0P4: a move
        ",p5@example.com,pedro\n"  # was p2, now p5: a move
    )
    assert problems == []
    async with sessions.begin() as session:
        report = await identities.import_rows(session=session, rows=rows, now=NOW)
    assert report.problems == ["line 2: p1@example.com is U0P1's e-mail in Slack, not U0P3's"]
    assert report.warnings == [
        "line 3: U0ZZZZZZ is not in the people directory yet: ghost stays unmatched until"
        " Slack lists them"
    ]
    assert sorted(report.reassigned) == ["pedro", "yusuf"]
    async with sessions() as session:
        matches = await identities.resolve(session=session, logins=["conflict", "yusuf"])
    assert matches["conflict"].slack_user_id is None  # refused: not stored
    assert matches["yusuf"].slack_user_id == "U0P4"


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(DATABASE_URL=f"sqlite+aiosqlite:///{cwd / 'u.db'}")
    return subprocess.run(
        [*coe_bot_command(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_demo_then_pull_then_everyone_matches(tmp_path: Path) -> None:
    """What a new CoE does on day one, through the real command line and the stand-in."""
    assert run(tmp_path, "migrate").returncode == 0
    early = run(tmp_path, "people", "unmatched")
    assert early.stdout.strip() == "Nothing pulled yet: run coe-bot usage pull first."
    refused = run(tmp_path, "usage", "pull")
    assert refused.returncode == 2
    assert "run `coe-bot usage demo` first" in refused.stderr
    made = run(tmp_path, "usage", "demo", "--people", "60", "--days", "21")
    assert made.returncode == 0, made.stderr
    assert "Demo organisation: 60 people" in made.stdout
    pulled = run(tmp_path, "usage", "pull")
    assert pulled.returncode == 0, pulled.stderr
    assert "days stored" in pulled.stdout
    assert "0 records skipped" in pulled.stdout
    again = run(tmp_path, "usage", "pull", "--since", "2099-01-01")
    assert again.returncode == 2
    assert "--since 2099-01-01: the newest settled day is" in again.stderr
    too_old = run(tmp_path, "usage", "pull", "--since", "2020-01-01")
    assert too_old.returncode == 2
    assert "GitHub keeps a year of Copilot history" in too_old.stderr
    ten_days_ago = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=10)).isoformat()
    one_day = run(tmp_path, "usage", "pull", "--until", ten_days_ago)  # before the usual window
    assert one_day.returncode == 0, one_day.stderr
    assert f"{ten_days_ago} … {ten_days_ago}" in one_day.stdout
    unmatched = run(tmp_path, "people", "unmatched")
    assert unmatched.stdout.strip() == "Every GitHub login Copilot reports matches a Slack user."
    # Cursor, from its stand-in: the demo's Cursor users, 120 days back the first time
    cursor = run(tmp_path, "usage", "pull", "cursor")
    assert cursor.returncode == 0, cursor.stderr
    assert "member-days" in cursor.stdout
    assert "0 records skipped (done)" in cursor.stdout
    # stand-in mode prices with the shipped example costs file and checks the guardrails
    checked = run(tmp_path, "usage", "guardrails")
    assert checked.returncode == 0, checked.stderr
    assert "threshold $" in checked.stdout or "No team crossed" in checked.stdout
    later = run(tmp_path, "usage", "pull", "cursor", "--until", "2099-01-01")
    assert later.returncode == 2
    assert "--until 2099-01-01 is after today" in later.stderr
    other = run(tmp_path, "usage", "demo", "--people", "40", "--days", "21", "--seed", "9")
    assert other.returncode == 0, other.stderr
    again = run(tmp_path, "usage", "pull")  # the earlier organisation's use is gone
    assert again.returncode == 0, again.stderr
    unmatched = run(tmp_path, "people", "unmatched")
    assert unmatched.stdout.strip() == "Every GitHub login Copilot reports matches a Slack user."


def test_people_import_and_a_real_workspace_without_a_token(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").returncode == 0
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("slack_user_id,email,github_login\nU0ANA,,ana-dev\n,,bob\n")
    imported = run(tmp_path, "people", "import", str(csv_file))
    assert imported.returncode == 1  # a line was skipped: scripts notice
    assert f"{csv_file}: line 3: bob: give an email or a slack_user_id" in imported.stdout
    assert "1 login added, 0 updated, 0 unchanged; 1 line with a problem" in imported.stdout
    env = clean_env(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'u.db'}",
        SLACK_BOT_TOKEN="xoxb-real",
        SLACK_SIGNING_SECRET="real-secret",
    )
    off = subprocess.run(
        [*coe_bot_command(), "usage", "pull"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert off.returncode == 2
    assert "Copilot is off: set USAGE_GITHUB_TOKEN" in off.stderr
    cursor_off = subprocess.run(
        [*coe_bot_command(), "usage", "pull", "cursor"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cursor_off.returncode == 2
    assert "Cursor is off: set USAGE_CURSOR_API_KEY" in cursor_off.stderr
