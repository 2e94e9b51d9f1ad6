"""The Slack stand-in held against Slack's own documented examples.

Each case in ``tests/data/slack_contract/`` is transcribed from Slack's documentation (never
generated from the stand-in): the method, its arguments, the documented response and notes
on what the docs do not say. Here the same situation is set up in the stand-in, the method is
called over HTTP with slack_sdk, and the answer must have the documented shape: the same
``ok``, the same ``error`` code, the values the docs pin down (``expect``), and every key of
the documented example, recursively, with the same JSON type. Example values (ids, names)
are never compared.

The ``event.*`` cases do the same for the events the stand-in makes (``archive_channel``,
``remove_bot``, ``invite_bot``): the inner ``event`` has the documented example's keys with
the same JSON types, the same ``type``, ids of the documented shapes, and no key beyond the
example that the case does not account for (``extra_keys``, each with its source).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import FakeSlack
from bot.standin.model import Channel

CONTRACT_DIR = Path(__file__).parent / "data" / "slack_contract"
DOC_HOSTS = ("https://api.slack.com/", "https://docs.slack.dev/")

# The documented example people, as the docs' examples name them.
SPENGLER = "W012A3CDE"
GLINDA = "W07QCRPA4"
DOC_CHANNEL = "C123ABC456"
DOC_GROUP = "G024BE91L"  # the private channel of the group_archive example

# The shapes of Slack ids, as the documented examples show them. A channel id starts with C,
# or with G for a private channel created before March 2021 (member_joined_channel's field
# table); a user id with U, or W in an Enterprise Grid org (the examples carry both).
ID_SHAPES = {
    "channel": re.compile(r"[CG][A-Z0-9]{2,}"),
    "user": re.compile(r"[UW][A-Z0-9]{2,}"),
    "team": re.compile(r"T[A-Z0-9]{2,}"),
    "enterprise": re.compile(r"E[A-Z0-9]{2,}"),
}
# The events the bot consumes, and the fields its listeners act on (bot/ingress.py).
BOT_READS = {
    "channel_archive": ("channel",),
    "channel_unarchive": ("channel",),
    "channel_left": ("channel",),
    "group_archive": ("channel",),
    "group_unarchive": ("channel",),
    "group_left": ("channel",),
    "member_joined_channel": ("user", "channel"),
}
EVENT_PREFIX = "event."


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CONTRACT_DIR / f"{name}.json").read_text())
    return data


def case_names() -> list[str]:
    return sorted(p.stem for p in CONTRACT_DIR.glob("*.json"))


def method_case_names() -> list[str]:
    return [name for name in case_names() if not name.startswith(EVENT_PREFIX)]


def event_case_names() -> list[str]:
    return [name for name in case_names() if name.startswith(EVENT_PREFIX)]


# -- the situations -----------------------------------------------------------------


def add_spengler(slack: FakeSlack) -> None:
    slack.add_user(
        SPENGLER,
        "spengler",
        real_name="Egon Spengler",
        tz="America/Los_Angeles",
        email="spengler@ghostbusters.example.com",
        is_admin=True,
    )


def add_glinda(slack: FakeSlack) -> None:
    slack.add_user(
        GLINDA,
        "glinda",
        real_name="Glinda Southgood",
        tz="America/Los_Angeles",
        email="glenda@south.oz.coven",
        is_admin=True,
    )


def directory_with_doc_people(slack: FakeSlack) -> None:
    add_spengler(slack)
    add_glinda(slack)


def deactivated_spengler(slack: FakeSlack) -> None:
    add_spengler(slack)
    slack.deactivate_user(SPENGLER)
    assert slack.workspace.user(SPENGLER).deleted is True


def nothing(slack: FakeSlack) -> None:
    assert "W1234567890" not in slack.workspace.users


def archived_channel_with_bot(slack: FakeSlack) -> None:
    add_spengler(slack)
    channel = slack.add_channel(DOC_CHANNEL, "ghostbusters", [SPENGLER], is_archived=True)
    assert slack.bot_user_id in channel.members  # archived, and nothing else wrong


def channel_without_bot(slack: FakeSlack) -> None:
    add_spengler(slack)
    channel = slack.add_channel(DOC_CHANNEL, "ghostbusters", [SPENGLER], is_member=False)
    assert slack.bot_user_id not in channel.members
    assert not channel.is_archived
    assert not channel.is_private


def public_channel_with_bot(slack: FakeSlack) -> Channel:
    add_spengler(slack)
    channel = slack.add_channel(DOC_CHANNEL, "ghostbusters", [SPENGLER])
    assert slack.bot_user_id in channel.members
    assert not channel.is_archived
    assert not channel.is_private
    return channel


def private_channel_with_bot(slack: FakeSlack, *, is_archived: bool = False) -> Channel:
    add_spengler(slack)
    channel = slack.add_channel(
        DOC_GROUP, "ghostbusters-hq", [SPENGLER], is_private=True, is_archived=is_archived
    )
    assert slack.bot_user_id in channel.members
    return channel


SITUATIONS: dict[str, Callable[[FakeSlack], None]] = {
    "users.list.page": directory_with_doc_people,
    "users.list.invalid_cursor": directory_with_doc_people,
    "users.info.deactivated": deactivated_spengler,
    "users.info.user_not_found": nothing,
    "conversations.open.ok": add_spengler,
    "conversations.open.user_disabled": deactivated_spengler,
    "chat.postMessage.is_archived": archived_channel_with_bot,
    "chat.postMessage.not_in_channel": channel_without_bot,
    "chat.postMessage.deactivated_user": deactivated_spengler,
}


# -- the events: each situation makes one with a stand-in helper, and says which values it
# pins (the channel acted on, who acted). -------------------------------------------------

Event = dict[str, Any]


def public_channel_archived(slack: FakeSlack) -> tuple[Event, dict[str, Any]]:
    public_channel_with_bot(slack)
    event = slack.archive_channel(DOC_CHANNEL, by=SPENGLER)
    assert slack.workspace.channel(DOC_CHANNEL).is_archived
    return event, {"channel": DOC_CHANNEL, "user": SPENGLER}


def public_channel_unarchived(slack: FakeSlack) -> tuple[Event, dict[str, Any]]:
    archived_channel_with_bot(slack)
    event = slack.archive_channel(DOC_CHANNEL, by=SPENGLER, archived=False)
    assert not slack.workspace.channel(DOC_CHANNEL).is_archived
    return event, {"channel": DOC_CHANNEL, "user": SPENGLER}


def private_channel_archived(slack: FakeSlack) -> tuple[Event, dict[str, Any]]:
    private_channel_with_bot(slack)
    event = slack.archive_channel(DOC_GROUP, by=SPENGLER)
    assert slack.workspace.channel(DOC_GROUP).is_archived
    return event, {"channel": DOC_GROUP}


def private_channel_unarchived(slack: FakeSlack) -> tuple[Event, dict[str, Any]]:
    private_channel_with_bot(slack, is_archived=True)
    event = slack.archive_channel(DOC_GROUP, by=SPENGLER, archived=False)
    assert not slack.workspace.channel(DOC_GROUP).is_archived
    return event, {"channel": DOC_GROUP}


def bot_removed_from_public_channel(slack: FakeSlack) -> tuple[Event, dict[str, Any]]:
    channel = public_channel_with_bot(slack)
    event = slack.remove_bot(DOC_CHANNEL, by=SPENGLER)
    assert slack.bot_user_id not in channel.members
    return event, {"channel": DOC_CHANNEL, "actor_id": SPENGLER}


def bot_removed_from_private_channel(slack: FakeSlack) -> tuple[Event, dict[str, Any]]:
    channel = private_channel_with_bot(slack)
    event = slack.remove_bot(DOC_GROUP, by=SPENGLER)
    assert slack.bot_user_id not in channel.members
    return event, {"channel": DOC_GROUP, "actor_id": SPENGLER}


def bot_invited_to_public_channel(slack: FakeSlack) -> tuple[Event, dict[str, Any]]:
    channel_without_bot(slack)
    event = slack.invite_bot(DOC_CHANNEL, by=SPENGLER)
    assert slack.bot_user_id in slack.workspace.channel(DOC_CHANNEL).members
    pinned = {
        "user": slack.bot_user_id,  # the event names the bot
        "channel": DOC_CHANNEL,
        "channel_type": "C",
        "team": slack.team_id,
        "inviter": SPENGLER,
    }
    return event, pinned


EVENT_SITUATIONS: dict[str, Callable[[FakeSlack], tuple[Event, dict[str, Any]]]] = {
    "event.channel_archive": public_channel_archived,
    "event.channel_unarchive": public_channel_unarchived,
    "event.group_archive": private_channel_archived,
    "event.group_unarchive": private_channel_unarchived,
    "event.channel_left": bot_removed_from_public_channel,
    "event.group_left": bot_removed_from_private_channel,
    "event.member_joined_channel": bot_invited_to_public_channel,
}


# -- shape ----------------------------------------------------------------------------


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def same_type(documented: Any, actual: Any) -> bool:
    want, got = json_type(documented), json_type(actual)
    return want == got or (want == "number" and got == "integer")


def item_shape(items: list[Any]) -> Any:
    """What every item of a documented array shows: for objects, the keys all items carry
    (a key one documented item lacks is evidently optional)."""
    if not all(isinstance(item, dict) for item in items):
        return items[0]
    common = set(items[0]).intersection(*items[1:])
    return {key: item_shape([item[key] for item in items]) for key in items[0] if key in common}


def shape_mismatches(
    documented: Any, actual: Any, optional: frozenset[str] = frozenset(), path: str = ""
) -> list[str]:
    """Every documented key missing from `actual`, or present with another JSON type."""
    if documented is None:  # a documented null says the key exists, not what it holds
        return []
    where = path or "<response>"
    if not same_type(documented, actual):
        return [f"{where}: {json_type(actual)} instead of {json_type(documented)}"]
    found: list[str] = []
    if isinstance(documented, dict):
        for key, value in documented.items():
            child = f"{path}.{key}" if path else key
            if key not in actual:
                if child not in optional:
                    found.append(f"{child}: missing")
                continue
            found += shape_mismatches(value, actual[key], optional, child)
    elif isinstance(documented, list) and documented:
        wanted = item_shape(documented)
        for item in actual:
            found += shape_mismatches(wanted, item, optional, f"{path}[]")
    return found


def event_mismatches(case: dict[str, Any], event: Event) -> list[str]:
    """How `event` departs from the case's documented example: a documented key missing (and
    not optional) or of another JSON type, a key neither documented nor in `extra_keys`, an
    extra key of another type, or an id of the wrong shape."""
    documented = case["documented_example"]
    extras = case["extra_keys"]
    found = shape_mismatches(documented, event, frozenset(case.get("optional_keys", {})))
    for key in sorted(set(event) - set(documented)):
        if key not in extras:
            found.append(f"{key}: neither in the documented example nor in extra_keys")
        elif json_type(event[key]) != extras[key]["type"]:
            found.append(f"{key}: {json_type(event[key])} instead of {extras[key]['type']}")
    ids = {**case["id_keys"], **{key: x["id"] for key, x in extras.items() if "id" in x}}
    for key, kind in ids.items():
        value = event.get(key)
        if isinstance(value, str) and not ID_SHAPES[kind].fullmatch(value):
            found.append(f"{key}: {value!r} is not a {kind} id")
    return found


def at(data: dict[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        value = value[part]
    return value


# -- calling the stand-in -------------------------------------------------------------


def client_for(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


async def call(slack: FakeSlack, method: str, args: dict[str, Any]) -> dict[str, Any]:
    """The stand-in's JSON answer to `method`, refusals included."""
    form = {key: str(value) for key, value in args.items()}
    try:
        response = await client_for(slack).api_call(method, data=form)
    except SlackApiError as error:
        response = error.response
    assert response.status_code == 200
    assert isinstance(response.data, dict)
    return dict(response.data)


