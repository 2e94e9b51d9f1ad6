"""A Slack stand-in for tests, `coe-bot try` and credential-less `make run`.

`FakeSlack` answers the Web API (external file uploads included), response_urls and
Socket Mode like Slack where it matters; `SlackSender` signs and sends commands,
interactions and events to an app; `validate_blocks` / `validate_view` apply Block Kit's
limits.
"""

from .blockkit import check_message, validate_blocks, validate_view
from .payloads import Payloads
from .sender import SentRequest, SlackSender
from .webapi import FakeSlack, RecordedCall, ResponsePost, SlackFile, UploadPost

__all__ = [
    "FakeSlack",
    "Payloads",
    "RecordedCall",
    "ResponsePost",
    "SentRequest",
    "SlackFile",
    "SlackSender",
    "UploadPost",
    "check_message",
    "validate_blocks",
    "validate_view",
]
