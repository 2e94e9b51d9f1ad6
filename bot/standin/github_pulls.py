"""GitHub's pull requests as the impact importer reads them: a stand-in for the GraphQL API
(`POST /graphql`, a subset of GitHub's schema executed by graphql-core) and the REST list
of an organisation's repositories (`GET /orgs/{org}/repos`, with ETags).

Built from GitHub's documented behaviour (MEASUREMENT_FACTS §5;
https://docs.github.com/en/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api):
- auth: `Authorization: Bearer <token>`; a wrong token answers 401 "Bad credentials";
- cost: the requests each connection needs, assuming every `first` is filled, summed, / 100,
  rounded, at least 1 (`repository.pullRequests(first: 100)` with three nested
  `first: ≤100` connections costs 3); `rateLimit { cost remaining resetAt }` reports it;
  `points_spent` counts every point charged (benchmarks read it);
- the primary limit (`points_per_hour`, 5,000 a user) exhausted answers 200 with a
  `RATE_LIMITED` error and `x-ratelimit-remaining: 0`, `x-ratelimit-reset`;
- faults (`fail`): a 502 (GitHub's answer to a query past its 10 s timeout), a secondary
  limit (403 with `retry-after`), each for the next N GraphQL requests;
- `pullRequests(orderBy: {field: UPDATED_AT, direction: DESC})` pages by an opaque cursor
  that names the last PR given, so a PR updated meanwhile moves to the front (the next
  incremental pull sees it) and no page repeats or skips the others;
- REST `GET /orgs/{org}/repos`: `ETag`; `If-None-Match` with the current one answers 304,
  which costs nothing (facts §5.2).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web
from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    graphql,
    parse,
    validate,
)
from graphql.language import FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from bot.standin.server import LocalServer

SDL = """
scalar DateTime
scalar GitObjectID
enum IssueOrderField { CREATED_AT UPDATED_AT COMMENTS }
enum OrderDirection { ASC DESC }
input IssueOrder { field: IssueOrderField!, direction: OrderDirection! }
enum PullRequestTimelineItemsItemType { READY_FOR_REVIEW_EVENT }
interface Actor { login: String! }
type User implements Actor { login: String! }
type Bot implements Actor { login: String! }
type PageInfo { endCursor: String, hasNextPage: Boolean! }
type Label { name: String! }
type LabelConnection { nodes: [Label], totalCount: Int! }
type PullRequestReview { author: Actor, submittedAt: DateTime, state: String! }
type PullRequestReviewConnection { nodes: [PullRequestReview], totalCount: Int! }
type ReadyForReviewEvent { createdAt: DateTime! }
union PullRequestTimelineItems = ReadyForReviewEvent
type PullRequestTimelineItemsConnection { nodes: [PullRequestTimelineItems] }
type Commit { oid: GitObjectID! }
type PullRequest {
  number: Int!
  title: String!
  body: String!
  createdAt: DateTime!
  updatedAt: DateTime!
  mergedAt: DateTime
  closedAt: DateTime
  isDraft: Boolean!
  additions: Int!
  deletions: Int!
  author: Actor
  mergeCommit: Commit
  labels(first: Int): LabelConnection
  reviews(first: Int): PullRequestReviewConnection
  timelineItems(first: Int, itemTypes: [PullRequestTimelineItemsItemType!]):
    PullRequestTimelineItemsConnection
}
type PullRequestConnection { nodes: [PullRequest], pageInfo: PageInfo!, totalCount: Int! }
type Repository {
  name: String!
  pullRequests(first: Int, after: String, orderBy: IssueOrder): PullRequestConnection!
}
type RateLimit { cost: Int!, remaining: Int!, resetAt: DateTime!, limit: Int!, used: Int! }
type Query {
  repository(owner: String!, name: String!): Repository
  rateLimit: RateLimit
}
"""
SCHEMA: GraphQLSchema = build_schema(SDL)
DOCS = "https://docs.github.com/graphql"


def _stamp(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


@dataclass
class Review:
    login: str
    submitted_at: dt.datetime
    state: str = "APPROVED"  # APPROVED, CHANGES_REQUESTED, COMMENTED
    bot: bool = False


@dataclass
class Pull:
    """One pull request as the stand-in holds it (GitHub's fields, snake_case)."""

    number: int
    title: str
    author: str | None  # None: a deleted account ("ghost")
    created_at: dt.datetime
    updated_at: dt.datetime | None = None
    merged_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    ready_at: dt.datetime | None = None  # a ReadyForReviewEvent: it was opened as a draft
    is_draft: bool = False
    additions: int = 0
    deletions: int = 0
    author_bot: bool = False
    body: str = ""
    merge_commit: str | None = None
    labels: list[str] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.updated_at is None:
            self.updated_at = self.merged_at or self.closed_at or self.created_at


def _as_of(pull: Pull, now: dt.datetime) -> Pull:
    if (pull.updated_at or pull.created_at) <= now:
        return pull
    reviews = [r for r in pull.reviews if r.submitted_at <= now]
    merged = pull.merged_at if pull.merged_at and pull.merged_at <= now else None
    closed = pull.closed_at if pull.closed_at and pull.closed_at <= now else None
    ready = pull.ready_at if pull.ready_at and pull.ready_at <= now else None
    events = [pull.created_at, merged, closed, ready, *(r.submitted_at for r in reviews)]
    return replace(
        pull,
        merged_at=merged,
        closed_at=closed,
        ready_at=ready,
        is_draft=pull.is_draft or (pull.ready_at is not None and ready is None),
        reviews=reviews,
        merge_commit=pull.merge_commit if merged else None,
        updated_at=max(e for e in events if e is not None),
    )


def _actor(login: str | None, bot: bool) -> dict[str, Any] | None:
    if login is None:
        return None
    return {"__typename": "Bot" if bot else "User", "login": login}


def _cursor(pull: Pull) -> str:
    key = f"{_stamp(pull.updated_at)}|{pull.number}"
    return base64.b64encode(f"cursor:v2:{key}".encode()).decode()


def _after(cursor: str) -> tuple[dt.datetime, int] | None:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        stamp, number = text.removeprefix("cursor:v2:").split("|")
        return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC), int(number)
    except (ValueError, UnicodeDecodeError):
        return None


