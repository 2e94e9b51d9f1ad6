"""The monthly report at its edges, written from the issue's promises by a tester who had not
read the code: odd months, links and tokens, methods, escaping, small groups, the monthly
job's clock and Slack's faults: the page (`GET /reports/monthly`), who may open it, the
offline command line, and the summary posted once a month in the CoE channel."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import aiohttp
import html5lib
import pytest
from pydantic import SecretStr, ValidationError
from sqlmodel import col, select, update

from bot.config import Settings
from bot.jobs import outbox as outbox_worker
from bot.jobs import report as report_job
from bot.models import Question, Team, TeamMember, UsageNote
from bot.reports import links
from bot.services import costs, surveys
from bot.standin import FakeSlack
from tests import report_demo
from tests.conftest import SURVEY_SECRET, Clock, RunningApp, start_app
from tests.helpers import audit_events, clean_env, coe_bot_command, run_coe_bot, seed_answered_run

TOKENS = (
    "reader:metrics=attack-reader-token-0001;"
    "seats:seats,responses=attack-seats-token-0001;"
    "both:metrics,seats=attack-both-token-00001"
)
READER = {"Authorization": "Bearer attack-reader-token-0001"}
SECRET = "attack-link-secret-" + "y" * 32
DECEMBER_FIRST = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)  # 09:00 Paris, Tuesday
HOSTILE = "<!channel> <b>x</b> \"q\" 'a' & ]]> </text><svg onload=alert(1)>"


def app_settings(settings: Settings, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "coe_api_token": SecretStr(TOKENS),
        "report_link_secret": SecretStr(SECRET),
        "public_url": "https://coe-bot.example.com",
        "business_timezone": "Europe/Paris",
        "costs_file": costs.example_path(),
    }
    values.update(changes)
    return settings.model_copy(update=values)


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[RunningApp]:
    clock.now = DECEMBER_FIRST
    running, runner = await start_app(app_settings(settings), clock)
    try:
        yield running
    finally:
        await runner.cleanup()


async def request(
    app: RunningApp,
    query: str,
    headers: dict[str, str] | None = None,
    method: str = "GET",
) -> tuple[int, str, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, f"{app.url}/reports/monthly{query}", headers=headers or {}
        ) as response,
    ):
        return response.status, await response.text(), dict(response.headers)


def signed(month: str, now: dt.datetime, days: int = 14, secret: str = SECRET) -> str:
    made = links.make(
        secret=secret.encode(), base_url="https://x.example", month=month, now=now, days=days
    )
    return "?" + made.url.split("?", 1)[1]


def strict_html(page: str) -> list[ET.Element]:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    tree = parser.parse(page)
    for element in tree.iter():
        name = str(element.tag).rsplit("}", 1)[-1].lower()
        assert name not in {"script", "iframe", "object", "embed", "img", "image", "link"}, name
        for attribute in element.attrib:
            assert not attribute.rsplit("}", 1)[-1].lower().startswith("on"), (name, attribute)
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", page, re.S)]


def visible(page: str) -> str:
    return re.sub(r"<[^>]+>", " ", page)


def title(page: str) -> str:
    found = re.search(r"<title>(.*?)</title>", page, re.S)
    return found[1] if found else ""


# --------------------------------------------------------------------------- access


ODD_MONTHS = [
    "2026-1",
    "0000-00",
    "0000-01",
    " 2026-11",
    "2026-11 ",
    "2026-11\n",
    "\u0662\u0660\u0662\u0666-\u0661\u0661",  # Arabic-Indic digits
    "\uff12\uff10\uff12\uff16-\uff11\uff11",  # full-width digits
    "2026-11-01",
    "2026-00",
    "+2026-11",
    "2026/11",
    "20261",
    "2026-11" + "1" * 5000,
    "9" * 400 + "-11",
    "99999-11",
    "2026-11\x00",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("month", ODD_MONTHS, ids=[repr(m)[:30] for m in ODD_MONTHS])
async def test_odd_months_get_a_friendly_400_that_changes_nothing(
    app: RunningApp, month: str
) -> None:
    status, page, headers = await request(app, "?month=" + quote(month, safe=""), READER)
    assert status == 400, (status, page[:300])
    assert headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers.get("Content-Security-Policy", "")
    assert "<script>" not in page
    assert len(page) < 5000
    assert await audit_events(app, "report.view") == []


@pytest.mark.parametrize("month", ["0001-01", "0001-05", "1000-01", "1969-12", "1970-01"])
async def test_ancient_months_never_crash_the_server(app: RunningApp, month: str) -> None:
    status, page, _ = await request(app, f"?month={month}", READER)
    assert status in (200, 400), (status, page[:300])
    if status == 200:
        strict_html(page)


async def test_a_signed_link_with_its_month_duplicated_never_shows_another_month(
    app: RunningApp, clock: Clock
) -> None:
    query = signed("2026-11", clock())
    for tampered in (
        query + "&month=2026-10",
        "?month=2026-10&" + query[1:],
        query.replace("month=2026-11", "month=2026-11&month=2026-10"),
    ):
        status, page, _ = await request(app, tampered)
        if status == 200:
            assert "November 2026" in title(page), (tampered, title(page))
        else:
            assert 400 <= status < 500
    for view in await audit_events(app, "report.view"):
        assert view.subject == "2026-11"


async def test_duplicated_expiry_cannot_revive_an_expired_link(
    app: RunningApp, clock: Clock
) -> None:
    old = signed("2026-11", clock() - dt.timedelta(days=20))
    for tampered in (
        old + "&expires=99999999999",
        "?expires=99999999999&" + old[1:],
    ):
        status, page, _ = await request(app, tampered)
        assert status in (400, 401), (tampered, status, page[:200])
    assert await audit_events(app, "report.view") == []


@pytest.mark.parametrize(
    "expires",
    ["1" + "0" * 30, "9" * 5000, "-1", "1e10", "0x10", "nan", "inf", "\u0661\u0662", ""],
)
async def test_odd_expiry_values_are_refused_not_crashed(
    app: RunningApp, clock: Clock, expires: str
) -> None:
    status, page, headers = await request(
        app, f"?month=2026-11&expires={quote(expires)}&signature={'a' * 64}"
    )
    assert status in (400, 401), (status, page[:300])
    assert "default-src 'none'" in headers.get("Content-Security-Policy", "")


@pytest.mark.parametrize("signature", ["A" * 64, "z" * 64, "a" * 10000, "", "%00" * 32, "0" * 63])
async def test_odd_signatures_are_refused_not_crashed(
    app: RunningApp, clock: Clock, signature: str
) -> None:
    good = signed("2026-11", clock())
    expires = parse_qs(good[1:])["expires"][0]
    status, page, _ = await request(app, f"?month=2026-11&expires={expires}&signature={signature}")
    assert status in (400, 401), (status, page[:300])


async def test_an_uppercase_copy_of_a_good_signature(app: RunningApp, clock: Clock) -> None:
    good = signed("2026-11", clock())
    sig = parse_qs(good[1:])["signature"][0]
    status, _, _ = await request(app, good.replace(sig, sig.upper()))
    assert status in (200, 401)  # either is defensible; never a 500


async def test_a_link_signed_under_another_secret_is_refused(app: RunningApp, clock: Clock) -> None:
    status, page, _ = await request(app, signed("2026-11", clock(), secret="z" * 48))
    assert status == 401, page[:200]
    assert await audit_events(app, "report.view") == []


async def test_a_link_expiring_beyond_ninety_days_is_not_honoured(
    app: RunningApp, clock: Clock
) -> None:
    # a correctly signed link whose expiry lies a year ahead: no link made here can say so
    status, _, _ = await request(app, signed("2026-11", clock() + dt.timedelta(days=365)))
    assert status in (400, 401), status


async def test_a_link_for_a_month_not_begun_is_refused(app: RunningApp, clock: Clock) -> None:
    status, page, _ = await request(app, signed("2027-01", clock()))
    assert status == 400, (status, page[:200])


@pytest.mark.parametrize(
    "name",
    [
        "token",
        "access_token",
        "TOKEN",
        "Access_Token",
        "auth_token",
        "api_token",
        "bearer",
        "authorization",
        "api_key",
    ],
)
async def test_a_token_in_the_query_is_refused_even_beside_a_good_link(
    app: RunningApp, clock: Clock, name: str
) -> None:
    query = signed("2026-11", clock()) + f"&{name}=attack-reader-token-0001"
    status, page, _ = await request(app, query, READER)
    assert status == 400, (name, status)
    assert "attack-reader-token-0001" not in page
    assert await audit_events(app, "report.view") == []


async def test_a_known_token_under_any_query_name_is_refused(app: RunningApp, clock: Clock) -> None:
    status, _, _ = await request(app, "?month=2026-11&x=attack-reader-token-0001")
    assert status in (400, 401)
    status, _, _ = await request(app, "?month=2026-11&x=attack-reader-token-0001", READER)
    assert status == 400, status  # a bearer token in a URL leaks: refuse it, whatever its name


async def test_scopes_other_than_metrics_are_refused_and_a_token_with_it_is_not(
    app: RunningApp,
) -> None:
    status, _, _ = await request(
        app, "?month=2026-11", {"Authorization": "Bearer attack-seats-token-0001"}
    )
    assert status == 403
    assert await audit_events(app, "report.view") == []
    status, _, _ = await request(
        app, "?month=2026-11", {"Authorization": "Bearer attack-both-token-00001"}
    )
    assert status == 200
    [view] = await audit_events(app, "report.view")
    assert view.actor == "api:both"


@pytest.mark.parametrize(
    "header",
    [
        "Basic YXR0YWNrLXJlYWRlci10b2tlbi0wMDAx",
        "Bearer",
        "Bearer ",
        "Bearer attack-reader-token-000",
        "Bearer attack-reader-token-00011",
        "Bearer attack-reader-token-0001 extra",
        "Token attack-reader-token-0001",
        "attack-reader-token-0001",
    ],
)
async def test_malformed_authorization_headers_are_refused(app: RunningApp, header: str) -> None:
    status, _page, headers = await request(app, "?month=2026-11", {"Authorization": header})
    assert status == 401, (header, status)
    assert "default-src 'none'" in headers.get("Content-Security-Policy", "")
    assert await audit_events(app, "report.view") == []


async def test_the_bearer_scheme_is_case_insensitive(app: RunningApp) -> None:
    # RFC 7235: the auth scheme is case-insensitive
    status, _, _ = await request(
        app, "?month=2026-11", {"Authorization": "bearer attack-reader-token-0001"}
    )
    assert status == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_other_methods_are_refused_and_change_nothing(app: RunningApp, method: str) -> None:
    status, _, _headers = await request(app, "?month=2026-11", READER, method=method)
    assert status == 405, status
    assert await audit_events(app, "report.view") == []


async def test_a_405_also_carries_the_csp(app: RunningApp) -> None:
    status, _, headers = await request(app, "?month=2026-11", READER, method="POST")
    assert status == 405
    assert "default-src 'none'" in headers.get("Content-Security-Policy", "")


async def test_head_does_not_crash_and_an_unauthorised_head_is_not_audited(app: RunningApp) -> None:
    status, _, headers = await request(app, "?month=2026-11", READER, method="HEAD")
    assert status in (200, 405), status
    if status == 200:
        assert "default-src 'none'" in headers.get("Content-Security-Policy", "")
    status, _, _ = await request(app, "?month=2026-11", method="HEAD")
    assert status in (401, 405)
    assert len(await audit_events(app, "report.view")) <= 1  # only the authorised HEAD


async def test_no_header_can_be_injected_through_the_query(app: RunningApp) -> None:
    for query in (
        "?month=2026-11%0D%0AX-Evil:%201",
        "?month=2026-11&expires=1%0D%0AX-Evil:%201&signature=00",
        "?month=2026-11%0AX-Evil:%201",
    ):
        status, _page, headers = await request(app, query)
        assert "X-Evil" not in headers, query
        assert status in (400, 401)


async def test_every_answer_carries_a_strict_csp(app: RunningApp, clock: Clock) -> None:
    answers = [
        await request(app, "?month=2026-11", READER),
        await request(app, signed("2026-11", clock())),
        await request(app, "?month=2026-11"),
        await request(app, "?month=bad", READER),
        await request(app, "?month=2026-11", {"Authorization": "Bearer attack-seats-token-0001"}),
    ]
    for status, _, headers in answers:
        csp = headers.get("Content-Security-Policy", "")
        assert "default-src 'none'" in csp, (status, csp)
        assert "unsafe-eval" not in csp
        script = re.search(r"script-src([^;]*)", csp)
        assert script is None or "'none'" in script[1], csp
        assert "frame-ancestors 'none'" in csp or "frame-ancestors" not in csp
    assert [a[0] for a in answers] == [200, 200, 401, 400, 403]


async def test_many_concurrent_views_are_each_audited_and_agree(app: RunningApp) -> None:
    answers = await asyncio.gather(*(request(app, "?month=2026-10", READER) for _ in range(25)))
    assert {a[0] for a in answers} == {200}
    bodies = {a[1] for a in answers}
    assert len(bodies) == 1
    views = await audit_events(app, "report.view")
    assert len(views) == 25
    assert {v.subject for v in views} == {"2026-10"}


async def test_the_report_link_secret_must_be_long_enough(settings: Settings) -> None:
    with pytest.raises(ValidationError):
        Settings(**{**settings.model_dump(), "report_link_secret": SecretStr("short" * 6)})


async def test_the_report_link_secret_is_its_own_secret(settings: Settings) -> None:
    # "its own secret": reusing SURVEY_SECRET for the links should not be accepted
    with pytest.raises(ValidationError):
        Settings(**{**settings.model_dump(), "report_link_secret": SecretStr(SURVEY_SECRET)})


# --------------------------------------------------------------------------- content


SURVEY = """
id: {id}
title: {title}
intro: Two questions.
anonymous: true
window_days: 7
questions:
  - id: satisfaction
    type: likert
    text: How satisfied were you?
    options: [Very dissatisfied, Dissatisfied, Neutral, Satisfied, Very satisfied]
    measures: satisfaction
  - id: recommend
    type: nps
    text: How likely are you to recommend them?
    measures: NPS
