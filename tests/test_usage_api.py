"""Copilot usage where the CoE reads it: `/api/v1/usage`, `/api/v1/seats/idle` (its own
scope) and `/ai-coe usage [team]` in Slack, on a demo organisation pulled for real."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.standin import FakeSlack, SlackSender
from bot.standin.github import FakeGitHub
from bot.standin.github_demo import build_demo
from bot.usage import copilot, demo
from bot.usage.github import GitHubClient
from bot.usage.sources import DemoSpec
from tests.conftest import SIGNING_SECRET, Clock, RunningApp, start_app
from tests.helpers import assert_valid_message, message_text

METRICS_ONLY = "tok-board-0123456789"
SEATS = "tok-licences-0123456789"
TOKENS = f"board:metrics={METRICS_ONLY};licences:seats={SEATS}"
SPEC = DemoSpec(people=80, days=35, seed=3, end_day=dt.date(2026, 10, 30))


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[RunningApp]:
    running, runner = await start_app(
        settings.model_copy(update={"coe_api_token": SecretStr(TOKENS)}), clock
    )
    try:
        yield running
    finally:
        await runner.cleanup()


async def pulled(app: RunningApp, clock: Clock) -> None:
    """The demo organisation in coe-bot and in the GitHub stand-in, and a pull of it all."""
    await demo.install(sessions=app.deps.sessions, spec=SPEC, now=clock())
    organisation = build_demo(
        people=SPEC.people, days=SPEC.days, seed=SPEC.seed, end_day=SPEC.end_day
    )
    async with FakeGitHub(now=clock) as github:
        organisation.install(github)
        async with GitHubClient(github.api_url, github.token) as client:
            run = await copilot.pull(
                sessions=app.deps.sessions,
                github=client,
                target=copilot.Target(org=github.org),
                first_day=organisation.start_day,
                last_day=SPEC.end_day,
                now=clock(),
            )
    assert run.status == "done"


async def get(app: RunningApp, path: str, token: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{app.url}/api/v1{path}", headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_usage_per_team_and_week_names_nobody(app: RunningApp, clock: Clock) -> None:
    await pulled(app, clock)
    status, body = await get(app, "/usage?since=2026-10-19&until=2026-10-26", METRICS_ONLY)
    assert status == 200
    items = body["items"]
    assert {i["period"] for i in items} == {"2026-W43"}
    assert all(i["tool"] == "copilot" and i["measured"] for i in items)
    assert sum(i["active_people"] for i in items) > 20
    for item in items:
        assert set(item) >= {
            "team",
            "period",
            "tool",
            "seats",
            "active_people",
            "engaged_people",
            "acceptance_rate",
            "idle_seats",
            "matched_share",
        }
        assert item["matched_share"] == 1.0  # every demo login matches through its e-mail
        assert 0 <= (item["acceptance_rate"] or 0) <= 1
        assert item["engaged_people"] <= item["active_people"]
    assert "login" not in str(items)
    status, months = await get(app, "/usage?period=month&since=2026-10-01", METRICS_ONLY)
    assert status == 200
    assert {i["period"] for i in months["items"]} >= {"2026-10"}


async def test_bad_usage_requests_are_refused_with_the_field(app: RunningApp) -> None:
    for query, field in (
        ("?period=year", "period"),
        ("?since=2026-10-10&until=2026-10-01", "since"),
        ("?since=2024-01-01&until=2026-01-01", "since"),
        ("?since=yesterday", "since"),
        ("?since=2026-11-20", "since"),  # after today (the clock says 2 November)
        ("?since=2026-10-20&until=2026-10-20", "since"),  # until is exclusive: no day
    ):
        status, body = await get(app, f"/usage{query}", METRICS_ONLY)
        assert status == 422, query
        assert body["field"] == field, query


async def test_idle_seats_need_the_seats_scope(app: RunningApp, clock: Clock) -> None:
    from sqlmodel import func, select

    from bot.models import CopilotSeat, CopilotUserDay

    await pulled(app, clock)
    async with app.deps.sessions.begin() as session:
        latest = (await session.exec(select(func.max(CopilotSeat.snapshot_day)))).one()
        signed_in = dt.datetime.combine(latest, dt.time(8), tzinfo=dt.UTC)
        long_ago = signed_in - dt.timedelta(days=200)
        # IDE telemetry off: no activity recorded anywhere, yet signed in lately
        session.add(
            CopilotSeat(
                org="standin-org",
                snapshot_day=latest,
                user_id=77_777,
                user_login="quiet-dev",
                created_at=long_ago,
                last_authenticated_at=signed_in,
            )
        )
        # idle by `last_activity_at`, yet the usage report shows them at work: not idle
        session.add(
            CopilotSeat(
                org="standin-org",
                snapshot_day=latest,
                user_id=88_888,
                user_login="busy-dev",
                created_at=long_ago,
                last_activity_at=long_ago,
            )
        )
        session.add(
            CopilotUserDay(
                entity="org:standin-org",
                day=latest - dt.timedelta(days=3),
                user_id=88_888,
                user_login="busy-dev",
                user_initiated_interaction_count=5,
            )
        )
    status, _ = await get(app, "/seats/idle", METRICS_ONLY)
    assert status == 403
    status, body = await get(app, "/seats/idle", SEATS)
    assert status == 200
    assert body["items"]
    first = body["items"][0]
    assert set(first) >= {"github_login", "slack_user_id", "team", "last_activity_at"}
    assert any((item["slack_user_id"] or "").startswith("U") for item in body["items"])
    # a seat that shows no activity but whose holder signed in lately may have IDE
    # telemetry off: flagged, not silently reclaimable
    flagged = [item["github_login"] for item in body["items"] if item["may_have_telemetry_off"]]
    assert "quiet-dev" in flagged
    assert len(flagged) < len(body["items"])
    assert "busy-dev" not in {item["github_login"] for item in body["items"]}
    status, _ = await get(app, "/usage", SEATS)
    assert status == 403  # a licences token reads names, not usage


async def test_ai_coe_usage_in_slack(app: RunningApp, clock: Clock, slack: FakeSlack) -> None:
    clock.now = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
    async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
        empty = await sender.command("/ai-coe", "usage", user_id="U0ADMIN")
        await app.settle()
        said = message_text(slack.responses_for(empty.response_url or "")[-1].body)
        assert "coe-bot usage pull" in said
        await pulled(app, clock)
        await pulled_cursor(app, clock)
        every = await sender.command("/ai-coe", "usage", user_id="U0ADMIN")
        await app.settle()
        reply = slack.responses_for(every.response_url or "")[-1].body
        assert_valid_message(reply)
        text = message_text(reply)
        assert "AI tool use by team" in text
        assert "GitHub Copilot* · 2026-W" in text
        assert "Cursor* · 2026-W" in text  # each tool its own block
        assert "100% of e-mails matched" in text
        assert "active" in text
        assert "engaged" in text
        assert "100% of GitHub logins matched" in text
        team = next(line.split("*")[1] for line in text.splitlines() if line.startswith("• *"))
        one = await sender.command("/ai-coe", f"usage {team}", user_id="U0ADMIN")
        await app.settle()
        text = message_text(slack.responses_for(one.response_url or "")[-1].body)
        assert f"AI tool use · {team}" in text
        unknown = await sender.command("/ai-coe", "usage nosuchteam", user_id="U0ADMIN")
        await app.settle()
        text = message_text(slack.responses_for(unknown.response_url or "")[-1].body)
        assert "No AI tool figures for a team called “nosuchteam”" in text
        refused = await sender.command("/ai-coe", "usage", user_id="U0ALICE")
        await app.settle()
        text = message_text(slack.responses_for(refused.response_url or "")[-1].body)
        assert "CoE admins only" in text


async def test_the_digest_says_how_many_used_copilot_this_week(
    app: RunningApp, clock: Clock, slack: FakeSlack
) -> None:
    clock.now = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
    async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
        before = await sender.command("/ai-coe", "digest preview adoption", user_id="U0ADMIN")
        await app.settle()
        text = message_text(slack.responses_for(before.response_url or "")[-1].body)
        assert "Adoption this week" not in text  # nothing pulled: not measured, not zero
        await pulled(app, clock)
        after = await sender.command("/ai-coe", "digest preview adoption", user_id="U0ADMIN")
        await app.settle()
        reply = slack.responses_for(after.response_url or "")[-1].body
    assert_valid_message(reply)
    text = message_text(reply)
    # the days the figures cover: the demo's last day is 30 Oct, not the week's 1 Nov
    assert "Adoption this week* (GitHub Copilot, 26 Oct – 30 Oct: GitHub settles" in text
    assert "people used it of" in text
    assert "on 3 days or more" in text
    assert "U0D" not in text  # nobody named


async def test_the_digest_gives_each_pulled_tool_its_own_line(
    app: RunningApp, clock: Clock, slack: FakeSlack
) -> None:
    """Cursor and Claude Code beside Copilot: each its own days, its own acceptance terms,
    Claude Code's blind spot said; a tool never pulled is not there (not a zero)."""
    clock.now = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
    await pulled(app, clock)
    async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
        copilot_only = await sender.command("/ai-coe", "digest preview adoption", user_id="U0ADMIN")
        await app.settle()
        text = message_text(slack.responses_for(copilot_only.response_url or "")[-1].body)
        assert "*Cursor*" not in text
        assert "*Claude Code*" not in text
        await pulled_cursor(app, clock)
        await pulled_claude_code(app, clock)
        three = await sender.command("/ai-coe", "digest preview adoption", user_id="U0ADMIN")
        await app.settle()
        reply = slack.responses_for(three.response_url or "")[-1].body
    assert_valid_message(reply)
    text = message_text(reply)
    assert "Adoption this week* (GitHub Copilot, 26 Oct – 30 Oct" in text
    cursor_line = next(line for line in text.splitlines() if line.startswith("*Cursor*"))
    # the days the pull asked for (to 30 Oct); the member list is the pull's, after the week
    assert cursor_line.startswith("*Cursor* (26 Oct – 30 Oct): ")
    assert "seat" not in cursor_line
    assert "on 3 days or more; " in cursor_line
    assert "of Tab completions accepted" in cursor_line
    claude_line = next(line for line in text.splitlines() if line.startswith("*Claude Code*"))
    # the 80-person demo has a handful of Claude Code users: under the minimum group
    assert claude_line.startswith(
        "*Claude Code* (26 Oct – 30 Oct): fewer than 5 people used it, so no figures"
    )
    assert "Not measured by this source: people signed in with a claude.ai" in claude_line
    # with a minimum group of 2 the same week shows Claude Code's own figures
    from bot.services import digests
    from bot.views.digests import digest_message

    async with app.deps.sessions() as session:
        small = await digests.build(
            session=session,
            start=clock() - digests.PERIOD,
            end=clock(),
            sections=["adoption"],
            pack=app.deps.policy.active.loaded.pack,
            min_group=2,
        )
    text = message_text(digest_message(small))
    claude_line = next(line for line in text.splitlines() if line.startswith("*Claude Code*"))
    assert "people used it, " in claude_line
    assert "of tool actions (edits, writes) accepted" in claude_line
    assert "seat" not in claude_line  # Anthropic lists no seats
    assert "ci-bot" not in text
    assert "@" not in text  # nobody named