def cost_of(document: Any, variables: dict[str, Any]) -> int:
    """GitHub's point cost of a query: the requests each connection needs (every `first`
    assumed filled) summed, divided by 100, rounded, at least 1."""
    fragments = {d.name.value: d for d in document.definitions if hasattr(d, "type_condition")}

    def first_of(node: FieldNode) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value == "first":
                value = argument.value
                if hasattr(value, "name") and not hasattr(value, "value"):
                    return int(variables.get(value.name.value, 0) or 0)
                return int(getattr(value, "value", 0))
        return None

    def walk(selections: SelectionSetNode | None, multiplier: int) -> int:
        total = 0
        for node in selections.selections if selections else ():
            if isinstance(node, FieldNode):
                first = first_of(node)
                if first is not None:
                    total += multiplier
                    total += walk(node.selection_set, multiplier * first)
                else:
                    total += walk(node.selection_set, multiplier)
            elif isinstance(node, InlineFragmentNode):
                total += walk(node.selection_set, multiplier)
            elif isinstance(node, FragmentSpreadNode):
                total += walk(fragments[node.name.value].selection_set, multiplier)
        return total

    requests = sum(
        walk(d.selection_set, 1)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )
    return max(1, round(requests / 100))


class FakeGitHubPulls(LocalServer):
    """Start it; point `USAGE_GITHUB_API_URL` at `api_url`. Repositories and their pull
    requests come from `add_repo` / `add_pull`, and for a year of a large organisation a
    lazy `source` (repo name → its pulls; called on each page, so it must give the same
    pulls each time) for the repositories added."""

    name = "GitHub GraphQL stand-in"

    def __init__(
        self,
        *,
        token: str = "ghs_standin",
        org: str = "standin-org",
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        points_per_hour: int = 5000,
    ) -> None:
        super().__init__()
        self.token = token
        self.org = org
        self.now = now
        self.points_per_hour = points_per_hour
        self.points_spent = 0  # every point charged, ever
        self.graphql_requests = 0
        self.rest_requests = 0  # answered with a body (304s are free and not counted)
        self.window_peak = 0  # the most points charged in one hour window
        self.pages_served: Counter[tuple[str, str | None]] = Counter()  # (repo, after) → times
        self._window_start: dt.datetime | None = None
        self._window_used = 0
        self._repos: dict[str, list[Pull]] = {}
        self._version = 0  # bumped by every change: the page order is kept until then
        self._ordered: tuple[Any, list[Pull]] = (None, [])
        self.source: Callable[[str], Iterable[Pull]] | None = None
        self._faults: list[tuple[int, int]] = []  # (status, retry_after) per next request
        self.app = web.Application()
        self.app.router.add_post("/graphql", self._graphql)
        self.app.router.add_get("/orgs/{org}/repos", self._repos_page)

    @property
    def api_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    # -- data ----------------------------------------------------------------------------

    def add_repo(self, name: str) -> None:
        self._repos.setdefault(name, [])

    def add_pull(self, repo: str, pull: Pull) -> None:
        """Add or replace (by number) a pull request of `repo`."""
        pulls = self._repos.setdefault(repo, [])
        pulls[:] = [p for p in pulls if p.number != pull.number] + [pull]
        self._version += 1

    def pulls(self, repo: str) -> list[Pull]:
        """`repo`'s pull requests as GitHub would show them now: none opened later, and no
        review, merge or close that has not happened yet (a source may plan ahead)."""
        found = list(self.source(repo)) if self.source else []
        held = {p.number: p for p in self._repos.get(repo, [])}
        now = self.now()
        every = [p for p in found if p.number not in held] + list(held.values())
        return [_as_of(p, now) for p in every if p.created_at <= now]

    def fail(self, status: int, *, times: int = 1, retry_after: int = 0) -> None:
        """The next `times` GraphQL requests answer `status` (502: a timed-out query; 403
        with `retry_after`: a secondary rate limit)."""
        self._faults += [(status, retry_after)] * times

    # -- HTTP ------------------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if header.removeprefix("Bearer ").removeprefix("token ") != self.token:
            return web.json_response(
                {"message": "Bad credentials", "documentation_url": DOCS}, status=401
            )
        return None

    def _spend(self, cost: int) -> bool:
        now = self.now()
        if self._window_start is None or now >= self._window_start + dt.timedelta(hours=1):
            self._window_start, self._window_used = now, 0
        if self._window_used + cost > self.points_per_hour:
            return False
        self._window_used += cost
        self.points_spent += cost
        self.window_peak = max(self.window_peak, self._window_used)
        return True

    def _limit_headers(self) -> dict[str, str]:
        start = self._window_start or self.now()
        reset = int((start + dt.timedelta(hours=1)).timestamp())
        return {
            "x-ratelimit-limit": str(self.points_per_hour),
            "x-ratelimit-remaining": str(max(0, self.points_per_hour - self._window_used)),
            "x-ratelimit-used": str(self._window_used),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-resource": "graphql",
        }

    async def _graphql(self, request: web.Request) -> web.Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        self.graphql_requests += 1
        if self._faults:
            status, retry_after = self._faults.pop(0)
            if status == 403:
                return web.json_response(
                    {
                        "message": "You have exceeded a secondary rate limit.",
                        "documentation_url": DOCS,
                    },
                    status=403,
                    headers={"retry-after": str(retry_after)},
                )
            return web.json_response({"message": "Server Error"}, status=status)
        try:
            body = await request.json()
            query, variables = str(body["query"]), dict(body.get("variables") or {})
            document = parse(query)
        except (ValueError, KeyError, TypeError, GraphQLError) as problem:
            return web.json_response(
                {"errors": [{"message": f"Problems parsing JSON or query: {problem}"}]},
                status=400,
            )
        problems = validate(SCHEMA, document)
        if problems:
            return web.json_response({"errors": [{"message": p.message} for p in problems]})
        cost = cost_of(document, variables)
        if not self._spend(cost):
            return web.json_response(
                {
                    "errors": [
                        {
                            "type": "RATE_LIMITED",
                            "message": "API rate limit exceeded for installation.",
                        }
                    ]
                },
                headers={**self._limit_headers(), "x-ratelimit-remaining": "0"},
            )
        result = await graphql(
            SCHEMA, query, root_value=self._root(cost), variable_values=variables
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [{"message": e.message} for e in result.errors]
        return web.json_response(answer, headers=self._limit_headers())

    def _root(self, cost: int) -> dict[str, Any]:
        def repository(_info: Any, owner: str, name: str) -> dict[str, Any] | None:
            if owner != self.org or name not in self._repos:
                return None
            return {"name": name, "pullRequests": lambda _i, **kw: self._page(name, **kw)}

        start = self._window_start or self.now()
        return {
            "repository": repository,
            "rateLimit": {
                "cost": cost,
                "remaining": max(0, self.points_per_hour - self._window_used),
                "resetAt": _stamp(start + dt.timedelta(hours=1)),
                "limit": self.points_per_hour,
                "used": self._window_used,
            },
        }

    def _page(
        self, repo: str, first: int | None = None, after: str | None = None, orderBy: Any = None
    ) -> dict[str, Any]:
        if first is None or not 1 <= first <= 100:
            raise GraphQLError("first must be between 1 and 100 (GitHub requires it).")
        self.pages_served[(repo, after)] += 1
        field_name = (orderBy or {}).get("field", "CREATED_AT")
        descending = (orderBy or {}).get("direction", "ASC") == "DESC"

        def key(pull: Pull) -> tuple[dt.datetime, int]:
            stamp = pull.updated_at if field_name == "UPDATED_AT" else pull.created_at
            assert stamp is not None
            return stamp.replace(microsecond=0), pull.number  # cursors name whole seconds

        cache_key = (repo, field_name, descending, self._version, self.now())
        if self._ordered[0] != cache_key:
            self._ordered = (cache_key, sorted(self.pulls(repo), key=key, reverse=descending))
        ordered = self._ordered[1]
        if after:
            mark = _after(after)
            if mark is None:
                raise GraphQLError(f"`{after}` does not appear to be a valid cursor.")
            ordered = [p for p in ordered if (key(p) < mark if descending else key(p) > mark)]
        page, more = ordered[:first], len(ordered) > first
        return {
            "nodes": [self._node(p) for p in page],
            "pageInfo": {"endCursor": _cursor(page[-1]) if page else None, "hasNextPage": more},
            "totalCount": len(ordered),
        }

    def _node(self, pull: Pull) -> dict[str, Any]:
        return {
            "number": pull.number,
            "title": pull.title,
            "body": pull.body,
            "createdAt": _stamp(pull.created_at),
            "updatedAt": _stamp(pull.updated_at),
            "mergedAt": _stamp(pull.merged_at),
            "closedAt": _stamp(pull.closed_at),
            "isDraft": pull.is_draft,
            "additions": pull.additions,
            "deletions": pull.deletions,
            "author": _actor(pull.author, pull.author_bot),
            "mergeCommit": {"oid": pull.merge_commit} if pull.merge_commit else None,
            "labels": lambda _i, first=None: {
                "nodes": [{"name": n} for n in pull.labels[: first or 0]],
                "totalCount": len(pull.labels),
            },
            "reviews": lambda _i, first=None: {
                "nodes": [
                    {
                        "author": _actor(r.login, r.bot),
                        "submittedAt": _stamp(r.submitted_at),
                        "state": r.state,
                    }
                    for r in sorted(pull.reviews, key=lambda r: r.submitted_at)[: first or 0]
                ],
                "totalCount": len(pull.reviews),
            },
            "timelineItems": lambda _i, first=None, itemTypes=None: {
                "nodes": (
                    [{"__typename": "ReadyForReviewEvent", "createdAt": _stamp(pull.ready_at)}]
                    if pull.ready_at and first
                    else []
                )
            },
        }

    async def _repos_page(self, request: web.Request) -> web.StreamResponse:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        if request.match_info["org"] != self.org:
            return web.json_response(
                {"message": "Not Found", "documentation_url": DOCS}, status=404
            )
        per_page = min(100, int(request.query.get("per_page", "30") or 30))
        page = max(1, int(request.query.get("page", "1") or 1))
        names = sorted(self._repos)
        chunk = names[(page - 1) * per_page : page * per_page]
        body = json.dumps([{"name": n, "full_name": f"{self.org}/{n}"} for n in chunk])
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        self.rest_requests += 1
        headers = {"ETag": etag, "Content-Type": "application/json"}
        if page * per_page < len(names):
            base = f"{self.api_url}/orgs/{self.org}/repos?per_page={per_page}"
            headers["Link"] = f'<{base}&page={page + 1}>; rel="next"'
        return web.Response(text=body, headers=headers)
