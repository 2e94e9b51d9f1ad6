"""The pull-request importer: every repository of the organisation, its pull requests
through GitHub's GraphQL API, newest update first, into `pull_request`.

How (MEASUREMENT_FACTS §5; GitHub's GraphQL rate-limit docs):
- repositories: REST `GET /orgs/{org}/repos`, sent with the last ETag (`If-None-Match`):
  an unchanged list answers 304, which costs nothing;
- pull requests: `repository.pullRequests(first: 100, orderBy: UPDATED_AT DESC)` with
  their labels, reviews and ready-for-review event: 3 points a page of 100
  (`POINTS_PER_PAGE`); the pull stops at the repository's watermark (the newest update
  already stored), so a daily pull costs a page or so a repository;
- resumable: each page is stored in the same transaction as the cursor after it
  (`pull_request_cursor.after`), so a pull killed midway resumes there and fetches no page
  it had stored;
- a point budget (`points_per_hour`, default 4,000 of GitHub's 5,000 for a user or an App
  installation: room for other tools) is kept by the importer itself, waiting for the
  next hour rather than spending GitHub's last points; GitHub's own limit is obeyed too;
- bots are not people: a pull request whose author is a Bot account (Dependabot,
  Renovate, the Copilot coding agent) is stored with `author_is_bot`, and a Bot's reviews
  (Copilot code review) only mark `ai_reviewed`: human figures leave them out;
- reverts: a pull request titled `Revert "<title>"` (GitHub's Revert button) or whose body
  says "This reverts commit <sha>" marks, in the same repository, the pull request it names
  (by title or merge commit) as `reverted_by`, when it came within 30 days of that one's
  merge. Not seen: reverts pushed directly to a branch, and squash merges whose body does
  not carry the reverted sha (docs/impact.md).

Errors: `bot.usage.github.GitHubError` and its kinds, as the Copilot importer.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import Sessions
from bot.models import PullRequest, PullRequestCursor
from bot.usage.github import GitHubClient, GitHubError

logger = logging.getLogger(__name__)

PAGE = 100
POINTS_PER_PAGE = 3  # 1 + 100 × 3 nested connections, / 100 (GitHub's cost formula)
POINTS_PER_HOUR = 4000
REVERT_WINDOW = dt.timedelta(days=30)
REPOS_KEY = ""  # the pull_request_cursor row holding the repository list's ETag

QUERY = """
query($owner: String!, $name: String!, $after: String) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    pullRequests(first: 100, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { endCursor hasNextPage }
      nodes {
        number title body createdAt updatedAt mergedAt closedAt isDraft additions deletions
        author { __typename login }
        mergeCommit { oid }
        labels(first: 20) { nodes { name } }
        reviews(first: 50) { nodes { author { __typename login } submittedAt state } }
        timelineItems(first: 1, itemTypes: [READY_FOR_REVIEW_EVENT]) {
          nodes { ... on ReadyForReviewEvent { createdAt } }
        }
      }
    }
  }
}
"""
_REVERT_TITLE = re.compile(r'^Revert "(?P<title>.+)"$')
_REVERT_SHA = re.compile(r"This reverts (?:commit )?(?P<sha>[0-9a-f]{7,40})", re.IGNORECASE)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass
class Budget:
    """Points this importer may spend an hour, counted by GitHub's reported cost of each
    query; `wait_for(cost)` is the seconds to wait before a query of `cost` points."""

    points_per_hour: int = POINTS_PER_HOUR
    clock: Clock = time.monotonic
    spent: int = 0
    window_start: float | None = None

    def wait_for(self, cost: int) -> float:
        now = self.clock()
        if self.window_start is None or now - self.window_start >= 3600:
            self.window_start, self.spent = now, 0
        if self.spent + cost <= self.points_per_hour:
            return 0.0
        return self.window_start + 3600 - now

    def charge(self, cost: int) -> None:
        if self.window_start is None:
            self.window_start = self.clock()
        self.spent += cost


@dataclass
class Pulled:
    """What one pull did: repositories read, pages fetched, pull requests stored, GitHub
    points spent (its reported `cost`), revert links made, and the org whose pull requests
    were deleted first (the demo's, before a real org's first pull)."""

    repos: int = 0
    pages: int = 0
    stored: int = 0
    points: int = 0
    reverts: int = 0
    waited_seconds: float = 0.0
    forgotten: str | None = None  # another org whose pull requests were deleted first
    per_repo: dict[str, int] = field(default_factory=dict)


def _when(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def row_of(repo: str, node: dict[str, Any], now: dt.datetime) -> PullRequest:
    """A GraphQL `PullRequest` node as a row: human reviews apart from Bot ones and the
    author's own, the ready-for-review time, what it says it reverts."""
    author = node.get("author") or {}
    login = author.get("login")
    is_bot = author.get("__typename") == "Bot"
    human: list[tuple[dt.datetime, str]] = []
    ai_reviewed = False
    for review in (node.get("reviews") or {}).get("nodes") or []:
        by = (review or {}).get("author") or {}
        submitted = _when(review.get("submittedAt"))
        if by.get("__typename") == "Bot":
            ai_reviewed = True
        elif by.get("login") and by.get("login") != login and submitted is not None:
            human.append((submitted, str(by["login"])))
    human.sort()
    events = (node.get("timelineItems") or {}).get("nodes") or []
    ready = next((_when(e.get("createdAt")) for e in events if e and e.get("createdAt")), None)
    created = _when(node["createdAt"])
    assert created is not None
    title = str(node.get("title") or "")
    revert_title = _REVERT_TITLE.match(title)
    revert_sha = _REVERT_SHA.search(str(node.get("body") or ""))
    return PullRequest(
        repo=repo,
        number=int(node["number"]),
        author=login,
        author_is_bot=is_bot,
        title=title[:400],
        created_at=created,
        ready_at=ready or (None if node.get("isDraft") else created),
        first_review_at=human[0][0] if human else None,
        merged_at=_when(node.get("mergedAt")),
        closed_at=_when(node.get("closedAt")),
        updated_at=_when(node["updatedAt"]) or created,
        additions=int(node.get("additions") or 0),
        deletions=int(node.get("deletions") or 0),
        review_count=len(human),
        reviewers=sorted({who for _, who in human}),
        ai_reviewed=ai_reviewed,
        labels=[str(n["name"]) for n in (node.get("labels") or {}).get("nodes") or [] if n],
        merge_commit=(node.get("mergeCommit") or {}).get("oid"),
        reverts_title=revert_title.group("title")[:400] if revert_title else None,
        reverts_sha=revert_sha.group("sha").lower() if revert_sha else None,
        pulled_at=now,
    )