"""


async def add_survey(
    app: RunningApp, *, ident: str, name: str, people: int, at: dt.datetime
) -> None:
    yaml_title = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    answers = [
        (f"U7{ident[:3].upper()}{n:03d}", "growth", {"satisfaction": 5, "recommend": 10})
        for n in range(people)
    ]
    async with app.deps.sessions.begin() as session:
        run = await seed_answered_run(
            session,
            SURVEY.format(id=ident, title=yaml_title),
            answers,
            secret=app.deps.settings.survey_key(),
            now=at,
            period=f"{ident}-{at:%Y-%m}",
        )
        await surveys.close_due(
            session=session, now=run.closes_at, rules=app.deps.settings.survey_rules()
        )


async def test_hostile_survey_titles_are_escaped_in_tables_and_charts(app: RunningApp) -> None:
    at = dt.datetime(2026, 11, 4, 10, tzinfo=dt.UTC)
    await add_survey(app, ident="hostile", name=HOSTILE, people=6, at=at)
    status, page, _ = await request(app, "?month=2026-11", READER)
    assert status == 200, page[:300]
    svgs = strict_html(page)
    assert "<svg onload" not in page
    assert "<b>x</b>" not in page
    assert "<!channel>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page  # shown, as text
    texts = [
        "".join(node.itertext())
        for svg in svgs
        for node in svg.iter()
        if str(node.tag).endswith("}text") or str(node.tag).endswith("title")
    ]
    labels = [node.get("aria-label", "") for svg in svgs for node in svg.iter()]
    assert any("<b>x</b>" in t for t in texts + labels), "title not drawn in the survey chart"


async def test_a_survey_under_the_minimum_group_shows_no_scores(app: RunningApp) -> None:
    at = dt.datetime(2026, 11, 4, 10, tzinfo=dt.UTC)
    await add_survey(app, ident="tinyrun", name="Tiny pulse", people=3, at=at)
    status, page, _ = await request(app, "?month=2026-11", READER)
    assert status == 200
    row = re.search(r"<tr><td>Tiny pulse[^<]*</td>(.*?)</tr>", page, re.S)
    if row:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)
        assert not re.search(r"^-?\d+$", cells[-1].strip()), cells  # no NPS for 3 people
    for svg in re.findall(r"<svg\b.*?</svg>", page, re.S):
        for label in re.findall(r'aria-label="([^"]*)"', svg):
            if "Tiny pulse" in label:
                assert not re.search(r"\d\.\d|: [1-5](;|$)", label), label


async def answered(
    app: RunningApp, month: dt.date, count: int, champion: str, hours: float = 2
) -> None:
    async with app.deps.sessions.begin() as session:
        for n in range(count):
            asked = dt.datetime.combine(month + dt.timedelta(days=n), dt.time(9), tzinfo=dt.UTC)
            session.add(
                Question(
                    asker_id=f"U6ASK{n:03d}",
                    text=f"question {n}",
                    status="answered",
                    champion_id=champion,
                    created_at=asked,
                    answered_at=asked + dt.timedelta(hours=hours + n),
                    answer="yes",
                    answered_by=champion,
                )
            )


def answer_row(page: str, month: str) -> list[str]:
    found = re.search(rf"<tr><td>{month}</td>(.*?)</tr>", page, re.S)
    assert found, month
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", found[1])]


async def test_a_month_with_three_answers_shows_counts_only(app: RunningApp) -> None:
    await answered(app, dt.date(2026, 10, 5), 3, "U0CHAMPONE", hours=7)
    await answered(app, dt.date(2026, 11, 5), 5, "U0CHAMPTWO", hours=3)
    status, page, _ = await request(app, "?month=2026-11", READER)
    assert status == 200
    svgs = strict_html(page)
    october = answer_row(page, "2026-10")
    november = answer_row(page, "2026-11")
    assert october[:2] == ["3", "3"], october
    assert all(cell in {"—", "", "-"} for cell in october[2:]), october
    assert november[1] == "5"
    assert re.fullmatch(r"\d+(\.\d)?", november[2]), november
    assert "U0CHAMP" not in page
    assert "U6ASK" not in page
    # the chart must not draw October's median either
    for svg in svgs:
        for node in svg.iter():
            label = node.get("aria-label", "")
            if "2026-10" in label or "Oct" in label:
                assert not re.search(r"\b(8|9|8\.0|9\.0)\b", label), label


async def test_the_minimum_group_setting_is_honoured_for_answer_times(
    settings: Settings, clock: Clock
) -> None:
    clock.now = DECEMBER_FIRST
    running, runner = await start_app(app_settings(settings, survey_min_group=7), clock)
    try:
        await answered(running, dt.date(2026, 11, 3), 6, "U0CHAMPONE")
        status, page, _ = await request(running, "?month=2026-11", READER)
        assert status == 200
        november = answer_row(page, "2026-11")
        assert all(cell in {"—", "", "-"} for cell in november[2:]), november
    finally:
        await runner.cleanup()


async def test_demo_with_hostile_team_name_and_note_escaped_everywhere_and_nobody_small_named(
    settings: Settings, clock: Clock, slack: FakeSlack, tmp_path: Any
) -> None:
    clock.now = DECEMBER_FIRST
    running, runner = await start_app(app_settings(settings), clock)
    try:
        await report_demo.fill(running, now=clock(), people=40)
        hostile_team = "<!channel> <i>growth</i> & ]]>"
        hostile_note = "note <script>alert(1)</script> </text></svg><b>n</b> & ]]>"
        async with running.deps.sessions.begin() as session:
            await session.exec(
                update(Team).where(col(Team.name) == "growth").values(name=hostile_team)
            )
            session.add(
                UsageNote(
                    team=hostile_team.lower(),
                    month="2026-11",
                    text=hostile_note,
                    author="U0ADMIN",
                    at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
                )
            )
            teams = {t.id: t.name for t in (await session.exec(select(Team))).all()}
            sizes = Counter(
                teams[m.team_id] for m in (await session.exec(select(TeamMember))).all()
            )
        status, page, _ = await request(running, "?month=2026-11", READER)
        assert status == 200
        svgs = strict_html(page)
        assert "<i>growth</i>" not in page
        assert "<script>alert" not in page
        assert "<!channel>" not in page
        assert "&lt;i&gt;growth&lt;/i&gt;" in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, "the CoE note is not shown"
        drawn = " ".join(
            (node.get("aria-label", "") + " " + "".join(node.itertext()))
            for svg in svgs
            for node in svg.iter()
        )
        assert "<i>growth</i>" in drawn  # the team drawn in a chart, as text
        # small teams: never a row or a chart mark of their own
        small = {name for name, size in sizes.items() if size < 5}
        assert small
        for label in re.findall(r"team: ([^;]*);", drawn):
            assert label not in small, label
        for row in re.findall(r"<tr><td>(.*?)</td>(.*?)</tr>", page, re.S):
            name = re.sub(r"<[^>]+>", "", row[0]).strip()
            if name in small:
                assert re.search(r"fewer than|not compared", row[1]), row
        # the summary in Slack escapes the team name too (no @channel ping)
        assert await report_job.post_monthly(running.deps)
        await outbox_worker.send_due(running.deps)
        [message] = slack.messages("C0COE")
        assert "<!channel>" not in str(message)
        assert "<i>growth" not in message["text"] or "&lt;" in message["text"]
        # the offline page escapes the same way
        out = tmp_path / "report.html"
        command = await asyncio.create_subprocess_exec(
            *coe_bot_command(),
            *("report", "monthly", "--month", "2026-11", "-o", str(out)),
            env=clean_env(DATABASE_URL=running.deps.settings.database_url),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(command.communicate(), timeout=120)
        assert command.returncode == 0, err.decode()
        offline = out.read_text(encoding="utf-8")
        strict_html(offline)
        assert "<i>growth</i>" not in offline
        assert "<script>alert" not in offline
    finally:
        await runner.cleanup()


async def test_demo_one_small_team_is_never_shown_alone_and_concurrent_views_build_once(
    settings: Settings, clock: Clock
) -> None:
    clock.now = DECEMBER_FIRST
    running, runner = await start_app(app_settings(settings), clock)
    try:
        await report_demo.fill(running, now=clock(), people=40)
        # fold the small teams into "web" but "platform": platform (4 people) is the only
        # team under the minimum group
        async with running.deps.sessions.begin() as session:
            teams = {t.name: t.id for t in (await session.exec(select(Team))).all()}
            await session.exec(
                update(TeamMember)
                .where(col(TeamMember.team_id) == teams["data"])
                .values(team_id=teams["web"])
            )
            sizes = Counter(m.team_id for m in (await session.exec(select(TeamMember))).all())
        assert sizes[teams["platform"]] == 4
        assert all(s >= 5 for t, s in sizes.items() if t != teams["platform"])
        started = time.monotonic()
        status, page, _ = await request(running, "?month=2026-09", READER)
        single = time.monotonic() - started
        assert status == 200
        svgs = strict_html(page)
        for row in re.findall(r"<tr><td>(.*?)</td>(.*?)</tr>", page, re.S):
            cell = re.sub(r"<[^>]+>", " ", row[0])
            if "other teams" in cell:
                merged = re.search(r"\(([^()]*)\)\s*$", cell.strip())
                assert merged is None or "," in merged[1], cell  # one team is not merged
            if cell.strip() == "platform":
                assert re.search(r"fewer than|not compared", row[1]), row
        for svg in svgs:
            for node in svg.iter():
                assert "team: platform;" not in node.get("aria-label", "")
        # ten concurrent views of a month nobody has built: not ten builds
        started = time.monotonic()
        answers = await asyncio.gather(
            *(request(running, "?month=2026-10", READER) for _ in range(10))
        )
        together = time.monotonic() - started
        assert {a[0] for a in answers} == {200}
        assert len(await audit_events(running, "report.view")) == 11
        assert together < max(4 * single, 2.0), (single, together)
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- the job


async def run_job(app: RunningApp, clock: Clock, rounds: int = 3) -> None:
    for _ in range(rounds):
        await outbox_worker.send_due(app.deps)
        clock.advance(minutes=10)


async def make_app(settings: Settings, clock: Clock, **changes: Any) -> Any:
    return await start_app(app_settings(settings, **changes), clock)


async def test_auckland_posts_once_the_month_has_ended_in_utc_too(
    settings: Settings, clock: Clock, slack: FakeSlack
) -> None:
    """09:00 on 1 December in Auckland is 20:00 on 30 November in UTC, where the figures
    are counted: the summary waits for the UTC month to end (13:00 in Auckland)."""
    clock.now = dt.datetime(2026, 11, 30, 20, 0, tzinfo=dt.UTC)  # 09:00 on 1 Dec in NZ
    running, runner = await make_app(settings, clock, business_timezone="Pacific/Auckland")
    try:
        assert not await report_job.post_monthly(running.deps)
        clock.now = dt.datetime(2026, 11, 30, 23, 59, tzinfo=dt.UTC)
        assert not await report_job.post_monthly(running.deps)
        clock.now = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)
        assert await report_job.post_monthly(running.deps)
        assert not await report_job.post_monthly(running.deps)
        await run_job(running, clock)
        [message] = slack.messages("C0COE")
        assert "November 2026" in message["text"], message["text"]
        url = re.search(
            r"<(https://coe-bot\.example\.com/reports/monthly\?[^|>]+)", message["text"]
        )
        assert url, message["text"]
        params = parse_qs(urlsplit(url[1].replace("&amp;", "&")).query)
        assert params["month"] == ["2026-11"]
        expires = int(params["expires"][0])
        made = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)
        assert abs(expires - (made + dt.timedelta(days=14)).timestamp()) < 3600
    finally:
        await runner.cleanup()


async def test_a_first_on_saturday_waits_for_monday(
    settings: Settings, clock: Clock, slack: FakeSlack
) -> None:
    clock.now = dt.datetime(2026, 8, 1, 9, 0, tzinfo=dt.UTC)  # Saturday
    running, runner = await make_app(settings, clock, business_timezone="UTC")
    try:
        assert not await report_job.post_monthly(running.deps)
        clock.now = dt.datetime(2026, 8, 3, 8, 59, tzinfo=dt.UTC)
        assert not await report_job.post_monthly(running.deps)
        clock.now = dt.datetime(2026, 8, 3, 9, 0, tzinfo=dt.UTC)
        assert await report_job.post_monthly(running.deps)
        await run_job(running, clock)
        [message] = slack.messages("C0COE")
        assert "July 2026" in message["text"], message["text"]
    finally:
        await runner.cleanup()


async def test_after_the_grace_window_nothing_is_posted(
    settings: Settings, clock: Clock, slack: FakeSlack
) -> None:
    clock.now = DECEMBER_FIRST + report_job.GRACE + dt.timedelta(seconds=1)
    running, runner = await make_app(settings, clock)
    try:
        assert not await report_job.post_monthly(running.deps)
        clock.now = dt.datetime(2026, 12, 31, 8, 0, tzinfo=dt.UTC)
        assert not await report_job.post_monthly(running.deps)
        await run_job(running, clock)
        assert slack.messages("C0COE") == []
    finally:
        await runner.cleanup()


async def test_two_replicas_firing_together_post_once(
    settings: Settings, clock: Clock, slack: FakeSlack
) -> None:
    clock.now = DECEMBER_FIRST
    one, runner_one = await make_app(settings, clock)
    two, runner_two = await make_app(settings, clock)
    try:
        fired = await asyncio.gather(
            report_job.post_monthly(one.deps),
            report_job.post_monthly(two.deps),
            report_job.post_monthly(one.deps),
            report_job.post_monthly(two.deps),
        )
        assert sorted(fired) == [False, False, False, True], fired
        for _ in range(3):
            await asyncio.gather(outbox_worker.send_due(one.deps), outbox_worker.send_due(two.deps))
            clock.advance(minutes=10)
        assert len(slack.messages("C0COE")) == 1
        assert len(await audit_events(one, "report.link")) == 1
        shared = [f for f in slack.uploaded_files("C0COE")]
        assert len(shared) <= 1
    finally:
        await runner_one.cleanup()
        await runner_two.cleanup()


async def test_without_a_coe_channel_the_admins_get_it_once_and_nothing_crashes(
    settings: Settings, clock: Clock, slack: FakeSlack
) -> None:
    # coe-bot's CoE notices fall back to the admins' DMs when COE_CHANNEL is unset
    clock.now = DECEMBER_FIRST
    running, runner = await make_app(settings, clock, coe_channel=None)
    try:
        await report_job.post_monthly(running.deps)
        assert not await report_job.post_monthly(running.deps)
        await run_job(running, clock)
        assert slack.messages("C0COE") == []
        assert len(slack.messages("U0ADMIN")) <= 1
        assert len(await audit_events(running, "report.link")) <= 1
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("missing", ["public_url", "report_link_secret"])
async def test_without_a_public_url_or_link_secret_no_broken_link_is_posted(
    settings: Settings, clock: Clock, slack: FakeSlack, missing: str
) -> None:
    clock.now = DECEMBER_FIRST
    running, runner = await make_app(settings, clock, **{missing: None})
    try:
        queued = await report_job.post_monthly(running.deps)
        await run_job(running, clock)
        posted = slack.messages("C0COE")
        assert len(posted) == (1 if queued else 0)
        for message in posted:
            assert "None" not in message["text"]
            assert "signature=" not in message["text"]
            assert "<https://" not in message["text"] or missing == "public_url"
        assert await audit_events(running, "report.link") == []
    finally:
        await runner.cleanup()


async def test_an_archived_coe_channel_neither_crashes_nor_retries_forever(
    settings: Settings, clock: Clock, slack: FakeSlack
) -> None:
    clock.now = DECEMBER_FIRST
    slack.archive_channel("C0COE")
    running, runner = await make_app(settings, clock)
    try:
        assert await report_job.post_monthly(running.deps)
        for _ in range(6):
            await outbox_worker.send_due(running.deps)
            clock.advance(hours=1)
        assert slack.messages("C0COE") == []
        tries = len(slack.calls_to("files.getUploadURLExternal", ok_only=False))
        tries += len(slack.calls_to("chat.postMessage", ok_only=False))
        assert tries <= 3, tries
    finally:
        await runner.cleanup()


async def test_demo_transient_upload_faults_still_end_in_one_message_with_its_chart(
    settings: Settings, clock: Clock, slack: FakeSlack
) -> None:
    clock.now = DECEMBER_FIRST
    running, runner = await make_app(settings, clock)
    try:
        await report_demo.fill(running, now=clock(), people=40)
        scenarios = [
            # (first business day 09:00 Paris, the fault, the month reported)
            (DECEMBER_FIRST, "lose files.getUploadURLExternal", "November 2026"),
            (dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC), "fail file_upload", "October 2026"),
            (
                dt.datetime(2026, 10, 1, 7, 0, tzinfo=dt.UTC),
                "fail files.completeUploadExternal",
                "September 2026",
            ),
        ]
        problems = []
        for when, fault, month in scenarios:
            before = len(slack.messages("C0COE"))
            clock.now = when
            how, method = fault.split()
            if how == "lose":
                slack.lose_answer(method, "reset")
            else:
                slack.fail(method, status=500)
            assert await report_job.post_monthly(running.deps), fault
            for _ in range(6):
                await outbox_worker.send_due(running.deps)
                clock.advance(minutes=10)
            if how == "lose":
                assert slack.faults.take_lost(method) is None, fault  # the fault was hit
            else:
                assert slack.faults.take(method) is None, fault
            posted = slack.messages("C0COE")[before:]
            got = [(month in m["text"], len(m.get("files") or [])) for m in posted]
            if got != [(True, 1)]:
                problems.append((fault, got))
        assert problems == []
    finally:
        await runner.cleanup()


async def test_without_files_write_and_a_lost_post_answer_posts_once(
    settings: Settings, clock: Clock, slack: FakeSlack
) -> None:
    clock.now = DECEMBER_FIRST
    running, runner = await make_app(settings, clock)
    try:
        slack.fail("files.getUploadURLExternal", error="missing_scope", times=10)
        slack.lose_answer("chat.postMessage", "reset")
        assert await report_job.post_monthly(running.deps)
        for _ in range(6):
            await outbox_worker.send_due(running.deps)
            clock.advance(minutes=10)
        posted = slack.messages("C0COE")
        assert len(posted) == 1, posted
        assert not posted[0].get("files")
        assert "<https://coe-bot.example.com/reports/monthly?" in posted[0]["text"]
    finally:
        await runner.cleanup()


async def test_the_posted_link_opens_the_page_and_names_nobody(
    settings: Settings, clock: Clock, slack: FakeSlack
) -> None:
    clock.now = DECEMBER_FIRST
    running, runner = await make_app(settings, clock)
    try:
        await answered(running, dt.date(2026, 11, 3), 6, "U0CHAMPONE")
        assert await report_job.post_monthly(running.deps)
        await run_job(running, clock)
        [message] = slack.messages("C0COE")
        assert "U0CHAMP" not in str(message)
        assert "<@" not in message["text"]
        url = re.search(
            r"<(https://coe-bot\.example\.com/reports/monthly\?[^|>]+)", message["text"]
        )
        assert url
        status, page, _ = await request(
            running, "?" + url[1].split("?", 1)[1].replace("&amp;", "&")
        )
        assert status == 200
        assert "November 2026" in title(page)
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- the CLI


CLI_BAD_MONTHS = [
    "2026-1",
    "0000-00",
    "0000-01",
    " 2026-11",
    "2026-11\n",
    "\uff12\uff10\uff12\uff16-\uff11\uff11",
    "\u0662\u0660\u0662\u0666-\u0661\u0661",
    "",
    "99999-01",
]
CLI_LINK_MONTHS = ["0000-01", " 2026-11", ""]  # `link` reads months the same way


async def test_cli_bad_months_exit_2_with_one_line(app: RunningApp, tmp_path: Any) -> None:
    database = app.deps.settings.database_url
    results = await asyncio.gather(
        *(
            run_coe_bot(
                "report",
                "monthly",
                "--month",
                month,
                "-o",
                str(tmp_path / f"r{i}.html"),
                DATABASE_URL=database,
            )
            for i, month in enumerate(CLI_BAD_MONTHS)
        ),
        *(
            run_coe_bot(
                "report",
                "link",
                "--month",
                month,
                DATABASE_URL=database,
                REPORT_LINK_SECRET=SECRET,
                PUBLIC_URL="https://coe-bot.example.com",
            )
            for month in CLI_LINK_MONTHS
        ),
    )
    problems = []
    for month, (code, out, err) in zip(CLI_BAD_MONTHS + CLI_LINK_MONTHS, results, strict=True):
        if code != 2 or out or len(err.strip().splitlines()) != 1 or "Traceback" in err:
            problems.append((month, code, out[:80], err[-200:]))
    assert problems == []
    assert not list(tmp_path.iterdir())
    assert await audit_events(app, "report.link") == []


async def test_cli_link_days_bounds(app: RunningApp) -> None:
    database = app.deps.settings.database_url
    env = {
        "DATABASE_URL": database,
        "REPORT_LINK_SECRET": SECRET,
        "PUBLIC_URL": "https://coe-bot.example.com",
    }
    bad = await asyncio.gather(
        *(
            run_coe_bot("report", "link", "--month", "2026-11", "--days", days, **env)
            for days in ("0", "abc", "91")
        )
    )
    for code, out, err in bad:
        assert code == 2, (code, out, err)
        assert out == ""
        assert "Traceback" not in err
    code, out, err = await run_coe_bot(
        "report", "link", "--month", "2026-11", "--days", "90", **env
    )
    assert code == 0, err
    expires = int(parse_qs(urlsplit(out.strip()).query)["expires"][0])
    assert 89 * 86400 < expires - time.time() <= 91 * 86400
    assert len(await audit_events(app, "report.link")) == 1


async def test_cli_link_without_public_url_or_with_a_short_secret(app: RunningApp) -> None:
    database = app.deps.settings.database_url
    code, out, err = await run_coe_bot(
        "report", "link", "--month", "2026-11", DATABASE_URL=database, REPORT_LINK_SECRET="short"
    )
    assert code == 2, (code, out, err)
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    code, out, err = await run_coe_bot(
        "report", "link", "--month", "2026-11", DATABASE_URL=database, REPORT_LINK_SECRET=SECRET
    )
    # with no PUBLIC_URL the command cannot make a full link: a clear refusal, not "None/…"
    assert "None" not in out
    if code == 0:
        assert out.strip().startswith("http"), out
    else:
        assert code == 2, (code, err)
        assert "PUBLIC_URL" in err, err


async def test_cli_monthly_to_an_unwritable_place_is_a_one_line_error(
    app: RunningApp, tmp_path: Any
) -> None:
    code, _out, err = await run_coe_bot(
        "report", "monthly", "--month", "2026-11", "-o", str(tmp_path / "no" / "such" / "r.html"),
        DATABASE_URL=app.deps.settings.database_url,
    )  # fmt: skip
    assert code != 0
    assert "Traceback" not in err, err[-500:]
    assert len(err.strip().splitlines()) == 1, err
