"""Fuzzing `POST /slack/events`: junk is 401 (unsigned) or 400 (signed), never 500, and
nothing is stored.

Three hypothesis tests, plus explicit regression tests for the cases the issue names:

* `test_fuzz_unsigned_or_wrongly_signed_is_401`: any body (Slack-shaped or junk) with the
  signature or timestamp missing, garbled, foreign (another secret), stale, huge (``1`` +
  309 zeros), in unicode digits, negative, fractional, ``inf``/``nan``... -> 401.
* `test_fuzz_signed_junk_is_400`: signed bodies that are not a Slack payload *by
  construction* -> 400. Either a realistic payload built with the stand-in's builders
  (`SlackSender.command_payload`, `block_action_payload`, `view_submission_payload`,
  `event_body`, and hand-built shortcut / view_closed / block_suggestion ones) with one
  key of `Kind.required` deleted or replaced by a value of the wrong type (``view``
  without ``type``, ``view.state.values`` a list, ``user`` a string, ``actions`` a dict or
  empty, numbers/NaN/5000-digit integers where strings belong, an unknown ``type``), with
  every other string optionally garbled; or a body that is no payload at all (nesting
  100,000 deep, non-object JSON, broken UTF-8, random text and bytes) in any content type.
* `test_fuzz_signed_garbled_payloads_do_not_crash`: signed Slack-shaped payloads whose
  strings are garbled (NUL and other control characters, lone surrogates, huge strings,
  numbers-as-text ids), whose optional keys are dropped or wrongly typed, or sent with
  another content type -> below 500, no apology ("something went wrong"), and no error
  logged with a traceback (background tasks included). A known slash command whose text
  alone is garbled must be answered (200).

Required keys (the ones Slack always sends and the app cannot do without) are listed per
payload kind in `KINDS`; that table is the contract the 400 oracle checks.

After each example the test waits for the app's background work (`running.settle()`);
for the first two tests the tables in `WATCHED` must then be empty. The test empties every
table before the first example (the app's startup audits the policy load) and after each
one, since the autouse fixture only runs once per test.

How hypothesis meets pytest-asyncio (asyncio_mode=auto, one session loop): the app serves
on the test's loop, so examples must not block that loop, and `@given` cannot wrap a
coroutine. Each test is therefore `async def` and hands a hypothesis-decorated *sync*
function to a worker thread (`await asyncio.to_thread(...)`): the loop stays free to serve
while each example posts with `http.client` (raw bytes headers, so unicode timestamps get
through) and runs whatever must run on the loop - building payloads with the stand-in,
`settle()`, reading and emptying tables through `running.deps.sessions` - with
`asyncio.run_coroutine_threadsafe(...).result()`. The fixtures are set up once per test,
outside hypothesis, so the function-scoped-fixture health check never applies.

Profiles: by default fixed example counts, `derandomize=True` and no example database,
so CI is reproducible and the module runs in ~20 s; ``HYPOTHESIS_PROFILE=long`` runs 25
times as many random examples.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import http.client
import json
import logging
import os
import threading
import time
import traceback
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, assume, example, given, note, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackApiError
from sqlalchemy import text
from sqlmodel import SQLModel, delete, func, select

import bot.models  # noqa: F401 -- registers every table in SQLModel.metadata
from bot.standin import FakeSlack, SlackSender
from tests.conftest import SIGNING_SECRET, TABLES, RunningApp

T = TypeVar("T")
Path = tuple[str | int, ...]

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
WATCHED = (
    "policy_lookup",
    "processed_request",
    "outbox_message",
    "question",
    "prompt",
    "survey_response",
    "audit_event",
)
MAX_BODY = 1024**2  # aiohttp's client_max_size: larger bodies may get 413 first
HUGE_TIMESTAMP = "1" + "0" * 309
NESTED = "[" * 100_000
BIG_NUMBER = "1" + "0" * 5000  # more digits than int() converts by default
BIGINT = "\ue000BIGINT"  # a str placeholder written into the JSON as BIG_NUMBER
VIEW_CALLBACKS = (
    "prompt-modal",
    "survey-new-modal",
    "survey-answer-modal",
    "question-answer-modal",
)

# -- profiles ------------------------------------------------------------------------

_QUIET = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
    HealthCheck.filter_too_much,
]
settings.register_profile(
    "slack-fuzz", deadline=None, derandomize=True, database=None, suppress_health_check=_QUIET
)
settings.register_profile(
    "slack-fuzz-long",
    deadline=None,
    derandomize=False,
    database=None,
    print_blob=True,
    suppress_health_check=_QUIET,
)
LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
PROFILE = settings.get_profile("slack-fuzz-long" if LONG else "slack-fuzz")


def examples(count: int) -> settings:
    return settings(PROFILE, max_examples=count * 25 if LONG else count)


# -- payload kinds -------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A Slack payload: how to build a realistic one, how it travels, what it must have."""

    build: Callable[[SlackSender], dict[str, Any]]
    encoding: str  # "form" (slash command), "payload" (payload=<json>), "json" (Events API)
    required: tuple[tuple[Path, type], ...]

    @property
    def content_type(self) -> str:
        return JSON if self.encoding == "json" else FORM


