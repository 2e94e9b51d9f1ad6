"""Pulling Claude Code's usage into coe-bot through Anthropic's Admin API (MEASUREMENT_FACTS
§4, https://platform.claude.com/docs/en/build-with-claude/claude-code-analytics-api): one
record per actor per day, one UTC day per call, paged by an opaque `next_page` cursor.

The one `httpx.AsyncClient` for Anthropic is built in `AnthropicClient`: `x-api-key` with
an Admin API key, `anthropic-version: 2023-06-01`, a descriptive User-Agent; 429 waits
`retry-after`; server errors and dropped connections back off. Data appears about an hour
after the fact: each pull takes yesterday and today again and a re-pulled day replaces
what was stored.

The known gap: people who sign in to Claude Code with a claude.ai Team or Enterprise
subscription do not appear in this source (anthropics/claude-code#27780). Figures say
"not measured by this source" for them; they are never counted as not using it.

Errors (all `AnthropicError`): `AnthropicAuthError` (401/403: the key is wrong or not an
Admin key), `AnthropicUnavailable` (retries used up, or a wait over `max_wait` seconds).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Self

import httpx
from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import Sessions
from bot.models import ClaudeCodeUserDay, UsagePull
from bot.usage import vendor
from bot.usage.copilot import done_before, insert_rows
from bot.usage.github import Retrying

logger = logging.getLogger(__name__)

SOURCE = "claude_code"
PATH = "/v1/organizations/usage_report/claude_code"
API_VERSION = "2023-06-01"
PAGE = 1000  # the largest page the endpoint gives
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
REPULL_DAYS = 2  # yesterday and today again: data appears about an hour after the fact
FIRST_PULL_DAYS = 120
DAY_COLUMNS = (
    "day",
    "actor",
    "actor_type",
    "customer_type",
    "subscription_type",
    "terminal_type",
    "sessions",
    "lines_added",
    "lines_removed",
    "commits",
    "pull_requests",
    "tool_accepted",
    "tool_rejected",
    "cost_cents",
    "extra",
    "pulled_at",
)
KNOWN = {
    "date",
    "actor",
    "organization_id",
    "customer_type",
    "subscription_type",
    "terminal_type",
    "core_metrics",
    "tool_actions",
    "model_breakdown",
}


class AnthropicError(Exception):
    """Anthropic refused or could not answer; `str()` is one line a CoE admin can act on."""


class AnthropicAuthError(AnthropicError):
    pass


class AnthropicUnavailable(AnthropicError):
    pass


class Skip(ValueError):
    """A record that breaks the documented shape: skipped, with why."""


class AnthropicClient:
    """`async with AnthropicClient(api_url, admin_key) as anthropic: await anthropic.get(…)`."""

    def __init__(
        self,
        api_url: str,
        admin_key: str,
        *,
        retrying: Retrying | None = None,
        sleep: vendor.Sleep = asyncio.sleep,
    ) -> None:
        self.retrying = retrying or Retrying()
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=api_url.rstrip("/"),
            headers={
                "x-api-key": admin_key,
                "anthropic-version": API_VERSION,
                "User-Agent": "coe-bot (Claude Code usage for a CoE)",
            },
            timeout=TIMEOUT,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def get(self, path: str, params: dict[str, Any]) -> Any:
        """The JSON of a 2xx answer, after retries; raises an `AnthropicError`."""

        def refusal(response: httpx.Response) -> Exception:
            if response.status_code in (401, 403):
                return AnthropicAuthError(
                    f"Anthropic refused USAGE_ANTHROPIC_ADMIN_KEY ({response.status_code}):"
                    " use an Admin API key (sk-ant-admin…) of the organisation"
                )
            return AnthropicError(
                f"Anthropic answered {response.status_code} for {path}:"
                f" {vendor.message_of(response)}"
            )

        response = await vendor.send(
            lambda: self._http.get(path, params=params),
            what=f"Anthropic {path}",
            retrying=self.retrying,
            sleep=self._sleep,
            refusal=refusal,
            unavailable=AnthropicUnavailable,
        )
        return response.json()


async def window(
    *, session: AsyncSession, today: dt.date, target: str | None = None
) -> tuple[dt.date, dt.date]:
    """The days a pull takes by default (UTC, inclusive): yesterday and today, or, before
    a pull of `target` has finished, `FIRST_PULL_DAYS` back to today."""
    done = await done_before(session=session, source=SOURCE, target=target)
    back = REPULL_DAYS - 1 if done else FIRST_PULL_DAYS
    return today - dt.timedelta(days=back), today


def _count(value: Any, name: str) -> int:
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Skip(f"{name} is not a count: {value!r}"[:120])
    return value


def actor_day(record: Any, day: dt.date, now: dt.datetime) -> dict[str, Any]:
    """A Claude Code record as a `claude_code_user_day` row; raises `Skip`."""
    if not isinstance(record, dict):
        raise Skip("not an object")
    date = str(record.get("date", ""))[:10]
    if date != day.isoformat():
        raise Skip(f"date {date or 'missing'} is not the day asked for ({day})")
    actor = record.get("actor")
    if not isinstance(actor, dict):
        raise Skip("no actor")
    if actor.get("type") == "user_actor" and isinstance(actor.get("email_address"), str):
        name, kind = actor["email_address"].strip().lower(), "user"
    elif actor.get("type") == "api_actor" and isinstance(actor.get("api_key_name"), str):
        name, kind = f"api:{actor['api_key_name']}"[:254], "api"
    else:
        raise Skip("an actor without an e-mail or an API key name")
    core = record.get("core_metrics") or {}
    lines = core.get("lines_of_code") or {}
    actions = record.get("tool_actions") or {}
    if not isinstance(core, dict) or not isinstance(lines, dict) or not isinstance(actions, dict):
        raise Skip("core_metrics or tool_actions is not an object")
    accepted = rejected = 0
    for tool, counts in actions.items():
        if not isinstance(counts, dict):
            raise Skip(f"tool_actions.{tool} is not an object"[:120])
        accepted += _count(counts.get("accepted"), f"{tool}.accepted")
        rejected += _count(counts.get("rejected"), f"{tool}.rejected")
    cents = 0
    for model in record.get("model_breakdown") or []:
        cost = model.get("estimated_cost") if isinstance(model, dict) else None
        if isinstance(cost, dict) and cost.get("currency", "USD") == "USD":
            cents += _count(cost.get("amount"), "estimated_cost.amount")
    return {
        "day": day,
        "actor": name,
        "actor_type": kind,
        "customer_type": _text(record.get("customer_type"), 20),
        "subscription_type": _text(record.get("subscription_type"), 20),
        "terminal_type": _text(record.get("terminal_type"), 60),
        "sessions": _count(core.get("num_sessions"), "num_sessions"),
        "lines_added": _count(lines.get("added"), "lines_of_code.added"),
        "lines_removed": _count(lines.get("removed"), "lines_of_code.removed"),
        "commits": _count(core.get("commits_by_claude_code"), "commits_by_claude_code"),
        "pull_requests": _count(
            core.get("pull_requests_by_claude_code"), "pull_requests_by_claude_code"
        ),
        "tool_accepted": accepted,
        "tool_rejected": rejected,
        "cost_cents": cents,
        "extra": {k: v for k, v in record.items() if k not in KNOWN} or None,
        "pulled_at": now,
    }


def _text(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if value not in (None, "") else None


async def pull(
    *,
    sessions: Sessions,
    anthropic: AnthropicClient,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime,
    target: str | None = None,
    standin: bool = False,
) -> UsagePull:
    """Pull `first_day` … `last_day` (UTC days, inclusive; none after today), a day per
    request and every page of it, each day replaced in one transaction. Returns the pull's
    row (`source` "claude_code"). Raises `AnthropicError` (after recording it on the row)."""
    if last_day < first_day:
        raise ValueError("the last day is before the first")
    last_day = min(last_day, now.date())

    async def work(tally: vendor.Tally) -> None:
        day = first_day
        while day <= last_day:
            await _pull_day(sessions, anthropic, day, now, tally)
            day += dt.timedelta(days=1)

    return await vendor.run_pull(
        sessions=sessions,
        source=SOURCE,
        target=target,
        standin=standin,
        first_day=first_day,
        last_day=last_day,
        now=now,
        work=work,
        expected=AnthropicError,
    )


async def _pull_day(
    sessions: Sessions,
    anthropic: AnthropicClient,
    day: dt.date,
    now: dt.datetime,
    tally: vendor.Tally,
) -> None:
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    page: str | None = None
    number = 0
    where = f"claude_code {day}"
    while True:
        params: dict[str, Any] = {"starting_at": day.isoformat(), "limit": PAGE}
        if page:
            params["page"] = page
        answer = await anthropic.get(PATH, params)
        for record in answer.get("data") or []:
            number += 1
            try:
                row = actor_day(record, day, now)
            except Skip as problem:
                tally.skip(where, number, str(problem))
                continue
            if row["actor"] in seen:
                tally.skip(where, number, "a second record for this actor on this day")
                continue
            seen.add(row["actor"])
            rows.append(row)
        page = answer.get("next_page") if answer.get("has_more") else None
        if not page:
            break
    async with sessions.begin() as session:
        await session.exec(delete(ClaudeCodeUserDay).where(col(ClaudeCodeUserDay.day) == day))
        await insert_rows(session, ClaudeCodeUserDay, DAY_COLUMNS, rows)
    tally.rows += len(rows)
    tally.days.add(day)


async def purge(*, session: AsyncSession, before: dt.date) -> int:
    """Delete per-actor Claude Code days older than `before` (a UTC day); how many."""
    result = await session.exec(
        delete(ClaudeCodeUserDay).where(col(ClaudeCodeUserDay.day) < before)
    )
    return int(result.rowcount or 0)


def summary(run: UsagePull) -> str:
    """One line for the command line and the logs."""
    state = "done" if run.status == "done" else f"failed: {run.error}"
    return (
        f"Claude Code {run.first_day} … {run.last_day}: {run.rows_stored:,} actor-days,"
        f" {run.skipped_count:,} records skipped ({state})"
    )
