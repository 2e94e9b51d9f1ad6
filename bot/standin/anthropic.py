"""A stand-in for Anthropic's Claude Code Analytics (Admin API), built from its
documentation (MEASUREMENT_FACTS §4: https://platform.claude.com/docs/en/build-with-claude/
claude-code-analytics-api), for tests and `coe-bot usage demo`.

What it serves, as Anthropic does:

- `GET /v1/organizations/usage_report/claude_code?starting_at=YYYY-MM-DD&limit=&page=`:
  one UTC day per call, `{"data": [...], "has_more", "next_page"}`, `limit` 1–1000
  (default 20), `page` an opaque cursor from `next_page`;
- auth: `x-api-key` with an Admin API key and an `anthropic-version` header; none or a
  wrong key answers 401, a missing version 400;
- only data older than an hour: a day that has not begun (or began under an hour ago) has
  no records yet;
- faults injected per call (`fail`): any status, with `retry-after` when given (429 sends
  60 unless told).

A record is one actor's day: `date` (RFC 3339 midnight), `actor` (`user_actor` with an
`email_address`, or `api_actor` with an `api_key_name`), `customer_type`,
`subscription_type`, `terminal_type`, `core_metrics`, `tool_actions`, `model_breakdown`
(cost in cents). People on claude.ai subscriptions do not appear: the documented gap.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.standin.faults import FaultQueue
from bot.standin.server import LocalServer

Record = dict[str, Any]
PATH = "/v1/organizations/usage_report/claude_code"
MAX_LIMIT = 1000


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    times: int
    after: int


@dataclass
class RecordedCall:
    path: str
    params: dict[str, str]
    status: int


class FakeAnthropic(LocalServer):
    """Claude Code analytics for one organisation. `add_record` fills it; `source` (day ->
    records) serves a large organisation without holding it."""

    name = "Anthropic stand-in"

    def __init__(
        self, *, admin_key: str = "sk-ant-admin01-standin", now: Callable[[], dt.datetime] = _utcnow
    ) -> None:
        super().__init__()
        self.admin_key = admin_key
        self.now = now
        self.source: Callable[[dt.date], Iterable[Record]] | None = None
        self.calls: list[RecordedCall] = []
        self._records: dict[dt.date, list[Record]] = {}
        self._faults: FaultQueue[_Fault] = FaultQueue()
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    @property
    def api_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def add_record(self, record: Record) -> None:
        """One actor's day (`date` as "YYYY-MM-DDT00:00:00Z" or "YYYY-MM-DD")."""
        day = dt.date.fromisoformat(str(record["date"])[:10])
        self._records.setdefault(day, []).append(dict(record))

    def fail(
        self, *, status: int = 500, retry_after: int | None = None, times: int = 1, after: int = 0
    ) -> None:
        """Answer `times` calls with `status`, once `after` calls have gone through."""
        self._faults.add("usage", _Fault(status, retry_after, times, after))

    # -- HTTP -------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        status, payload, headers = self._answer(request)
        self.calls.append(RecordedCall(request.path, dict(request.query), status))
        return web.json_response(payload, status=status, headers=headers)

    def _answer(self, request: web.Request) -> tuple[int, Any, dict[str, str]]:
        if request.headers.get("x-api-key") != self.admin_key:
            return 401, _error("authentication_error", "invalid x-api-key"), {}
        if not request.headers.get("anthropic-version"):
            return 400, _error("invalid_request_error", "anthropic-version header is required"), {}
        if request.method != "GET" or request.path != PATH:
            return 404, _error("not_found_error", "Not found"), {}
        fault = self._faults.take("usage")
        if fault is not None:
            headers = {}
            if fault.status == 429 or fault.retry_after is not None:
                headers["retry-after"] = str(fault.retry_after or 60)
            kind = "rate_limit_error" if fault.status == 429 else "api_error"
            return fault.status, _error(kind, f"injected {fault.status}"), headers
        try:
            day = dt.date.fromisoformat(request.query.get("starting_at", ""))
        except ValueError:
            return 400, _error("invalid_request_error", "starting_at must be YYYY-MM-DD"), {}
        limit_text = request.query.get("limit", "20")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
            return 400, _error("invalid_request_error", f"limit must be 1 to {MAX_LIMIT}"), {}
        limit = int(limit_text)
        offset = _offset(request.query.get("page"))
        if offset is None:
            return 400, _error("invalid_request_error", "invalid page cursor"), {}
        rows = self._day(day)
        shown = rows[offset : offset + limit]
        more = offset + limit < len(rows)
        page = _cursor(offset + limit) if more else None
        return 200, {"data": shown, "has_more": more, "next_page": page}, {}

    def _day(self, day: dt.date) -> list[Record]:
        opened = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        if self.now() < opened + dt.timedelta(hours=1):
            return []  # only data older than an hour
        rows = list(self.source(day)) if self.source else []
        return rows + self._records.get(day, [])


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"page:{offset}".encode()).decode()


def _offset(page: str | None) -> int | None:
    if page is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(page.encode()).decode()
    except ValueError:
        return None
    kind, _, number = text.partition(":")
    return int(number) if kind == "page" and number.isdigit() else None