def _slack(sender: SlackSender) -> FakeSlack:
    assert sender.slack is not None
    return sender.slack


def _user(sender: SlackSender, user_id: str) -> dict[str, Any]:
    return {"id": user_id, "username": user_id.lower(), "team_id": sender.team_id}


def _text_input(block: str, value: str | None) -> dict[str, Any]:
    return {block: {block: {"type": "plain_text_input", "value": value}}}


def _prompt_values() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for block, value in (
        ("title", "Team prompt"),
        ("body", "Summarise this incident."),
        ("body_more", None),
        ("body_rest", None),
        ("tags", "testing"),
        ("stack", "python"),
        ("use_case", "unit tests"),
        ("tool", "Claude Code"),
    ):
        values.update(_text_input(block, value))
    values["confirm"] = {
        "confirm": {"type": "checkboxes", "selected_options": [{"value": "example-data"}]}
    }
    return values


def _survey_new_values() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for block, value in (
        ("id", "tooling"),
        ("title", "Tooling feedback"),
        ("intro", "Two minutes."),
        ("audience", "users U0ALICE U0BOB"),
        ("window", "5"),
        ("questions", "likert: How useful?\nsingle: Which tool? | Copilot | Cursor"),
    ):
        values.update(_text_input(block, value))
    values["anonymous"] = {"anonymous": {"type": "checkboxes", "selected_options": []}}
    return values


def _survey_answer_values() -> dict[str, Any]:
    return {
        "useful": {"useful": {"type": "radio_buttons", "selected_option": {"value": "4"}}},
        "recommend": {"recommend": {"type": "static_select", "selected_option": {"value": "9"}}},
        "why": {"why": {"type": "plain_text_input", "value": "ok"}},
    }


VIEWS: dict[str, tuple[Callable[[], dict[str, Any]], str, str]] = {
    "prompt-modal": (_prompt_values, "", "U0ALICE"),
    "survey-new-modal": (_survey_new_values, "", "U0ADMIN"),
    "survey-answer-modal": (_survey_answer_values, '{"run_id": 1}', "U0ALICE"),
    "question-answer-modal": (
        lambda: _text_input("answer", "Record the responses."),
        '{"question_id": 1}',
        "U0BOB",
    ),
}


def view_submission(sender: SlackSender, callback_id: str) -> dict[str, Any]:
    values, metadata, user = VIEWS[callback_id]
    return sender.view_submission_payload(
        callback_id, values(), user_id=user, private_metadata=metadata
    )


def _view_closed(callback_id: str) -> Callable[[SlackSender], dict[str, Any]]:
    def build(sender: SlackSender) -> dict[str, Any]:
        payload = view_submission(sender, callback_id)
        del payload["response_urls"], payload["trigger_id"]
        return {**payload, "type": "view_closed", "is_cleared": False}

    return build


def _command(command: str, text: str, user: str) -> Callable[[SlackSender], dict[str, Any]]:
    return lambda sender: dict(sender.command_payload(command, text, user_id=user))


def _action(action_id: str, value: str, user: str) -> Callable[[SlackSender], dict[str, Any]]:
    return lambda sender: sender.block_action_payload(action_id, value=value, user_id=user)


def _shortcut(callback_id: str) -> Callable[[SlackSender], dict[str, Any]]:
    def build(sender: SlackSender) -> dict[str, Any]:
        return {
            "type": "shortcut",
            "token": sender.verification_token,
            "action_ts": f"{time.time():.6f}",
            "team": {"id": sender.team_id, "domain": sender.team_domain},
            "user": _user(sender, "U0ALICE"),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": _slack(sender).new_trigger_id(),
        }

    return build


def _message_action(sender: SlackSender) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    return {
        **_shortcut("ask-champion")(sender),
        "type": "message_action",
        "message_ts": ts,
        "channel": {"id": "C0GENERAL", "name": "general"},
        "message": {"type": "message", "user": "U0BOB", "ts": ts, "text": "can I use copilot"},
        "response_url": _slack(sender).new_response_url(),
    }


def _block_suggestion(sender: SlackSender) -> dict[str, Any]:
    return {
        "type": "block_suggestion",
        "user": _user(sender, "U0ADMIN"),
        "container": {"type": "view", "view_id": "V0SUGGEST"},
        "api_app_id": sender.api_app_id,
        "token": sender.verification_token,
        "action_id": "tags",
        "block_id": "tags",
        "value": "te",
        "team": {"id": sender.team_id, "domain": sender.team_domain},
        "view": {"id": "V0SUGGEST", "type": "modal", "callback_id": "prompt-modal"},
    }


def _event(event: Callable[[SlackSender], dict[str, Any]]) -> Callable[[SlackSender], Any]:
    return lambda sender: sender.event_body(event(sender))


def _mention(sender: SlackSender) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    return {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": "<@U0BOT> can I use copilot for auth code",
        "ts": ts,
        "channel": "C0GENERAL",
        "event_ts": ts,
    }


def _dm_reply(sender: SlackSender) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    return {
        "type": "message",
        "channel_type": "im",
        "channel": _slack(sender).workspace.dm_with("U0BOB").id,
        "user": "U0BOB",
        "text": "Use recorded fixtures & assert on behaviour.",
        "ts": ts,
        "thread_ts": "1800000000.000100",
        "event_ts": ts,
    }


