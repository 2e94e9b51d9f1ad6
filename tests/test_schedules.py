"""Clocks: every daylight-saving transition of 2026 and 2027 in six zones, for every kind of
local schedule, against a brute-force oracle that walks UTC minute by minute.

The oracle's rule (cron's, crontab(8)): a local wall time W happens at the first UTC minute
whose local reading is at or after W. A repeated time is so met at its first occurrence and
a skipped time at the first instant after the gap. Nothing here sleeps: clocks are values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from bot.models import DigestSubscription
from bot.schedules import latest_fire, wall_to_utc
from bot.services import digests
from bot.services.business_hours import BusinessHours

ZONES = [
    "America/New_York",
    "Europe/London",
    "Europe/Paris",
    "Australia/Lord_Howe",  # a 30-minute shift
    "America/Santiago",  # southern hemisphere, changes at local midnight
    "Asia/Kolkata",  # no daylight saving
]
MINUTE = dt.timedelta(minutes=1)
GRACE = dt.timedelta(hours=6)


def transitions(zone: ZoneInfo, years: tuple[int, ...] = (2026, 2027)) -> list[dt.datetime]:
    """The UTC minutes at which `zone`'s offset changes in `years`."""
    found = []
    at = dt.datetime(years[0], 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(years[-1] + 1, 1, 1, tzinfo=dt.UTC)
    step = dt.timedelta(hours=6)
    while at < end:
        if at.astimezone(zone).utcoffset() != (at + step).astimezone(zone).utcoffset():
            low, high = 0, int(step / MINUTE)  # minutes after `at`
            while high - low > 1:
                middle = (low + high) // 2
                if (at + middle * MINUTE).astimezone(zone).utcoffset() == at.astimezone(
                    zone
                ).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(at + high * MINUTE)
        at += step
    return found


CASES = [
    pytest.param(name, at, id=f"{name}-{at:%Y-%m-%d}")
    for name in ZONES
    for at in transitions(ZoneInfo(name))
]


def test_every_zone_but_kolkata_changes_its_clocks_four_times() -> None:
    counts = {name: len(transitions(ZoneInfo(name))) for name in ZONES}
    assert counts == {name: 0 if name == "Asia/Kolkata" else 4 for name in ZONES}


def wall(at: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return at.astimezone(zone).replace(tzinfo=None)


def minutes(start: dt.datetime, end: dt.datetime) -> Iterator[dt.datetime]:
    at = start
    while at < end:
        yield at
        at += MINUTE


def oracle(local: dt.datetime, zone: ZoneInfo, around: dt.datetime) -> dt.datetime:
    """The first UTC minute within a day of `around` whose local reading is ≥ `local`."""
    for at in minutes(around - dt.timedelta(days=1), around + dt.timedelta(days=1)):
        if wall(at, zone) >= local:
            return at
    raise AssertionError(f"{local} not met within a day of {around}")


def near(transition: dt.datetime, zone: ZoneInfo) -> list[dt.datetime]:
    """Local wall times around a transition, every 15 minutes from 2 h before to 2 h after:
    the gap or the repeated hour and their edges."""
    base = wall(transition - dt.timedelta(hours=2), zone).replace(second=0)
    base -= dt.timedelta(minutes=base.minute % 15)
    return [base + dt.timedelta(minutes=15 * i) for i in range(4 * 4 + 4)]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("name", "transition"), CASES)
def test_wall_times_happen_once_at_the_instant_cron_gives_them(
    name: str, transition: dt.datetime
) -> None:
    zone = ZoneInfo(name)
    for local in near(transition, zone):
        assert wall_to_utc(local, zone) == oracle(local, zone, transition), local


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("name", "transition"), CASES)
def test_a_daily_cron_fires_once_a_day_at_the_right_instant_with_a_stable_key(
    name: str, transition: dt.datetime
) -> None:
    """Surveys' schedules: the clock moved minute by minute across the night for crons at
    every quarter hour near the change; each occurrence is due from its instant on, under
    one key, and no minute sees another key for the same day."""
    zone = ZoneInfo(name)
    window = (transition - dt.timedelta(hours=3), transition + dt.timedelta(hours=7))
    for local in near(transition, zone)[1::3]:
        cron = f"{local.minute} {local.hour} * * *"
        expected = oracle(local, zone, transition)
        seen: dict[str, dt.datetime] = {}
        for now in minutes(*window):
            fire = latest_fire(cron, zone, now, GRACE)
            if fire is not None:
                seen.setdefault(fire.key, now)
                assert fire.at <= now < fire.at + GRACE
        today = f"{local:%Y-%m-%dT%H:%M}[{name}]"
        assert seen.get(today) == expected, (cron, seen)
        assert all(at < expected for key, at in seen.items() if key != today), (cron, seen)


