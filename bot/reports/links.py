"""Signed links to one month's report: `?month=2026-11&expires=1767225600&signature=…`.

The signature is HMAC-SHA256 (RFC 2104) under `REPORT_LINK_SECRET` over the path, the
month and the expiry, so a link opens that one report until it expires and nothing else:
it is not a bearer token (an API token never goes in a query string). Links last
`DEFAULT_DAYS` unless asked otherwise, at most `MAX_DAYS`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit

PATH = "/reports/monthly"
HEX64 = re.compile(r"[0-9a-f]{64}")  # a SHA-256 HMAC in hex, ASCII only
DEFAULT_DAYS = 14
MAX_DAYS = 90


class BadLink(ValueError):
    """A link that does not open the report: unsigned, wrongly signed, or expired."""


@dataclass(frozen=True)
class Link:
    url: str
    month: str
    expires: dt.datetime


def _signature(secret: bytes, month: str, expires: int) -> str:
    message = f"{PATH}\n{month}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def make(
    *, secret: bytes, base_url: str, month: str, now: dt.datetime, days: int = DEFAULT_DAYS
) -> Link:
    """A link to `month`'s report (`YYYY-MM`) on `base_url` (no trailing slash), valid
    for `days` days from `now` (1 to `MAX_DAYS`; ValueError otherwise)."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a link lasts 1 to {MAX_DAYS} days")
    expires = int((now + dt.timedelta(days=days)).timestamp())
    query = urlencode(
        {"month": month, "expires": expires, "signature": _signature(secret, month, expires)}
    )
    return Link(
        url=f"{base_url}{PATH}?{query}",
        month=month,
        expires=dt.datetime.fromtimestamp(expires, dt.UTC),
    )


def check(
    *, secret: bytes, month: str, expires: str | None, signature: str | None, now: dt.datetime
) -> dt.datetime:
    """When a link's `expires` and `signature` (query values) for `month` expire; raises
    `BadLink` naming what is wrong. The signature is compared in constant time."""
    if not expires or not signature:
        raise BadLink("this link is not signed")
    if not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
        raise BadLink("this link's expiry is not a time")
    wanted = _signature(secret, month, int(expires))
    given = signature.lower()
    if not HEX64.fullmatch(given) or not hmac.compare_digest(wanted, given):
        raise BadLink("this link's signature does not match (changed, or from another server)")
    until = dt.datetime.fromtimestamp(int(expires), dt.UTC)
    if until > now + dt.timedelta(days=MAX_DAYS + 1):  # no link is made to last that long
        raise BadLink(f"this link claims to work past the longest a link lasts ({MAX_DAYS} days)")
    if until <= now:
        raise BadLink(f"this link expired on {until:%Y-%m-%d %H:%M} UTC: ask the CoE for a new one")
    return until


async def issue(
    *,
    session: AsyncSession,
    secret: bytes,
    base_url: str,
    month: str,
    now: dt.datetime,
    actor: str,
    days: int = DEFAULT_DAYS,
    purpose: str,
) -> Link:
    """`make`, and the audit record every link made leaves (`report.link`: who, which
    month, until when, for what). ValueError for `days` out of range, nothing recorded."""
    made = make(secret=secret, base_url=base_url, month=month, now=now, days=days)
    await audit.record(
        session=session,
        actor=actor,
        action="report.link",
        subject=month,
        details={"expires": made.expires.isoformat(), "base_url": base_url, "for": purpose},
        now=now,
    )
    return made
