"""FakeGitHub: an aiohttp server answering the GitHub REST calls coe-bot's Copilot importer makes.

Built from GitHub's documentation (the sources are listed in docs/usage.md):

- Copilot usage-metrics reports, ``GET /orgs/{org}/copilot/metrics/reports/users-1-day`` and
  ``.../user-teams-1-day`` (and the ``/enterprises/{enterprise}/...`` pair), answer
  ``{"download_links": [...], "report_day": ...}``; each link is an NDJSON file
  (https://docs.github.com/en/enterprise-cloud@latest/rest/copilot/copilot-usage-metrics).
- The legacy ``/copilot/metrics`` endpoints were closed on 2026-04-02 and answer 404
  (https://docs.github.com/en/enterprise-cloud@latest/rest/copilot/copilot-metrics).
- Seats, ``GET /orgs/{org}/copilot/billing/seats``, paged with a ``Link`` header
  (https://docs.github.com/en/rest/copilot/copilot-user-management).
- Rate-limit headers on every API answer, primary and secondary limits
  (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api).

    async with FakeGitHub(today=lambda: dt.date(2026, 5, 10)) as github:
        github.add_user_day({"day": "2026-05-07", "user_id": 1, "user_login": "ana", ...})
        client = httpx.AsyncClient(base_url=github.api_url, headers=...)

Every request is recorded in `calls`; `fail(...)` queues faults. Anything not modelled
(other report kinds, other methods, legacy paths) answers GitHub's 404 JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from .faults import FaultQueue
from .server import LocalServer

Record = dict[str, Any]
Source = Callable[[dt.date], Iterable[Record]]
Answer = tuple[int, dict[str, Any] | None, dict[str, str]]

API_VERSIONS = ("2022-11-28", "2026-03-10")
DEFAULT_API_VERSION = "2022-11-28"  # what unversioned requests get (facts §1.3)
REPORTS = ("users-1-day", "user-teams-1-day")
FAULT_KINDS = (*REPORTS, "seats", "download")
REST_DOCS = "https://docs.github.com/rest"
METRICS_DOCS = "https://docs.github.com/rest/copilot/copilot-usage-metrics"
SEATS_DOCS = "https://docs.github.com/rest/copilot/copilot-user-management"
RATE_DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
VERSION_DOCS = "https://docs.github.com/rest/about-the-rest-api/api-versions"
NDJSON = "application/x-ndjson"
ENTITY_KEYS = ("organization_id", "enterprise_id")
# Permission names as GitHub spells them in `x-accepted-github-permissions`
# (https://github.blog/changelog/2023-08-10-x-accepted-github-permissions-header-for-fine-grained-permission-actors);
# the names are those of the GitHub App permission schema (`organization_copilot_metrics`,
# `enterprise_copilot_metrics`, `organization_copilot_seat_management`). That GitHub sends
# exactly these values on these endpoints is assumed, not seen.
NEEDS: dict[tuple[str, str], tuple[str, str]] = {
    ("org", "report"): ("copilot_metrics", "organization_copilot_metrics=read"),
    ("enterprise", "report"): ("copilot_metrics", "enterprise_copilot_metrics=read"),
    ("org", "seats"): ("copilot_seats", "organization_copilot_seat_management=read"),
}
_REPORT_PATH = re.compile(r"/(orgs|enterprises)/([^/]+)/copilot/metrics/reports/([a-z0-9-]+)")
_SEATS_PATH = re.compile(r"/(orgs|organizations)/([^/]+)/copilot/billing/seats")
_DOWNLOAD_PATH = re.compile(r"/_downloads/([A-Za-z0-9_-]+)\.ndjson")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _error(status: int, message: str, docs: str = REST_DOCS, **extra: Any) -> Answer:
    """GitHub's error body: message, documentation_url and (lately) the status as a string."""
    return (
        status,
        {"message": message, **extra, "documentation_url": docs, "status": str(status)},
        {},
    )


