"""One scheduler among replicas: the advisory-lock leader, and a takeover when it dies."""

from __future__ import annotations

from sqlalchemy import text

from bot import db
from bot.jobs.leader import Leadership


async def test_one_leader_and_a_takeover(database_url: str, is_postgres: bool) -> None:
    events: list[str] = []
    first_engine, second_engine = db.create_engine(database_url), db.create_engine(database_url)
    first = Leadership(
        first_engine,
        start=lambda: events.append("first starts"),
        stop=lambda: events.append("first stops"),
        key=4242,
    )
    second = Leadership(
        second_engine,
        start=lambda: events.append("second starts"),
        stop=lambda: events.append("second stops"),
        key=4242,
    )
    try:
        assert await first.step() is True
        if not is_postgres:  # one process on SQLite: it simply leads
            assert events == ["first starts"]
            return
        assert await second.step() is False  # the lock is held: a standby
        assert await first.step() is True  # the leader checks it still holds it
        assert await second.step() is False

        async with second_engine.connect() as conn:  # the leader's process dies: its
            await conn.execute(  # session ends, as PostgreSQL ends a dead client's
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks"
                    " WHERE locktype = 'advisory' AND objid = 4242"
                )
            )
        assert await first.step() is False
        assert await second.step() is True  # the standby takes over on its next try
        assert events == ["first starts", "first stops", "second starts"]
    finally:
        await first.resign()
        await second.resign()
        await first_engine.dispose()
        await second_engine.dispose()