async def test_the_adoption_metric_gets_the_tools_own_use(app: RunningApp, clock: Clock) -> None:
    """`/api/v1/metrics` (the bot's own adoption beside survey impact) now carries each
    team's Copilot week, even for a team that never used the bot."""
    status, body = await get(app, "/metrics?since=2026-10-19&until=2026-10-26", METRICS_ONLY)
    assert status == 200
    assert body["items"] == []
    await pulled(app, clock)
    status, body = await get(app, "/metrics?since=2026-10-19&until=2026-10-26", METRICS_ONLY)
    rows = [r for r in body["items"] if r["week"] == "2026-W43"]
    assert rows
    for row in rows:
        copilot = row["adoption"]["copilot"]
        assert copilot is not None
        assert copilot["engaged_people"] <= copilot["active_people"]
        assert row["adoption"]["policy_lookup_people"] == 0  # nobody used the bot


async def test_periods_past_what_was_pulled_are_left_out_and_teams_keep_their_rows(
    app: RunningApp, clock: Clock
) -> None:
    await pulled(app, clock)
    status, body = await get(app, "/usage?since=2026-09-28&until=2027-03-01", METRICS_ONLY)
    assert status == 200
    weeks = sorted({i["period"] for i in body["items"]})
    assert weeks[-1] <= "2026-W45"  # the seat snapshot (2 Nov) is the horizon: no 2027 weeks
    labels_by_week: dict[str, set[str]] = {}
    for item in body["items"]:
        labels_by_week.setdefault(item["period"], set()).add(item["team"])
        if item["team"] == "(other teams)":
            assert len(item["includes"]) >= 2  # which teams it holds
    full_weeks = [w for w in weeks if w < "2026-W44"]
    assert len({frozenset(labels_by_week[w]) for w in full_weeks}) == 1  # one merge for all