def _home_opened(sender: SlackSender) -> dict[str, Any]:
    return {
        "type": "app_home_opened",
        "user": "U0ADMIN",
        "tab": "home",
        "channel": "D0ADMIN",
        "event_ts": f"{time.time():.6f}",
    }


def _url_verification(sender: SlackSender) -> dict[str, Any]:
    return {
        "token": sender.verification_token,
        "challenge": "3eZbrw1aBm2r",
        "type": "url_verification",
    }


COMMAND_REQUIRED: tuple[tuple[Path, type], ...] = (
    (("command",), str),
    (("user_id",), str),
    (("channel_id",), str),
    (("response_url",), str),
    (("trigger_id",), str),
)
ACTION_REQUIRED: tuple[tuple[Path, type], ...] = (
    (("type",), str),
    (("user",), dict),
    (("user", "id"), str),
    (("actions",), list),
    (("actions", 0), dict),
    (("actions", 0, "action_id"), str),
)
VIEW_REQUIRED: tuple[tuple[Path, type], ...] = (
    (("type",), str),
    (("user",), dict),
    (("user", "id"), str),
    (("view",), dict),
    (("view", "id"), str),
    (("view", "type"), str),
    (("view", "callback_id"), str),
)
SUBMISSION_REQUIRED = (
    *VIEW_REQUIRED,
    (("view", "state"), dict),
    (("view", "state", "values"), dict),
)
SHORTCUT_REQUIRED: tuple[tuple[Path, type], ...] = (
    (("type",), str),
    (("callback_id",), str),
    (("user",), dict),
    (("user", "id"), str),
    (("trigger_id",), str),
)
EVENT_REQUIRED: tuple[tuple[Path, type], ...] = (
    (("type",), str),
    (("event_id",), str),
    (("event",), dict),
    (("event", "type"), str),
)

KINDS: dict[str, Kind] = {
    **{
        f"command {command} {text!r} by {user}": Kind(
            _command(command, text, user), "form", COMMAND_REQUIRED
        )
        for command, text, user in (
            ("/ai-policy", "copilot for auth code in a regulated service", "U0ALICE"),
            ("/ai-policy", "", "U0ALICE"),
            ("/ask-champion", "Who approves new AI tools?", "U0ALICE"),
            ("/ask-champion", "queue", "U0BOB"),
            ("/prompts", "unit tests", "U0ALICE"),
            ("/prompts", "add", "U0ALICE"),
            ("/prompts", "mine", "U0ALICE"),
            ("/ai-coe", "survey new", "U0ADMIN"),
            ("/ai-coe", "survey results check-in", "U0ADMIN"),
            ("/ai-coe", "digest list", "U0ADMIN"),
            ("/ai-coe", "prompts review", "U0ADMIN"),
            ("/ai-coe", "teams map S0SEARCH search", "U0ADMIN"),
            ("/ai-coe", "help", "U0BOB"),
        )
    },
    **{
        f"block_actions {action_id} by {user}": Kind(
            _action(action_id, "1", user), "payload", ACTION_REQUIRED
        )
        for action_id, user in (
            ("prompt-use", "U0ALICE"),
            ("prompt-helpful", "U0BOB"),
            ("prompt-share", "U0ALICE"),
            ("prompt-report", "U0BOB"),
            ("prompt-edit", "U0ADMIN"),
            ("prompt-delete", "U0ADMIN"),
            ("prompt-more", "U0ALICE"),
            ("question-claim", "U0BOB"),
            ("question-answer", "U0BOB"),
            ("question-pass", "U0BOB"),
            ("question-helpful", "U0ALICE"),
            ("question-reuse-resolved", "U0ALICE"),
            ("question-reuse-escalate", "U0ALICE"),
            ("survey-answer", "U0ALICE"),
            ("survey-stop", "U0ALICE"),
            ("policy-share", "U0ALICE"),
            ("policy-ask-champion", "U0ALICE"),
        )
    },
    **{
        f"view_submission {callback}": Kind(
            lambda sender, callback=callback: view_submission(sender, callback),
            "payload",
            SUBMISSION_REQUIRED,
        )
        for callback in VIEW_CALLBACKS
    },
    **{
        f"view_closed {callback}": Kind(_view_closed(callback), "payload", VIEW_REQUIRED)
        for callback in VIEW_CALLBACKS
    },
    "shortcut": Kind(_shortcut("ask-champion"), "payload", SHORTCUT_REQUIRED),
    "message_action": Kind(
        _message_action,
        "payload",
        (*SHORTCUT_REQUIRED, (("channel",), dict), (("message",), dict)),
    ),
    "block_suggestion": Kind(
        _block_suggestion,
        "payload",
        (
            (("type",), str),
            (("user",), dict),
            (("user", "id"), str),
            (("action_id",), str),
            (("value",), str),
        ),
    ),
    "event app_mention": Kind(_event(_mention), "json", EVENT_REQUIRED),
    "event message.im reply": Kind(_event(_dm_reply), "json", EVENT_REQUIRED),
    "event app_home_opened": Kind(_event(_home_opened), "json", EVENT_REQUIRED),
    "url_verification": Kind(_url_verification, "json", ((("type",), str), (("challenge",), str))),
}
COMMAND_KINDS = tuple(name for name, kind in KINDS.items() if kind.encoding == "form")


