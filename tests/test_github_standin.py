"""The GitHub stand-in, called over HTTP as the Copilot importer will call GitHub."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from bot.standin.github import FakeGitHub
from bot.standin.github_demo import DemoOrg, build_demo
from tests.conftest import Clock

TOKEN = "ghs_standin"
HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2026-03-10",
}
READY = dt.date(2026, 10, 30)  # the newest ready day when the clock says 2026-11-02
ORG_USERS = "/orgs/standin-org/copilot/metrics/reports/users-1-day"
ENT_USERS = "/enterprises/standin-enterprise/copilot/metrics/reports/users-1-day"
ORG_TEAMS = "/orgs/standin-org/copilot/metrics/reports/user-teams-1-day"
SEATS = "/orgs/standin-org/copilot/billing/seats"


@pytest.fixture
async def github(clock: Clock) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(now=clock) as fake:
        yield fake


@pytest.fixture
async def client(github: FakeGitHub) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=github.api_url, headers=HEADERS) as http:
        yield http


def user_day(user_id: int, day: dt.date = READY, **counters: Any) -> dict[str, Any]:
    return {"day": day.isoformat(), "user_id": user_id, "user_login": f"dev{user_id}", **counters}


async def download(links: list[str]) -> list[dict[str, Any]]:
    """Every row of every file, fetched without GitHub credentials (as a signed URL is)."""
    rows: list[dict[str, Any]] = []
    async with httpx.AsyncClient() as plain:
        for link in links:
            answer = await plain.get(link)
            assert answer.status_code == 200
            assert answer.headers["content-type"] == "application/x-ndjson"
            rows += [json.loads(line) for line in answer.text.splitlines()]
    return rows


async def report(client: httpx.AsyncClient, path: str, day: dt.date = READY) -> httpx.Response:
    return await client.get(path, params={"day": day.isoformat()})


# -- auth, permissions, versions ------------------------------------------------------


async def test_a_missing_or_wrong_token_is_refused(github: FakeGitHub) -> None:
    async with httpx.AsyncClient(base_url=github.api_url) as http:
        missing = await http.get(SEATS)
        wrong = await http.get(SEATS, headers={"Authorization": "Bearer ghp_nope"})
        classic = await http.get(SEATS, headers={"Authorization": f"token {TOKEN}"})
    assert missing.status_code == wrong.status_code == 401
    assert wrong.json()["message"] == "Bad credentials"
    assert wrong.json()["documentation_url"].startswith("https://docs.github.com/")
    assert wrong.headers["x-ratelimit-limit"] == "60"  # the unauthenticated budget
    assert classic.status_code == 200


@pytest.mark.parametrize(
    ("path", "permissions", "accepted"),
    [
        (ORG_USERS, {"copilot_seats"}, "organization_copilot_metrics=read"),
        (ENT_USERS, {"copilot_seats"}, "enterprise_copilot_metrics=read"),
        (SEATS, {"copilot_metrics"}, "organization_copilot_seat_management=read"),
    ],
)
async def test_a_token_without_the_permission_is_told_which_one(
    path: str, permissions: set[str], accepted: str
) -> None:
    async with (
        FakeGitHub(permissions=frozenset(permissions)) as github,
        httpx.AsyncClient(base_url=github.api_url, headers=HEADERS) as http,
    ):
        answer = await http.get(path, params={"day": "2026-01-05"})
    assert answer.status_code == 403
    assert answer.json()["message"] == "Resource not accessible by integration"
    assert answer.headers["x-accepted-github-permissions"] == accepted


async def test_api_versions(client: httpx.AsyncClient) -> None:
    current = await client.get(SEATS)
    client.headers.pop("X-GitHub-Api-Version")
    default = await client.get(SEATS)
    made_up = await client.get(SEATS, headers={"X-GitHub-Api-Version": "v3"})
    retired = await client.get(SEATS, headers={"X-GitHub-Api-Version": "2021-06-01"})
    assert current.headers["x-github-api-version-selected"] == "2026-03-10"
    assert default.status_code == 200
    assert default.headers["x-github-api-version-selected"] == "2022-11-28"
    assert made_up.status_code == 400
    assert '"v3", is not a supported version' in made_up.json()["message"]
    assert '"2026-03-10" (most recent), "2022-11-28"' in made_up.json()["message"]
    assert retired.status_code == 410


# -- reports ---------------------------------------------------------------------------


async def test_a_report_links_to_ndjson_with_the_records(
    github: FakeGitHub, client: httpx.AsyncClient
) -> None:
    github.add_user_day(user_day(1, code_generation_activity_count=3))
    github.add_user_day(user_day(2, code_generation_activity_count=5))
    github.add_user_day(user_day(2, code_generation_activity_count=8))  # settled later

    org, ent = await report(client, ORG_USERS), await report(client, ENT_USERS)

    assert org.status_code == ent.status_code == 200
    assert org.json()["report_day"] == "2026-10-30"
    rows = sorted(await download(org.json()["download_links"]), key=lambda r: r["user_id"])
    assert [(r["user_login"], r["code_generation_activity_count"]) for r in rows] == [
        ("dev1", 3),
        ("dev2", 8),
    ]
    assert {r["organization_id"] for r in rows} == {str(github.org_id)}
    assert all("etl_id" in r and r["day_partition"] == "2026-10-30" for r in rows)
    ent_rows = await download(ent.json()["download_links"])
    assert {r["enterprise_id"] for r in ent_rows} == {str(github.enterprise_id)}
    assert not any("organization_id" in r for r in ent_rows)
    downloads = github.calls_to("download")
    assert downloads
    assert not any(c.authorization for c in downloads)


async def test_a_report_is_split_over_several_valid_files(
    github: FakeGitHub, client: httpx.AsyncClient
) -> None:
    github.files_per_report = 3
    for user_id in range(1, 11):
        github.add_user_day(user_day(user_id))

    links = (await report(client, ORG_USERS)).json()["download_links"]

    assert len(links) == len(set(links)) == 3
    per_file = [await download([link]) for link in links]
    assert all(per_file)
    assert sorted(r["user_id"] for rows in per_file for r in rows) == list(range(1, 11))


async def test_links_expire_and_a_new_request_gives_fresh_ones(
    github: FakeGitHub, client: httpx.AsyncClient, clock: Clock
) -> None:
    github.add_user_day(user_day(1))
    first = (await report(client, ORG_USERS)).json()["download_links"]
    github.expire_links()
    async with httpx.AsyncClient() as plain:
        expired = await plain.get(first[0])
        fresh = (await report(client, ORG_USERS)).json()["download_links"]
        assert (await plain.get(fresh[0])).status_code == 200
        clock.advance(seconds=github.link_ttl_seconds + 1)
        timed_out = await plain.get(fresh[0])
    assert expired.status_code == timed_out.status_code == 403
    assert "AuthenticationFailed" in expired.text
    assert fresh != first


async def test_a_day_not_yet_ready_is_204_for_an_org_and_404_for_an_enterprise(
    github: FakeGitHub, client: httpx.AsyncClient
) -> None:
    assert github.newest_ready_day() == READY
    late = READY + dt.timedelta(days=1)
    org, ent = await report(client, ORG_USERS, late), await report(client, ENT_USERS, late)
    assert (org.status_code, org.content) == (204, b"")
    assert ent.status_code == 404
    assert (await report(client, ORG_USERS)).status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        (ORG_USERS, {}, 422),
        (ORG_USERS, {"day": "2026-13-01"}, 422),
        (ORG_USERS, {"day": "2025-10-01"}, 400),  # over a year ago
        ("/orgs/someone-else/copilot/metrics/reports/users-1-day", {"day": "2026-10-30"}, 404),
        ("/enterprises/other/copilot/metrics/reports/users-1-day", {"day": "2026-10-30"}, 404),
        ("/orgs/standin-org/copilot/metrics", {}, 404),  # closed on 2026-04-02
        ("/enterprises/standin-enterprise/copilot/metrics", {}, 404),
        ("/orgs/standin-org/copilot/usage", {}, 404),
    ],
)
async def test_bad_report_requests(
    client: httpx.AsyncClient, path: str, params: dict[str, str], status: int
) -> None:
    answer = await client.get(path, params=params)
    assert answer.status_code == status
    assert answer.json()["message"]


async def test_only_get_is_served(client: httpx.AsyncClient) -> None:
    assert (await client.post(SEATS, json={})).status_code == 404


async def test_user_teams_leave_out_teams_under_five(
    github: FakeGitHub, client: httpx.AsyncClient
) -> None:
    for user_id in range(1, 10):
        team_id, slug = (7, "platform") if user_id <= 5 else (8, "tiny")
        login = f"dev{user_id}"
        github.add_user_team(READY, user_id=user_id, user_login=login, team_id=team_id, slug=slug)

    rows = await download((await report(client, ORG_TEAMS)).json()["download_links"])

    assert Counter(r["slug"] for r in rows) == {"platform": 5}
    assert set(rows[0]) >= {"user_id", "user_login", "day", "organization_id", "team_id", "slug"}


async def test_a_lazy_source_is_streamed_and_added_records_win(
    github: FakeGitHub, client: httpx.AsyncClient
) -> None:
    def source(day: dt.date) -> Iterator[dict[str, Any]]:
        return (user_day(n, day, loc_added_sum=1) for n in range(5000))

    github.source = source
    github.files_per_report = 2
    github.add_user_day(user_day(7, loc_added_sum=99))

    rows = await download((await report(client, ORG_USERS)).json()["download_links"])

    assert len(rows) == 5000
    assert {r["user_id"]: r["loc_added_sum"] for r in rows}[7] == 99


async def test_kept_files_are_made_once_and_remade_when_a_record_changes(
    github: FakeGitHub, client: httpx.AsyncClient
) -> None:
    made: list[dt.date] = []

    def source(day: dt.date) -> Iterator[dict[str, Any]]:
        made.append(day)
        return (user_day(n, day) for n in range(300))

    github.source = source
    github.files_per_report = 3
    github.keep_files = True
    assert github.make_files([READY]) > 0
    assert made == [READY] * 3  # once per file of the users report
    first = await download((await report(client, ORG_USERS)).json()["download_links"])
    again = await download((await report(client, ORG_USERS)).json()["download_links"])
    assert made == [READY] * 3  # served from what was kept
    assert len(first) == 300
    assert sorted(r["user_id"] for r in again) == sorted(r["user_id"] for r in first)
    github.add_user_day(user_day(7, loc_added_sum=99))  # a late record: the files are remade
    rows = await download((await report(client, ORG_USERS)).json()["download_links"])
    assert {r["user_id"]: r.get("loc_added_sum") for r in rows}[7] == 99
    assert len(made) == 6


# -- seats -----------------------------------------------------------------------------


def seat(n: int) -> dict[str, Any]:
    return {"created_at": "2026-01-05T09:00:00Z", "assignee": {"login": f"dev{n}", "id": n}}


async def test_seats_are_paged_with_link_headers(
    github: FakeGitHub, client: httpx.AsyncClient
) -> None:
    github.set_seats([seat(n) for n in range(120)])
    seen: list[int] = []
    url: str | None = SEATS
    pages = 0
    while url:
        answer = await client.get(url)
        assert answer.json()["total_seats"] == 120
        seen += [s["assignee"]["id"] for s in answer.json()["seats"]]
        url = answer.links.get("next", {}).get("url")
        pages += 1
        if pages == 2:
            assert set(answer.links) == {"prev", "next", "last", "first"}
    assert (pages, seen) == (3, list(range(120)))
    big = await client.get(SEATS, params={"per_page": 500})
    assert len(big.json()["seats"]) == 100
    assert "page=2" in big.links["next"]["url"]
    assert "per_page=500" in big.links["next"]["url"]


# -- rate limits and faults ------------------------------------------------------------


async def test_rate_limit_headers_count_down_and_the_budget_runs_out(
    github: FakeGitHub, client: httpx.AsyncClient, clock: Clock
) -> None:
    github.rate_limit = 2
    first, second, third = [await client.get(SEATS) for _ in range(3)]
    assert [first.headers["x-ratelimit-remaining"], second.headers["x-ratelimit-remaining"]] == [
        "1",
        "0",
    ]
    assert first.headers["x-ratelimit-resource"] == "core"
    assert first.headers["x-ratelimit-used"] == "1"
    assert third.status_code == 403
    assert "rate limit exceeded" in third.json()["message"]
    assert int(third.headers["x-ratelimit-reset"]) == int(clock().timestamp()) + 3600
    clock.advance(hours=1)
    assert (await client.get(SEATS)).status_code == 200


async def test_injected_faults(github: FakeGitHub, client: httpx.AsyncClient, clock: Clock) -> None:
    github.fail("seats", status=429, retry_after=7)
    github.fail("seats", status=502, times=2, after=1)
    answers = [await client.get(SEATS) for _ in range(5)]
    assert [a.status_code for a in answers] == [429, 200, 502, 502, 200]
    assert answers[0].headers["retry-after"] == "7"

    github.fail("users-1-day", status=403, secondary=True, retry_after=30)
    secondary = await report(client, ORG_USERS)
    assert secondary.status_code == 403
    assert secondary.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert secondary.headers["retry-after"] == "30"

    github.fail("user-teams-1-day", status=403, retry_after=120)
    primary = await report(client, ORG_TEAMS)
    assert primary.status_code == 403
    assert primary.headers["x-ratelimit-remaining"] == "0"
    assert int(primary.headers["x-ratelimit-reset"]) == int(clock().timestamp()) + 120
    assert "retry-after" not in primary.headers

    github.add_user_day(user_day(1))
    links = (await report(client, ORG_USERS)).json()["download_links"]
    github.fail("download", status=503, retry_after=5)
    async with httpx.AsyncClient() as plain:
        refused, then = await plain.get(links[0]), await plain.get(links[0])
    assert (refused.status_code, refused.headers["retry-after"]) == (503, "5")
    assert then.status_code == 200
    with pytest.raises(ValueError, match="what must be one of"):
        github.fail("organization-1-day")


async def test_calls_are_recorded(github: FakeGitHub, client: httpx.AsyncClient) -> None:
    await report(client, ORG_USERS)
    await client.get(SEATS, params={"page": 2})
    assert [(c.kind, c.status, c.query) for c in github.calls] == [
        ("users-1-day", 200, {"day": "2026-10-30"}),
        ("seats", 200, {"page": "2"}),
    ]


# -- the demo organisation -------------------------------------------------------------

END = dt.date(2026, 5, 7)


@pytest.fixture(scope="module")
def demo() -> DemoOrg:
    return build_demo(end_day=END)


def window(demo: DemoOrg) -> Iterator[dt.date]:
    day = demo.start_day
    while day <= demo.end_day:
        yield day
        day += dt.timedelta(days=1)


def test_the_demo_is_deterministic(demo: DemoOrg) -> None:
    again, other = build_demo(end_day=END), build_demo(end_day=END, seed=8)
    days = [END, END - dt.timedelta(days=40)]
    assert again.people == demo.people
    assert again.seats() == demo.seats()
    assert [list(again.records(d)) for d in days] == [list(demo.records(d)) for d in days]
    assert [list(other.records(d)) for d in days] != [list(demo.records(d)) for d in days]


def test_demo_people_look_like_people(demo: DemoOrg) -> None:
    assert len(demo.people) == 400
    assert 8 <= len(demo.teams) <= 12
    assert len({p.github_id for p in demo.people}) == len({p.login for p in demo.people}) == 400
    assert all(re.fullmatch(r"[a-z]+\.[a-z]+\d*@example\.com", p.email) for p in demo.people)
    assert all(re.fullmatch(r"U0D\d{4}", p.slack_user_id) for p in demo.people)
    sizes = Counter(p.team for p in demo.people)
    assert min(sizes.values()) < 5 < max(sizes.values())
    assert {p.team_slug for p in demo.people} == {t.slug for t in demo.teams}


def test_demo_records_add_up(demo: DemoOrg) -> None:
    records = [r for day in (END, END - dt.timedelta(days=30)) for r in demo.records(day)]
    assert len(records) > 50
    keys = ("code_generation_activity_count", "code_acceptance_activity_count", "loc_added_sum")
    for r in records:
        assert r["code_acceptance_activity_count"] <= r["code_generation_activity_count"]
        for f in r["totals_by_feature"]:
            assert f["code_acceptance_activity_count"] <= f["code_generation_activity_count"]
            if f["feature"] == "agent_edit":
                assert f["loc_suggested_to_add_sum"] == f["code_acceptance_activity_count"] == 0
        for breakdown in ("totals_by_feature", "totals_by_ide", "totals_by_language_feature"):
            if r[breakdown]:
                assert all(sum(e[k] for e in r[breakdown]) == r[k] for k in keys)
        interactions = sum(f["user_initiated_interaction_count"] for f in r["totals_by_feature"])
        assert not r["totals_by_feature"] or interactions == r["user_initiated_interaction_count"]
        features = {f["feature"] for f in r["totals_by_feature"]}
        assert not features or r["used_agent"] == ("agent_edit" in features)
        assert ("totals_by_cli" in r) == r["used_cli"]
    assert 0 < sum(r["used_cli"] for r in records) < sum(r["used_chat"] for r in records)
    assert any(not r["totals_by_ide"] for r in records)  # server-side telemetry only


def test_demo_adoption_ramps_by_team_on_weekdays(demo: DemoOrg) -> None:
    weeks = {t.adopted_on.isocalendar()[:2] for t in demo.teams}
    assert len(weeks) >= 6
    active: Counter[dt.date] = Counter()
    for day in window(demo):
        active[day] = sum(1 for _ in demo.records(day))
    weekdays = [n for d, n in active.items() if d.weekday() < 5]
    weekends = [n for d, n in active.items() if d.weekday() >= 5]
    assert sum(weekends) / len(weekends) < sum(weekdays) / len(weekdays) / 4
    first_month = sum(n for d, n in active.items() if d < demo.start_day + dt.timedelta(days=28))
    last_month = sum(n for d, n in active.items() if d > demo.end_day - dt.timedelta(days=28))
    assert last_month > 2 * first_month


def test_demo_seats_include_idle_and_cancelled_ones(demo: DemoOrg) -> None:
    seats = demo.seats()
    seated = [p for p in demo.people if p.seat_since is not None]
    assert len(seats) == len(seated) < len(demo.people)
    month_ago = str(END - dt.timedelta(days=30))
    never = [s for s in seats if s["last_activity_at"] is None]
    stale = [s for s in seats if s["last_activity_at"] and s["last_activity_at"] < month_ago]
    assert never
    assert stale
    assert 0 < sum(s["pending_cancellation_date"] is not None for s in seats) < len(seats) / 10
    assert all(s["pending_cancellation_date"] in (None, "2026-06-01") for s in seats)
    assert any(s["assigning_team"] is None for s in seats)
    created = {s["assignee"]["login"]: s["created_at"][:10] for s in seats}
    assert all(created[p.login] == str(p.seat_since) for p in seated)


def test_the_demo_scales_lazily() -> None:
    big = build_demo(people=20_000, days=365, end_day=END)
    assert inspect.isgenerator(big.records(END))
    assert inspect.isgenerator(big.team_rows(END))
    assert next(big.records(END))["day"] == str(END)
    assert len(big.people) == 20_000


async def test_the_demo_installed_in_the_stand_in(demo: DemoOrg) -> None:
    async with (
        FakeGitHub(today=lambda: END + dt.timedelta(days=3)) as github,
        httpx.AsyncClient(base_url=github.api_url, headers=HEADERS) as http,
    ):
        demo.install(github)
        users = await download((await report(http, ORG_USERS, END)).json()["download_links"])
        teams = await download((await report(http, ORG_TEAMS, END)).json()["download_links"])
        seats = (await http.get(SEATS, params={"per_page": 100})).json()
    assert len(users) == sum(1 for _ in demo.records(END))
    sizes = Counter(p.team_slug for p in demo.people if p.seat_since and p.seat_since <= END)
    small = {slug for slug, n in sizes.items() if n < 5}
    assert small
    assert small.isdisjoint(r["slug"] for r in teams)
    assert {r["slug"] for r in teams} >= {slug for slug, n in sizes.items() if n >= 5}
    assert seats["total_seats"] == len(demo.seats())
    assert seats["seats"][0]["organization"]["login"] == "standin-org"
