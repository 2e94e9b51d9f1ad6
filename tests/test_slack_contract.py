"""The Slack stand-in held against Slack's own documented examples.

Each case in ``tests/data/slack_contract/`` is transcribed from Slack's documentation (never
generated from the stand-in): the method, its arguments, the documented response and notes
on what the docs do not say. Here the same situation is set up in the stand-in, the method is
called over HTTP with slack_sdk, and the answer must have the documented shape: the same
``ok``, the same ``error`` code, the values the docs pin down (``expect``), and every key of
the documented example, recursively, with the same JSON type. Example values (ids, names)
are never compared.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import FakeSlack

CONTRACT_DIR = Path(__file__).parent / "data" / "slack_contract"
DOC_HOSTS = ("https://api.slack.com/", "https://docs.slack.dev/")

# The documented example people, as the docs' examples name them.
SPENGLER = "W012A3CDE"
GLINDA = "W07QCRPA4"
DOC_CHANNEL = "C123ABC456"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CONTRACT_DIR / f"{name}.json").read_text())
    return data


def case_names() -> list[str]:
    return sorted(p.stem for p in CONTRACT_DIR.glob("*.json"))


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


@pytest.mark.parametrize("name", case_names())
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


def test_every_fixture_has_a_situation() -> None:
    assert set(case_names()) == set(SITUATIONS)


def test_the_required_cases_are_there() -> None:
    cases = {name: load(name) for name in case_names()}
    assert cases["users.list.page"]["response"]["response_metadata"]["next_cursor"]
    assert cases["users.info.deactivated"]["expect"]["user.deleted"] is True
    assert cases["conversations.open.user_disabled"]["response"]["error"] == "user_disabled"
    assert cases["chat.postMessage.is_archived"]["response"]["error"] == "is_archived"
    assert cases["chat.postMessage.not_in_channel"]["response"]["error"] == "not_in_channel"
    undocumented = cases["chat.postMessage.deactivated_user"]
    assert (undocumented["documented"], undocumented["response"]["ok"]) == (False, True)


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


# -- the stand-in against the docs ----------------------------------------------------


@pytest.mark.parametrize("name", case_names())
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
