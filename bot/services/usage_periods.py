"""Periods the usage figures are counted in: ISO weeks and calendar months (UTC days),
and what "engaged" means in one (3 active days for every 7, docs/usage.md)."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import UsagePull

PERIODS = ("week", "month")
ENGAGED_DAYS_PER_WEEK = 3


@dataclass(frozen=True)
class Period:
    label: str  # "2026-W45" or "2026-11"
    first: dt.date
    last: dt.date  # inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def engaged_days(self) -> int:
        return engaged_days(self.days)


def engaged_days(days: int) -> int:
    """Active days that make someone engaged over `days` days: 3 for every 7."""
    return math.ceil(ENGAGED_DAYS_PER_WEEK * max(days, 1) / 7)


def engaged_threshold(covered: int) -> int | None:
    """Active days that make someone engaged over `covered` pulled days (3 for every 7), or
    None when too few days were pulled to need 3 (under 5): "engaged" never means fewer
    than 3 active days, so a period's first days have no engaged figure (null)."""
    needed = engaged_days(covered)
    return needed if needed >= ENGAGED_DAYS_PER_WEEK else None


def periods(kind: str, since: dt.date, until: dt.date) -> list[Period]:
    """The ISO weeks (Monday to Sunday) or calendar months touching `since` … `until`
    (UTC days, inclusive), oldest first. Raises ValueError for another `kind`."""
    if kind not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    found: list[Period] = []
    if kind == "week":
        start = since - dt.timedelta(days=since.weekday())
        while start <= until:
            year, week, _ = start.isocalendar()
            found.append(Period(f"{year}-W{week:02d}", start, start + dt.timedelta(days=6)))
            start += dt.timedelta(days=7)
        return found
    start = since.replace(day=1)
    while start <= until:
        following = (start + dt.timedelta(days=32)).replace(day=1)
        found.append(Period(f"{start:%Y-%m}", start, following - dt.timedelta(days=1)))
        start = following
    return found


def members_of(labels: dict[str, str]) -> dict[str, set[str]]:
    """Label → every team merged under it for the whole request. A merged row always names
    them all: naming only the teams present in one period would single out a small team."""
    found: dict[str, set[str]] = defaultdict(set)
    for name, label in labels.items():
        found[label].add(name)
    return found


def covered_days(span: Period, windows: list[tuple[dt.date, dt.date]]) -> int:
    """How many days of `span` a finished pull asked for (`windows`: each pull's first and
    last UTC day, inclusive): 0 is "not measured", `span.days` is complete."""
    days = set()
    for first, last in windows:
        start, end = max(first, span.first), min(last, span.last)
        days |= {start + dt.timedelta(days=n) for n in range((end - start).days + 1)}
    return len(days)


async def pulled_windows(session: AsyncSession, source: str) -> list[tuple[dt.date, dt.date]]:
    """The first and last UTC day of every finished pull of `source`."""
    query = sa_select(col(UsagePull.first_day), col(UsagePull.last_day)).where(
        col(UsagePull.source) == source, col(UsagePull.status) == "done"
    )
    rows = await (await session.connection()).execute(query)
    return [(first, last) for first, last in rows]


@dataclass(frozen=True)
class Money:
    """What one period costs, per person (a login or an e-mail): `seat_cents`, their seat's
    price for the month (`costs.yaml`), and `usage_cents`, usage-based spend the vendor
    reported. Only months are priced: seat prices are monthly."""

    seat_cents: dict[str, int]
    usage_cents: dict[str, int]
    unpriced: frozenset[str] = frozenset()  # holding a seat whose plan has no price

    def figures(
        self, people: set[str], seats: dict[str, bool], active: int | None
    ) -> dict[str, Any]:
        """`spend_cents`, `cost_per_active_person_cents`, `reclaimable_cents` (idle seats'
        price) for `people`, of whom `seats` hold seats (login → idle); all None when one of
        them holds a seat the costs file has no price for (never priced at $0)."""
        if any(p in self.unpriced for p in people if p in seats):
            return dict(UNPRICED)
        seat = sum(self.seat_cents.get(p, 0) for p in people if p in seats)
        spend = seat + sum(self.usage_cents.get(p, 0) for p in people)
        return {
            "spend_cents": spend,
            "cost_per_active_person_cents": round(spend / active) if active else None,
            "reclaimable_cents": sum(self.seat_cents.get(p, 0) for p in people if seats.get(p)),
        }


UNPRICED = dict.fromkeys(("spend_cents", "cost_per_active_person_cents", "reclaimable_cents"))