# -- mutations -----------------------------------------------------------------------


class Deleted:
    def __repr__(self) -> str:
        return "DELETE"


DELETE = Deleted()
DEFAULT_TYPE = "<the kind's own content type>"


def _walk(node: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def string_leaves(payload: Any) -> list[Path]:
    return [path for path, value in _walk(payload) if isinstance(value, str)]


def _get(root: Any, path: Path) -> Any:
    node = root
    for key in path:
        node = node[key]
    return node


def _put(root: Any, path: Path, value: Any) -> None:
    """Set or (with DELETE) remove `path`; a path already gone is left alone."""
    try:
        parent = _get(root, path[:-1])
        if value is DELETE:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    except (KeyError, IndexError, TypeError):
        pass


# Keys whose strings are free text or opaque values in Slack's payloads (not ids): where a
# strict schema lets junk through to the handlers.
PROSE = frozenset(
    "text value private_metadata challenge name username user_name channel_name team_domain"
    " domain action_ts message_ts thread_ts".split()
)


class Garble(NamedTuple):
    prose: bool  # aim at a PROSE key (when the payload has one)
    index: int
    how: str  # replace, append or prefix
    junk: str


class Change(NamedTuple):
    prose: bool
    index: int
    value: Any  # DELETE or a value of another type


def _pick(paths: list[Path], prose: bool, index: int) -> Path:
    pool = [path for path in paths if path and path[-1] in PROSE] if prose else []
    pool = pool or paths
    return pool[index % len(pool)]


@dataclass(frozen=True)
class Shaped:
    """A realistic payload of `kind`, then mutated; realized fresh for every request."""

    kind: str
    garble_all: str = ""  # appended to every string
    garbles: tuple[Garble, ...] = ()  # strings replaced or extended with junk
    changes: tuple[Change, ...] = ()  # optional keys deleted or given another type
    breaks: tuple[tuple[int, Any], ...] = ()  # (required path index, DELETE or wrong type)
    content_type: str | None = DEFAULT_TYPE

    def realize(self, sender: SlackSender) -> tuple[bytes, str | None]:
        kind = KINDS[self.kind]
        payload = kind.build(sender)
        leaves = string_leaves(payload)
        for path in leaves:
            if self.garble_all:
                _put(payload, path, _get(payload, path) + self.garble_all)
        for garble in self.garbles:
            path = _pick(leaves, garble.prose, garble.index)
            old, junk = _get(payload, path), garble.junk
            new = {"replace": junk, "append": old + junk, "prefix": junk + old}[garble.how]
            _put(payload, path, new)
        required = {path for path, _ in kind.required}
        optional = [
            path
            for path, _ in _walk(payload)
            if path and not any(path == r[: len(path)] for r in required)
        ]
        for change in self.changes:
            if optional:
                _put(payload, _pick(optional, change.prose, change.index), change.value)
        for index, value in self.breaks:
            _put(payload, kind.required[index % len(kind.required)][0], value)
        content_type = kind.content_type if self.content_type == DEFAULT_TYPE else self.content_type
        return encode(kind.encoding, payload), content_type

    @property
    def answerable_command(self) -> bool:
        """A known slash command whose text alone is garbled, within Slack's limits."""
        if self.kind not in COMMAND_KINDS or self.breaks or self.changes or self.garble_all:
            return False
        if self.content_type != DEFAULT_TYPE:
            return False
        leaves = string_leaves(KINDS[self.kind].build(_PROBE))
        return all(
            _pick(leaves, g.prose, g.index) == ("text",)
            and len(g.junk) <= 3000
            and _encodable(g.junk)
            for g in self.garbles
        )


class _Probe(SlackSender):
    """Builds a payload's key order without a FakeSlack (never sent)."""

    def __init__(self) -> None:
        super().__init__("http://unused.invalid/", SIGNING_SECRET)


_PROBE = _Probe()


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def encode(encoding: str, payload: Any) -> bytes:
    if encoding == "form":
        return urlencode(payload, errors="surrogatepass").encode()
    text = json.dumps(payload).replace(json.dumps(BIGINT), BIG_NUMBER)
    if encoding == "json":
        return text.encode()
    return urlencode({"payload": text}).encode()


@dataclass(frozen=True)
class Raw:
    """A body that is no Slack payload at all."""

    body: bytes
    content_type: str | None

    def realize(self, sender: SlackSender) -> tuple[bytes, str | None]:
        return self.body, self.content_type

    def __repr__(self) -> str:
        shown = self.body if len(self.body) <= 80 else self.body[:60] + b"..."
        return f"Raw({shown!r} ({len(self.body)} bytes), {self.content_type!r})"


Body = Shaped | Raw

# -- strategies ----------------------------------------------------------------------

CONTROL = "".join(map(chr, [*range(32), 127, 0x85, 0x2028, 0x2029, 0x202E, 0xFEFF]))
SPECIAL = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x00" * 64,
    "\x1b[31m\x07",
    "\r\n\t\x0b\x0c",
    "\u202egnp.exe",
    "\ufeff",
    "\ud800",
    "x\udfff",
    "<!channel>",
    "<@U0ADMIN>",
    "&lt;&amp;&gt;",
    "' OR 1=1 --",
    "%s%n%x",
    "\\",
    '"',
    "{",
    "null",
    "NaN",
    "-1",
    "0",
    HUGE_TIMESTAMP,
    "١٢٣",
    "１２",
    "²",
    " 1 ",
    "1_000",
    "0x1F",
    "1e400",
    "9" * 5000,
    '{"run_id": "x", "question_id": null}',
    '{"run_id": -1, "question_id": 1e400}',
    "[]",
    "😀" * 10,
)
HUGE = (
    ("x", 150_000),
    ("é", 60_000),
    ("😀", 30_000),
    ("\x00", 20_000),
    ("a\x01", 20_000),
    ("x", 3_001),
    ("<!channel>", 400),
)