async def test_reading_idle_seats_is_audited(app: RunningApp, clock: Clock) -> None:
    from tests.helpers import audit_events

    await pulled(app, clock)
    assert (await get(app, "/seats/idle?team=ml", SEATS))[0] == 200
    [event] = await audit_events(app, "api.read_seats")
    assert event.actor == "api:licences"
    assert event.details["route"] == "/seats/idle"


async def pulled_cursor(app: RunningApp, clock: Clock) -> None:
    """The demo organisation's Cursor users, from the Cursor stand-in, pulled."""
    from bot.standin.cursor import FakeCursor
    from bot.standin.cursor_demo import CursorDemo
    from bot.usage import cursor

    organisation = build_demo(
        people=SPEC.people, days=SPEC.days, seed=SPEC.seed, end_day=SPEC.end_day
    )
    async with FakeCursor(now=clock, rate_limit=1000) as fake:
        CursorDemo(organisation).install(fake)
        async with cursor.CursorClient(fake.api_url, fake.api_key) as client:
            run = await cursor.pull(
                sessions=app.deps.sessions,
                cursor=client,
                first_day=organisation.start_day,
                last_day=SPEC.end_day,
                now=clock(),
            )
    assert run.status == "done"
    assert run.rows_stored > 0


async def test_cursor_is_one_item_per_team_beside_copilot(app: RunningApp, clock: Clock) -> None:
    status, body = await get(app, "/usage?since=2026-10-19&until=2026-10-26", METRICS_ONLY)
    assert status == 200
    assert {i["tool"] for i in body["items"]} == {"copilot"}  # Cursor never pulled: absent
    await pulled(app, clock)
    await pulled_cursor(app, clock)
    status, body = await get(app, "/usage?since=2026-10-19&until=2026-10-26", METRICS_ONLY)
    assert status == 200
    cursor_items = [i for i in body["items"] if i["tool"] == "cursor"]
    copilot_items = [i for i in body["items"] if i["tool"] == "copilot"]
    assert cursor_items
    assert copilot_items
    for item in cursor_items:
        assert item["period"] == "2026-W43"
        assert item["matched_share"] == 1.0  # every demo e-mail is in the directory
        assert 0 <= (item["acceptance_rate"] or 0) <= 1
        assert item["engaged_people"] <= item["active_people"]
        assert item["seats"] is None  # before the first member snapshot: no history
    # fewer Cursor users than Copilot users
    active = sum(i["active_people"] for i in cursor_items)
    assert 0 < active < sum(i["active_people"] for i in copilot_items)
    assert "@" not in str(body)  # nobody's e-mail leaves
    # the week of the pull holds the first member snapshot: seats and idle seats
    status, now = await get(app, "/usage?since=2026-11-02&until=2026-11-03", METRICS_ONLY)
    assert status == 200
    seated = [i for i in now["items"] if i["tool"] == "cursor"]
    assert seated
    assert all(i["seats"] is not None and i["idle_seats"] <= i["seats"] for i in seated)
    assert sum(i["seats"] for i in seated) > active / 2
    status, months = await get(app, "/usage?period=month&since=2026-10-01", METRICS_ONLY)
    assert status == 200
    assert {i["period"] for i in months["items"] if i["tool"] == "cursor"} == {"2026-10", "2026-11"}
    # a range wholly past the newest pulled day: nothing to say (was a 500)
    for period in ("week", "month"):
        status, later = await get(app, f"/usage?period={period}&until=2030-01-01", METRICS_ONLY)
        assert status == 200, later
        assert not [i for i in later["items"] if i["tool"] == "cursor"]


