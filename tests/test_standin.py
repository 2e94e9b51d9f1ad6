"""The Slack stand-in itself, driven by the real slack_sdk clients and a real Bolt app."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.standin import FakeSlack, Payloads, SlackSender, validate_blocks, validate_view

SECRET = "standin-test-secret"
FORM_TYPE = "application/x-www-form-urlencoded"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on a free port; yields its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def modal(title: str = "Ask the CoE", blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "ask",
        "title": {"type": "plain_text", "text": title},
        "blocks": blocks if blocks is not None else [section("hello")],
    }


async def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value


# -- tokens and the directory -----------------------------------------------------


async def test_missing_wrong_and_misused_tokens(slack: FakeSlack) -> None:
    anonymous = AsyncWebClient(base_url=slack.api_url)
    assert (await api_error(anonymous.auth_test())).response["error"] == "not_authed"
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url)
    error = await api_error(wrong.chat_postMessage(channel="C0GENERAL", text="hi"))
    assert error.response["error"] == "invalid_auth"
    assert error.response.status_code == 200
    app_token = AsyncWebClient(token=slack.app_token, base_url=slack.api_url)
    error = await api_error(app_token.chat_postMessage(channel="C0GENERAL", text="hi"))
    assert error.response["error"] == "not_allowed_token_type"
    assert slack.messages("C0GENERAL") == []
    assert [c.error for c in slack.calls] == [
        "not_authed",
        "invalid_auth",
        "not_allowed_token_type",
    ]


async def test_auth_test_and_unknown_method(slack: FakeSlack, client: AsyncWebClient) -> None:
    auth = await client.auth_test()
    assert auth["user_id"] == "U0BOT"
    assert auth["team_id"] == "T0STANDIN"
    assert auth["bot_id"] == "B0BOT"
    assert "chat:write" in auth.headers["x-oauth-scopes"]
    error = await api_error(client.api_call("chat.frobnicate"))
    assert error.response["error"] == "unknown_method"


async def test_directory_lookups(slack: FakeSlack, client: AsyncWebClient) -> None:
    alice = (await client.users_info(user="U0ALICE"))["user"]
    assert (alice["name"], alice["tz"], alice["profile"]["email"]) == (
        "alice",
        "Europe/Paris",
        "alice@example.com",
    )
    assert alice["tz_offset"] in (3600, 7200)
    assert (await api_error(client.users_info(user="U0NOBODY"))).response["error"] == (
        "user_not_found"
    )
    found = await client.users_lookupByEmail(email="bob@example.com")
    assert found["user"]["id"] == "U0BOB"
    missing = await api_error(client.users_lookupByEmail(email="nobody@example.com"))
    assert missing.response["error"] == "users_not_found"
    assert (await client.usergroups_users_list(usergroup="S0COE"))["users"] == ["U0ADMIN"]
    nogroup = await api_error(client.usergroups_users_list(usergroup="S0NONE"))
    assert nogroup.response["error"] == "no_such_subteam"
    info = await client.conversations_info(channel="C0COE")
    assert info["channel"]["name"] == "ai-coe"
    assert info["channel"]["is_member"] is True
    assert [c.http_method for c in slack.calls_to("users.info", ok_only=False)] == ["GET", "GET"]


async def test_users_list_pages_with_cursor(slack: FakeSlack, client: AsyncWebClient) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = await client.users_list(limit=3, cursor=cursor)
        seen += [m["id"] for m in page["members"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(slack.workspace.users)


# -- posting --------------------------------------------------------------------------


async def test_channel_refusals(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.add_channel("C0QUIET", "quiet", ["U0ALICE"], is_member=False)
    slack.add_channel("C0OLD", "old", ["U0ALICE"], is_archived=True)
    for channel, expected in [
        ("C0NOPE", "channel_not_found"),
        ("C0QUIET", "not_in_channel"),
        ("C0OLD", "is_archived"),
    ]:
        error = await api_error(client.chat_postMessage(channel=channel, text="hi"))
        assert error.response["error"] == expected
    error = await api_error(client.api_call("chat.postMessage", json={"channel": "C0GENERAL"}))
    assert error.response["error"] == "no_text"
    assert all(not slack.messages(c) for c in ("C0QUIET", "C0OLD", "C0GENERAL"))


async def test_dm_by_user_id_with_metadata_in_history(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    metadata = {"event_type": "nudge_sent", "event_payload": {"nudge_id": 7}}
    first = await client.chat_postMessage(channel="U0ALICE", text="first", metadata=metadata)
    second = await client.chat_postMessage(channel="U0ALICE", text="second")
    assert first["channel"] == second["channel"] == "D0ALICE"
    assert float(second["ts"]) > float(first["ts"])
    assert [m["text"] for m in slack.messages("U0ALICE")] == ["first", "second"]
    assert slack.messages("D0ALICE") == slack.messages("U0ALICE")

    history = await client.conversations_history(channel="D0ALICE", include_all_metadata=True)
    assert [m["text"] for m in history["messages"]] == ["second", "first"]
    assert history["messages"][1]["metadata"] == metadata
    plain = await client.conversations_history(channel="D0ALICE", limit=1)
    assert "metadata" not in plain["messages"][0]
    assert plain["has_more"] is True

    opened = await client.conversations_open(users="U0ALICE")
    assert opened["channel"]["id"] == "D0ALICE"
    assert slack.calls_to("conversations.open")[0].args["users"] == "U0ALICE"


async def test_dm_refusals(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.deactivate_user("U0ERIN")
    for channel, expected in [("U0NOBODY", "user_not_found"), ("U0BOT", "cannot_dm_bot")]:
        error = await api_error(client.chat_postMessage(channel=channel, text="hi"))
        assert error.response["error"] == expected
    # Slack takes a DM to a deactivated account without an error; nobody reads it
    posted = await client.chat_postMessage(channel="U0ERIN", text="hi")
    assert posted["ok"] is True
    info = await client.users_info(user="U0ERIN")
    assert info["user"]["deleted"] is True
    error = await api_error(client.conversations_open(users="U0ERIN"))
    assert error.response["error"] == "user_disabled"


async def test_a_dead_token_is_refused_everywhere(slack: FakeSlack, client: AsyncWebClient) -> None:
    for code in ("token_revoked", "account_inactive", "invalid_auth"):
        slack.kill_token(code)
        for call in (client.auth_test(), client.chat_postMessage(channel="C0COE", text="x")):
            assert (await api_error(call)).response["error"] == code
    slack.kill_token(None)
    assert (await client.auth_test())["ok"] is True


async def test_the_open_directory_takes_any_well_formed_user_id(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.workspace.open_directory = True
    for user in ("U07ABCDEF12", "W0123ENTERPRISE"):
        assert (await client.users_info(user=user))["user"]["deleted"] is False
        assert (await client.chat_postMessage(channel=user, text="hi"))["ok"] is True
    for bad in ("bob", "u07abc", "C0COE", "U0-BAD"):
        error = await api_error(client.users_info(user=bad))
        assert error.response["error"] == "user_not_found"


async def test_ephemeral_update_delete_permalink(slack: FakeSlack, client: AsyncWebClient) -> None:
    await client.chat_postEphemeral(channel="C0COE", user="U0ADMIN", text="psst")
    assert slack.ephemerals(channel="C0COE")[0]["user"] == "U0ADMIN"
    error = await api_error(client.chat_postEphemeral(channel="C0COE", user="U0BOB", text="x"))
    assert error.response["error"] == "user_not_in_channel"

    posted = await client.chat_postMessage(channel="C0COE", text="draft", blocks=[section("v1")])
    await client.chat_update(channel="C0COE", ts=posted["ts"], text="final")
    [message] = slack.messages("C0COE")
    assert (message["text"], message["blocks"]) == ("final", [section("v1")])
    link = await client.chat_getPermalink(channel="C0COE", message_ts=posted["ts"])
    assert link["permalink"].endswith("/archives/C0COE/p" + posted["ts"].replace(".", ""))
    await client.chat_delete(channel="C0COE", ts=posted["ts"])
    assert slack.messages("C0COE") == []
    error = await api_error(client.chat_update(channel="C0COE", ts=posted["ts"], text="x"))
    assert error.response["error"] == "message_not_found"


async def test_form_encoded_blocks_are_parsed(slack: FakeSlack, client: AsyncWebClient) -> None:
    blocks = [section("from a form")]
    await client.api_call(
        "chat.postMessage", data={"channel": "C0GENERAL", "blocks": json.dumps(blocks)}
    )
    assert slack.messages("C0GENERAL")[0]["blocks"] == blocks
    assert slack.calls_to("chat.postMessage")[0].args["blocks"] == blocks


# -- Block Kit ------------------------------------------------------------------------


async def test_block_kit_limits_refuse_the_call(slack: FakeSlack, client: AsyncWebClient) -> None:
    error = await api_error(
        client.chat_postMessage(channel="C0GENERAL", text="t", blocks=[section("x")] * 51)
    )
    assert error.response["error"] == "invalid_blocks"
    assert error.response["errors"] == ["must be less than 51 items [json-pointer:/blocks]"]
    error = await api_error(
        client.chat_postMessage(channel="C0GENERAL", text="t", blocks=[section("x" * 3001)])
    )
    assert error.response["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    big = [section("y" * 2900) for _ in range(5)]
    error = await api_error(client.chat_postMessage(channel="C0GENERAL", text="t", blocks=big))
    assert error.response["error"] == "msg_blocks_too_long"
    error = await api_error(client.chat_postMessage(channel="C0GENERAL", text="z" * 40_001))
    assert error.response["error"] == "msg_too_long"

    trigger = slack.new_trigger_id()
    error = await api_error(client.views_open(trigger_id=trigger, view=modal("t" * 25)))
    assert error.response["error"] == "invalid_arguments"
    assert error.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    assert slack.messages("C0GENERAL") == []
    assert len(slack.calls_to("chat.postMessage", ok_only=False)) == 4
    assert slack.views() == []


def test_validate_blocks_covers_the_documented_limits() -> None:
    button = {"type": "button", "text": {"type": "plain_text", "text": "b" * 76}, "value": "v"}
    options = [
        {"text": {"type": "plain_text", "text": f"o{i}"}, "value": "v" * 151} for i in range(101)
    ]
    select = {"type": "static_select", "action_id": "a" * 256, "options": options}
    blocks: list[dict[str, Any]] = [
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}] * 11},
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
        {"type": "actions", "block_id": "k" * 256, "elements": [button]},
        {"type": "section", "text": {"type": "mrkdwn", "text": "s"}, "accessory": select},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11},
        {"type": "carousel"},
    ]
    problems = validate_blocks(blocks, surface="message")
    expected = [
        "less than 11 items [json-pointer:/blocks/0/fields]",
        "less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
        "less than 151 characters [json-pointer:/blocks/1/text/text]",
        "less than 256 characters [json-pointer:/blocks/2/block_id]",
        "less than 76 characters [json-pointer:/blocks/2/elements/0/text/text]",
        "less than 256 characters [json-pointer:/blocks/3/accessory/action_id]",
        "less than 101 items [json-pointer:/blocks/3/accessory/options]",
        "less than 151 characters [json-pointer:/blocks/3/accessory/options/0/value]",
        "less than 11 items [json-pointer:/blocks/4/elements]",
        "valid enum value [json-pointer:/blocks/5/type]",
    ]
    for fragment in expected:
        assert any(fragment in p for p in problems), (fragment, problems)
    assert validate_blocks([section("ok")] * 100, surface="modal") == []
    assert validate_blocks([section("ok")] * 101, surface="home") != []
    view = modal(blocks=[]) | {
        "private_metadata": "m" * 3001,
        "close": {"type": "plain_text", "text": "c" * 25},
    }
    assert len(validate_view(view)) == 2


# -- views and triggers -------------------------------------------------------------------


async def test_trigger_ids_are_single_use_and_expire(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    slack.clock = lambda: now
    trigger = slack.new_trigger_id()
    opened = await client.views_open(trigger_id=trigger, view=modal())
    view = opened["view"]
    assert view["id"].startswith("V")
    assert view["callback_id"] == "ask"
    again = await api_error(client.views_open(trigger_id=trigger, view=modal()))
    assert again.response["error"] == "exchanged_trigger_id"
    unknown = await api_error(client.views_open(trigger_id="1.2.3", view=modal()))
    assert unknown.response["error"] == "invalid_trigger_id"

    late = slack.new_trigger_id()
    now += dt.timedelta(seconds=4)
    expired = await api_error(client.views_open(trigger_id=late, view=modal()))
    assert expired.response["error"] == "expired_trigger_id"

    updated = await client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Two"))
    assert updated["view"]["title"]["text"] == "Two"
    stale = await api_error(client.views_update(view_id=view["id"], hash="0.x", view=modal()))
    assert stale.response["error"] == "hash_conflict"
    home = {"type": "home", "blocks": [section("welcome")]}
    await client.views_publish(user_id="U0ALICE", view=home)
    published = slack.home_view("U0ALICE")
    assert published is not None
    assert published["blocks"] == home["blocks"]


# -- faults, rate limits, retries --------------------------------------------------------


async def test_retry_after_is_honoured_by_the_sdk_retry_handler(slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", retry_after=1)
    client = AsyncWebClient(
        token=slack.bot_token,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    started = time.monotonic()
    posted = await client.chat_postMessage(channel="C0GENERAL", text="after the wait")
    assert posted["ok"]
    assert time.monotonic() - started >= 1.0
    calls = slack.calls_to("chat.postMessage", ok_only=False)
    assert [(c.status, c.error) for c in calls] == [(429, "ratelimited"), (200, None)]
    assert len(slack.messages("C0GENERAL")) == 1


async def test_token_bucket_refuses_beyond_the_burst(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.rate_limit("users.info", per_second=0.5, burst=2)
    await client.users_info(user="U0ALICE")
    await client.users_info(user="U0BOB")
    refused = await api_error(client.users_info(user="U0CAROL"))
    assert refused.response.status_code == 429
    assert refused.response["error"] == "ratelimited"
    assert int(refused.response.headers["Retry-After"]) >= 1
    assert [c.args["user"] for c in slack.refused_calls("users.info")] == ["U0CAROL"]
    slack.clear_faults()
    await client.users_info(user="U0CAROL")


async def test_injected_server_error_and_error_name(slack: FakeSlack) -> None:
    slack.fail("users.info", status=503)
    retrying = AsyncWebClient(
        token=slack.bot_token,
        base_url=slack.api_url,
        retry_handlers=[
            AsyncServerErrorRetryHandler(
                max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.01)
            )
        ],
    )
    assert (await retrying.users_info(user="U0ALICE"))["ok"]
    statuses = [c.status for c in slack.calls_to("users.info", ok_only=False)]
    assert statuses == [503, 200]

    plain = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    slack.fail("users.info", status=500)
    assert (await api_error(plain.users_info(user="U0ALICE"))).response.status_code == 500
    slack.fail("chat.postMessage", error="fatal_error", times=2)
    for _ in range(2):
        error = await api_error(plain.chat_postMessage(channel="C0GENERAL", text="x"))
        assert error.response["error"] == "fatal_error"
    assert (await plain.chat_postMessage(channel="C0GENERAL", text="x"))["ok"]


async def test_conversations_members_pagination(slack: FakeSlack, client: AsyncWebClient) -> None:
    people = [f"U0P{i}" for i in range(7)]
    for person in people:
        slack.add_user(person, person.lower())
    slack.add_channel("C0BIG", "big", people)
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = await client.conversations_members(channel="C0BIG", limit=3, cursor=cursor)
        pages.append(page["members"])
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert [len(p) for p in pages] == [3, 3, 2]
    assert [m for page in pages for m in page] == [*people, "U0BOT"]
    bad = await api_error(client.conversations_members(channel="C0BIG", cursor="bm9wZQ=="))
    assert bad.response["error"] == "invalid_cursor"
    missing = await api_error(client.conversations_members(channel="C0NOPE"))
    assert missing.response["error"] == "channel_not_found"


# -- response_url --------------------------------------------------------------------------


async def test_response_url_takes_five_posts_within_thirty_minutes(slack: FakeSlack) -> None:
    now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    slack.clock = lambda: now
    url = slack.new_response_url()
    webhook = AsyncWebhookClient(url)
    statuses = [(await webhook.send(text=f"reply {i}")).status_code for i in range(5)]
    sixth = await webhook.send(text="one too many")
    assert statuses == [200] * 5
    assert (sixth.status_code, sixth.body) == (404, "used_url")
    assert [r.body["text"] for r in slack.responses_for(url)] == [f"reply {i}" for i in range(5)]
    assert len(slack.responses_for(url, ok_only=False)) == 6

    later = slack.new_response_url()
    now += dt.timedelta(minutes=31)
    expired = await AsyncWebhookClient(later).send(text="too late")
    assert (expired.status_code, expired.body) == (404, "expired_url")
    fresh = AsyncWebhookClient(slack.new_response_url())
    assert (await fresh.send(blocks=[section("x" * 3001)])).body == "invalid_blocks"


# -- the sender -------------------------------------------------------------------------


class Receiver:
    """A tiny app that checks Slack's signature the way slack_sdk does."""

    def __init__(self) -> None:
        self.verifier = SignatureVerifier(SECRET)
        self.seen: list[tuple[bytes, dict[str, str]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.seen.append((body, dict(request.headers)))
        if not self.verifier.is_valid_request(body, dict(request.headers)):
            return web.Response(status=401, text="invalid signature")
        return web.json_response({"text": "got it"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/slack/events", self.handle)
        return app


async def test_sender_signs_like_slack(slack: FakeSlack) -> None:
    receiver = Receiver()
    async with (
        serving(receiver.app()) as url,
        SlackSender(f"{url}/slack/events", SECRET, slack=slack) as sender,
    ):
        sent = await sender.command("/ai-policy", "copilot on payments", retry_num=1)
        assert (sent.status, sent.json()) == (200, {"text": "got it"})
        body, headers = receiver.seen[-1]
        form = dict(parse_qsl(body.decode()))
        assert form["command"] == "/ai-policy"
        assert form["text"] == "copilot on payments"
        assert (form["user_name"], form["channel_name"]) == ("alice", "general")
        assert form["response_url"] == sent.response_url
        assert sent.response_url is not None
        assert sent.response_url.startswith(slack.base_url)
        assert form["trigger_id"] == sent.trigger_id
        assert headers["X-Slack-Retry-Num"] == "1"
        assert headers["X-Slack-Retry-Reason"] == "http_timeout"

        again = await sender.resend(sent, retry_num=2)
        assert (again.status, again.trigger_id) == (200, sent.trigger_id)
        assert receiver.seen[-1][0] == body
        assert receiver.seen[-1][1]["X-Slack-Retry-Num"] == "2"
        assert again.elapsed < 3

        event = await sender.event({"type": "app_home_opened", "user": "U0ALICE"})
        assert event.status == 200
        action = await sender.block_action("share", value="42")
        assert action.status == 200
        payload = json.loads(dict(parse_qsl(receiver.seen[-1][0].decode()))["payload"])
        assert payload["actions"][0]["value"] == "42"
        stale = await sender.command("/ai-policy", timestamp=int(time.time()) - 600)
        assert stale.status == 401
        tampered = await sender.post_raw(b"text=evil", sender.sign(b"text=good"))
        assert tampered.status == 401
        assert tampered.json() is None


# -- a real Bolt app, over HTTP and over Socket Mode ------------------------------------


seen_events: list[dict[str, Any]] = []


def bolt_app(slack: FakeSlack) -> AsyncApp:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    app = AsyncApp(client=client, signing_secret=SECRET)

    @app.command("/ai-coe")
    async def coe(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack(text=f"working on {body['text']!r}")
        if body["text"] == "modal":
            await app.client.views_open(trigger_id=body["trigger_id"], view=modal())
        await respond(text="done", response_type="in_channel")

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any]) -> None:
        seen_events.append(event)

    @app.view("ask")
    async def submitted(ack: AsyncAck) -> None:
        await ack(response_action="errors", errors={"q": "Say more"})

    return app


async def test_bolt_app_over_http_against_the_standin(slack: FakeSlack) -> None:
    app = bolt_app(slack)
    async with (
        serving(app.web_app()) as url,
        SlackSender(f"{url}/slack/events", SECRET, slack=slack) as sender,
    ):
        sent = await sender.command("/ai-coe", "modal")
        assert (sent.status, sent.text) == (200, "working on 'modal'")
        [view] = slack.views()
        assert view["callback_id"] == "ask"
        assert [r.body["text"] for r in slack.responses_for(sent.response_url)] == ["done"]
        assert [c.method for c in slack.calls if c.ok] == ["auth.test", "views.open"]

        submission = await sender.view_submission(
            "ask", {"q": {"q": {"type": "plain_text_input", "value": ""}}}, view_id=view["id"]
        )
        assert submission.json() == {"response_action": "errors", "errors": {"q": "Say more"}}
        unsigned = await sender.post_raw(b"command=%2Fai-coe", {"Content-Type": FORM_TYPE})
        assert unsigned.status == 401


async def test_socket_mode_with_bolt_handler(slack: FakeSlack) -> None:
    app = bolt_app(slack)
    handler = AsyncSocketModeHandler(app, slack.app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await slack.wait_connected(timeout=5)
        payload = Payloads(slack=slack).command_payload("/ai-coe", "over the socket")
        ack = await slack.send_envelope("slash_commands", payload)
        assert ack["payload"] == {"text": "working on 'over the socket'"}
        assert ack["envelope_id"]
        assert slack.calls_to("apps.connections.open")[0].token == slack.app_token
        payloads = Payloads(slack=slack)
        event = {"type": "app_home_opened", "user": "U0BOB"}
        event_ack = await slack.send_envelope("events_api", payloads.event_body(event))
        assert "payload" not in event_ack
        assert seen_events[-1]["user"] == "U0BOB"
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
