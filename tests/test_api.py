"""The CoE review API: tokens, errors, pagination to the end, CSV, anonymity, audit, OpenAPI."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.services import policy, surveys
from bot.services.policy_search import Outcome, PolicyAnswer
from bot.services.survey_definitions import parse_definition
from tests.conftest import Clock, RunningApp, start_app
from tests.helpers import answered_run, audit_events

DASH = "tok-dash-0123456789"  # metrics and responses
NOTE = "tok-note-0123456789"  # metrics and responses
AGG = "tok-aggregates-only-01"  # metrics only
TOKENS = (
    f"dashboards:metrics,responses={DASH};notebooks:metrics,responses={NOTE};board:metrics={AGG}"
)
SURVEY = """
id: pulse
title: Pulse
intro: Two questions.
anonymous: true
audience: {active_days: 30}
questions:
  - id: useful
    type: likert
    text: Useful?
  - id: why
    type: text
    text: Why?
    required: false
"""


@pytest.fixture
async def api(settings: Settings, clock: Clock) -> AsyncIterator[RunningApp]:
    app, runner = await start_app(
        settings.model_copy(update={"coe_api_token": SecretStr(TOKENS)}), clock
    )
    try:
        yield app
    finally:
        await runner.cleanup()


async def get(app: RunningApp, path: str, token: str | None = DASH) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{app.url}/api/v1{path}", headers=headers) as response,
    ):
        body = await response.text()
        kind = response.headers.get("Content-Type", "")
        return response.status, (await response.json() if "json" in kind else body)


async def seed_lookups(app: RunningApp, count: int) -> None:
    async with app.deps.sessions.begin() as session:
        await policy.record_lookups(
            session=session,
            records=[
                policy.LookupRecord(
                    request_key=f"t{i}",
                    user_id="U0ALICE",
                    team_id=None,
                    channel_id=None,
                    answer=PolicyAnswer(
                        query=f"question {i}",
                        outcome=Outcome.no_match if i % 2 else Outcome.answered,
                    ),
                    pack_version="1",
                    at=app.deps.clock(),
                )
                for i in range(count)
            ],
        )


async def seed_responses(app: RunningApp, teams: list[str], *, close: bool = True) -> int:
    responses = [(team, {"useful": 4, "why": "because"}) for team in teams]
    return await answered_run(app, SURVEY, responses, close=close)


async def test_tokens(api: RunningApp) -> None:
    await seed_lookups(api, 3)
    for token in (None, "wrong", DASH + "-but-longer", DASH[:-1], "=", ""):
        status, body = await get(api, "/lookups", token)
        assert status == 401
        assert body == {"error": "unauthorized", "field": None}  # nothing about the data
    assert (await get(api, "/lookups", NOTE))[0] == 200


async def test_pagination_to_the_end_and_bad_parameters(api: RunningApp) -> None:
    await seed_lookups(api, 25)
    seen: list[int] = []
    cursor = ""
    while True:
        status, body = await get(api, f"/lookups?limit=10{cursor}")
        assert status == 200
        seen += [item["id"] for item in body["items"]]
        if not body["next_cursor"]:
            break
        cursor = f"&cursor={body['next_cursor']}"
    assert len(seen) == 25
    assert seen == sorted(set(seen))
    for query, field in (
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("cursor=!!", "cursor"),
        ("since=yesterday", "since"),
        ("colour=red", "colour"),
    ):
        status, body = await get(api, f"/lookups?{query}")
        assert status == 422, query
        assert body["field"] == field
    assert (await get(api, "/runs/999/results"))[0] == 404
    assert (await get(api, "/nope"))[0] == 404


async def test_topics_show_what_matched_nothing(api: RunningApp) -> None:
    await seed_lookups(api, 4)
    status, body = await get(api, "/lookups/topics")
    assert status == 200
    assert {q["query"] for q in body["unanswered_queries"]} == {"question 1", "question 3"}


async def test_responses_keep_anonymity_in_json_and_csv_and_reads_are_audited(
    api: RunningApp,
) -> None:
    run_id = await seed_responses(api, ["payments"] * 6 + ["search"] * 2)
    status, body = await get(api, f"/runs/{run_id}/responses")
    assert status == 200
    assert len(body["items"]) == 8
    assert all(set(item) == {"run_date", "team", "useful", "why"} for item in body["items"])
    assert {item["team"] for item in body["items"]} == {"(all teams)"}  # 2 would single out
    status, text = await get(api, f"/runs/{run_id}/responses?format=csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 8
    assert "respondent" not in rows[0]
    assert not any("U0P" in value for row in rows for value in row.values())
    reads = await audit_events(api, "api.read_responses")
    assert [e.actor for e in reads] == ["api:dashboards", "api:dashboards"]

    status, results = await get(api, f"/runs/{run_id}/results")
    assert status == 200
    assert results["respondents"] == 8
    assert "search" not in results["by_team"]
    why = next(q for q in results["questions"] if q["id"] == "why")
    assert why["texts_hidden"] is True  # 8 texts, fewer than 10


async def test_openapi_matches_the_routes(api: RunningApp) -> None:
    status, document = await get(api, "/openapi.json", token=None)
    assert status == 200
    assert document["openapi"].startswith("3.1")
    from bot.api.routes import ROUTES

    assert set(document["paths"]) == {f"/api/v1{r.path}" for r in ROUTES}
    for path in ("/api/v1/lookups", "/api/v1/questions", "/api/v1/audit", "/api/v1/prompts"):
        names = {p["name"] for p in document["paths"][path]["get"]["parameters"]}
        assert {"limit", "cursor", "since", "until"} <= names
        status, _ = await get(api, path.removeprefix("/api/v1") + "?limit=5&since=2026-01-01")
        assert status == 200


async def test_the_api_is_off_without_a_token(running: RunningApp) -> None:
    assert (await get(running, "/lookups"))[0] == 404


async def test_metrics_count_distinct_people_beside_impact(api: RunningApp) -> None:
    from bot.services import teams
    from bot.services.policy_search import PolicyAnswer

    now = api.deps.clock()
    async with api.deps.sessions.begin() as session:
        payments = await teams.get_or_create(session=session, name="payments", now=now)
        await teams.set_member(session=session, user_id="U0ALICE", team=payments, now=now)
        await policy.record_lookups(
            session=session,
            records=[
                policy.LookupRecord(
                    request_key=f"m{i}",
                    user_id="U0ALICE",
                    team_id=None,
                    channel_id=None,
                    answer=PolicyAnswer(query="q", outcome=Outcome.answered),
                    pack_version="1",
                    at=now,
                )
                for i in range(50)
            ],
        )  # one person looking up 50 times is still one person
    status, body = await get(api, "/metrics?team=payments")
    assert status == 200
    [row] = body["items"]
    assert row["adoption"]["active_people"] == 1
    assert row["adoption"]["policy_lookups"] == 50
    assert row["adoption"]["policy_lookup_people"] == 1
    assert row["impact"]["impact_hidden"] is True  # no survey group large enough


async def test_no_request_the_openapi_document_allows_gets_a_500(api: RunningApp) -> None:
    """Property-based: random values for every parameter of every documented route.

    Hypothesis drives a plain HTTP client in a thread while the server keeps serving here.
    """
    import asyncio
    import urllib.error
    import urllib.parse
    import urllib.request

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from bot.api.routes import document

    await seed_lookups(api, 3)
    await seed_responses(api, ["payments"] * 5)
    paths = sorted(document()["paths"].items())
    junk = st.one_of(
        st.text(max_size=40),
        st.integers(-5, 10**7).map(str),
        st.dates().map(str),
        st.sampled_from(["", "0", "-1", "x" * 300, "2026-02-30", "%00", "1e9", "null"]),
    )
    seen: list[int] = []

    def status(path: str, query: dict[str, str]) -> int:
        url = f"{api.url}{urllib.parse.quote(path)}?{urllib.parse.urlencode(query)}"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {DASH}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    @settings(
        max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(st.sampled_from(paths), st.data())
    def never_500(route: tuple[str, Any], data: st.DataObject) -> None:
        path, spec = route
        query: dict[str, str] = {}
        for param in spec["get"]["parameters"]:
            value = data.draw(junk)
            if param["in"] == "path":
                path = path.replace("{" + param["name"] + "}", value or "1")
            elif data.draw(st.booleans()):
                query[param["name"]] = value
        code = status(path, query)
        seen.append(code)
        assert code != 500, (path, query)

    await asyncio.to_thread(never_500)
    assert len(seen) >= 150
    assert {200, 422} <= set(seen)


async def test_each_resource_and_its_filters(api: RunningApp) -> None:
    from bot.models import Question
    from bot.services import prompts, teams

    run_id = await seed_responses(api, ["payments"] * 5)
    now = api.deps.clock()
    async with api.deps.sessions.begin() as session:
        payments = await teams.get_or_create(session=session, name="payments", now=now)
        search = await teams.get_or_create(session=session, name="search", now=now)
        session.add(
            Question(
                asker_id="U0ALICE",
                team_id=payments.id,
                text="q1",
                status="answered",
                created_at=now,
                claimed_at=now + dt.timedelta(minutes=5),
                answered_at=now + dt.timedelta(hours=2),
            )
        )
        session.add(Question(asker_id="U0BOB", team_id=search.id, text="q2", created_at=now))
        await prompts.create(
            session=session,
            draft=prompts.PromptDraft(title="T", body="B"),
            author_id="U0ALICE",
            team="payments",
            now=now,
            needs_review=False,
        )

    status, body = await get(api, "/surveys")
    assert status == 200
    assert [s["id"] for s in body["items"]] == ["pulse"]
    status, body = await get(api, "/surveys/pulse/runs")
    assert status == 200
    assert body["items"][0]["responses"] == 5
    assert (await get(api, "/surveys/nothing/runs"))[0] == 404
    status, body = await get(api, "/questions?team=payments")
    assert status == 200
    [question] = body["items"]
    assert question["seconds_to_claim"] == 300
    assert question["seconds_to_answer"] == 7200
    assert (await get(api, "/questions?team=search"))[1]["items"][0]["status"] == "open"
    assert len((await get(api, "/prompts?team=payments"))[1]["items"]) == 1
    assert (await get(api, "/prompts?team=search"))[1]["items"] == []
    day = now.date()
    assert len((await get(api, f"/questions?since={day}"))[1]["items"]) == 2
    assert (await get(api, f"/questions?until={day}"))[1]["items"] == []
    _status, body = await get(api, "/audit?limit=500")
    assert {"policy.load", "survey.load", "survey.send"} <= {e["action"] for e in body["items"]}
    assert (await get(api, f"/runs/{run_id}/results"))[0] == 200


RESPONSES_ROUTES = {
    "/runs/{run_id}/responses",
    "/questions",
    "/prompts",
    "/lookups",
    "/lookups/votes",
    "/audit",
}


async def test_each_route_needs_its_scope_and_the_document_says_which(api: RunningApp) -> None:
    from bot.api.routes import ROUTES

    run_id = await seed_responses(api, ["payments"] * 5)
    await seed_lookups(api, 2)
    _, document = await get(api, "/openapi.json", token=None)
    for route in ROUTES:
        operation = document["paths"][f"/api/v1{route.path}"]["get"]
        expected = "responses" if route.path in RESPONSES_ROUTES else "metrics"
        expected = "seats" if route.path == "/seats/idle" else expected
        assert operation["security"] == [{"bearer": [expected]}]
        assert "403" in operation["responses"]
        path = route.path.replace("{run_id}", str(run_id)).replace("{survey_id}", "pulse")
        status, body = await get(api, path, AGG)
        if expected != "metrics":
            assert status == 403, path
            assert body == {"error": f"this token lacks the {expected!r} scope", "field": None}
        else:
            assert status == 200, (path, body)
    assert await audit_events(api, "api.read_responses") == []  # refused reads read nothing


async def test_every_read_under_the_responses_scope_is_audited_with_token_and_scope(
    api: RunningApp,
) -> None:
    run_id = await seed_responses(api, ["payments"] * 5)
    for path in (f"/runs/{run_id}/responses?format=csv", "/questions", "/prompts", "/lookups"):
        assert (await get(api, path, NOTE))[0] == 200
    assert (await get(api, "/audit?since=2026-01-01", DASH))[0] == 200
    assert (await get(api, "/metrics", DASH))[0] == 200  # aggregates: not a read of people

    reads = await audit_events(api, "api.read_responses")
    assert [(e.actor, e.details["scope"], e.details["route"]) for e in reads] == [
        ("api:notebooks", "responses", "/runs/{run_id}/responses"),
        ("api:notebooks", "responses", "/questions"),
        ("api:notebooks", "responses", "/prompts"),
        ("api:notebooks", "responses", "/lookups"),
        ("api:dashboards", "responses", "/audit"),
    ]
    assert reads[0].details["format"] == "csv"
    assert reads[-1].details["params"] == {"since": "2026-01-01 00:00:00+00:00", "limit": "100"}


async def test_a_base64_token_as_secret_managers_make_it_is_one_bare_token(
    settings: Settings, clock: Clock
) -> None:
    token = "c2VjcmV0dG9rZW4xMjM0NQ=="
    app, runner = await start_app(
        settings.model_copy(update={"coe_api_token": SecretStr(token)}), clock
    )
    try:
        await seed_lookups(app, 1)
        for wrong in ("=", "==", "c2VjcmV0dG9rZW4xMjM0NQ", token + "="):
            assert (await get(app, "/lookups", wrong))[0] == 401, wrong
        assert (await get(app, "/lookups", token))[0] == 200
        assert (await get(app, "/metrics", token))[0] == 200
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/runs/%C2%B9/results", 404, None),  # "¹" passes str.isdigit()
        ("/runs/%D9%A1/results", 404, None),  # an Arabic-Indic one is not run 1
        ("/runs/%C2%B9/responses", 404, None),
        ("/runs/9223372036854775808/results", 404, None),
        ("/runs/2147483648/responses", 404, None),
        ("/questions?cursor=eyJhZnRlciI6IDk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTl9", 422, "cursor"),
        ("/metrics?until=0001-01-01", 422, "until"),
        ("/metrics?since=9999-12-31", 422, "since"),
        ("/questions?team=%00", 422, "team"),
        ("/prompts?team=a%1Bb", 422, "team"),
        ("/surveys/%00/runs", 422, "survey_id"),
        ("/lookups?limit=%EF%BC%91", 422, "limit"),  # a full-width one
        ("/lookups?limit=5&limit=6", 422, "limit"),
        ("/runs/1/responses?format=csv&format=json", 422, "format"),
    ],
)
async def test_out_of_range_and_control_character_parameters_are_client_errors(
    api: RunningApp, path: str, status: int, field: str | None
) -> None:
    await seed_responses(api, ["payments"] * 5)
    got, body = await get(api, path)
    assert (got, body["field"]) == (status, field), body


async def test_a_metrics_token_reads_no_typed_text_and_no_audience_names(api: RunningApp) -> None:
    await seed_lookups(api, 4)
    async with api.deps.sessions.begin() as session:
        definition = parse_definition(
            SURVEY.replace("{active_days: 30}", "{users: [U0ALICE, U0BOB]}"), source="t"
        )
        await surveys.save_definition(
            session=session,
            definition=definition,
            source="t",
            actor="U0ADMIN",
            now=api.deps.clock(),
        )
    _, topics = await get(api, "/lookups/topics", AGG)
    assert topics["unanswered_queries"] is None
    _, full = await get(api, "/lookups/topics", DASH)
    assert full["unanswered_queries"]
    _, listed = await get(api, "/surveys", AGG)
    assert listed["items"][0]["definition"]["audience"]["users"] == 2
    assert "U0ALICE" not in str(listed)


async def test_topics_show_asked_back_and_voted_wrong_questions_only_with_responses(
    api: RunningApp,
) -> None:
    from bot.services import policy

    index = api.deps.policy.active.index
    asked = index.answer("cursor for the payments api")
    chosen = index.answer("cursor for the payments api", tier="regulated")
    now = api.deps.clock()
    async with api.deps.sessions.begin() as session:
        await policy.record_lookups(
            session=session,
            records=[
                policy.LookupRecord(f"k{n}", "U0ALICE", None, None, answer, "1", now)
                for n, answer in enumerate([asked, chosen])
            ],
        )
        for user, helpful in (("U0ALICE", False), ("U0BOB", False), ("U0CAROL", True)):
            await policy.record_feedback(
                session=session,
                user_id=user,
                answer=chosen,
                helpful=helpful,
                pack_version="1",
                at=now,
            )

    _, full = await get(api, "/lookups/topics", DASH)
    assert full["asked_back"] == [
        {"query": "cursor for the payments api", "lookups": 1, "chosen": {"tier:regulated": 1}}
    ]
    assert full["voted_wrong"] == [
        {"query": "cursor for the payments api", "verdict": "not_allowed", "votes": 2}
    ]
    assert full["votes"] == {"right": 1, "wrong": 2, "asked_back": 1}
    _, counts = await get(api, "/lookups/topics", AGG)
    assert counts["asked_back"] is None
    assert counts["voted_wrong"] is None
    assert counts["votes"] == {"right": 1, "wrong": 2, "asked_back": 1}
    status, _ = await get(api, "/lookups/votes", AGG)
    assert status == 403
    _, votes = await get(api, "/lookups/votes", DASH)
    assert [(v["user"], v["helpful"], v["tier_source"]) for v in votes["items"]] == [
        ("U0ALICE", False, "chosen"),
        ("U0BOB", False, "chosen"),
        ("U0CAROL", True, "chosen"),
    ]


async def test_questions_say_what_was_asked_who_took_it_and_the_answer(
    api: RunningApp, slack: Any
) -> None:
    from bot.standin import SlackSender
    from tests.conftest import SIGNING_SECRET
    from tests.test_questions import QUESTION, deliver, seed

    await seed(api, slack)
    async with SlackSender(api.events_url, SIGNING_SECRET, slack=slack) as sender:
        await sender.command("/ask-champion", QUESTION)
        await deliver(api)
        await sender.command("/ask-champion", "pass 1", user_id="U0BOB")
        await sender.command("/ask-champion", "claim 1", user_id="U0CAROL")
        await sender.command("/ask-champion", "answer 1 Record and replay.", user_id="U0CAROL")
        await sender.command("/ask-champion", "Who approves new licences for payments?")
        await deliver(api)
    status, body = await get(api, "/questions")
    assert status == 200
    first, second = body["items"]
    assert first["text"] == QUESTION
    assert first["asker"] == "U0ALICE"
    assert first["status"] == "answered"
    assert first["answer"] == "Record and replay."
    assert first["answered_by"] == "U0CAROL"
    assert [(t["champion"], t["outcome"]) for t in first["champions_tried"]] == [
        ("U0BOB", "passed"),
        ("U0CAROL", "claimed"),
    ]
    assert first["seconds_to_answer"] is not None
    assert second["status"] == "open"

    _, answered = await get(api, "/questions?status=answered")
    assert [q["id"] for q in answered["items"]] == [first["id"]]
    _, bobs = await get(api, "/questions?champion=U0BOB")
    assert first["id"] in [q["id"] for q in bobs["items"]]
    _, nobody = await get(api, "/questions?champion=U0NOBODY")
    assert nobody["items"] == []
    status, _ = await get(api, "/questions?status=lost")
    assert status == 422
    status, _ = await get(api, "/questions", token=AGG)
    assert status == 403  # text and names need the responses scope
    reads = await audit_events(api, "api.read_responses")
    assert "/api/v1/questions" in [r.subject for r in reads]