@dataclass(frozen=True)
class RecordedCall:
    """One request as the stand-in saw it."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    kind: str  # "users-1-day", "user-teams-1-day", "seats", "download" or "other"
    at: dt.datetime
    authorization: bool  # an Authorization header was sent (a download should carry none)


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    secondary: bool
    times: int
    after: int


@dataclass
class _Link:
    scope: str  # "org" or "enterprise"
    report: str
    day: dt.date
    part: int
    parts: int
    expires_at: dt.datetime
    expired: bool = False


def _file_key(link: _Link) -> tuple[str, str, dt.date, int, int]:
    return link.scope, link.report, link.day, link.part, link.parts


@dataclass
class _Budget:
    """A primary rate-limit window: `limit` requests an hour, reset an hour after first use."""

    limit: int
    used: int = 0
    reset_at: int = 0

    def spend(self, now: int) -> bool:
        """Count one request; False when the budget was already spent."""
        if now >= self.reset_at:
            self.used, self.reset_at = 0, now + 3600
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def headers(self, *, exhausted_until: int | None = None) -> dict[str, str]:
        used = self.limit if exhausted_until is not None else self.used
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(max(0, self.limit - used)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(exhausted_until or self.reset_at),
            "x-ratelimit-resource": "core",
        }


class FakeGitHub(LocalServer):
    """The GitHub stand-in. Start it, use `api_url` where the app would use api.github.com.

    Auth: `Authorization: Bearer <token>` or `token <token>`; none answers 401 "Requires
    authentication", a wrong one 401 "Bad credentials" (GitHub's two wordings). A token
    lacks what `permissions` leaves out: "copilot_metrics" (reports), "copilot_seats".

    Readiness follows "available within two full UTC days" after the day closes
    (https://docs.github.com/en/copilot/concepts/copilot-usage-metrics/copilot-metrics): a day
    is ready once `ready_after_days` whole UTC days have passed since it ended, so with
    today() = 05-10 the newest ready day is 05-07 (`newest_ready_day()`). A day not ready
    answers 204 on org endpoints and 404 on enterprise ones (facts §1.2).

    Data: records added with `add_user_day` / `add_user_team`, and the optional lazy
    `source` / `team_source` (day -> rows, for millions of rows: nothing is held; each file
    download calls them again, so they must give the same rows each time). An added row
    replaces a source row with the same (user_id, day) or (user_id, team_id, day). Files are
    made when downloaded, so a record re-added after the links were issued shows in them.
    """

    name = "GitHub stand-in"

    def __init__(
        self,
        *,
        token: str = "ghs_standin",
        org: str = "standin-org",
        enterprise: str | None = "standin-enterprise",
        permissions: frozenset[str] = frozenset({"copilot_metrics", "copilot_seats"}),
        today: Callable[[], dt.date] | None = None,
        now: Callable[[], dt.datetime] = _utcnow,
        org_id: int = 1_000_001,
        enterprise_id: int = 9_000_001,
        rate_limit: int = 5000,
    ) -> None:
        super().__init__()
        self.token = token
        self.org = org
        self.enterprise = enterprise
        self.permissions = permissions
        self.now = now
        self.today: Callable[[], dt.date] = today or (lambda: self.now().date())
        self.org_id = org_id
        self.enterprise_id = enterprise_id
        self.ready_after_days = 2
        self.history_start: dt.date | None = None  # org: 2025-12-12, enterprise: 2025-10-10
        self.history_days = 365  # "up to 1 year from the current date"
        self.min_team_size = 5  # smaller teams are left out of user-teams reports
        self.files_per_report = 1
        self.link_ttl_seconds = 3600.0  # the real TTL is undocumented (facts §1.4)
        self.source: Source | None = None
        self.team_source: Source | None = None
        self.calls: list[RecordedCall] = []
        self._budget = _Budget(rate_limit)
        self._anonymous = _Budget(60)
        self._user_days: dict[dt.date, dict[int, Record]] = {}
        self._user_teams: dict[dt.date, dict[tuple[int, int], Record]] = {}
        self._seats: list[dict[str, Any]] = []
        self._links: dict[str, _Link] = {}
        # Files kept once made, as a report's files sit in storage (`keep_files`): for a
        # benchmark, the stand-in's cost of making rows is then paid before it is timed.
        self.keep_files = False
        self._kept: dict[tuple[str, str, dt.date, int, int], bytes] = {}
        self._faults: FaultQueue[_Fault] = FaultQueue()
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    # -- lifecycle ----------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    # -- data -----------------------------------------------------------------------

    @property
    def rate_limit(self) -> int:
        """The primary budget per hour (5,000 for a PAT or an App installation, facts §5.2)."""
        return self._budget.limit

    @rate_limit.setter
    def rate_limit(self, limit: int) -> None:
        self._budget.limit = limit

    def add_user_day(self, record: Record) -> None:
        """Add one users-1-day record (`day` and `user_id` required); a later record for the
        same (user_id, day) replaces it, as a late-settling day does. The stand-in adds
        `organization_id` / `enterprise_id` and ETL noise when serving it."""
        day, user_id = _as_day(record.get("day")), record.get("user_id")
        if day is None or not isinstance(user_id, int):
            raise ValueError("a user-day record needs `day` (YYYY-MM-DD) and an int `user_id`")
        self._user_days.setdefault(day, {})[user_id] = {**record, "day": day.isoformat()}
        self._kept.clear()

    def add_user_team(
        self, day: dt.date, *, user_id: int, user_login: str, team_id: int, slug: str
    ) -> None:
        """Add one user-teams row: `user_login` was in team `slug` on `day`."""
        row = {"user_id": user_id, "user_login": user_login, "day": day.isoformat()}
        row |= {"team_id": team_id, "slug": slug}
        self._user_teams.setdefault(day, {})[(user_id, team_id)] = row
        self._kept.clear()

    def set_seats(self, seats: list[dict[str, Any]]) -> None:
        """The org's seat list as `GET .../copilot/billing/seats` shows it (facts §2)."""
        self._seats = list(seats)

    def newest_ready_day(self) -> dt.date:
        return self.today() - dt.timedelta(days=self.ready_after_days + 1)

    def is_ready(self, day: dt.date) -> bool:
        started = self.history_start is None or day >= self.history_start
        return started and day <= self.newest_ready_day()

    def expire_links(self) -> None:
        """Every download link issued so far is expired (403 from now on)."""
        for link in self._links.values():
            link.expired = True

    # -- faults and records -----------------------------------------------------------

    def fail(
        self,
        what: str,
        *,
        status: int = 500,
        retry_after: int | None = None,
        secondary: bool = False,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Answer `times` calls to `what` (one of `FAULT_KINDS`) with a failure, once `after`
        more calls have gone through. API calls (see `_fault_answer`):

        - `secondary=True`: 403 (or 429 with `status=429`), "You have exceeded a secondary
          rate limit", `retry-after` when given (GitHub may omit it: wait >= 60 s then);
        - `status=403`: the primary limit, `x-ratelimit-remaining: 0` and
          `x-ratelimit-reset` = now + `retry_after` (else the window's reset);
        - `status=429`: `retry-after` (60 unless given);
        - anything else (5xx, 404, ...): that status, `retry-after` only when given.

        `"download"` faults hit the NDJSON files: the status with a storage-style error body.
        """
        if what not in FAULT_KINDS:
            raise ValueError(f"what must be one of {FAULT_KINDS}")
        if status not in {s.value for s in HTTPStatus} or status < 400:
            raise ValueError("status must be an HTTP error status")
        self._faults.add(what, _Fault(status, retry_after, secondary, times, after))

    def clear_faults(self) -> None:
        self._faults.clear()

    def reset(self) -> None:
        """Forget recorded calls (data, links and the rate-limit window stay)."""
        self.calls.clear()

    def calls_to(self, kind: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.kind == kind]

    # -- HTTP ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        download = _DOWNLOAD_PATH.fullmatch(request.path)
        if download is not None and request.method == "GET":
            return await self._download(request, download.group(1))
        kind, scope, owner = _route(request.path)
        status, body, headers = self._answer(request, kind, scope, owner)
        self._record(request, kind, status)
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    def _record(self, request: web.Request, kind: str, status: int) -> None:
        self.calls.append(
            RecordedCall(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                status=status,
                kind=kind,
                at=self.now(),
                authorization="Authorization" in request.headers,
            )
        )

    def _answer(self, request: web.Request, kind: str, scope: str | None, owner: str) -> Answer:
        now = int(self.now().timestamp())
        token = _token(request)
        if token != self.token:
            self._anonymous.spend(now)
            message = "Requires authentication" if token is None else "Bad credentials"
            return _with(_error(401, message), self._anonymous.headers())
        if not self._budget.spend(now):
            message = "API rate limit exceeded for installation."
            return _with(_error(403, message, RATE_DOCS), self._budget.headers())
        version = request.headers.get("X-GitHub-Api-Version") or DEFAULT_API_VERSION
        headers = {**self._budget.headers(), "x-github-api-version-selected": version}
        refusal = _version_error(version) or self._refusal(request.method, kind, scope, owner)
        if refusal is not None:
            return _with(refusal, headers)
        fault = self._faults.take(kind)
        if fault is not None:
            return _with(self._fault_answer(fault, now), headers)
        if kind == "seats":
            return _with(self._seats_page(request), headers)
        return _with(self._report(scope or "org", kind, request.query.get("day")), headers)

    def _refusal(self, method: str, kind: str, scope: str | None, owner: str) -> Answer | None:
        """404 for what is not there (GitHub answers 404 to unsupported methods too), 403
        "Resource not accessible by integration" for a token without the permission."""
        known = {"org": self.org.lower(), "organizations": str(self.org_id)}
        if self.enterprise is not None:
            known["enterprise"] = self.enterprise.lower()
        if method != "GET" or kind == "other" or known.get(scope or "") != owner.lower():
            return _error(404, "Not Found")
        group = "seats" if kind == "seats" else "report"
        permission, accepted = NEEDS[("enterprise" if scope == "enterprise" else "org", group)]
        if permission in self.permissions:
            return None
        docs = SEATS_DOCS if kind == "seats" else METRICS_DOCS
        refused = _error(403, "Resource not accessible by integration", docs)
        return _with(refused, {"x-accepted-github-permissions": accepted})

    def _fault_answer(self, fault: _Fault, now: int) -> Answer:
        retry = {"retry-after": str(fault.retry_after)} if fault.retry_after is not None else {}
        if fault.secondary:
            status = 429 if fault.status == 429 else 403
            message = (
                "You have exceeded a secondary rate limit. Please wait a few minutes before "
                "you try again."
            )
            return _with(_error(status, message, f"{RATE_DOCS}#about-secondary-rate-limits"), retry)
        if fault.status == 403:
            until = self._budget.reset_at if fault.retry_after is None else now + fault.retry_after
            headers = self._budget.headers(exhausted_until=until)
            message = "API rate limit exceeded for installation."
            return _with(_error(403, message, f"{RATE_DOCS}#about-primary-rate-limits"), headers)
        if fault.status == 429:
            return _with(
                _error(429, "Too many requests", RATE_DOCS), {"retry-after": "60", **retry}
            )
        return _with(_error(fault.status, HTTPStatus(fault.status).phrase), retry)

    def _seats_page(self, request: web.Request) -> Answer:
        """One page of seats; `Link` with prev/next/last/first as GitHub sends it. The links
        use the org's id (`/organizations/{id}/...`), as GitHub's do: follow them."""
        page, per_page = _int(request.query.get("page"), 1), _int(request.query.get("per_page"), 50)
        if page is None or per_page is None:
            return _error(422, "Validation Failed", SEATS_DOCS, errors=[{"code": "invalid"}])
        page, per_page = max(page, 1), min(max(per_page, 1), 100)
        last = max(1, -(-len(self._seats) // per_page))
        seats = self._seats[(page - 1) * per_page : page * per_page]
        base = f"{self.api_url}/organizations/{self.org_id}/copilot/billing/seats"
        query = {k: v for k, v in request.query.items() if k != "page"}
        rels = [("prev", page - 1)] if page > 1 else []
        if page < last:
            rels += [("next", page + 1), ("last", last)]
        if page > 1:
            rels.append(("first", 1))
        links = [f'<{base}?{urlencode({**query, "page": n})}>; rel="{rel}"' for rel, n in rels]
        headers = {"Link": ", ".join(links)} if links else {}
        return 200, {"total_seats": len(self._seats), "seats": seats}, headers

    def _report(self, scope: str, report: str, raw_day: str | None) -> Answer:
        day = _as_day(raw_day)
        if day is None:
            code = "missing_field" if raw_day is None else "invalid"
            errors = [{"resource": "CopilotMetrics", "field": "day", "code": code}]
            return _error(422, "Validation Failed", METRICS_DOCS, errors=errors)
        if day < self.today() - dt.timedelta(days=self.history_days):
            # The status for a day past the documented 1-year history is not documented.
            message = "The requested day is more than 1 year ago; reports cover up to 1 year."
            return _error(400, message, METRICS_DOCS)
        if not self.is_ready(day):
            return (204, None, {}) if scope == "org" else _error(404, "Not Found", METRICS_DOCS)
        parts = max(1, self.files_per_report)
        links = [self._issue_link(scope, report, day, part, parts) for part in range(parts)]
        return 200, {"download_links": links, "report_day": day.isoformat()}, {}

    def _issue_link(self, scope: str, report: str, day: dt.date, part: int, parts: int) -> str:
        """A signed, expiring URL (its query mimics a storage SAS: `se` expiry, `sig`)."""
        link_id = secrets.token_urlsafe(12)
        expires_at = self.now() + dt.timedelta(seconds=self.link_ttl_seconds)
        self._links[link_id] = _Link(scope, report, day, part, parts, expires_at)
        query = urlencode({"se": expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "sig": link_id[:8]})
        return f"{self.api_url}/_downloads/{link_id}.ndjson?{query}"

    # -- downloads --------------------------------------------------------------------

    async def _download(self, request: web.Request, link_id: str) -> web.StreamResponse:
        """The NDJSON file behind a link, streamed: rows are made as they are written.
        Refusals look like a storage service's: an XML error, 403 once the link expired."""
        link = self._links.get(link_id)
        refusal = self._download_refusal(link)
        self._record(request, "download", refusal[0] if refusal else 200)
        if link is None or refusal is not None:
            status, code, headers = refusal or (404, "BlobNotFound", {})
            body = f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code></Error>'
            xml = "application/xml"
            return web.Response(status=status, text=body, content_type=xml, headers=headers)
        response = web.StreamResponse(status=200, headers={"Content-Type": NDJSON})
        await response.prepare(request)
        kept = self._kept.get(_file_key(link))
        for chunk in [kept] if kept is not None else self._render(link):
            await response.write(chunk)
        await response.write_eof()
        return response

    def _render(self, link: _Link) -> Iterator[bytes]:
        """The file's NDJSON in chunks of 500 rows, kept whole when `keep_files` is on."""
        chunk: list[str] = []
        whole: list[bytes] = []
        for row in self._file_rows(link):
            chunk.append(json.dumps(row, separators=(",", ":")) + "\n")
            if len(chunk) >= 500:
                whole.append("".join(chunk).encode())
                yield whole[-1]
                chunk.clear()
        whole.append("".join(chunk).encode())
        yield whole[-1]
        if self.keep_files:
            self._kept[_file_key(link)] = b"".join(whole)

    def make_files(self, days: Iterable[dt.date], *, scope: str = "org") -> int:
        """With `keep_files`, make every report file of `days` now (what GitHub's storage
        holds before anyone asks), so serving them later costs no row-making; their bytes."""
        if not self.keep_files:
            raise ValueError("make_files needs keep_files")
        made = 0
        for day in days:
            for report in ("users-1-day", "user-teams-1-day"):
                for part in range(self.files_per_report):
                    link = _Link(scope, report, day, part, self.files_per_report, _utcnow())
                    made += sum(len(chunk) for chunk in self._render(link))
        return made

    def _download_refusal(self, link: _Link | None) -> tuple[int, str, dict[str, str]] | None:
        if link is None:
            return 404, "BlobNotFound", {}
        if link.expired or self.now() >= link.expires_at:
            return 403, "AuthenticationFailed", {}  # a signed URL past its expiry
        fault = self._faults.take("download")
        if fault is None:
            return None
        code = HTTPStatus(fault.status).phrase.replace(" ", "")
        retry = fault.retry_after if fault.retry_after is not None else 60
        busy = fault.status in (429, 503) or fault.retry_after is not None
        return fault.status, code, {"Retry-After": str(retry)} if busy else {}

    def _file_rows(self, link: _Link) -> Iterator[Record]:
        """This file's share of the report: row i goes to file i % parts."""
        if link.report == "users-1-day":
            rows = self._user_rows(link.day)
        else:
            rows = self._team_report_rows(link.day)
        entity = "organization_id" if link.scope == "org" else "enterprise_id"
        entity_id = str(self.org_id if link.scope == "org" else self.enterprise_id)
        noise = {"etl_id": f"etl-{link.day:%Y%m%d}-{link.part}", "day_partition": str(link.day)}
        for index, row in enumerate(rows):
            if index % link.parts == link.part:
                shown = {k: v for k, v in row.items() if k not in ENTITY_KEYS}
                # A source's row keeps the day it names: a broken export can be played back
                day = row.get("day", link.day.isoformat())
                yield {**shown, "day": day, entity: entity_id, **noise}

    def _user_rows(self, day: dt.date) -> Iterator[Record]:
        added = self._user_days.get(day, {})
        if self.source is not None:
            yield from (r for r in self.source(day) if r.get("user_id") not in added)
        yield from added.values()

    def _team_rows(self, day: dt.date) -> Iterator[Record]:
        added = self._user_teams.get(day, {})
        if self.team_source is not None:
            for row in self.team_source(day):
                if (row.get("user_id"), row.get("team_id")) not in added:
                    yield row
        yield from added.values()

    def _team_report_rows(self, day: dt.date) -> Iterator[Record]:
        """Rows of teams with at least `min_team_size` users that day (two passes, so a
        lazy source is never held in memory)."""
        sizes = Counter(row["team_id"] for row in self._team_rows(day))
        return (r for r in self._team_rows(day) if sizes[r["team_id"]] >= self.min_team_size)


def _with(answer: Answer, headers: dict[str, str]) -> Answer:
    status, body, own = answer
    return status, body, {**headers, **own}


def _route(path: str) -> tuple[str, str | None, str]:
    """(kind, scope, owner) of an API path; kind "other" for anything not modelled."""
    if (report := _REPORT_PATH.fullmatch(path)) and report.group(3) in REPORTS:
        scope = "org" if report.group(1) == "orgs" else "enterprise"
        return report.group(3), scope, report.group(2)
    if seats := _SEATS_PATH.fullmatch(path):
        return "seats", "org" if seats.group(1) == "orgs" else "organizations", seats.group(2)
    return "other", None, ""


def _token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "token") and token.strip():
        return token.strip()
    return None


def _version_error(version: str) -> Answer | None:
    """GitHub answered an unknown version ("v3") with 400 Bad Request naming the supported
    ones (https://github.com/expipiplus1/update-nix-fetchgit/issues/79); the docs (and facts
    §1.3) say a version no longer supported gets 410 Gone (VERSION_DOCS). We answer 410 for
    a date-shaped version older than the oldest supported one, 400 for anything else."""
    if version in API_VERSIONS:
        return None
    if _DATE.fullmatch(version) and version < min(API_VERSIONS):
        return _error(410, f"API version {version} is no longer supported.", VERSION_DOCS)
    newest, *older = sorted(API_VERSIONS, reverse=True)
    supported = ", ".join([f'"{newest}" (most recent)', *(f'"{v}"' for v in older)])
    message = (
        f'The version you specified in the "X-GitHub-Api-Version" request header, "{version}", '
        f"is not a supported version. The following versions are currently supported: "
        f"{supported}."
    )
    return _error(400, message, VERSION_DOCS)


def _as_day(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _int(value: str | None, default: int) -> int | None:
    if value is None:
        return default
    return int(value) if value.isdigit() else None


__all__ = ["API_VERSIONS", "FAULT_KINDS", "FakeGitHub", "RecordedCall"]
