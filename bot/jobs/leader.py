"""One scheduler among replicas: the holder of a PostgreSQL advisory lock runs it.

The lock lives on a dedicated connection: if the holder dies, PostgreSQL ends its session
and frees the lock, and a standby that retries every `retry_seconds` takes over (within a
minute by default). The holder checks its connection just as often and stops its
scheduler the moment the connection is gone. Every job is idempotent anyway (a row per
job and period), so a brief overlap during a takeover still posts once. SQLite means a
single process: it is always the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

logger = logging.getLogger(__name__)

LOCK_KEY = 0x0C0E_B07  # "coe bot": one number shared by every replica of this deployment
RETRY_SECONDS = 15.0


class Leadership:
    """Calls `start()` when this process takes the lock and `stop()` when it loses it."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        start: Callable[[], Any],
        stop: Callable[[], Any],
        retry_seconds: float = RETRY_SECONDS,
        key: int = LOCK_KEY,
    ) -> None:
        self._engine = engine
        self._start = start
        self._stop = stop
        self._retry = retry_seconds
        self._key = key
        self._conn: AsyncConnection | None = None
        self.leading = False

    async def step(self) -> bool:
        """Try to become (or check that we still are) the leader; True while leading."""
        if self._engine.dialect.name != "postgresql":
            if not self.leading:
                self._begin()
            return True
        try:
            if self._conn is None:
                self._conn = await self._engine.connect()
            if self.leading:
                await self._conn.execute(text("SELECT 1"))
                # end the transaction SELECT began: left open, it would hold back every
                # VACUUM on the database (no dead row could be removed while we lead)
                await self._conn.commit()
                return True
            got = (
                await self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key})
            ).scalar()
            await self._conn.commit()
            if got:
                self._begin()
            return bool(got)
        except Exception as error:  # the connection broke: whatever we held is gone
            logger.warning("leader lock connection lost: %s", type(error).__name__)
            await self._drop_connection()
            if self.leading:
                self._end()
            return False

    def _begin(self) -> None:
        self.leading = True
        logger.info("this process now runs the scheduler")
        self._start()

    def _end(self) -> None:
        self.leading = False
        logger.info("this process no longer runs the scheduler")
        self._stop()

    async def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.invalidate()
            self._conn = None

    async def resign(self) -> None:
        """Stop leading and free the lock (closing the connection frees it)."""
        if self.leading:
            self._end()
        await self._drop_connection()

    async def run(self) -> None:
        while True:
            await self.step()
            await asyncio.sleep(self._retry)


@contextlib.asynccontextmanager
async def leading(
    engine: AsyncEngine, *, start: Callable[[], Any], stop: Callable[[], Any]
) -> AsyncIterator[Leadership]:
    """Campaign for the lock for the life of the context; resign on exit."""
    leadership = Leadership(engine, start=start, stop=stop)
    task = asyncio.get_running_loop().create_task(leadership.run(), name="leader")
    try:
        yield leadership
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await leadership.resign()
