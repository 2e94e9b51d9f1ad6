"""The monthly report: the page a VP opens (valid HTML, every chart inline as SVG, nothing
fetched, nobody named), who may open it (a `metrics` token or a signed link; every view
audited), the offline command, and the summary posted once a month in the CoE channel with
its chart uploaded through Slack's external upload flow."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import html5lib
import pytest
from pydantic import SecretStr
from sqlmodel import col, select, update

from bot.config import Settings
from bot.jobs import outbox as outbox_worker
from bot.jobs import report as report_job
from bot.models import PersonIdentity, Team
from bot.reports import links
from bot.services import costs
from bot.standin import FakeSlack, SlackSender
from tests import report_demo
from tests.conftest import SIGNING_SECRET, Clock, RunningApp, start_app
from tests.helpers import audit_events, message_text, run_coe_bot

TOKENS = "reader:metrics=report-reader-token;exports:responses=report-responses-token"
READER = {"Authorization": "Bearer report-reader-token"}
SECRET = "report-link-secret-" + "x" * 32
DECEMBER_FIRST = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)  # 09:00 in Paris, a Tuesday
CHARTS = ("adoption", "team_use", "spend", "impact", "surveys", "answer_times")


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[RunningApp]:
    clock.now = DECEMBER_FIRST
    running, runner = await start_app(
        settings.model_copy(
            update={
                "coe_api_token": SecretStr(TOKENS),
                "report_link_secret": SecretStr(SECRET),
                "public_url": "https://coe-bot.example.com",
                "business_timezone": "Europe/Paris",
                "costs_file": costs.example_path(),
            }
        ),
        clock,
    )
    try:
        yield running
    finally:
        await runner.cleanup()


async def get(
    app: RunningApp, query: str, headers: dict[str, str] | None = None
) -> tuple[int, str, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{app.url}/reports/monthly{query}", headers=headers or {}) as response,
    ):
        return response.status, await response.text(), dict(response.headers)


def link_query(month: str, now: dt.datetime, days: int = 14) -> str:
    made = links.make(
        secret=SECRET.encode(), base_url="https://x.example", month=month, now=now, days=days
    )
    return "?" + made.url.split("?", 1)[1]


def check_page(page: str) -> list[ET.Element]:
    """The page parses as HTML5 without one error, and each inline SVG as XML; nothing in
    it runs or loads: no script, no external reference. Returns the SVG roots."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    tree = parser.parse(page)  # raises on the first parse error
    for element in tree.iter():
        name = str(element.tag).rsplit("}", 1)[-1].lower()
        assert name not in {"script", "iframe", "object", "embed", "link", "img", "image"}, name
        for attribute, value in element.attrib.items():
            attribute = attribute.rsplit("}", 1)[-1].lower()
            assert not attribute.startswith("on"), (name, attribute)
            if attribute in {"href", "src", "action", "srcset"}:
                assert value.startswith("#"), (name, attribute, value)
        if name == "style":
            assert "url(" not in (element.text or "")
            assert "@import" not in (element.text or "")
    svgs = re.findall(r"<svg\b.*?</svg>", page, re.S)
    return [ET.fromstring(svg) for svg in svgs]


async def test_the_demo_report_reads_as_one_page_with_every_chart_and_names_nobody(
    app: RunningApp, clock: Clock, tmp_path: Path
) -> None:
    await report_demo.fill(app, now=clock())
    async with app.deps.sessions.begin() as session:  # a team name written to break the page
        await session.exec(
            update(Team)
            .where(col(Team.name) == "security")
            .values(name="<img src=x onerror=alert(1)>&sec")
        )
        logins = set((await session.exec(select(PersonIdentity.github_login))).all())
    status, page, headers = await get(app, "?month=2026-11", READER)
    assert status == 200, page
    assert headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    svgs = check_page(page)
    assert len(svgs) == len(CHARTS)
    for name in CHARTS:
        assert f'<figure id="chart-{name.replace("_", "-")}"><svg' in page, name
    for svg in svgs:
        assert svg.tag.endswith("svg")
        assert svg.findall(".//{http://www.w3.org/2000/svg}text")  # axes and labels drawn
    text = re.sub(r"<[^>]+>", " ", page)
    assert "AI coding tools — November 2026" in text
    assert "association, not causation" in text
    assert "AI pulse (03 Nov)" in text  # the survey trend, run by run
    assert "Median hours to answer" in text
    assert "Example AI-assisted coding policy" in text
    assert "How to read this" in text
    # the team's name is shown as text, in the tables and inside the charts
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;&amp;sec" in page
    # nobody is named: no GitHub login, no Slack user, no champion
    assert logins
    assert not [login for login in logins if re.search(rf"\b{re.escape(login)}\b", text)]
    assert not re.search(r"\bU[0-9A-Z]{4,}\b", text)
    viewed = await audit_events(app, "report.view")
    assert [(e.actor, e.subject) for e in viewed] == [("api:reader", "2026-11")]
    # the command line writes the same page, offline
    out = tmp_path / "report.html"
    code, stdout, stderr = await run_coe_bot(
        "report", "monthly", "--month", "2026-11", "-o", str(out),
        DATABASE_URL=app.deps.settings.database_url,
    )  # fmt: skip
    assert code == 0, stderr
    assert "Wrote the report for November 2026" in stdout
    offline = out.read_text(encoding="utf-8")
    assert len(check_page(offline)) == len(CHARTS)
    assert "association, not causation" in offline


