"""A stand-in for Cursor's Admin API, built from its documentation (MEASUREMENT_FACTS §3:
https://cursor.com/docs/account/teams/admin-api), for tests and `coe-bot usage demo`.

What it serves, as Cursor does:

- auth: HTTP Basic with the admin API key as user name and an empty password; none or a
  wrong key answers 401;
- `GET /teams/members` → `{"teamMembers": [{id, email, name, role, isRemoved}]}`;
- `POST /teams/daily-usage-data` with `{"startDate", "endDate"}` in epoch milliseconds →
  `{"data": [per member per day]}`; a range over 30 days is refused (400), the limit the
  current docs state; days after the newest aggregated hour are not there yet;
- `POST /teams/spend` with `{"page", "pageSize"}` → `{"teamMemberSpend": [...],
  "subscriptionCycleStart", "totalPages"}` (spend in cents);
- a rate limit of `rate_limit` requests a minute (20 by default, per team), over which it
  answers 429 with `Retry-After: 60`;
- faults injected per endpoint (`fail`): any status, with `Retry-After` when given.

Which fields a usage record carries is the documented list; a record's counters may be
left out on an inactive day (`{"date", "isActive": false}`), as seen in the wild.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.standin.faults import FaultQueue
from bot.standin.server import LocalServer

Record = dict[str, Any]
MAX_RANGE_DAYS = 30
FAULT_KINDS = ("members", "daily-usage-data", "spend")
ENDPOINTS = {
    ("GET", "/teams/members"): "members",
    ("POST", "/teams/daily-usage-data"): "daily-usage-data",
    ("POST", "/teams/spend"): "spend",
}
DAY_MS = 86_400_000


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def epoch_ms(day: dt.date) -> int:
    """Midnight UTC of `day` in epoch milliseconds, as Cursor's dates are."""
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp() * 1000)


def day_of(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).date()


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    times: int
    after: int


@dataclass
class RecordedCall:
    method: str
    path: str
    kind: str
    status: int
    body: Any