async def repositories(*, sessions: Sessions, github: GitHubClient, org: str) -> list[str]:
    """The organisation's repository names (REST, conditional on the last ETag)."""
    async with sessions() as session:
        kept = await session.get(PullRequestCursor, REPOS_KEY)
    headers = {"If-None-Match": kept.etag} if kept and kept.etag else None
    url: str | None = f"/orgs/{org}/repos"
    params: dict[str, Any] | None = {"per_page": 100, "type": "all"}
    names: list[str] = []
    etag = None
    while url:
        response = await github.get(url, params=params, headers=headers)
        if response.status_code == 304 and kept is not None:
            return list(kept.repos)  # unchanged since the last pull: no point spent
        if response.status_code >= 400:
            raise GitHubError(f"GitHub answered {response.status_code} for the repos of {org}")
        etag = etag or response.headers.get("ETag")
        names += [str(r["name"]) for r in response.json()]
        url = response.links.get("next", {}).get("url")
        params, headers = None, None  # the next link carries them; only page 1 is conditional
    async with sessions.begin() as session:
        row = await session.get(PullRequestCursor, REPOS_KEY) or PullRequestCursor(repo=REPOS_KEY)
        row.etag, row.repos, row.org = etag, sorted(names), org
        session.add(row)
    return sorted(names)


async def pull(
    *,
    sessions: Sessions,
    github: GitHubClient,
    org: str,
    now: dt.datetime,
    budget: Budget | None = None,
    sleep: Sleep | None = None,
) -> Pulled:
    """Pull every repository's pull requests updated since its watermark (all of them the
    first time). Raises `GitHubError`; what was stored stays, and the next pull resumes."""
    budget = budget or Budget()
    wait = sleep or github.sleep
    done = Pulled()
    async with sessions.begin() as session:  # another org's pull requests (the demo's) go
        kept = await session.get(PullRequestCursor, REPOS_KEY)
        if kept is not None and kept.org not in (None, org):
            done.forgotten = kept.org
            await session.exec(delete(PullRequest))
            await session.exec(delete(PullRequestCursor))
    names = await repositories(sessions=sessions, github=github, org=org)
    async with sessions.begin() as session:  # a run left unfinished is resumed, not redone
        run = await session.get(PullRequestCursor, REPOS_KEY) or PullRequestCursor(repo=REPOS_KEY)
        if not run.running:
            run.run, run.running = run.run + 1, True
        current = run.run
        session.add(run)
        finished = set(
            (
                await session.exec(
                    select(PullRequestCursor.repo).where(
                        col(PullRequestCursor.completed_run) == current
                    )
                )
            ).all()
        )
    for repo in names:
        done.repos += 1
        if repo in finished:
            continue  # completed in this run before it stopped
        done.per_repo[repo] = await _pull_repo(
            sessions, github, org, repo, now, budget, wait, done, current
        )
    async with sessions.begin() as session:
        done.reverts = await link_reverts(session=session)
        ended = await session.get(PullRequestCursor, REPOS_KEY)
        if ended is not None:
            ended.running = False
            session.add(ended)
    return done