async def test_who_may_open_the_report_and_every_view_is_audited(
    app: RunningApp, clock: Clock
) -> None:
    now = clock()
    refused = [
        ("?month=2026-11", {}, 401, "needs a link or a token"),
        ("?month=2026-11", {"Authorization": "Bearer wrong"}, 401, "needs a link or a token"),
        (
            "?month=2026-11",
            {"Authorization": "Bearer report-responses-token"},
            403,
            "lacks the metrics scope",
        ),
        ("?month=2026-11&token=report-reader-token", {}, 400, "Tokens never go in a link"),
        ("?month=2026-11&access_token=report-reader-token", READER, 400, "never go in a link"),
        ("?month=November", READER, 400, "month must look like 2026-11"),
        ("?month=2027-01", READER, 400, "has not begun yet"),
        ("?month=2026-13", READER, 400, "month must look like"),
        (link_query("2026-10", now).replace("2026-10", "2026-11"), {}, 401, "does not match"),
        (link_query("2026-11", now)[:-4] + "0000", {}, 401, "does not match"),
        ("?month=2026-11&expires=99999999999&signature=" + "0" * 64, {}, 401, "does not match"),
        ("?month=2026-11&expires=soon&signature=abc", {}, 401, "expiry is not a time"),
        ("?month=2026-11&expires=1800000000&signature=%C3%A9", {}, 401, "does not match"),
        ("?month=2026-11&expires=1800000000&signature=" + "é" * 64, {}, 401, "does not match"),
        ("?month=2026-11&signature=abc", {}, 401, "not signed"),
        (link_query("2026-11", now - dt.timedelta(days=15)), {}, 401, "expired"),
    ]
    for query, headers, status, says in refused:
        got, page, answered = await get(app, query, headers)
        assert got == status, (query, got, page)
        assert says in page, (query, page)
        assert "report-reader-token" not in page
        if status == 401:
            assert answered["WWW-Authenticate"].startswith("Bearer")
    assert await audit_events(app, "report.view") == []  # a refusal changes nothing
    status, page, _ = await get(app, link_query("2026-11", now))
    assert status == 200
    check_page(page)  # the empty organisation's page is valid too, and says what is missing
    assert "No survey was run in these six months" in page
    assert "No team has a rollout start yet" in page
    status, page, _ = await get(app, "?month=2026-10", READER)
    assert status == 200
    assert "AI coding tools — October 2026" in page
    status, page, _ = await get(app, "", READER)  # last month by default
    assert "AI coding tools — November 2026" in page
    viewed = await audit_events(app, "report.view")
    assert [(e.actor, e.subject, e.details["via"]) for e in viewed] == [
        ("link", "2026-11", "link"),
        ("api:reader", "2026-10", "token"),
        ("api:reader", "2026-11", "token"),
    ]
    # a link expires: the same one refused fifteen days on
    query = link_query("2026-11", now)
    clock.now = now + dt.timedelta(days=15)
    status, page, _ = await get(app, query)
    assert status == 401
    assert "expired" in page


async def test_links_are_refused_when_the_server_has_no_link_secret(
    settings: Settings, clock: Clock
) -> None:
    running, runner = await start_app(settings, clock)
    try:
        status, page, _ = await get(running, link_query("2026-10", clock()))
        assert status == 401
        assert "Signed links are off on this server" in page
    finally:
        await runner.cleanup()


