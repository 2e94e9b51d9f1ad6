"""The project's exceptions.

CoeError
 ├── UserError          something the person asking can fix; shown to them, ephemerally
 │    ├── BadInput      the text or form they sent is not acceptable
 │    └── NotAllowed    they may not do this (for example: not a CoE admin)
 ├── NotRecorded        an event could not be made durable in time: answered 503, Slack retries
 └── (anything else)    a bug or an outage: logged with a reference the person can quote

Configuration problems are `bot.config.ConfigError`; policy pack problems are
`bot.services.policy_pack.PackError`.
"""

from __future__ import annotations


class CoeError(Exception):
    """Base of the project's own exceptions."""


class UserError(CoeError):
    """A problem the person can act on; `str(error)` is the friendly message (mrkdwn)."""


class BadInput(UserError):
    pass


class NotAllowed(UserError):
    pass


class NotRecorded(CoeError):
    """What Slack sent could not be made durable in time: answer 503 so Slack retries."""
