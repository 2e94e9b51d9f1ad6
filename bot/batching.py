"""Batched writes for high-rate, low-stakes rows (policy lookups): one insert per batch.

A burst of slash commands becomes one short write transaction instead of one per
request, which keeps SQLite's single writer and PostgreSQL's connection pool calm.
Items wait at most `delay` seconds; a failed flush hands the items to `on_error`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from bot.tasks import Background

logger = logging.getLogger(__name__)
T = TypeVar("T")


class BatchWriter(Generic[T]):
    def __init__(
        self,
        flush: Callable[[list[T]], Awaitable[None]],
        on_error: Callable[[list[T], Exception], Awaitable[None]],
        *,
        background: Background,
        delay: float = 0.1,
        max_items: int = 200,
    ) -> None:
        self._flush = flush
        self._on_error = on_error
        self._background = background
        self._delay = delay
        self._max_items = max_items
        self._items: list[T] = []
        self._scheduled = False
        self._one_at_a_time = asyncio.Lock()  # SQLite has one writer; queue, don't contend

    def add(self, item: T) -> None:
        self._items.append(item)
        if len(self._items) >= self._max_items:
            self._background.spawn(self._write(), name="batch-flush")
        elif not self._scheduled:
            self._scheduled = True
            self._background.spawn(self._write_later(), name="batch-flush-later")

    async def _write_later(self) -> None:
        await asyncio.sleep(self._delay)
        self._scheduled = False
        await self._write()

    async def _write(self) -> None:
        async with self._one_at_a_time:
            items, self._items = self._items, []
            if not items:
                return
            try:
                await self._flush(items)
            except Exception as error:  # the database is down or refused the batch
                cause = getattr(error, "orig", None) or error
                logger.warning(
                    "batch of %d not written: %s: %.120s",
                    len(items),
                    type(error).__name__,
                    str(cause).splitlines()[0] if str(cause) else "",
                )
                await self._on_error(items, error)
