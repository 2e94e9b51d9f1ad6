"""Work that runs after Slack has its ack: tracked, so shutdown and tests can wait for it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any

logger = logging.getLogger(__name__)


class Background:
    """A set of running tasks; failures are logged, never lost silently.

    At most `slots` run at once (the rest wait their turn, in order): background work uses
    database connections, and a burst of it must queue here rather than empty the pool that
    the acks need (`DATABASE_POOL_SIZE`; see docs/architecture.md)."""

    def __init__(self, slots: int = 8) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(slots)

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._in_turn(work), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    async def _in_turn(self, work: Coroutine[Any, Any, None]) -> None:
        async with self._slots:
            await work

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=task.exception())

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for every task, including ones spawned while waiting; cancel after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)
                return
            await asyncio.wait(list(self._tasks), timeout=remaining)


class Shed(Exception):
    """A request waited its whole turn budget for a place: answer it busy, do no work."""


class Admission:
    """At most `limit` Slack requests are worked on at once; the rest wait in arrival order.

    A CPU-bound process that lets 200 requests interleave makes every one of them slow, and
    each holds its database connection across many turns of the loop, so the pool empties
    and writes are refused. Admitting a few at a time keeps each request short and the pool
    calm; the rest queue here, where waiting costs nothing. A request that has waited
    `shed_after` seconds is shed (`Shed`): Slack's 3 s deadline would pass before it could be
    answered, and an event answered 503 is sent again (docs/architecture.md, "Load")."""

    def __init__(self, limit: int, shed_after: float = 2.0) -> None:
        self.limit = limit
        self._places = asyncio.Semaphore(limit)
        self._shed_after = shed_after
        self.waiting = 0

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold a place while the body runs; raises `Shed` after `shed_after` s of waiting."""
        self.waiting += 1
        try:
            async with asyncio.timeout(self._shed_after):
                await self._places.acquire()
        except TimeoutError:
            raise Shed from None
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._places.release()