junk_text = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=40),
    st.text(st.sampled_from(CONTROL), min_size=1, max_size=20),
    st.sampled_from(HUGE).map(lambda unit: unit[0] * unit[1]),
)
numbers = st.one_of(
    st.integers(),
    st.sampled_from([10**400, -(10**400), BIGINT]),
    st.floats(allow_nan=True, allow_infinity=True),
)
atoms = st.one_of(st.none(), st.booleans(), numbers, junk_text)
containers = st.one_of(
    st.lists(atoms, max_size=3),
    st.dictionaries(st.text(max_size=8), atoms, max_size=3),
)
UNKNOWN_TYPES = (
    "unknown",
    "",
    "Block_Actions",
    "view_submission ",
    "view\x00submission",
    "event_callback_",
    "__proto__",
    "interactive_message_x",
)


def not_a(expected: type, path: Path) -> st.SearchStrategy[Any]:
    """Values that are not of type `expected` (at `path`)."""
    if expected is str:
        wrong = st.one_of(st.none(), st.booleans(), numbers, containers)
        return st.one_of(wrong, st.sampled_from(UNKNOWN_TYPES)) if path == ("type",) else wrong
    if expected is dict:
        return st.one_of(
            st.none(),
            st.booleans(),
            numbers,
            junk_text,
            st.just("U0ALICE"),
            st.lists(atoms, max_size=3),
            st.just([{"type": "modal"}]),
        )
    return st.one_of(  # a list (of actions): never empty in Slack's payloads
        st.none(),
        st.booleans(),
        numbers,
        junk_text,
        st.just([]),
        st.just({"action_id": "prompt-use", "type": "button"}),
        st.dictionaries(st.text(max_size=8), atoms, max_size=3),
    )


garbles = st.lists(
    st.builds(
        Garble,
        st.sampled_from((True, True, True, False)),
        st.integers(0, 10_000),
        st.sampled_from(("replace", "append", "prefix")),
        junk_text,
    ),
    max_size=3,
).map(tuple)
garble_all = st.one_of(
    st.just(""), st.sampled_from(("\x00", "\x00\x1b[2J\x07", "\ud800", "\u202e"))
)
CONTENT_TYPES = (
    FORM,
    JSON,
    "text/plain",
    None,
    "multipart/form-data; boundary=zz",
    FORM + "; charset=latin-1",
    "application/xml",
)


@st.composite
def broken_payloads(draw: st.DrawFn) -> Shaped:
    """A realistic payload with one required key deleted or wrongly typed."""
    name = draw(st.sampled_from(tuple(KINDS)))
    kind = KINDS[name]
    index = draw(st.integers(0, len(kind.required) - 1))
    path, expected = kind.required[index]
    value = (
        DELETE if kind.encoding == "form" or draw(st.booleans()) else draw(not_a(expected, path))
    )
    return Shaped(
        name,
        garble_all=draw(garble_all),
        garbles=draw(garbles),
        breaks=((index, value),),
        content_type=draw(st.sampled_from((DEFAULT_TYPE, *CONTENT_TYPES))),
    )


def _nested(opener: str, depth: int, closed: bool) -> str:
    closer = {"[": "]", '{"a":': "}", '{"type": "block_actions", "actions":': "}"}[opener]
    return opener * depth + ("1" + closer * depth if closed else "")


@st.composite
def raw_junk(draw: st.DrawFn) -> Raw:
    """A body that is not a Slack payload in any content type."""
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    in_payload = draw(st.booleans())
    text = draw(
        st.one_of(
            st.builds(
                _nested,
                st.sampled_from(("[", '{"a":', '{"type": "block_actions", "actions":')),
                st.sampled_from((100, 1_000, 10_000, 100_000)),
                st.booleans(),
            ),
            st.one_of(atoms, st.lists(atoms, max_size=3)).map(
                lambda value: json.dumps(value).replace(json.dumps(BIGINT), BIG_NUMBER)
            ),
            st.sampled_from(('{"type": 1' + "0" * 5000 + "}", "{}", "{not json", "")),
            junk_text,
        )
    )
    if in_payload:
        body = urlencode({"payload": text}, errors="surrogatepass").encode()
    else:
        body = text.encode(errors="surrogatepass")
    return Raw(
        draw(
            st.one_of(
                st.just(body),
                st.sampled_from(
                    (b"", b"payload", b"payload=", b"payload=%FF%FE%FD", b"\xff\xfe{}")
                ),
                st.binary(max_size=64),
            )
        ),
        content_type,
    )


