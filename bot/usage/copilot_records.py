"""Copilot report records as rows: the documented shapes checked, and what breaks them
named (`Skip`). Field names and rules: users-1-day and user-teams-1-day
(https://docs.github.com/en/copilot/reference/copilot-usage-metrics/copilot-usage-metrics),
seats (https://docs.github.com/en/rest/copilot/copilot-user-management).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

COUNTERS = (
    "user_initiated_interaction_count",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
)
LOC = ("loc_suggested_to_add_sum", "loc_added_sum", "loc_deleted_sum")
FLAGS = ("used_chat", "used_agent", "used_cli")
REVIEW_FLAGS = ("used_copilot_code_review_active", "used_copilot_code_review_passive")
# Keys the schema documents that coe-bot reads or leaves on purpose (the per-IDE, feature,
# language and model breakdowns); anything else on a record is kept in `extra`.
KNOWN = frozenset(
    {
        "day",
        "user_id",
        "user_login",
        "enterprise_id",
        "organization_id",
        "loc_suggested_to_delete_sum",
    }
    | set(COUNTERS)
    | set(LOC)
    | set(FLAGS)
    | set(REVIEW_FLAGS)
    | {
        "totals_by_ide",
        "totals_by_feature",
        "totals_by_language_feature",
        "totals_by_language_model",
        "totals_by_model_feature",
        "totals_by_cli",
    }
)
NOISE = frozenset({"etl_id", "day_partition", "entity_id_partition"})  # ETL columns

DAY_COLUMNS = (
    "entity",
    "day",
    "user_id",
    "user_login",
    *COUNTERS,
    *LOC,
    *FLAGS,
    "used_code_review",
    "extra",
    "pulled_at",
)
TEAM_COLUMNS = ("entity", "day", "user_id", "team_id", "user_login", "slug")
SEAT_COLUMNS = (
    "org",
    "snapshot_day",
    "user_id",
    "user_login",
    "plan_type",
    "assigning_team",
    "created_at",
    "last_activity_at",
    "last_activity_editor",
    "last_authenticated_at",
    "pending_cancellation_date",
)


class Skip(ValueError):
    """A record that breaks the documented shape; `str()` says why."""


def record(line: str | bytes) -> dict[str, Any]:
    """One NDJSON line as an object (orjson: the year's millions of lines are most of a
    pull's time); raises `Skip` for anything else."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise Skip("not JSON") from None
    if not isinstance(record, dict):
        raise Skip("not a JSON object")
    return record


def user_day(record: dict[str, Any], day: dt.date, entity: str, now: dt.datetime) -> dict[str, Any]:
    """A `users-1-day` record as a `copilot_user_day` row; raises `Skip`."""
    _same_day(record, day)
    row: dict[str, Any] = {
        "entity": entity,
        "day": day,
        "user_id": _id(record, "user_id"),
        "user_login": _login(record),
        "pulled_at": now,
    }
    for name in COUNTERS:
        row[name] = _count(record, name, required=True)
    for name in LOC:
        row[name] = _count(record, name, required=False)
    for name in FLAGS:
        row[name] = record.get(name) is True
    row["used_code_review"] = any(record.get(name) is True for name in REVIEW_FLAGS)
    extra = {k: v for k, v in record.items() if k not in KNOWN and k not in NOISE}
    row["extra"] = extra or None
    return row


def user_team(
    record: dict[str, Any], day: dt.date, entity: str, _now: dt.datetime
) -> dict[str, Any]:
    """A `user-teams-1-day` record as a `copilot_user_team` row; raises `Skip`."""
    _same_day(record, day)
    slug = record.get("slug")
    if not isinstance(slug, str) or not slug:
        raise Skip("no team slug")
    return {
        "entity": entity,
        "day": day,
        "user_id": _id(record, "user_id"),
        "team_id": _id(record, "team_id"),
        "user_login": _login(record),
        "slug": slug[:100],
    }


def _same_day(record: dict[str, Any], day: dt.date) -> None:
    if "day" not in record:
        raise Skip("no day")
    if record["day"] != day.isoformat():
        raise Skip(f"day {str(record['day'])[:20]} is not the day asked for ({day})")


def _id(record: dict[str, Any], name: str) -> int:
    value = record.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Skip(f"no {name}" if value is None else f"{name} is not a positive integer")
    return value


def _login(record: dict[str, Any]) -> str:
    login = record.get("user_login")
    if not isinstance(login, str) or not login:
        raise Skip("no user_login")
    return login[:100]


def _count(record: dict[str, Any], name: str, *, required: bool) -> int:
    value = record.get(name)
    if value is None:
        if required:
            raise Skip(f"no {name}")
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise Skip(f"{name} is not a whole number")
    if value < 0:
        raise Skip(f"{name} is negative ({value})")
    return value


def seat(seat: Any, org: str, today: dt.date) -> dict[str, Any]:
    if not isinstance(seat, dict):
        raise Skip("not a JSON object")
    assignee = seat.get("assignee")
    if not isinstance(assignee, dict):
        raise Skip("no assignee")
    team = seat.get("assigning_team")
    cancel = seat.get("pending_cancellation_date")
    return {
        "org": org,
        "snapshot_day": today,
        "user_id": _id(assignee, "id"),
        "user_login": _text(assignee.get("login"), "assignee login", 100),
        "plan_type": str(seat.get("plan_type") or "unknown")[:20],
        "assigning_team": str(team.get("slug"))[:100] if isinstance(team, dict) else None,
        "created_at": _moment(seat.get("created_at"), "created_at", required=True),
        "last_activity_at": _moment(seat.get("last_activity_at"), "last_activity_at"),
        "last_activity_editor": str(seat.get("last_activity_editor") or "")[:200] or None,
        "last_authenticated_at": _moment(
            seat.get("last_authenticated_at"), "last_authenticated_at"
        ),
        "pending_cancellation_date": _date(cancel) if cancel else None,
    }


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value:
        raise Skip(f"no {name}")
    return value[:limit]


def _moment(value: Any, name: str, *, required: bool = False) -> dt.datetime | None:
    if value is None:
        if required:
            raise Skip(f"no {name}")
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Skip(f"{name} is not a date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _date(value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise Skip("pending_cancellation_date is not a date") from None
