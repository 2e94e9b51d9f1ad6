"""What may reach Bolt: the headers and body of a request to `POST /slack/events`, checked.

The aiohttp route verifies the signature, then `read_payload` parses the body the way
Slack sends it and checks its *shape* against the payload kinds coe-bot handles: the fields
Bolt and the listeners index must be there with the right types (a `view_submission` has a
`view` with a `type`, `callback_id` and `state.values`; a slash command has its `command`,
`user_id`, `trigger_id` …). Anything else raises `MalformedPayload`, which the route answers
with 400: junk never reaches Bolt, so it can never become a 500.

Shapes follow Slack's reference for each payload (api.slack.com/interactivity/handling#payloads,
api.slack.com/interactivity/slash-commands, api.slack.com/apis/events-api#callback-field);
extra fields are always allowed, since Slack adds fields without notice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

MAX_DEPTH = 32  # Block Kit payloads nest about 10 deep; more is not from Slack
MAX_FIELDS = 100  # form fields in a slash command (Slack sends about 15)
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds, ASCII digits only
MAX_AGE_SECONDS = 300  # Slack's replay window


class MalformedPayload(ValueError):
    """A signed request whose body is not a Slack payload coe-bot handles (answer 400)."""


def signed(
    secret: bytes, body: bytes, timestamp: str | None, signature: str | None, now: float
) -> bool:
    """True when Slack signed `body` (api.slack.com/authentication/verifying-requests-from-slack):
    `X-Slack-Signature` is `v0=` + hex HMAC-SHA256(signing secret, `v0:{timestamp}:{body}`)
    and the timestamp (Unix seconds) is within 5 minutes of `now`.

    The timestamp must be ASCII digits before any arithmetic (an absurd value such as 309
    zeros is refused, not computed with), and the HMAC is taken over the raw bytes, so a
    signed body that is not UTF-8 is still recognised as signed (and then refused as
    malformed, 400) — `slack_sdk.signature.SignatureVerifier` decodes the body first.
    """
    if timestamp is None or signature is None or not _TIMESTAMP.fullmatch(timestamp):
        return False
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


# -- shapes ---------------------------------------------------------------------------

SlackId = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Za-z0-9_]{1,39}$")]
SlackTs = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}(\.[0-9]{1,9})?$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Url = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]{1,2000}$")]
TriggerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,200}$")]
Text = Annotated[str, StringConstraints(max_length=40_000)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _Org(_Shape):
    id: str | None = None
    enterprise_id: str | None = None


class _Person(_Shape):
    id: str | None = None
    team_id: str | None = None


class _ResponseUrl(_Shape):
    response_url: Url | None = None


class _Common(_Shape):
    """Fields Bolt reads from any payload, and from its `event`, `message`, `authorizations`
    … when they are there (`slack_bolt.request.internals.build_context`): optional, but of
    the type Bolt expects when present, so building the request context cannot fail."""

    enterprise: str | _Org | None = None
    enterprise_id: str | None = None
    team: str | _Org | None = None
    team_id: str | None = None
    user: str | _Person | None = None
    user_id: str | None = None
    user_team: str | None = None
    channel: str | _Org | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    is_enterprise_install: bool | str | None = None
    is_ext_shared_channel: bool | None = None
    authorizations: list[_Common] | None = None
    event: _Common | None = None
    message: _Common | None = None
    previous_message: _Common | None = None
    item: _Common | None = None
    assistant_thread: _Common | None = None
    function_execution_id: str | None = None
    function_data: dict[str, Any] | None = None
    bot_access_token: str | None = None
    response_url: Url | None = None
    response_urls: list[_ResponseUrl] = Field(default_factory=list)  # Bolt takes its len()


class _Ref(_Shape):
    id: SlackId


class SlashCommand(_Common):
    command: Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9_-]{1,32}$")]
    text: Text = ""
    user_id: SlackId
    channel_id: SlackId
    team_id: SlackId
    trigger_id: TriggerId
    response_url: Url


class _Option(_Shape):
    value: Annotated[str, StringConstraints(max_length=2000)]


class _Input(_Shape):
    """One input's state in `view.state.values`: what Slack sends, typed as Slack types it."""

    type: Name | None = None
    value: Text | None = None
    selected_option: _Option | None = None
    selected_options: list[_Option] | None = None
    selected_date: Name | None = None
    selected_time: Name | None = None
    selected_user: SlackId | None = None
    selected_users: list[SlackId] | None = None
    selected_channel: SlackId | None = None
    selected_conversation: SlackId | None = None


class _Action(_Shape):
    action_id: Name
    type: Name
    block_id: Name | None = None
    value: Annotated[str, StringConstraints(max_length=2000)] | None = None
    selected_option: _Option | None = None
    selected_options: list[_Option] | None = None


class _State(_Shape):
    values: dict[str, dict[str, _Input]]


class _View(_Shape):
    id: Name
    type: Literal["modal", "home"]
    callback_id: Annotated[str, StringConstraints(max_length=255)]
    private_metadata: Annotated[str, StringConstraints(max_length=3000)] = ""
    state: _State
    app_installed_team_id: str | None = None
    team_id: str | None = None


class _Container(_Shape):
    type: Name