@pytest.mark.parametrize(("name", "transition"), CASES)
def test_a_weekly_digest_on_the_night_of_the_change_is_due_once(
    name: str, transition: dt.datetime
) -> None:
    zone = ZoneInfo(name)
    for local in near(transition, zone)[2::6]:
        subscription = DigestSubscription(
            channel_id="C0DIGEST",
            weekday=local.weekday(),
            time_of_day=f"{local:%H:%M}",
            timezone=name,
            sections=["prompts"],
            created_by="U0ADMIN",
        )
        expected = oracle(local, zone, transition)
        keys = set()
        for now in minutes(expected - dt.timedelta(hours=2), expected + dt.timedelta(hours=7)):
            fire = digests.due_period(subscription, now)
            if fire is not None and fire.at > now - dt.timedelta(days=1):
                assert fire.at == expected, (local, now, fire)
                keys.add(fire.key)
        assert keys == {f"{local:%Y-%m-%dT%H:%M}[{name}]"}


def _worked(hours: BusinessHours, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Working time between two instants, by the oracle: each business day opens and closes
    at the first minutes its local opening and closing times are met."""
    total = dt.timedelta()
    day = wall(start, hours.zone).date() - dt.timedelta(days=1)
    while day <= wall(end, hours.zone).date():
        if day.weekday() in hours.weekdays:
            around = dt.datetime.combine(day, dt.time(12), tzinfo=hours.zone).astimezone(dt.UTC)
            opens = oracle(dt.datetime.combine(day, hours.start), hours.zone, around)
            closes = oracle(dt.datetime.combine(day, hours.end), hours.zone, around)
            total += max(dt.timedelta(), min(closes, end) - max(opens, start))
        day += dt.timedelta(days=1)
    return total


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("name", "transition"), CASES)
@pytest.mark.parametrize("span", ["00:00-04:00", "01:00-03:00", "09:00-17:00"])
def test_business_hours_count_real_working_time_across_the_change(
    name: str, transition: dt.datetime, span: str
) -> None:
    """Claim and answer deadlines (and so escalation): the deadline is the instant at which
    exactly the asked working time has passed, by the oracle."""
    hours = BusinessHours.parse(span, "mon-sun", name)
    for start_offset in (-30, -3, 0, 2):
        start = transition + dt.timedelta(hours=start_offset)
        for duration in (dt.timedelta(minutes=30), dt.timedelta(hours=9)):
            deadline = hours.add(start, duration)
            assert _worked(hours, start, deadline) == duration, (start, duration, deadline)
            assert deadline.tzinfo == dt.UTC


def test_kolkata_without_daylight_saving_fires_daily_at_its_local_time() -> None:
    zone = ZoneInfo("Asia/Kolkata")
    fires = {
        (fire.key, fire.at.isoformat())
        for now in minutes(
            dt.datetime(2026, 3, 1, tzinfo=dt.UTC), dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
        )
        if (fire := latest_fire("30 1 * * *", zone, now, GRACE)) is not None
    }
    assert sorted(fires) == [
        ("2026-03-01T01:30[Asia/Kolkata]", "2026-02-28T20:00:00+00:00"),
        ("2026-03-02T01:30[Asia/Kolkata]", "2026-03-01T20:00:00+00:00"),
        ("2026-03-03T01:30[Asia/Kolkata]", "2026-03-02T20:00:00+00:00"),
        ("2026-03-04T01:30[Asia/Kolkata]", "2026-03-03T20:00:00+00:00"),
    ]


def test_cron_reads_weekdays_and_day_fields_as_cron_does() -> None:
    """Sunday is 0 and 7; a day-of-month and a weekday together mean either (cron's OR)."""
    utc = ZoneInfo("UTC")
    now = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)  # a Monday
    week = dt.timedelta(days=8)
    sunday = latest_fire("0 9 * * 0", utc, now, week)
    assert sunday is not None
    assert sunday.at == dt.datetime(2026, 11, 29, 9, tzinfo=dt.UTC)
    seven = latest_fire("0 9 * * 7", utc, now, week)
    assert seven is not None
    assert seven.at == sunday.at
    either = latest_fire("0 9 1 * 1", utc, now, dt.timedelta(days=40))  # 1st, or a Monday
    assert either is not None
    assert either.at == dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("hours", "days"),
    [("09:00-24:00", "mon-fri"), ("09:00-17:60", "mon-fri"), ("09:00-17:00", "monkey")],
)
def test_business_hours_that_are_not_hours_or_days_are_refused_plainly(
    hours: str, days: str
) -> None:
    with pytest.raises(ValueError, match=r"business (hours|days)"):
        BusinessHours.parse(hours, days, "Europe/Paris")


def test_business_hours_refuse_a_naive_moment_and_a_negative_duration() -> None:
    hours = BusinessHours.parse("09:00-17:00", "Monday-Friday", "Europe/Paris")
    assert hours.weekdays == frozenset(range(5))
    with pytest.raises(ValueError, match="timezone-aware"):
        hours.add(dt.datetime(2026, 3, 4, 10), dt.timedelta(hours=1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        hours.add(dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC), dt.timedelta(days=-5))
