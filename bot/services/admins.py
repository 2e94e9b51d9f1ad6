"""Who is a CoE admin: listed user IDs, or members of listed Slack user groups."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

GroupMembers = Callable[[str], Awaitable[list[str]]]
GROUP_CACHE_SECONDS = 300.0


class AdminDirectory:
    """Answers `is_admin`; user-group membership is fetched lazily and cached briefly."""

    def __init__(
        self,
        user_ids: Iterable[str],
        group_ids: Iterable[str],
        fetch_members: GroupMembers,
        *,
        ttl: float = GROUP_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._users = frozenset(user_ids)
        self._groups = tuple(group_ids)
        self._fetch = fetch_members
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    @property
    def configured(self) -> bool:
        return bool(self._users or self._groups)

    async def is_admin(self, user_id: str) -> bool:
        if user_id in self._users:
            return True
        for group in self._groups:
            if user_id in await self._members(group):
                return True
        return False

    async def _members(self, group: str) -> frozenset[str]:
        cached = self._cache.get(group)
        now = self._clock()
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        members = frozenset(await self._fetch(group))
        self._cache[group] = (now, members)
        return members