def test_the_first_business_day_at_nine_local_is_when_the_summary_is_due(
    settings: Settings,
) -> None:
    from bot.app import build_deps

    paris = build_deps(settings.model_copy(update={"business_timezone": "Europe/Paris"}))
    # 1 August 2026 is a Saturday: due Monday the 3rd, 09:00 in Paris (07:00 UTC, summer)
    assert report_job.due_at(dt.datetime(2026, 8, 20, tzinfo=dt.UTC), paris) == dt.datetime(
        2026, 8, 3, 7, 0, tzinfo=dt.UTC
    )
    # 1 December 2026 is a Tuesday: 09:00 in Paris is 08:00 UTC (winter)
    assert report_job.due_at(DECEMBER_FIRST, paris) == DECEMBER_FIRST
    sundays = build_deps(settings.model_copy(update={"business_days": "sun-thu"}))
    assert report_job.due_at(DECEMBER_FIRST, sundays) == dt.datetime(
        2026, 12, 1, 9, 0, tzinfo=dt.UTC
    )


async def test_once_a_month_the_coe_channel_gets_the_summary_with_its_chart_and_a_link(
    app: RunningApp, clock: Clock, slack: FakeSlack
) -> None:
    await report_demo.fill(app, now=clock(), people=60)  # its chart is adoption's
    deps = app.deps
    clock.now = DECEMBER_FIRST - dt.timedelta(minutes=1)
    assert not await report_job.post_monthly(deps)  # not 09:00 in Paris yet
    clock.now = DECEMBER_FIRST
    assert await report_job.post_monthly(deps)
    assert not await report_job.post_monthly(deps)  # a second fire, or a second replica
    slack.lose_answer("files.completeUploadExternal", "reset")  # shared, answer lost
    await outbox_worker.send_due(deps)
    await outbox_worker.send_due(deps)  # found in the channel's history: not posted again
    clock.now += dt.timedelta(minutes=5)
    await outbox_worker.send_due(deps)
    posted = slack.messages("C0COE")
    assert len(posted) == 1, posted
    message = posted[0]
    assert "AI coding tools — November 2026" in message["text"]
    assert "people used an AI coding tool" in message["text"]
    files = message["files"]
    assert len(files) == 1
    assert re.fullmatch(r"coe-bot-report-2026-11-\d+\.png", files[0]["name"])
    chart = slack.file_bytes(files[0]["id"])
    assert chart.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(chart) > 10_000
    url = re.search(r"<(https://coe-bot\.example\.com/reports/monthly\?[^|>]+)\|", message["text"])
    assert url is not None, message["text"]
    query = "?" + urlsplit(url[1]).query
    assert parse_qs(query[1:])["month"] == ["2026-11"]
    status, page, _ = await get(app, query.replace("&amp;", "&"))
    assert status == 200
    assert "AI coding tools — November 2026" in page
    made = await audit_events(app, "report.link")
    assert [(e.actor, e.subject) for e in made] == [("scheduler", "2026-11")]
    clock.now = DECEMBER_FIRST + report_job.GRACE
    assert not await report_job.post_monthly(deps)


async def test_without_files_write_the_summary_is_posted_without_its_chart(
    app: RunningApp, clock: Clock, slack: FakeSlack
) -> None:
    await report_demo.fill(app, now=clock(), people=40)
    slack.fail("files.getUploadURLExternal", error="missing_scope")
    assert await report_job.post_monthly(app.deps)
    await outbox_worker.send_due(app.deps)
    posted = slack.messages("C0COE")
    assert len(posted) == 1
    assert "AI coding tools — November 2026" in posted[0]["text"]
    assert not posted[0].get("files")


async def test_the_command_line_makes_audited_links_and_refuses_what_is_no_month(
    app: RunningApp,
) -> None:
    database = app.deps.settings.database_url
    code, out, err = await run_coe_bot(
        "report", "link", "--month", "2026-10", "--days", "3",
        DATABASE_URL=database, REPORT_LINK_SECRET=SECRET, PUBLIC_URL=app.url,
    )  # fmt: skip
    assert code == 0, err
    url = out.strip()
    assert url.startswith(f"{app.url}/reports/monthly?month=2026-10&expires=")
    status, page, _ = await get(app, "?" + url.split("?", 1)[1])
    assert status == 200
    assert "AI coding tools — October 2026" in page
    made = await audit_events(app, "report.link")
    assert [(e.actor, e.subject) for e in made] == [("cli", "2026-10")]
    for args, says in (
        (("monthly", "--month", "2026-13"), "month must look like 2026-11, not '2026-13'"),
        (("monthly", "--month", "2099-01"), "2099-01 has not begun yet"),
        (("link", "--days", "91"), "a link lasts 1 to 90 days"),
    ):
        code, out, err = await run_coe_bot("report", *args, DATABASE_URL=database)
        assert (code, out) == (2, ""), err
        assert says in err
    code, _, err = await run_coe_bot(
        "report", "link", DATABASE_URL=database, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s"
    )
    assert code == 2
    assert "set REPORT_LINK_SECRET" in err
    assert len(await audit_events(app, "report.link")) == 1  # nothing made, nothing audited