async def answer_for(slack: FakeSlack, case: dict[str, Any], name: str) -> dict[str, Any]:
    SITUATIONS[name](slack)
    return await call(slack, case["method"], case["request"])


# -- the fixtures themselves ----------------------------------------------------------


@pytest.mark.parametrize("name", method_case_names())
def test_fixture_is_a_transcription_with_its_source(name: str) -> None:
    case = load(name)
    assert case["doc_url"].startswith(DOC_HOSTS)
    assert case["method"] == name.split(".", 2)[0] + "." + name.split(".", 2)[1]
    assert isinstance(case["request"], dict)
    assert isinstance(case["response"], dict)
    assert isinstance(case["response"]["ok"], bool)
    assert isinstance(case["documented"], bool)
    assert len(case["notes"]) > 40
    assert case["transcribed_from"]["url"].startswith("https://docs.slack.dev/")
    for key, value in case["expect"].items():
        if key in ("ok", "error"):
            assert case["response"][key] == value  # the envelope agrees with the docs
    if not case["documented"]:
        assert "NOT DOCUMENTED" in case["notes"]
        assert case.get("also_see"), "an undocumented case names where its behaviour is from"


@pytest.mark.parametrize("name", event_case_names())
def test_event_fixture_is_a_transcription_with_its_source(name: str) -> None:
    case = load(name)
    event = case["event"]
    assert name == EVENT_PREFIX + event
    assert case["doc_url"].startswith(DOC_HOSTS)
    assert case["doc_url"].endswith(f"/events/{event}")
    assert case["documented"] is True
    documented = case["documented_example"]
    assert documented["type"] == event
    assert case["expect"] == {"type": event}
    source = case["transcribed_from"]
    assert source["url"].startswith(DOC_HOSTS)
    assert re.search(r"slack-api-ref@[0-9a-f]{40} events/", source["read_via"])
    assert case["checked_against"], "the example was read in a second place"
    for other in case["checked_against"]:
        assert other["url"].startswith(DOC_HOSTS)
        assert other["agrees"] is True
    assert set(case.get("optional_keys", {})) <= set(documented)
    assert not set(case["extra_keys"]) & set(documented)
    for key, extra in case["extra_keys"].items():
        assert extra["type"] in ("string", "integer", "boolean"), key
        assert len(extra["source"]) > 40, key
    ids = {**case["id_keys"], **{k: x["id"] for k, x in case["extra_keys"].items() if "id" in x}}
    assert set(ids.values()) <= set(ID_SHAPES)
    for key, kind in case["id_keys"].items():
        # The shapes agree with the docs: every documented id has its kind's shape.
        assert ID_SHAPES[kind].fullmatch(documented[key]), (key, documented[key])
    assert len(case["notes"]) > 40