async def pulled_claude_code(app: RunningApp, clock: Clock) -> None:
    """The demo organisation's Claude Code users (and a CI key's use), from the Anthropic
    stand-in, pulled."""
    from bot.standin.anthropic import FakeAnthropic
    from bot.standin.cursor_demo import ClaudeCodeDemo
    from bot.usage import claude_code

    organisation = build_demo(
        people=SPEC.people, days=SPEC.days, seed=SPEC.seed, end_day=SPEC.end_day
    )
    async with FakeAnthropic(now=clock) as fake:
        fake.source = ClaudeCodeDemo(organisation).records
        fake.add_record(  # a CI key's use: not a person, never in the figures
            {
                "date": "2026-10-20T00:00:00Z",
                "actor": {"type": "api_actor", "api_key_name": "ci-bot"},
                "core_metrics": {"num_sessions": 50},
            }
        )
        async with claude_code.AnthropicClient(fake.api_url, fake.admin_key) as client:
            run = await claude_code.pull(
                sessions=app.deps.sessions,
                anthropic=client,
                first_day=organisation.start_day,
                last_day=SPEC.end_day,
                now=clock(),
            )
    assert run.status == "done"


async def test_claude_code_is_measured_with_the_gap_it_cannot_see(
    app: RunningApp, clock: Clock
) -> None:
    await pulled(app, clock)
    await pulled_claude_code(app, clock)
    status, body = await get(app, "/usage?since=2026-10-19&until=2026-10-26", METRICS_ONLY)
    assert status == 200
    items = [i for i in body["items"] if i["tool"] == "claude_code"]
    assert items
    copilot_active = sum(i["active_people"] for i in body["items"] if i["tool"] == "copilot")
    assert 0 < sum(i["active_people"] for i in items) < copilot_active
    for item in items:
        assert item["seats"] is None  # Anthropic lists no seats
        assert item["idle_seats"] is None
        assert item["chat_people"] is None
        assert item["agent_people"] == item["active_people"]
        assert 0 < item["acceptance_rate"] <= 1
        assert "claude.ai" in item["not_measured"]  # the known gap, said, not zero
        assert item["reclaimable_cents"] is None  # no seats to reclaim
    assert "ci-bot" not in str(body)