@st.composite
def garbled_payloads(draw: st.DrawFn) -> Shaped:
    """A realistic payload with garbled strings, optional keys dropped or retyped."""
    changes = st.lists(
        st.builds(
            Change,
            st.booleans(),
            st.integers(0, 10_000),
            st.one_of(st.just(DELETE), atoms, containers),
        ),
        max_size=2,
    )
    return Shaped(
        draw(st.sampled_from(tuple(KINDS))),
        garble_all=draw(st.one_of(st.just(""), st.just(""), garble_all)),
        garbles=draw(garbles),
        changes=tuple(draw(changes)),
        content_type=draw(st.sampled_from((DEFAULT_TYPE,) * 6 + CONTENT_TYPES)),
    )


def garbled_command_text(command_kind: str, text: str) -> Shaped:
    index = string_leaves(KINDS[command_kind].build(_PROBE)).index(("text",))
    return Shaped(command_kind, garbles=(Garble(False, index, "replace", text),))


header_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=40)
JUNK_TIMESTAMPS = (
    HUGE_TIMESTAMP,
    "-" + HUGE_TIMESTAMP,
    "9" * 5000,
    "1e309",
    "inf",
    "-inf",
    "nan",
    "-1",
    "0",
    "-0",
    "+0",
    "1.5",
    "1.5e9",
    "²³",
    "",
    "0x65",
    "١٧٠٠٠٠٠٠٠٠",
)
NOW_LOOKALIKES = ("arabic", "fullwidth", "float", "underscores", "plus", "leading0")


@dataclass(frozen=True)
class Headers:
    """How a request is (mis)signed; realized at send time against the current clock."""

    timestamp: tuple[str, Any]  # (missing|now|stale|junk|lookalike, detail)
    signature: tuple[str, Any]  # (missing|junk|foreign|resigned, detail)


@st.composite
def bad_headers(draw: st.DrawFn) -> Headers:
    timestamp = draw(
        st.one_of(
            st.just(("missing", None)),
            st.just(("now", None)),
            st.tuples(
                st.just("stale"),
                st.integers(301, 10**10).flatmap(lambda n: st.sampled_from((n, -n))),
            ),
            st.tuples(st.just("junk"), st.one_of(st.sampled_from(JUNK_TIMESTAMPS), header_text)),
            st.tuples(st.just("lookalike"), st.sampled_from(NOW_LOOKALIKES)),
        )
    )
    kinds = ["missing", "junk", "foreign"]
    if timestamp[0] in ("missing", "stale", "junk"):
        kinds.append("resigned")  # correctly signed over a timestamp that must not pass
    how = draw(st.sampled_from(kinds))
    detail: Any = None
    if how == "junk":
        detail = draw(
            st.one_of(
                st.sampled_from(
                    (
                        "",
                        "v0=",
                        "v0",
                        "v1=<hex>",
                        "V0=<hex>",
                        "v0=<HEX>",
                        "v0=<hex>[:-1]",
                        "v0=<hex>0",
                        "v0=<hex>,v0=<hex>",
                        "v0=" + "0" * 64,
                        "v0=" + "zz" * 32,
                        "v0=" + "é" * 64,
                        "v0=" + "٠" * 64,
                        "v0=<empty-body>",
                    )
                ),
                header_text,
            )
        )
    return Headers(timestamp, (how, detail))


def _hex(secret: str, timestamp: bytes, body: bytes) -> str:
    base = b"v0:" + timestamp + b":" + body
    return hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def _near_now(timestamp: str) -> bool:
    for parse in (int, float):
        try:
            if abs(parse(timestamp) - time.time()) < 600:
                return True
        except (ValueError, OverflowError):
            pass
    return False


def _timestamp(mode: str, detail: Any, now: int) -> str | None:
    if mode == "missing":
        return None
    if mode == "stale":
        return str(now + detail)
    if mode == "junk":
        return str(detail)
    digits = str(now)
    if mode == "lookalike":
        return {
            "arabic": digits.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
            "fullwidth": digits.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
            "float": f"{now}.0",
            "underscores": f"{digits[:4]}_{digits[4:]}",
            "plus": f"+{now}",
            "leading0": f"0{now}",
        }[detail]
    return digits


def realize_headers(plan: Headers, body: bytes) -> list[tuple[str, bytes]]:
    now = int(time.time())
    timestamp = _timestamp(*plan.timestamp, now)
    how, junk = plan.signature
    if how == "resigned":
        assume(timestamp is None or not _near_now(timestamp))
    good = _hex(SIGNING_SECRET, str(now).encode(), body)
    signature: str | None = {
        "missing": None,
        "foreign": "v0=" + _hex("not-the-signing-secret", str(now).encode(), body),
        "resigned": "v0=" + _hex(SIGNING_SECRET, (timestamp or "").encode(), body),
    }.get(how)
    if how == "junk":
        signature = (
            str(junk)
            .replace("<hex>", good)
            .replace("<HEX>", good.upper())
            .replace("<empty-body>", _hex(SIGNING_SECRET, str(now).encode(), b""))
        )
        if signature.endswith("[:-1]"):
            signature = signature.removesuffix("[:-1]")[:-1]
    headers: list[tuple[str, bytes]] = []
    if timestamp is not None:
        headers.append(("X-Slack-Request-Timestamp", timestamp.encode()))
    if signature is not None:
        headers.append(("X-Slack-Signature", signature.encode()))
    return headers


