"""`COE_API_TOKEN`: who may read the CoE review API, and what.

Syntax (`docs/architecture.md`, "The CoE review API"):

- one bare token, which has every scope (a one-consumer set-up): `COE_API_TOKEN=s3cr3t…`;
- or named tokens with their scopes, `;`-separated: `name:scope=token;name2:scope,scope=token2`.
  Everything after the first `=` of an entry is its token, which may hold any character but
  `;` (so base64 padding such as `…NQ==` is part of the token).

A value is named when it holds `;` or a `:` before its first `=` (base64 and hex tokens hold
neither); anything else is one bare token. Names are `[A-Za-z0-9_.-]`, scopes come from
`SCOPES`, tokens are at least `MIN_TOKEN_LENGTH` characters, and names and tokens are
unique. Errors never quote a token.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

METRICS = "metrics"  # aggregates only: results, metrics, topics, usage and report data
RESPONSES = "responses"  # raw survey answers and anything naming people
SEATS = "seats"  # idle Copilot seats by name, for reclaiming licences
SCOPES = (METRICS, RESPONSES, SEATS)
MIN_TOKEN_LENGTH = 16
BARE_NAME = "default"

_NAMED = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+):(?P<scopes>[^=]*)=(?P<token>.*)$", re.S)


@dataclass(frozen=True, slots=True)
class ApiToken:
    """One consumer of the API: its name (for the audit log), scopes, and secret."""

    name: str
    scopes: frozenset[str]
    secret: str = ""

    def __repr__(self) -> str:  # never show the secret, in logs or tracebacks
        return f"ApiToken(name={self.name!r}, scopes={sorted(self.scopes)!r})"


def parse_tokens(raw: str) -> tuple[ApiToken, ...]:
    """Parse `COE_API_TOKEN`; raise `ValueError` with a message that names the entry (by
    position and name, never by its secret) when any part of it does not parse."""
    value = raw.strip()
    if not value:
        raise ValueError("is empty; unset it to turn the API off")
    if ";" not in value and ":" not in value.partition("=")[0]:
        _check_secret(value, "the token")
        return (ApiToken(BARE_NAME, frozenset(SCOPES), value),)
    tokens: list[ApiToken] = []
    for position, part in enumerate(value.split(";"), start=1):
        part = part.strip()
        if not part:
            continue
        entry = _entry(position, part)
        if any(t.name == entry.name for t in tokens):
            raise ValueError(f"the name {entry.name!r} is used twice")
        if any(hmac.compare_digest(t.secret.encode(), entry.secret.encode()) for t in tokens):
            raise ValueError(f"entry {position} ({entry.name}) repeats another entry's token")
        tokens.append(entry)
    if not tokens:
        raise ValueError("names no token")
    return tuple(tokens)


def _entry(position: int, part: str) -> ApiToken:
    match = _NAMED.match(part)
    if match is None:
        raise ValueError(
            f"entry {position} is not name:scope=token (scopes: {', '.join(SCOPES)}); "
            "a single bare token has every scope"
        )
    name = match["name"]
    scopes = frozenset(s.strip() for s in match["scopes"].split(",") if s.strip())
    unknown = sorted(scopes - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(
            f"entry {position} ({name}): unknown scope {', '.join(unknown) or '(none)'}; "
            f"scopes are {', '.join(SCOPES)}"
        )
    secret = match["token"].strip()
    _check_secret(secret, f"entry {position} ({name})")
    return ApiToken(name, scopes, secret)


def _check_secret(secret: str, what: str) -> None:
    if len(secret) < MIN_TOKEN_LENGTH:
        raise ValueError(
            f"{what} is {len(secret)} characters; tokens need at least {MIN_TOKEN_LENGTH}"
        )


def consumer_for(tokens: tuple[ApiToken, ...], header: str | None) -> ApiToken | None:
    """The token an `Authorization: Bearer …` header carries, or None. Every configured
    token is compared in constant time, so timing says nothing about which one is near."""
    if not header:
        return None
    scheme, _, given = header.partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given:
        return None
    presented = given.encode("utf-8", "surrogateescape")  # aiohttp keeps odd bytes that way
    found = None
    for token in tokens:
        if hmac.compare_digest(presented, token.secret.encode("utf-8", "surrogateescape")):
            found = token
    return found