async def test_a_month_is_priced_from_the_costs_file_and_a_broken_one_is_named(
    settings: Settings, clock: Clock, tmp_path: Any
) -> None:
    from bot.services import costs

    priced = settings.model_copy(
        update={"coe_api_token": SecretStr(TOKENS), "costs_file": costs.example_path()}
    )
    app, runner = await start_app(priced, clock)
    try:
        await pulled(app, clock)
        await pulled_cursor(app, clock)
        status, body = await get(app, "/usage?period=month&since=2026-11-01", METRICS_ONLY)
        assert status == 200
        for item in body["items"]:
            if item["tool"] == "copilot" and item["seats"]:
                # every demo seat is on the business plan: 19 dollars a month each
                assert item["spend_cents"] == 1900 * item["seats"]
                assert item["reclaimable_cents"] == 1900 * item["idle_seats"]
            if item["tool"] == "cursor" and item["seats"]:
                assert item["spend_cents"] >= 4000 * item["seats"]  # seats, then usage
            if item["spend_cents"] and item["active_people"]:
                assert item["cost_per_active_person_cents"] == round(
                    item["spend_cents"] / item["active_people"]
                )
        assert any(i["spend_cents"] for i in body["items"] if i["tool"] == "cursor")
        status, weeks = await get(app, "/usage?since=2026-10-19&until=2026-10-26", METRICS_ONLY)
        assert all(i["spend_cents"] is None for i in weeks["items"])  # prices are monthly
        # October ends before the first seat and member lists: its spend is not known
        # (null), never $0 — a guardrail's trend would otherwise read "last month none"
        status, october = await get(
            app, "/usage?period=month&since=2026-10-01&until=2026-11-01", METRICS_ONLY
        )
        measured = [
            i
            for i in october["items"]
            if i["measured"] and i["period"] == "2026-10" and i["tool"] != "any"
        ]
        assert {i["tool"] for i in measured} == {"copilot", "cursor"}
        for item in measured:
            assert item["seats"] is None
            assert item["spend_cents"] is None
            assert item["cost_per_active_person_cents"] is None
            assert item["reclaimable_cents"] is None
    finally:
        await runner.cleanup()
    broken = tmp_path / "costs.yaml"
    broken.write_text("seat_price_cents:\n  copilot:\n    business: -1\n", encoding="utf-8")
    app, runner = await start_app(priced.model_copy(update={"costs_file": broken}), clock)
    try:
        status, body = await get(app, "/usage?period=month", METRICS_ONLY)
        assert status == 503
        assert f"{broken}:3: seat_price_cents.copilot.business" in body["error"]
        status, body = await get(app, "/usage?period=week", METRICS_ONLY)
        assert status == 200  # weeks carry no money: a broken costs file blocks none
    finally:
        await runner.cleanup()


