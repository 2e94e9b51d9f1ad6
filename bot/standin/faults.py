"""Fault injection and rate limiting for the stand-in's Web API.

`FaultBook.fail(...)` queues canned failures for a method; `FaultBook.rate_limit(...)`
puts a token bucket in front of it. Both answer the way Slack does: 429 with an integer
`Retry-After` and ``{"ok": false, "error": "ratelimited"}``, or an error / 5xx body.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

Answer = tuple[int, dict[str, Any], dict[str, str]]


@dataclass
class Fault:
    """A canned answer for the next `times` calls to one method."""

    error: str | None
    status: int
    retry_after: int | None
    times: int
    after: int = 0  # calls let through before the fault starts

    def answer(self) -> Answer:
        if self.retry_after is not None:
            headers = {"Retry-After": str(self.retry_after)}
            return 429, {"ok": False, "error": self.error or "ratelimited"}, headers
        default = "internal_error" if self.status >= 500 else "fatal_error"
        return self.status, {"ok": False, "error": self.error or default}, {}


class TokenBucket:
    """`per_second` calls on average with bursts of `burst`; refusals say how long to wait."""

    def __init__(
        self, per_second: float, burst: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("per_second must be > 0 and burst >= 1")
        self.per_second = per_second
        self.burst = burst
        self._monotonic = monotonic
        self._tokens = float(burst)
        self._at = monotonic()

    def take(self) -> int | None:
        """Spend one token; None when allowed, else the Retry-After seconds (>= 1)."""
        now = self._monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.per_second)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - self._tokens) / self.per_second))


LOST_ANSWERS = ("reset", "timeout")  # Slack did the work; the answer never arrives


class Queued(Protocol):
    """A canned fault: used `times` times, once `after` more calls have gone through."""

    times: int
    after: int


F = TypeVar("F", bound=Queued)


class FaultQueue(Generic[F]):
    """Canned faults per key (a Web API method, a GitHub report), in the order queued;
    shared by the Slack and GitHub stand-ins."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[F]] = {}

    def add(self, key: str, fault: F) -> None:
        if fault.times < 1 or fault.after < 0:
            raise ValueError("times must be >= 1 and after >= 0")
        self._queues.setdefault(key, deque()).append(fault)

    def take(self, key: str) -> F | None:
        """The fault this call meets, if any (a use of it is spent)."""
        queue = self._queues.get(key)
        if not queue:
            return None
        fault = queue[0]
        if fault.after > 0:
            fault.after -= 1
            return None
        fault.times -= 1
        if fault.times <= 0:
            queue.popleft()
        return fault

    def clear(self) -> None:
        self._queues.clear()


class FaultBook:
    """Per-method queued faults and token buckets."""

    def __init__(self) -> None:
        self._faults: FaultQueue[Fault] = FaultQueue()
        self._buckets: dict[str, TokenBucket] = {}
        self._lost: dict[str, deque[str]] = {}

    def lose_answer(self, method: str, how: str, *, times: int = 1) -> None:
        """The next `times` calls to `method` are carried out (a message is posted), but the
        answer is lost: "reset" closes the connection, "timeout" answers only after the
        client has given up (`LOST_ANSWER_SECONDS`). The outcome is unknown to the caller."""
        if how not in LOST_ANSWERS:
            raise ValueError(f"how must be one of {LOST_ANSWERS}")
        self._lost.setdefault(method, deque()).extend([how] * times)

    def take_lost(self, method: str) -> str | None:
        queue = self._lost.get(method)
        return queue.popleft() if queue else None

    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        after: int = 0,
    ) -> None:
        fault = Fault(error=error, status=status, retry_after=retry_after, times=times, after=after)
        self._faults.add(method, fault)

    def rate_limit(self, method: str, *, per_second: float, burst: int = 1) -> None:
        self._buckets[method] = TokenBucket(per_second, burst)

    def clear(self) -> None:
        self._faults.clear()
        self._buckets.clear()
        self._lost.clear()

    def take(self, method: str) -> Answer | None:
        """The answer of a queued fault for this call, if any (it is used up)."""
        fault = self._faults.take(method)
        return fault.answer() if fault else None

    def throttle(self, method: str) -> Answer | None:
        """A 429 answer when the method's bucket is empty, else None."""
        bucket = self._buckets.get(method)
        wait = bucket.take() if bucket is not None else None
        if wait is None:
            return None
        return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
