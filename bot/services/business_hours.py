"""Business-hours arithmetic: deadlines that only run while people are at work."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.schedules import wall_to_utc


@dataclass(frozen=True, slots=True)
class BusinessHours:
    start: dt.time
    end: dt.time
    weekdays: frozenset[int]  # 0 = Monday
    zone: ZoneInfo

    @classmethod
    def parse(cls, hours: str, days: str, timezone: str) -> BusinessHours:
        """`09:00-17:00`, `mon-fri` (or `mon,tue,thu`), `Europe/Paris`; ValueError if not."""
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", hours)
        if not match:
            raise ValueError(f"business hours {hours!r} are not like 09:00-17:00")
        h1, m1, h2, m2 = (int(x) for x in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"business hours {hours!r} are not times of day (00:00 to 23:59)")
        start, end = dt.time(h1, m1), dt.time(h2, m2)
        if not start < end:
            raise ValueError("business hours must start before they end")
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {timezone!r}") from None
        return cls(start=start, end=end, weekdays=_parse_days(days), zone=zone)

    def add(self, moment: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """`moment` plus `duration` of working time (time outside business hours is skipped),
        as a UTC instant. Each day's opening and closing are local wall times read the way
        cron reads them (`bot.schedules.wall_to_utc`), and working time is counted in real
        elapsed time, so a day with a clock change has its true length."""
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        if duration < dt.timedelta():
            raise ValueError("duration must not be negative")
        at = moment.astimezone(dt.UTC)
        day = at.astimezone(self.zone).date()
        remaining = duration
        for _ in range(3660):  # at most ten years of days: a guard, never reached in practice
            if day.weekday() in self.weekdays:
                opens = wall_to_utc(dt.datetime.combine(day, self.start), self.zone)
                closes = wall_to_utc(dt.datetime.combine(day, self.end), self.zone)
                begin = max(at, opens)
                if begin < closes:
                    if remaining <= closes - begin:
                        return begin + remaining
                    remaining -= closes - begin
            day += dt.timedelta(days=1)
        raise ValueError("no business hours in the next ten years")


_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day(token: str, days: str) -> int:
    """`mon` or `monday` (any case) → 0; anything else is refused."""
    token = token.strip()
    for number, name in enumerate(_NAMES):
        if token in (name, name[:3]):
            return number
    raise ValueError(f"business days {days!r} are not like mon-fri")


def _parse_days(days: str) -> frozenset[int]:
    found: set[int] = set()
    for part in days.strip().lower().split(","):
        if "-" in part:
            first, last = part.split("-", 1)
            i, j = _day(first, days), _day(last, days)
            found.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        else:
            found.add(_day(part, days))
    return frozenset(found)