class FakeCursor(LocalServer):
    """Cursor's Admin API for one team. `add_member`, `add_usage` and `set_spend` fill it;
    `usage_source` (day -> records) serves a large organisation without holding it."""

    name = "Cursor stand-in"

    def __init__(
        self,
        *,
        api_key: str = "key_standin",
        now: Callable[[], dt.datetime] = _utcnow,
        rate_limit: int = 20,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.now = now
        self.rate_limit = rate_limit
        self.members: list[Record] = []
        self.spend: list[Record] = []
        self.cycle_start: dt.date | None = None
        self.usage_source: Callable[[dt.date], Iterable[Record]] | None = None
        self.calls: list[RecordedCall] = []
        self._usage: dict[dt.date, dict[str, Record]] = {}
        self._minute: tuple[int, int] = (0, 0)  # (minute, requests in it)
        self._faults: FaultQueue[_Fault] = FaultQueue()
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    @property
    def api_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    # -- data -------------------------------------------------------------------------

    def add_member(self, email: str, *, name: str = "", role: str = "member") -> Record:
        member = {
            "id": 100_000 + len(self.members),
            "email": email,
            "name": name or email.split("@")[0],
            "role": role,
            "isRemoved": False,
        }
        self.members.append(member)
        return member

    def add_usage(self, record: Record) -> None:
        """One member's day (`date` in epoch ms and `email` required); a later record for
        the same (email, day) replaces it, as an hourly re-aggregation does."""
        day, email = day_of(int(record["date"])), str(record["email"])
        self._usage.setdefault(day, {})[email.lower()] = dict(record)

    def set_spend(self, rows: list[Record], *, cycle_start: dt.date) -> None:
        """This cycle's spend per member (`email`, `spendCents`, ...)."""
        self.spend, self.cycle_start = list(rows), cycle_start

    def newest_day(self) -> dt.date:
        """Usage is aggregated hourly: today so far is there, tomorrow is not."""
        return self.now().date()

    # -- faults -----------------------------------------------------------------------

    def fail(
        self,
        what: str,
        *,
        status: int = 500,
        retry_after: int | None = None,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Answer `times` calls to `what` (one of `FAULT_KINDS`) with `status`, once `after`
        calls have gone through; 429 carries `Retry-After` (60 unless given)."""
        if what not in FAULT_KINDS:
            raise ValueError(f"what must be one of {FAULT_KINDS}")
        self._faults.add(what, _Fault(status, retry_after, times, after))

    def calls_to(self, kind: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.kind == kind]

    # -- HTTP -------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        kind = ENDPOINTS.get((request.method, request.path))
        body: Any = None
        if request.method == "POST" and request.can_read_body:
            try:
                body = json.loads(await request.text() or "null")
            except ValueError:
                body = ValueError
        status, payload, headers = self._answer(request, kind, body)
        self.calls.append(RecordedCall(request.method, request.path, kind or "", status, body))
        return web.json_response(payload, status=status, headers=headers)

    def _answer(
        self, request: web.Request, kind: str | None, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if not self._authorised(request.headers.get("Authorization", "")):
            return 401, {"error": "Unauthorized", "message": "Invalid API key"}, {}
        if kind is None:
            return 404, {"error": "Not Found"}, {}
        minute = int(self.now().timestamp() // 60)
        count = self._minute[1] + 1 if self._minute[0] == minute else 1
        self._minute = (minute, count)
        if count > self.rate_limit:
            return 429, {"error": "Too Many Requests"}, {"Retry-After": "60"}
        fault = self._faults.take(kind)
        if fault is not None:
            headers = {}
            if fault.status == 429 or fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after or 60)
            return fault.status, {"error": f"injected {fault.status}"}, headers
        if kind == "members":
            return 200, {"teamMembers": self.members}, {}
        if body is ValueError or not isinstance(body, dict):
            return 400, {"error": "Bad Request", "message": "Invalid JSON body"}, {}
        if kind == "daily-usage-data":
            return self._daily_usage(body)
        return self._spend(body)

    def _authorised(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, _password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        return user == self.api_key

    def _daily_usage(self, body: Record) -> tuple[int, Any, dict[str, str]]:
        start, end = body.get("startDate"), body.get("endDate")
        if not isinstance(start, int) or not isinstance(end, int) or end < start:
            message = "startDate and endDate are required epoch milliseconds, start <= end"
            return 400, {"error": "Bad Request", "message": message}, {}
        if end - start > MAX_RANGE_DAYS * DAY_MS:
            message = f"Date range cannot exceed {MAX_RANGE_DAYS} days"
            return 400, {"error": "Bad Request", "message": message}, {}
        first, last = day_of(start), min(day_of(end), self.newest_day())
        rows: list[Record] = []
        day = first
        while day <= last:
            rows += self._day_rows(day)
            day += dt.timedelta(days=1)
        return 200, {"data": rows, "period": {"startDate": start, "endDate": end}}, {}

    def _day_rows(self, day: dt.date) -> list[Record]:
        added = self._usage.get(day, {})
        rows = [
            r
            for r in (self.usage_source(day) if self.usage_source else ())
            if str(r.get("email", "")).lower() not in added
        ]
        return rows + list(added.values())

    def _spend(self, body: Record) -> tuple[int, Any, dict[str, str]]:
        page, size = body.get("page", 1), body.get("pageSize", 100)
        if not isinstance(page, int) or not isinstance(size, int) or page < 1 or size < 1:
            return 400, {"error": "Bad Request", "message": "page and pageSize are >= 1"}, {}
        pages = max(1, -(-len(self.spend) // size))
        shown = self.spend[(page - 1) * size : page * size]
        cycle = epoch_ms(self.cycle_start) if self.cycle_start else None
        payload = {"teamMemberSpend": shown, "subscriptionCycleStart": cycle, "totalPages": pages}
        return 200, payload, {}