async def test_a_team_over_a_soft_guardrail_is_told_once_with_its_owner_and_a_note_shows(
    settings: Settings, clock: Clock, slack: FakeSlack, tmp_path: Any
) -> None:
    from bot.jobs import guardrails as guardrail_job
    from bot.services import teams
    from tests.helpers import outbox_rows

    limits = tmp_path / "costs.yaml"
    limits.write_text(
        "seat_price_cents:\n  copilot:\n    default: 1900\n  cursor:\n    default: 4000\n"
        "guardrails:\n  monthly_spend_cents: 2000\n",  # twenty dollars: every team crosses
        encoding="utf-8",
    )
    app, runner = await start_app(
        settings.model_copy(update={"coe_api_token": SecretStr(TOKENS), "costs_file": limits}),
        clock,
    )
    try:
        await pulled(app, clock)
        await pulled_cursor(app, clock)
        async with app.deps.sessions.begin() as session:
            name = (await session.exec(select_team_names())).all()[0]
            report = await teams.import_rows(
                session=session,
                rows=teams.read_csv(
                    "user_id,team,is_champion,topics,owner\n"
                    f"U0OWNER1,{name},false,,U0OWNER1\n"
                    f"U0OWNER2,{name},false,,U0OWNER2\n"  # a second owner: refused, named
                    f"U0OWNER3,{name},false,,nobody\n"
                ),
                actor="test",
                now=clock(),
            )
        assert report.problems == [
            f"lines 2 and 3: team {name} has two owners, U0OWNER1 and U0OWNER2; its owner"
            " was not changed",
            "line 4: owner “nobody” is not a Slack user ID",
        ]
        async with app.deps.sessions.begin() as session:
            await teams.import_rows(
                session=session,
                rows=teams.read_csv(
                    f"user_id,team,is_champion,topics,owner\nU0OWNER1,{name},false,,U0OWNER1\n"
                ),
                actor="test",
                now=clock(),
            )
        assert await guardrail_job.check(app.deps) > 0
        assert await guardrail_job.check(app.deps) == 0  # once per team, threshold and month
        posts = [r for r in await outbox_rows(app) if r.kind == "usage-guardrails"]
        assert {p.channel for p in posts} == {"C0COE"}
        mine = [p.text for p in posts if f"*{name}*" in p.text]
        assert mine
        assert "spend this month, all tools $" in mine[0]
        assert "threshold $20" in mine[0]
        assert "<@U0OWNER1>" in mine[0]
        async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
            noted = await sender.command(
                "/ai-coe", f"usage note {name} new hires onboarding, expected", user_id="U0ADMIN"
            )
            await app.settle()
            reply = message_text(slack.responses_for(noted.response_url or "")[-1].body)
            assert "Noted for" in reply
            refused = await sender.command(
                "/ai-coe", "usage note nosuchteam why", user_id="U0ADMIN"
            )
            await app.settle()
            said = message_text(slack.responses_for(refused.response_url or "")[-1].body)
            assert "No team called" in said
            # web (under the minimum group in this demo) is merged in every tool: its
            # note is kept but shown nowhere, never naming a small team in the digest
            small = await sender.command(
                "/ai-coe", "usage note web tiny team hiring", user_id="U0ADMIN"
            )
            await app.settle()
            said = message_text(slack.responses_for(small.response_url or "")[-1].body)
            assert "It shows once the team has figures of its own this month" in said
            digest = await sender.command("/ai-coe", "digest preview adoption", user_id="U0ADMIN")
            await app.settle()
            shown = message_text(slack.responses_for(digest.response_url or "")[-1].body)
            assert "new hires onboarding, expected" in shown  # beside the figures
            assert "tiny team hiring" not in shown
            assert "_web_" not in shown
            usage = await sender.command("/ai-coe", "usage", user_id="U0ADMIN")
            await app.settle()
            reply = slack.responses_for(usage.response_url or "")[-1].body
        assert_valid_message(reply)
        text = message_text(reply)
        assert "*Spend* · 2026-11 so far" in text
        line = text[text.index(f"• *{name}*: $") :].split("\n• ")[0]
        assert ":warning: over its guardrail: spend this month, all tools $" in line
        assert "threshold $20" in line
        assert "_CoE note_: new hires onboarding, expected" in line
        status, body = await get(app, "/usage?period=month&since=2026-11-01", METRICS_ONLY)
        assert status == 200
        notes = {i["note"] for i in body["items"] if i["team"].lower() == name.lower()}
        assert notes == {"new hires onboarding, expected"}
    finally:
        await runner.cleanup()