# -- the harness: a worker thread posting, the loop serving ---------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    text: str
    crashes: tuple[str, ...]
    stored: dict[str, int]

    def __str__(self) -> str:
        return f"HTTP {self.status} {self.text[:300]!r} crashes={self.crashes} stored={self.stored}"


class Crashes(logging.Handler):
    """Collects errors logged with a traceback, from any thread (Slack's refusals aside)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self._records: list[str] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if not record.exc_info or record.exc_info[1] is None:
            return
        error = record.exc_info[1]
        if isinstance(error, SlackApiError):
            return  # Slack refused a call (e.g. a garbled channel id): not a crash
        frames = traceback.extract_tb(error.__traceback__)
        where = next(
            (
                f"{f.filename.split('/work/main/')[-1]}:{f.lineno}"
                for f in reversed(frames)
                if "/bot/" in f.filename
            ),
            "?",
        )
        summary = (
            f"{record.getMessage()[:120]} :: {type(error).__name__}: {str(error)[:160]} @ {where}"
        )
        with self._guard:
            self._records.append(summary)

    def take(self) -> tuple[str, ...]:
        with self._guard:
            taken, self._records = tuple(self._records), []
        return taken


async def stored_rows(running: RunningApp) -> dict[str, int]:
    """Rows in the WATCHED tables, by table, only those that hold any."""
    counts: dict[str, int] = {}
    async with running.deps.sessions() as session:
        for name in WATCHED:
            table = SQLModel.metadata.tables[name]
            counts[name] = (await session.exec(select(func.count()).select_from(table))).one()
    return {name: count for name, count in counts.items() if count}


async def empty_tables(running: RunningApp) -> None:
    """As the autouse fixture does: PostgreSQL's audit_event refuses DELETE."""
    async with running.deps.sessions.begin() as session:
        postgres = (await session.connection()).dialect.name == "postgresql"
        for name in TABLES:
            table = SQLModel.metadata.tables[name]
            if not postgres or name != "audit_event":
                await session.exec(delete(table))
            elif (await session.exec(select(func.count()).select_from(table))).one():
                await session.exec(text(f"TRUNCATE {name}"))  # TRUNCATE is slow: only if needed