class BlockActions(_Common):
    type: Literal["block_actions"]
    user: _Ref  # type: ignore[assignment]  # required here, and an object
    actions: Annotated[list[_Action], Field(min_length=1, max_length=25)]
    trigger_id: TriggerId
    container: _Container | None = None
    view: _View | None = None
    state: _State | None = None


class ViewSubmission(_Common):
    type: Literal["view_submission", "view_closed"]
    user: _Ref  # type: ignore[assignment]  # required here, and an object
    view: _View
    trigger_id: TriggerId | None = None


class _UserObject(_Person):
    """The user object of `user_change` / `team_join` (https://api.slack.com/types/user)."""

    id: SlackId  # required here, optional in a `_Person`
    deleted: bool | None = None
    is_bot: bool | None = None
    is_restricted: bool | None = None
    is_ultra_restricted: bool | None = None
    updated: int | None = None
    tz: str | None = None
    profile: dict[str, Any] | None = None


class _Event(_Common):
    type: Name
    # events carry an ID here, except user_change / team_join: the whole user object
    user: SlackId | _UserObject | None = None
    channel: SlackId | None = None
    text: Text | None = None
    ts: SlackTs | None = None
    thread_ts: SlackTs | None = None
    event_ts: SlackTs | None = None
    channel_type: Name | None = None
    subtype: Name | None = None
    bot_id: Name | None = None
    tab: Name | None = None


class EventCallback(_Common):
    type: Literal["event_callback"]
    team_id: SlackId
    event_id: Annotated[str, StringConstraints(pattern=r"^Ev[A-Za-z0-9]{1,40}$")]
    event: _Event


class UrlVerification(_Common):
    type: Literal["url_verification"]
    challenge: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class AppRateLimited(_Common):
    type: Literal["app_rate_limited"]


_INTERACTIVE: dict[str, type[_Shape]] = {
    "block_actions": BlockActions,
    "view_submission": ViewSubmission,
    "view_closed": ViewSubmission,
}
_EVENTS: dict[str, type[_Shape]] = {
    "event_callback": EventCallback,
    "url_verification": UrlVerification,
    "app_rate_limited": AppRateLimited,
}
# Fields an event of this type must carry, because its listener acts on them.
_EVENT_NEEDS = {
    "app_mention": ("user", "channel", "ts"),
    "app_home_opened": ("user",),
    "user_change": ("user",),
    "team_join": ("user",),
    "channel_archive": ("channel",),
    "group_archive": ("channel",),
    "channel_unarchive": ("channel",),
    "group_unarchive": ("channel",),
    "channel_left": ("channel",),
    "group_left": ("channel",),
    "member_joined_channel": ("user", "channel"),
}


# -- reading --------------------------------------------------------------------------


def read_payload(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The payload of a signed request body, shape-checked: a dict as Bolt would parse it.

    Form bodies are slash commands (fields) or interactivity (`payload=` JSON); JSON bodies
    are the Events API. Raises `MalformedPayload` naming the first problem.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("the body is not UTF-8") from None
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind == "application/json" or (not kind and text.startswith("{")):
        payload = _json(text)
        return _checked(payload, _EVENTS, "Events API type")
    if kind not in ("application/x-www-form-urlencoded", ""):
        raise MalformedPayload(f"unsupported content type {kind[:60]!r}")
    try:
        fields = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise MalformedPayload("too many form fields") from None
    form = dict(fields)
    if len(form) != len(fields):
        raise MalformedPayload("a form field is repeated")
    if "payload" in form:
        return _checked(_json(form["payload"]), _INTERACTIVE, "interaction type")
    if form.get("ssl_check") == "1":
        return form  # Slack checking the certificate; Bolt answers it
    if "command" not in form:
        raise MalformedPayload("neither a slash command nor an interaction")
    _validate(SlashCommand, form)
    return form


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except RecursionError:
        raise MalformedPayload("the JSON nests too deeply") from None
    except ValueError:
        raise MalformedPayload("the body is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedPayload("the JSON is not an object")
    if _depth(value) > MAX_DEPTH:
        raise MalformedPayload("the JSON nests too deeply")
    return value


def _depth(value: Any) -> int:
    """How deep containers nest, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return deepest


def _checked(payload: dict[str, Any], kinds: dict[str, type[_Shape]], what: str) -> dict[str, Any]:
    kind = payload.get("type")
    shape = kinds.get(kind) if isinstance(kind, str) else None
    if shape is None:
        raise MalformedPayload(f"unknown {what}")
    _validate(shape, payload)
    on_message = shape is BlockActions and (payload.get("container") or {}).get("type") == "message"
    if on_message and payload.get("response_url") is None:
        raise MalformedPayload("a block action on a message without its response_url")
    if shape is EventCallback:
        event = payload["event"]
        missing = [f for f in _EVENT_NEEDS.get(event["type"], ()) if event.get(f) is None]
        if missing:
            raise MalformedPayload(f"a {event['type'][:40]} event without {missing[0]}")
    return payload


def _validate(shape: type[_Shape], payload: dict[str, Any]) -> None:
    try:
        shape.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])[:80] or "the payload"
        raise MalformedPayload(f"{where}: {first['msg']}") from None