def test_every_fixture_has_a_situation() -> None:
    assert set(method_case_names()) == set(SITUATIONS)
    assert set(event_case_names()) == set(EVENT_SITUATIONS)


def test_the_required_cases_are_there() -> None:
    cases = {name: load(name) for name in case_names()}
    assert cases["users.list.page"]["response"]["response_metadata"]["next_cursor"]
    assert cases["users.info.deactivated"]["expect"]["user.deleted"] is True
    assert cases["conversations.open.user_disabled"]["response"]["error"] == "user_disabled"
    assert cases["chat.postMessage.is_archived"]["response"]["error"] == "is_archived"
    assert cases["chat.postMessage.not_in_channel"]["response"]["error"] == "not_in_channel"
    undocumented = cases["chat.postMessage.deactivated_user"]
    assert (undocumented["documented"], undocumented["response"]["ok"]) == (False, True)
    # Every event the bot consumes, with the fields its listener acts on documented and
    # never optional.
    assert set(event_case_names()) == {EVENT_PREFIX + event for event in BOT_READS}
    for event, fields in BOT_READS.items():
        case = cases[EVENT_PREFIX + event]
        assert set(fields) <= set(case["documented_example"]), event
        assert not set(fields) & set(case.get("optional_keys", {})), event
    assert "user" not in cases["event.group_archive"]["documented_example"]
    assert cases["event.member_joined_channel"]["documented_example"]["inviter"]