def select_team_names() -> Any:
    from sqlmodel import select

    from bot.models import Team

    return select(Team.name).order_by(Team.name)


async def test_a_person_on_two_tools_counts_once_in_people_using_any_tool(
    app: RunningApp, clock: Clock
) -> None:
    await pulled(app, clock)
    await pulled_cursor(app, clock)
    status, body = await get(app, "/usage?since=2026-10-19&until=2026-10-26", METRICS_ONLY)
    assert status == 200
    by_tool: dict[str, int] = {}
    for item in body["items"]:
        by_tool[item["tool"]] = by_tool.get(item["tool"], 0) + (item["active_people"] or 0)
    [anyone] = [i for i in body["items"] if i["tool"] == "any"]
    assert anyone["team"] == "(all teams)"
    # the demo's Cursor users also hold Copilot seats: the union is less than the sum
    assert max(by_tool["copilot"], by_tool["cursor"]) <= anyone["active_people"]
    assert anyone["active_people"] < by_tool["copilot"] + by_tool["cursor"]


def test_a_reply_with_many_teams_keeps_every_team_line_whole() -> None:
    """Forty teams run past Block Kit's 3,000 characters a section: the lines go into more
    sections, none cut in two (a clipped section dropped the last teams)."""
    from bot.views.usage import TEAMS_SHOWN, usage_message

    names = [f"team-{n:02d}-{'platform-engineering-' * 2}" for n in range(TEAMS_SHOWN)]
    items = [
        {
            "team": name,
            "period": "2026-W48",
            "tool": "copilot",
            "measured": True,
            "complete": True,
            "seats": 10,
            "idle_seats": 1,
            "active_people": 8,
            "engaged_people": 4,
            "acceptance_rate": 0.3,
            "chat_people": 3,
            "agent_people": 2,
            "matched_share": 1.0,
            "impact": None,
        }
        for name in names
    ]
    reply = usage_message(items, team=None)
    assert_valid_message(reply)
    text = message_text(reply)
    assert len(text) > 3000
    for name in names:
        assert f"• *{name}*: 10 seats (1 idle) · 8 active, 4 engaged · acceptance 30%" in text
    assert "…" not in text