def _post(url: str, body: bytes, headers: list[tuple[str, bytes]]) -> tuple[int, str]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        conn.putrequest("POST", parts.path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        res = conn.getresponse()
        return res.status, res.read().decode("utf-8", "replace")
    finally:
        conn.close()


@dataclass
class Harness:
    running: RunningApp
    sender: SlackSender
    loop: asyncio.AbstractEventLoop
    crashes: Crashes = field(default_factory=Crashes)

    def on_loop(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    def build(self, body: Body) -> tuple[bytes, str | None]:
        async def realize() -> tuple[bytes, str | None]:
            return body.realize(self.sender)

        return self.on_loop(realize())

    def send(
        self, body: bytes, content_type: str | None, headers: list[tuple[str, bytes]]
    ) -> Reply:
        sent = [("User-Agent", USER_AGENT.encode()), *headers]
        if content_type is not None:
            sent.append(("Content-Type", content_type.encode()))
        status, text = _post(self.running.events_url, body, sent)
        self.on_loop(self.running.settle())
        stored = self.on_loop(stored_rows(self.running))
        self.on_loop(empty_tables(self.running))
        return Reply(status, text, self.crashes.take(), stored)

    def send_signed(self, body: bytes, content_type: str | None) -> Reply:
        timestamp = str(int(time.time())).encode()
        signature = "v0=" + _hex(SIGNING_SECRET, timestamp, body)
        headers = [
            ("X-Slack-Request-Timestamp", timestamp),
            ("X-Slack-Signature", signature.encode()),
        ]
        return self.send(body, content_type, headers)


@pytest.fixture
async def harness(running: RunningApp, slack: FakeSlack) -> AsyncIterator[Harness]:
    await running.settle()
    await empty_tables(running)  # the app's startup writes (an audit of the policy load)
    crashes = Crashes()
    root = logging.getLogger()
    root.addHandler(crashes)
    try:
        async with SlackSender(running.events_url, SIGNING_SECRET, slack=slack) as sender:
            yield Harness(running, sender, asyncio.get_running_loop(), crashes)
    finally:
        root.removeHandler(crashes)


def _fits(body: bytes) -> bool:
    return len(body) <= MAX_BODY - 4096


def assert_junk_refused(reply: Reply, expected: int, body: bytes) -> None:
    statuses = {expected} if _fits(body) else {expected, 413}
    assert reply.status < 500, f"server error: {reply}"
    assert not reply.crashes, f"crashed: {reply}"
    assert reply.status in statuses, f"expected {expected}: {reply}"
    assert not reply.stored, f"stored: {reply}"


# -- the fuzz tests ------------------------------------------------------------------

valid_bodies = st.sampled_from(tuple(KINDS)).map(Shaped)


async def test_fuzz_unsigned_or_wrongly_signed_is_401(harness: Harness) -> None:
    @examples(60)
    @given(st.one_of(valid_bodies, raw_junk(), broken_payloads()), bad_headers())
    @example(
        Shaped("command /ai-policy 'copilot for auth code in a regulated service' by U0ALICE"),
        Headers(("junk", HUGE_TIMESTAMP), ("missing", None)),
    )
    @example(
        Shaped("command /ai-policy 'copilot for auth code in a regulated service' by U0ALICE"),
        Headers(("junk", HUGE_TIMESTAMP), ("junk", "v0=00")),
    )
    def check(body: Body, plan: Headers) -> None:
        data, content_type = harness.build(body)
        note(f"case: {body!r}")
        note(f"sent: {data[:300]!r} ({len(data)} bytes) as {content_type!r}")
        headers = realize_headers(plan, data)
        note(f"headers: {headers!r}")
        assert_junk_refused(harness.send(data, content_type, headers), 401, data)

    await asyncio.to_thread(check)


async def test_fuzz_signed_junk_is_400(harness: Harness) -> None:
    @examples(150)
    @given(st.one_of(broken_payloads(), raw_junk()))
    @example(Raw(urlencode({"payload": NESTED}).encode(), FORM))
    @example(Shaped("view_submission prompt-modal", breaks=((5, DELETE),)))
    def check(body: Body) -> None:
        data, content_type = harness.build(body)
        note(f"case: {body!r}")
        note(f"sent: {data[:300]!r} ({len(data)} bytes) as {content_type!r}")
        assert_junk_refused(harness.send_signed(data, content_type), 400, data)

    await asyncio.to_thread(check)


async def test_fuzz_signed_garbled_payloads_do_not_crash(harness: Harness) -> None:
    command = COMMAND_KINDS[0]

    @examples(150)
    @given(garbled_payloads())
    @example(garbled_command_text(command, "what is the payload policy for copilot"))
    @example(garbled_command_text(command, "copilot\x00\x1b[31m"))
    def check(body: Shaped) -> None:
        data, content_type = harness.build(body)
        note(f"case: {body!r}")
        note(f"sent: {data[:300]!r} ({len(data)} bytes) as {content_type!r}")
        reply = harness.send_signed(data, content_type)
        assert reply.status < 500, f"server error: {reply}"
        assert "something went wrong" not in reply.text.lower(), f"apologised: {reply}"
        assert not reply.crashes, f"crashed: {reply}"
        if body.answerable_command:
            assert reply.status == 200, f"a slash command went unanswered: {reply}"

    await asyncio.to_thread(check)


# -- the cases the issue names -------------------------------------------------------


async def _send(
    running: RunningApp, body: bytes, headers: dict[str, str]
) -> tuple[int, str, dict[str, int]]:
    """Post from a thread (aiohttp's client warns about large raw bodies)."""
    await running.settle()
    await empty_tables(running)  # the app's startup writes (an audit of the policy load)
    encoded = [(name, value.encode()) for name, value in headers.items()]
    status, text = await asyncio.to_thread(_post, running.events_url, body, encoded)
    await running.settle()
    return status, text, await stored_rows(running)


@pytest.mark.parametrize("signature", ["none", "garbage", "signed-over-it"])
async def test_a_timestamp_of_310_digits_is_refused(
    sender: SlackSender, running: RunningApp, signature: str
) -> None:
    body = urlencode(sender.command_payload("/ai-policy", "copilot")).encode()
    headers = {"Content-Type": FORM, "X-Slack-Request-Timestamp": HUGE_TIMESTAMP}
    if signature == "garbage":
        headers["X-Slack-Signature"] = "v0=00"
    elif signature == "signed-over-it":
        headers["X-Slack-Signature"] = "v0=" + _hex(SIGNING_SECRET, HUGE_TIMESTAMP.encode(), body)
    status, text, stored = await _send(running, body, headers)
    assert (status, stored) == (401, {}), text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (urlencode({"payload": NESTED}).encode(), FORM),
        (('{"a":' * 100_000).encode(), JSON),
        (NESTED.encode(), JSON),
    ],
    ids=["payload-of-100000-[", "json-of-100000-objects", "json-of-100000-["],
)
async def test_nesting_100000_deep_is_a_client_error(
    sender: SlackSender, running: RunningApp, body: bytes, content_type: str
) -> None:
    headers = {"Content-Type": content_type, **sender.sign(body)}
    status, text, stored = await _send(running, body, headers)
    assert (status, stored) == (400, {}), text


@pytest.mark.parametrize("callback_id", VIEW_CALLBACKS)
async def test_view_submission_without_a_view_type_is_a_client_error(
    sender: SlackSender, running: RunningApp, callback_id: str
) -> None:
    payload = view_submission(sender, callback_id)
    del payload["view"]["type"]
    body = urlencode({"payload": json.dumps(payload)}).encode()
    status, text, stored = await _send(running, body, {"Content-Type": FORM, **sender.sign(body)})
    assert (status, stored) == (400, {}), text