def test_the_shape_check_catches_drift() -> None:
    documented = {"ok": True, "user": {"id": "U1", "deleted": False, "profile": {"team": "T"}}}
    assert shape_mismatches(documented, documented) == []
    dropped = {"ok": True, "user": {"id": "U1", "profile": {}}}
    assert shape_mismatches(documented, dropped) == [
        "user.deleted: missing",
        "user.profile.team: missing",
    ]
    retyped = {"ok": True, "user": {"id": 1, "deleted": "no", "profile": {"team": "T"}}}
    assert shape_mismatches(documented, retyped) == [
        "user.id: integer instead of string",
        "user.deleted: string instead of boolean",
    ]
    members = {"members": [{"id": "a", "x": 1}, {"id": "b", "y": 2}]}
    assert shape_mismatches(members, {"members": [{"id": "c"}]}) == []
    assert shape_mismatches(members, {"members": [{"x": 1}]}) == ["members[].id: missing"]
    assert shape_mismatches(documented, dropped, frozenset({"user.deleted"})) == [
        "user.profile.team: missing"
    ]


def test_the_event_check_catches_drift() -> None:
    case = {
        "documented_example": {"type": "member_joined_channel", "user": "W1", "channel": "C1"},
        "id_keys": {"user": "user", "channel": "channel"},
        "extra_keys": {"event_ts": {"type": "string", "source": "..."}},
        "optional_keys": {},
    }
    good = {"type": "member_joined_channel", "user": "U0BOT", "channel": "G0X", "event_ts": "1.2"}
    assert event_mismatches(case, good) == []
    assert event_mismatches(case, {**good, "event_ts": 1.2}) == [
        "event_ts: number instead of string"
    ]
    assert event_mismatches(case, {**good, "actor_id": "U1"}) == [
        "actor_id: neither in the documented example nor in extra_keys"
    ]
    assert event_mismatches(case, {**good, "channel": "D0DM", "user": "B0BOT"}) == [
        "user: 'B0BOT' is not a user id",
        "channel: 'D0DM' is not a channel id",
    ]
    dropped = {key: value for key, value in good.items() if key != "channel"}
    assert event_mismatches(case, dropped) == ["channel: missing"]


