"""Local wall-clock schedules, read the way cron reads them, across daylight-saving changes.

Every schedule in coe-bot that names a local time (a survey's cron, a digest's weekday and
hour, business hours, a survey's local delivery hour) goes through here:

- a repeated local time (the hour a clock goes back) happens once, at its first occurrence
  (`fold=0`);
- a skipped local time (the hour a clock goes forward) happens once, at the first instant
  after the gap;
- an occurrence is named by its intended local time and zone (`2026-11-01T01:30[America/
  New_York]`), which is the same string whenever and however often it is computed.

These are Debian cron's rules for jobs at fixed times (crontab(8), "Daylight Saving Time and
other time changes"), applied to every schedule. Cron expressions are parsed and walked by
`cronsim` (standard five fields, Sunday = 0 or 7, day-of-month OR day-of-week as cron does)
in naive wall time, which cannot loop: every step moves strictly, and the walk is bounded
(`MAX_STEPS`). APScheduler's own next-fire computation is not used for local zones: across a
repeated hour it can hand back the same two times forever (agronholm/apscheduler#606).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

# Wider than any clock change in the tz database since 1994 (daylight saving is 1 h, 30 min
# on Lord Howe; 2 h historically): wall times this far past `now` cannot have happened yet.
# A change of more than 3 h backwards (Antarctica/Vostok 1994, Kwajalein 1969) could miss a
# fire in the hours just after it.
SHIFT_MARGIN = dt.timedelta(hours=3)
MAX_STEPS = 20_000  # a walk over a window of a few hours of a minutely schedule is ~600

__all__ = ["CronSimError", "Fire", "ScheduleError", "latest_fire", "occurrence_key", "wall_to_utc"]


class ScheduleError(ValueError):
    """A schedule that cannot be walked within `MAX_STEPS`: it fires too often for a window."""


def wall_to_utc(local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant at which the naive wall time `local` happens in `zone`.

    A repeated time gives its first occurrence; a skipped time gives the first instant after
    the gap (the transition itself). Monotone: a later wall time never gives an earlier
    instant. Bounded: the transition is found by bisection over at most a day, in seconds.
    """
    local = local.replace(tzinfo=None)
    first = local.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return first  # exists; fold=0 is the first of two when repeated
    # Skipped: fold=0 reads it with the offset before the gap (an instant after the gap),
    # fold=1 with the offset after it (an instant before the gap). The gap starts between.
    before = local.replace(tzinfo=zone, fold=1).astimezone(dt.UTC)
    low, high = min(before, first), max(before, first)  # offset before < after: low is before
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) < local:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


def occurrence_key(local: dt.datetime, zone: ZoneInfo) -> str:
    """An occurrence's name: its intended local time, to the minute, and its zone, in the
    RFC 9557 style (`2026-11-01T01:30[America/New_York]`)."""
    return f"{local:%Y-%m-%dT%H:%M}[{zone.key}]"


class Fire:
    """One occurrence of a schedule: `key` (its intended local time and zone) and `at` (the
    UTC instant it fires)."""

    __slots__ = ("at", "key", "local", "zone")

    def __init__(self, local: dt.datetime, zone: ZoneInfo) -> None:
        self.local, self.zone = local, zone
        self.at = wall_to_utc(local, zone)
        self.key = occurrence_key(local, zone)

    def __repr__(self) -> str:
        return f"Fire({self.key} at {self.at:%Y-%m-%dT%H:%M:%SZ})"


def latest_fire(cron: str, zone: ZoneInfo, now: dt.datetime, within: dt.timedelta) -> Fire | None:
    """The latest occurrence of the five-field `cron` in `zone` that fires in (now − within,
    now], or None. Occurrences that fire at the same instant (several skipped times) are one
    occurrence, named by the latest of them — the same one whenever this is asked.

    Raises `CronSimError` for an expression cron would not accept and `ScheduleError` when
    the walk would exceed `MAX_STEPS`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    start = (now.astimezone(zone).replace(tzinfo=None) + SHIFT_MARGIN).replace(
        second=0, microsecond=0
    ) + dt.timedelta(minutes=1)
    for steps, local in enumerate(CronSim(cron, start, reverse=True)):
        if steps > MAX_STEPS:
            raise ScheduleError(f"{cron!r} fires too often to walk back {within}")
        fire = Fire(local, zone)
        if fire.at <= now:
            return fire if fire.at > now - within else None
    return None


def check_cron(cron: str) -> None:
    """Raises ValueError (with cron's words) unless `cron` is a standard five-field expression."""
    if len(cron.split()) != 5:
        raise ValueError("a cron expression has five fields: minute hour day month weekday")
    try:
        CronSim(cron, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    except CronSimError as error:
        raise ValueError(str(error) or "not a cron expression") from None


def weekly_cron(weekday: int, hour: int, minute: int) -> str:
    """The cron expression for a weekly time; `weekday` 0 = Monday (Python's numbering)."""
    return f"{minute} {hour} * * {(weekday + 1) % 7}"