async def _pull_repo(
    sessions: Sessions,
    github: GitHubClient,
    org: str,
    repo: str,
    now: dt.datetime,
    budget: Budget,
    wait: Sleep,
    done: Pulled,
    current: int,
) -> int:
    async with sessions() as session:
        state = await session.get(PullRequestCursor, repo)
    watermark = state.watermark if state else None
    after = state.after if state else None
    newest = state.newest if state else None
    stored = 0
    while True:
        pause = budget.wait_for(POINTS_PER_PAGE)
        if pause > 0:
            logger.info(
                "pull requests: %d points spent this hour; waiting %.0f s", budget.spent, pause
            )
            done.waited_seconds += pause
            await wait(pause)
            budget.wait_for(POINTS_PER_PAGE)  # a new window
        data = await github.graphql(QUERY, {"owner": org, "name": repo, "after": after})
        cost = int(((data or {}).get("rateLimit") or {}).get("cost") or POINTS_PER_PAGE)
        budget.charge(cost)
        done.points += cost
        done.pages += 1
        found = ((data or {}).get("repository") or {}).get("pullRequests")
        if found is None:  # the repository went away (deleted, renamed, access removed)
            break
        nodes = [n for n in found.get("nodes") or [] if n]
        rows = [row_of(repo, n, now) for n in nodes]
        fresh = [r for r in rows if watermark is None or r.updated_at >= watermark]
        reached = len(fresh) < len(rows)  # past the watermark: the rest is stored already
        page_newest = max((r.updated_at for r in rows), default=None)
        newest = max(filter(None, (newest, page_newest)), default=None)
        more = bool(found["pageInfo"]["hasNextPage"]) and not reached
        after = found["pageInfo"]["endCursor"] if more else None
        async with sessions.begin() as session:
            if fresh:  # a pull request updated since is replaced (reverts are linked again)
                await session.exec(
                    delete(PullRequest).where(
                        col(PullRequest.repo) == repo,
                        col(PullRequest.number).in_([r.number for r in fresh]),
                    )
                )
                session.add_all(fresh)
            cursor = await session.get(PullRequestCursor, repo) or PullRequestCursor(repo=repo)
            cursor.after, cursor.newest = after, newest
            if not more:  # the pass is whole: its newest update is the new watermark
                cursor.watermark, cursor.newest = newest or watermark, None
                cursor.completed_run = current
            session.add(cursor)
        stored += len(fresh)
        done.stored += len(fresh)
        if not more:
            break
    return stored


async def purge(*, session: AsyncSession, before: dt.date, keep_from: dt.date | None) -> int:
    """Delete pull requests created before `before` (UTC day; `USAGE_RAW_RETENTION_DAYS`),
    but none from `keep_from` on (the earliest rollout baseline: a comparison's baseline is
    kept as long as the comparison is made); how many."""
    cutoff = min(before, keep_from) if keep_from else before
    start = dt.datetime.combine(cutoff, dt.time(), dt.UTC)
    old = select(PullRequest.repo, PullRequest.number).where(col(PullRequest.created_at) < start)
    count = len((await session.exec(old)).all())
    if count:
        await session.exec(delete(PullRequest).where(col(PullRequest.created_at) < start))
    return count


async def link_reverts(*, session: AsyncSession) -> int:
    """Mark each pull request reverted within `REVERT_WINDOW` of its merge by a later one
    in its repository (by title or merge commit); how many links are new."""
    reverts = (
        await session.exec(
            select(PullRequest).where(
                col(PullRequest.reverts_title).is_not(None)
                | col(PullRequest.reverts_sha).is_not(None)
            )
        )
    ).all()
    made = 0
    for revert in reverts:
        query = select(PullRequest).where(
            col(PullRequest.repo) == revert.repo,
            col(PullRequest.merged_at).is_not(None),
            col(PullRequest.number) != revert.number,
        )
        if revert.reverts_title is not None:
            query = query.where(col(PullRequest.title) == revert.reverts_title)
        else:
            query = query.where(col(PullRequest.merge_commit).startswith(revert.reverts_sha or ""))
        for target in (await session.exec(query)).all():
            merged = target.merged_at
            if merged is None or not merged <= revert.created_at <= merged + REVERT_WINDOW:
                continue
            if target.reverted_by is None:
                target.reverted_by = revert.number
                session.add(target)
                made += 1
    return made