# -- the stand-in against the docs ----------------------------------------------------


@pytest.mark.parametrize("name", method_case_names())
async def test_stand_in_answers_as_documented(slack: FakeSlack, name: str) -> None:
    case = load(name)
    answer = await answer_for(slack, case, name)
    documented = case["response"]
    assert answer["ok"] is documented["ok"], answer
    assert answer.get("error") == documented.get("error"), answer
    for dotted, value in case["expect"].items():
        assert at(answer, dotted) == value, f"{dotted}: {at(answer, dotted)!r}"
    optional = frozenset(case.get("optional_keys", {}))
    assert shape_mismatches(documented, answer, optional) == []


async def test_users_list_pages_through_everyone_once(slack: FakeSlack) -> None:
    name = "users.list.page"
    case = load(name)
    SITUATIONS[name](slack)
    slack.deactivate_user(GLINDA)  # "includes ... deleted/deactivated users"
    limit = int(case["request"]["limit"])
    everyone = set(slack.workspace.users)
    assert len(everyone) > 2 * limit  # at least three pages

    optional = frozenset(case["optional_keys"])
    seen: Counter[str] = Counter()
    deleted: dict[str, bool] = {}
    cursors: list[str] = []
    args: dict[str, Any] = dict(case["request"])
    for _ in range(len(everyone) + 1):
        page = await call(slack, case["method"], args)
        assert page["ok"] is True, page
        # The documented page shows people only; a bot user has no email (Slack: "Data
        # that has not been supplied may not be present at all"), so bots are left out.
        people = {**page, "members": [m for m in page["members"] if not m["is_bot"]]}
        assert shape_mismatches(case["response"], people, optional) == []
        assert 0 < len(page["members"]) <= limit
        for member in page["members"]:
            seen[member["id"]] += 1
            deleted[member["id"]] = member["deleted"]
        cursor = page["response_metadata"]["next_cursor"]
        cursors.append(cursor)
        if cursor == "":
            break
        args = {**case["request"], "cursor": cursor}
    assert cursors[-1] == "", "the listing never ended"
    assert all(cursors[:-1]), "only the last page may carry an empty next_cursor"
    assert len(set(cursors[:-1])) == len(cursors) - 1
    assert set(seen) == everyone
    assert max(seen.values()) == 1, [user for user, n in seen.items() if n > 1]
    assert deleted[GLINDA] is True
    assert deleted[SPENGLER] is False


@pytest.mark.parametrize("name", event_case_names())
async def test_stand_in_sends_events_as_documented(slack: FakeSlack, name: str) -> None:
    case = load(name)
    event, pinned = EVENT_SITUATIONS[name](slack)
    assert json.loads(json.dumps(event)) == event  # plain JSON, as Slack sends it
    for key, value in {**case["expect"], **pinned}.items():
        assert event.get(key) == value, f"{key}: {event.get(key)!r}"
    assert event_mismatches(case, event) == []


async def test_member_joined_channel_for_a_private_channel(slack: FakeSlack) -> None:
    """channel_type "G" for a private channel, as in the page's second example."""
    name = "event.member_joined_channel"
    case = load(name)
    add_spengler(slack)
    slack.add_channel(DOC_GROUP, "ghostbusters-hq", [SPENGLER], is_private=True, is_member=False)
    event = slack.invite_bot(DOC_GROUP, by=SPENGLER)
    second = "member_joined_channel second example (absent inviter; api.slack.com, stored copy)"
    assert event["channel_type"] == case["documented_text"][second]["channel_type"] == "G"
    assert (event["user"], event["channel"]) == (slack.bot_user_id, DOC_GROUP)
    assert event_mismatches(case, event) == []