async def test_a_merged_row_is_one_group_only_when_it_holds_the_same_teams_in_each_tool(
    settings: Settings, clock: Clock, tmp_path: Any
) -> None:
    """ "(other teams)" merges different teams in each tool: its tools' spends are not one
    group's, so each is checked (and shown) on its own, held to its own teams' thresholds
    and naming its own teams (was: the three summed, with the last tool's teams)."""
    from bot.services import guardrails

    limits = tmp_path / "costs.yaml"
    limits.write_text("seat_price_cents:\n  copilot:\n    default: 1900\n", encoding="utf-8")
    app, runner = await start_app(
        settings.model_copy(update={"coe_api_token": SecretStr(TOKENS), "costs_file": limits}),
        clock,
    )
    try:
        await pulled(app, clock)
        await pulled_cursor(app, clock)
        status, body = await get(app, "/usage?period=month&since=2026-11-01", METRICS_ONLY)
        assert status == 200
        rows = [i for i in body["items"] if i["measured"] and i["period"] == "2026-11"]
        # the costs file prices no Cursor seat: Cursor's months are not priced, never $0
        assert all(i["spend_cents"] is None for i in rows if i["tool"] == "cursor")
        assert all(i["spend_cents"] for i in rows if i["tool"] == "copilot" and i["seats"])
        limits.write_text("seat_price_cents:\n  copilot:\n    enterprise: 3900\n", "utf-8")
        status, body = await get(app, "/usage?period=month&since=2026-11-01", METRICS_ONLY)
        # the demo's seats are all on the business plan, which has no price now
        assert all(
            i["spend_cents"] is None and i["reclaimable_cents"] is None
            for i in body["items"]
            if i["tool"] == "copilot" and i["seats"]
        )
        own_copilot = {i["team"] for i in rows if i["tool"] == "copilot"}
        # Cursor's few users are merged ("(other teams)", or "(all teams)" when every team
        # is): a team merged there with its own Copilot row, given a 1-cent budget
        merged = next(i for i in rows if i["tool"] == "cursor" and i["team"].startswith("("))
        team = next(t for t in merged["includes"] if t in own_copilot)
        limits.write_text(
            "seat_price_cents:\n  copilot:\n    default: 1900\n  cursor:\n    default: 4000\n"
            f"team_guardrails:\n  {team}:\n    monthly_spend_cents: 1\n",
            encoding="utf-8",
        )
        from bot.services import costs

        prices = costs.load(limits)
        async with app.deps.sessions() as session:
            found = await guardrails.crossings(
                session=session,
                costs=prices,
                rules=app.deps.settings.survey_rules(),
                day=dt.date(2026, 11, 2),
            )
            spends = await guardrails.spend_by_team(
                session=session,
                costs=prices,
                rules=app.deps.settings.survey_rules(),
                day=dt.date(2026, 11, 2),
            )
        spend = [c for c in found if c.kind == "monthly_spend_cents"]
        by_key = {(c.team, c.tool): c for c in spend}
        assert (team, None) in by_key  # its own row, all tools: Copilot only here
        assert by_key[(team, None)].includes == (team,)
        cursor_merged = by_key[(merged["team"], "cursor")]
        assert cursor_merged.includes == tuple(merged["includes"])  # its own teams, named
        assert (merged["team"], None) not in by_key  # never the tools summed
        assert ("(other teams)", None) not in by_key
        labels = {s.team for s in spends}
        assert f"{merged['team']} · Cursor" in labels
        assert "(other teams) · Copilot" in labels
        assert "(other teams)" not in labels
        assert "spend this month (Cursor) $" in guardrails.describe(cursor_merged)
    finally:
        await runner.cleanup()