async def test_a_coe_admin_gets_a_link_in_slack_and_nobody_else_does(
    app: RunningApp, slack: FakeSlack
) -> None:
    async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:

        async def say(text: str, user: str = "U0ADMIN") -> str:
            reply = await sender.command("/ai-coe", text, user_id=user)
            await app.settle()
            return message_text(slack.responses_for(reply.response_url or "")[-1].body)

        answer = await say("report 2026-10")
        assert "The report for October 2026" in answer
        url = re.search(r"<(https://coe-bot\.example\.com/reports/monthly\?[^|>]+)\|", answer)
        assert url is not None, answer
        status, page, _ = await get(app, "?" + url[1].split("?", 1)[1].replace("&amp;", "&"))
        assert status == 200
        assert "AI coding tools — October 2026" in page
        assert "The report for November 2026" in await say("report")
        assert "CoE admins only" in await say("report", user="U0ALICE")
        for text, says in (
            ("report 2026-13", "Month must look like 2026-11, not '2026-13'"),
            ("report <!channel>", "Month must look like 2026-11, not '&lt;!channel&gt;'"),
            ("report 2030-01", "2030-01 has not begun yet"),
            ("report 2026-10 2026-11", "Name one month"),
        ):
            assert says in await say(text), text
    made = await audit_events(app, "report.link")
    assert [(e.actor, e.subject) for e in made] == [("U0ADMIN", "2026-10"), ("U0ADMIN", "2026-11")]


async def copilot_october(
    sessions: Any, clock: Clock, users: list[int], plans: dict[int, str]
) -> None:
    """Copilot in October for `users` of `test_usage_figures.organisation` (payments 1-6,
    search 7-9, nobody we know 10-12): each active on 20 October, each with a seat of its
    plan (business unless `plans` says otherwise), seen in an October snapshot."""
    from bot.standin.github import FakeGitHub
    from tests.test_usage_figures import day_of, organisation, pull, seat

    await organisation(sessions)
    day = dt.date(2026, 10, 20)
    async with FakeGitHub(now=clock) as github:
        for user in users:
            github.add_user_day(day_of(user, day, 3, 5, 2))
        github.set_seats(
            [
                {**seat(n, last_used="2026-10-20T10:00:00Z"), "plan_type": plans.get(n, "business")}
                for n in users
            ]
        )
        snapshot = dt.datetime(2026, 10, 24, 6, 0, tzinfo=dt.UTC)
        await pull(github, sessions, day, day, now=snapshot)


async def october(sessions: Any, prices: costs.Costs) -> Any:
    from bot.reports import monthly
    from bot.services.policy import PolicyStore
    from bot.services.survey_disclosure import Rules

    async with sessions() as session:
        return await monthly.gather(
            session=session,
            month=dt.date(2026, 10, 1),
            rules=Rules(min_group=5, min_text=10),
            costs=prices,
            policy=PolicyStore(None).active,
            now=dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC),
        )


async def test_spend_counts_a_team_merged_with_everyone_and_names_a_tool_priced_in_part(
    sessions: Any, clock: Clock, tmp_path: Path
) -> None:
    # payments (6) and three people nobody knows: the three alone are under the minimum
    # group, so everyone is one "(all teams)" row, which still has seats and spend
    await copilot_october(sessions, clock, [1, 2, 3, 4, 5, 6, 10, 11, 12], {})
    report = await october(sessions, costs.load(costs.example_path()))
    assert [(r["team"], r["seats"], r["spend_cents"]) for r in report.teams] == [
        ("(all teams)", 9, 9 * 1900)
    ]
    assert (report.spend_cents, report.unpriced) == (9 * 1900, [])
    assert report.headline["active_people"] == 9


async def test_a_tool_priced_for_some_teams_only_is_named_beside_its_partial_spend(
    sessions: Any, clock: Clock, tmp_path: Path
) -> None:
    example = costs.example_path().read_text(encoding="utf-8")
    business_only = example.replace("    enterprise: 3900\n    default: 1900\n", "")
    assert business_only != example
    path = tmp_path / "costs.yaml"
    path.write_text(business_only, encoding="utf-8")
    # payments on business seats (priced); search and the unknown three on enterprise (not)
    users = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    await copilot_october(sessions, clock, users, dict.fromkeys(range(7, 13), "enterprise"))
    report = await october(sessions, costs.load(path))
    assert report.spend_cents == 6 * 1900  # what is priced, and no more
    assert report.unpriced == ["GitHub Copilot"]  # ... said to be partial
    from bot.reports import page

    assert "(not priced, all or part: GitHub Copilot)" in page.summary_text(report, None)
