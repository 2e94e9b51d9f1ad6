"""Requests as Slack sends them, over real HTTP: signatures, events, health and metrics,
a database that is down, Socket Mode, and the real `coe-bot serve` process."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import text

from bot.app import create_app
from bot.config import ConfigError, Settings
from bot.jobs.outbox import send_due
from bot.standin import FakeSlack, SlackSender
from tests.conftest import SIGNING_SECRET, Clock, RunningApp, start_app
from tests.helpers import MENTION, clean_env, coe_bot_command, lookups, message_text, outbox_rows

FORM = "application/x-www-form-urlencoded"


def _command_body(sender: SlackSender, text: str = "copilot for auth code") -> bytes:
    return urlencode(sender.command_payload("/ai-policy", text)).encode()


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as res:
        return res.status, await res.text()


def _sample(metrics_text: str, name: str, labels: dict[str, str]) -> float | None:
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


# -- signatures -----------------------------------------------------------------------


async def _assert_refused(sent_status: int, running: RunningApp) -> None:
    await running.settle()
    assert sent_status == 401
    assert await lookups(running) == []


async def test_unsigned_request_is_refused(sender: SlackSender, running: RunningApp) -> None:
    sent = await sender.post_raw(_command_body(sender), {"Content-Type": FORM})
    assert sent.json() == {"error": "invalid request signature"}
    await _assert_refused(sent.status, running)


async def test_request_signed_with_another_secret_is_refused(
    sender: SlackSender, running: RunningApp
) -> None:
    body = _command_body(sender)
    forger = SlackSender(running.events_url, "not-the-signing-secret")
    sent = await sender.post_raw(body, {"Content-Type": FORM, **forger.sign(body)})
    await _assert_refused(sent.status, running)


@pytest.mark.parametrize("bad_signature", ["v1=abc", "garbage", "", "v0=", "v0=zz" * 13])
async def test_malformed_signature_header_is_refused(
    sender: SlackSender, running: RunningApp, bad_signature: str
) -> None:
    body = _command_body(sender)
    headers = {"Content-Type": FORM, **sender.sign(body)}
    headers["X-Slack-Signature"] = bad_signature
    sent = await sender.post_raw(body, headers)
    await _assert_refused(sent.status, running)


@pytest.mark.parametrize("bad_timestamp", ["yesterday", "", "1.5e9", "-"])
async def test_non_numeric_timestamp_is_refused(
    sender: SlackSender, running: RunningApp, bad_timestamp: str
) -> None:
    body = _command_body(sender)
    headers = {"Content-Type": FORM, **sender.sign(body)}
    headers["X-Slack-Request-Timestamp"] = bad_timestamp
    sent = await sender.post_raw(body, headers)
    await _assert_refused(sent.status, running)


async def test_stale_timestamp_is_refused(sender: SlackSender, running: RunningApp) -> None:
    """Correctly signed, but over five minutes old: a replay."""
    sent = await sender.command("/ai-policy", "copilot", timestamp=int(time.time()) - 6 * 60)
    await _assert_refused(sent.status, running)


async def test_timestamp_in_the_future_is_refused(sender: SlackSender, running: RunningApp) -> None:
    sent = await sender.command("/ai-policy", "copilot", timestamp=int(time.time()) + 6 * 60)
    await _assert_refused(sent.status, running)


async def test_empty_unsigned_body_is_refused(sender: SlackSender, running: RunningApp) -> None:
    sent = await sender.post_raw(b"", {})
    await _assert_refused(sent.status, running)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"payload=not-json", FORM),
        (b"payload=%7B%22type%22%3A", FORM),
        (bytes(range(256)), FORM),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'"just a string"', "application/json"),
        (b"null", "application/json"),
        (b"{not json", "application/json"),
        (b"", FORM),
        (b"", "application/json"),
    ],
    ids=[
        "payload-not-json",
        "payload-truncated-json",
        "random-bytes",
        "binary-as-json",
        "json-list",
        "json-string",
        "json-null",
        "broken-json",
        "empty-form",
        "empty-json",
    ],
)
async def test_signed_but_malformed_body_is_a_client_error(
    sender: SlackSender, running: RunningApp, body: bytes, content_type: str
) -> None:
    sent = await sender.post_raw(body, {"Content-Type": content_type, **sender.sign(body)})
    await running.settle()

    assert 400 <= sent.status < 500, (sent.status, sent.text)
    assert await lookups(running) == []


@pytest.mark.parametrize(
    "bad_timestamp",
    ["1" + "0" * 309, "9" * 13, "\uff11\uff17\uff10\uff10", " 1700000000", "+1700000000", "0x65"],
    ids=["309-zeros", "13-digits", "fullwidth-digits", "leading-space", "plus-sign", "hex"],
)
async def test_absurd_timestamps_are_refused_not_computed_with(
    sender: SlackSender, running: RunningApp, bad_timestamp: str
) -> None:
    body = _command_body(sender)
    headers = {"Content-Type": FORM, **sender.sign(body)}
    headers["X-Slack-Request-Timestamp"] = bad_timestamp
    sent = await sender.post_raw(body, headers)
    assert sent.json() == {"error": "invalid request signature"}
    await _assert_refused(sent.status, running)


def _signed_payload(sender: SlackSender, payload: object) -> tuple[bytes, dict[str, str]]:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return body, {"Content-Type": FORM, **sender.sign(body)}


async def _assert_malformed(
    sender: SlackSender, running: RunningApp, body: bytes, headers: dict[str, str]
) -> None:
    sent = await sender.post_raw(body, headers)
    await running.settle()
    assert sent.status == 400, (sent.status, sent.text)
    assert sent.json()["error"].startswith("malformed request")
    assert await lookups(running) == []


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        '{"type": "block_actions", "x": ' + "[" * 40 + "]" * 40 + "}",
    ],
    ids=["100000-brackets", "50000-objects", "40-deep-but-well-formed"],
)
async def test_deeply_nested_payloads_are_a_client_error(
    sender: SlackSender, running: RunningApp, raw: str
) -> None:
    body = urlencode({"payload": raw}).encode()
    await _assert_malformed(sender, running, body, {"Content-Type": FORM, **sender.sign(body)})
    as_event = raw.encode()
    headers = {"Content-Type": "application/json", **sender.sign(as_event)}
    await _assert_malformed(sender, running, as_event, headers)


@pytest.mark.parametrize(
    "callback_id",
    ["prompt-modal", "survey-new-modal", "survey-answer-modal", "question-answer-modal"],
)
@pytest.mark.parametrize(
    "breakage",
    ["no-view-type", "values-a-list", "user-a-string", "view-a-string", "state-missing-values"],
)
async def test_view_submissions_of_the_wrong_shape_are_a_client_error(
    sender: SlackSender, running: RunningApp, callback_id: str, breakage: str
) -> None:
    payload = sender.view_submission_payload(callback_id, {})
    if breakage == "no-view-type":
        del payload["view"]["type"]
    elif breakage == "values-a-list":
        payload["view"]["state"]["values"] = []
    elif breakage == "user-a-string":
        payload["user"] = "U0ALICE"
    elif breakage == "view-a-string":
        payload["view"] = callback_id
    else:
        payload["view"]["state"] = {}
    await _assert_malformed(sender, running, *_signed_payload(sender, payload))


@pytest.mark.parametrize(
    "breakage", ["actions-a-dict", "no-actions", "action-id-a-number", "user-id-with-nul"]
)
async def test_block_actions_of_the_wrong_shape_are_a_client_error(
    sender: SlackSender, running: RunningApp, breakage: str
) -> None:
    payload = sender.block_action_payload("prompt-use", value="1")
    if breakage == "actions-a-dict":
        payload["actions"] = payload["actions"][0]
    elif breakage == "no-actions":
        payload["actions"] = []
    elif breakage == "action-id-a-number":
        payload["actions"][0]["action_id"] = 7
    else:
        payload["user"]["id"] = "U0ALICE\x00"
    await _assert_malformed(sender, running, *_signed_payload(sender, payload))


@pytest.mark.parametrize(
    "breakage",
    ["no-event", "event-a-list", "mention-without-user", "url-verification-without-challenge"],
)
async def test_events_of_the_wrong_shape_are_a_client_error(
    sender: SlackSender, running: RunningApp, breakage: str
) -> None:
    body = sender.event_body(dict(MENTION))
    if breakage == "no-event":
        del body["event"]
    elif breakage == "event-a-list":
        body["event"] = [MENTION]
    elif breakage == "mention-without-user":
        del body["event"]["user"]
    else:
        body = {"type": "url_verification", "token": "x"}
    raw = json.dumps(body).encode()
    await _assert_malformed(
        sender, running, raw, {"Content-Type": "application/json", **sender.sign(raw)}
    )


async def test_a_slash_command_missing_its_fields_is_a_client_error(
    sender: SlackSender, running: RunningApp
) -> None:
    for field in ("user_id", "trigger_id", "response_url"):
        fields = sender.command_payload("/ai-policy", "copilot")
        del fields[field]
        body = urlencode(fields).encode()
        await _assert_malformed(sender, running, body, {"Content-Type": FORM, **sender.sign(body)})


@pytest.mark.parametrize("text", ["can I send a payload with customer data", "payload=1"])
async def test_the_word_payload_in_a_command_does_not_lose_the_command(
    sender: SlackSender, running: RunningApp, text: str
) -> None:
    """Bolt reads any form body containing "payload" as interactivity; ours are read first."""
    sent = await sender.command("/ai-policy", text)
    await running.settle()
    assert sent.status == 200, sent.text
    assert [lookup.query for lookup in await lookups(running)] == [text]


# -- Events API -----------------------------------------------------------------------


async def test_url_verification_challenge_is_echoed(sender: SlackSender) -> None:
    sent = await sender.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert sent.status == 200
    assert sent.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


async def test_mention_gets_one_threaded_reply_even_when_slack_retries(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    first = await sender.event(dict(MENTION), event_id="Ev0MENTION1")
    await running.settle()
    retry = await sender.event(dict(MENTION), event_id="Ev0MENTION1", retry_num=1)
    await running.settle()

    assert first.status == 200
    assert retry.status == 200
    assert [r.kind for r in await outbox_rows(running)] == ["mention-reply"]  # before the 200
    await send_due(running.deps)
    await send_due(running.deps)
    [reply] = slack.messages("C0GENERAL")
    assert reply["thread_ts"] == MENTION["ts"]
    assert "Security-critical" in message_text(reply)
    [stored] = await lookups(running)
    assert stored.user_id == "U0ALICE"
    assert stored.channel_id == "C0GENERAL"
    assert stored.matched["categories"] == ["security-critical"]


# -- health, readiness, metrics -------------------------------------------------------


async def test_healthz_and_readyz_answer_ok(running: RunningApp) -> None:
    status, _ = await _get(f"{running.url}/healthz")
    assert status == 200
    status, text = await _get(f"{running.url}/readyz")
    assert status == 200, text
    assert json.loads(text)["status"] == "ready"


async def test_metrics_count_commands_latency_lookups_and_rejections(
    sender: SlackSender, running: RunningApp
) -> None:
    sent = await sender.command("/ai-policy", "copilot for auth code in a regulated service")
    await running.settle()
    assert sent.status == 200

    status, text = await _get(f"{running.url}/metrics")
    assert status == 200
    ok = _sample(text, "coe_bot_requests_total", {"command": "/ai-policy", "outcome": "ok"})
    assert ok is not None
    assert ok >= 1
    assert "coe_bot_handler_seconds_bucket" in text
    lookups_counted = _sample(text, "coe_bot_policy_lookups_total", {"outcome": "answered"})
    assert lookups_counted is not None
    assert lookups_counted >= 1

    await sender.post_raw(_command_body(sender), {"Content-Type": FORM})
    _, text = await _get(f"{running.url}/metrics")
    rejected = sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "coe_bot_requests_total" and sample.labels["outcome"] == "rejected"
    )
    assert rejected >= 1


# -- the database is down or behind ---------------------------------------------------


@pytest.fixture
async def database_down(
    settings: Settings, clock: Clock, is_postgres: bool
) -> AsyncIterator[RunningApp]:
    """The app, serving, with a database it cannot reach."""
    unreachable = (
        "postgresql+asyncpg://postgres@127.0.0.1:1/test"
        if is_postgres
        else "sqlite+aiosqlite:////nonexistent-dir/x/y.db"
    )
    app, runner = await start_app(settings.model_copy(update={"database_url": unreachable}), clock)
    try:
        yield app
    finally:
        await runner.cleanup()


async def test_database_down_still_answers_and_says_the_lookup_was_not_kept(
    database_down: RunningApp, slack: FakeSlack
) -> None:
    app = database_down
    async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
        sent = await sender.command("/ai-policy", "copilot")
    await app.settle()

    assert sent.status == 200
    assert "GitHub Copilot" in message_text(sent.json())
    [followup] = [message_text(r.body) for r in slack.responses_for(sent.response_url)]
    assert "not recorded" in followup

    status, text = await _get(f"{app.url}/readyz")
    assert status == 503, text
    assert json.loads(text)["status"] == "not ready"


async def test_a_mention_that_cannot_be_recorded_is_503_so_slack_sends_it_again(
    database_down: RunningApp, slack: FakeSlack
) -> None:
    app = database_down
    async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
        sent = await sender.event(dict(MENTION), event_id="Ev0DOWN1")
    await app.settle()
    assert sent.status == 503  # not acknowledged: Slack retries it
    assert slack.messages("C0GENERAL") == []


async def test_readyz_is_503_when_the_schema_is_not_migrated(
    settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    app, runner = await start_app(settings.model_copy(update={"database_url": empty}), clock)
    try:
        status, text = await _get(f"{app.url}/readyz")
        assert status == 503, text
        assert "expected" in json.loads(text)["detail"]
        status, _ = await _get(f"{app.url}/healthz")
        assert status == 200
    finally:
        await runner.cleanup()


# -- Socket Mode ----------------------------------------------------------------------


@pytest.fixture
async def socket_mode_app(
    settings: Settings, clock: Clock, slack: FakeSlack
) -> AsyncIterator[web.Application]:
    app = create_app(
        settings.model_copy(update={"slack_app_token": SecretStr(slack.app_token)}),
        clock=clock,
        run_workers=False,
        socket_mode=True,
    )
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield app
    finally:
        await runner.cleanup()


async def test_socket_mode_answers_a_slash_command_in_the_ack(
    socket_mode_app: web.Application, slack: FakeSlack
) -> None:
    await slack.wait_connected()
    payload = SlackSender("http://unused.invalid/", SIGNING_SECRET, slack=slack).command_payload(
        "/ai-policy", "copilot for auth code in a regulated service"
    )
    ack = await slack.send_envelope("slash_commands", payload)

    assert "envelope_id" in ack
    assert "Security-critical" in message_text(ack["payload"])


def test_socket_mode_without_an_app_token_is_a_configuration_error(settings: Settings) -> None:
    assert settings.slack_app_token is None
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        create_app(settings, run_workers=False, socket_mode=True)


# -- the real `coe-bot serve` process -------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_until_up(url: str, process: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + 15
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
        while time.monotonic() < deadline:
            assert process.returncode is None, f"coe-bot serve exited early:\n{log.read_text()}"
            try:
                async with session.get(url) as res:
                    if res.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.1)
    pytest.fail(f"coe-bot serve did not come up within 15 s:\n{log.read_text()}")


async def test_coe_bot_serve_answers_a_signed_command_and_stops_cleanly_on_sigterm(
    database_url: str, slack: FakeSlack, tmp_path: Path
) -> None:
    port = _free_port()
    secret = "serve-test-signing-secret"
    log = tmp_path / "serve.log"
    env = clean_env(
        DATABASE_URL=database_url,
        SLACK_API_URL=slack.api_url,
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=secret,
        COE_CHANNEL="C0COE",
    )
    with log.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            *coe_bot_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            cwd=tmp_path,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        await _wait_until_up(f"{base}/healthz", process, log)
        async with SlackSender(f"{base}/slack/events", secret, slack=slack) as sender:
            sent = await sender.command(
                "/ai-policy", "can I use copilot on payment code in a regulated service"
            )
        assert sent.status == 200, sent.text
        reply = message_text(sent.json())
        assert "Security-critical" in reply
        assert "Regulated" in reply
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{base}/api/v1/openapi.json") as off,
        ):
            assert off.status == 404
            assert await off.json() == {"error": "api_disabled", "hint": "set COE_API_TOKEN"}

        process.send_signal(signal.SIGTERM)
        returncode = await asyncio.wait_for(process.wait(), timeout=10)
        assert returncode == 0, log.read_text()
        assert (
            f"coe-bot is serving on {base}: Slack events at {base}/slack/events; health "
            f"{base}/healthz, readiness {base}/readyz, metrics {base}/metrics; CoE API off "
            "(set COE_API_TOKEN)"
        ) in log.read_text()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_signed_body_that_is_not_utf8_is_malformed_not_unsigned(
    sender: SlackSender, running: RunningApp
) -> None:
    body = b"\x80payload=\xff"
    await _assert_malformed(sender, running, body, {"Content-Type": FORM, **sender.sign(body)})


@pytest.mark.parametrize(
    "breakage",
    [
        "authorizations-null-entry",
        "authorizations-a-string",
        "enterprise-a-number",
        "team-a-number",
        "response-urls-null",
        "view-without-callback-id",
        "action-on-a-message-without-response-url",
    ],
)
async def test_fields_bolt_reads_must_have_the_type_bolt_expects(
    sender: SlackSender, running: RunningApp, breakage: str
) -> None:
    """Optional fields Bolt reads while building its context (it would crash on them)."""
    if breakage.startswith("authorizations"):
        event = sender.event_body(dict(MENTION))
        event["authorizations"] = [None] if breakage.endswith("entry") else "x"
        raw = json.dumps(event).encode()
        headers = {"Content-Type": "application/json", **sender.sign(raw)}
        await _assert_malformed(sender, running, raw, headers)
        return
    payload: dict[str, object]
    if breakage in ("response-urls-null", "view-without-callback-id"):
        payload = sender.view_submission_payload("prompt-modal", {})
        if breakage == "response-urls-null":
            payload["response_urls"] = None
        else:
            del payload["view"]["callback_id"]  # type: ignore[attr-defined]
    else:
        payload = sender.block_action_payload("prompt-use", value="1")
        if breakage == "enterprise-a-number":
            payload["enterprise"] = 5
        elif breakage == "team-a-number":
            payload["team"] = 5
        else:
            del payload["response_url"]
    await _assert_malformed(sender, running, *_signed_payload(sender, payload))


async def test_what_no_listener_handles_is_refused_but_unknown_events_are_acknowledged(
    sender: SlackSender, running: RunningApp
) -> None:
    for command in ("/foo", "/AI-POLICY"):
        fields = sender.command_payload(command, "copilot")
        body = urlencode(fields).encode()
        await _assert_malformed(sender, running, body, {"Content-Type": FORM, **sender.sign(body)})
    payload = sender.block_action_payload("prompt-helpful ", value="1")  # trailing space
    await _assert_malformed(sender, running, *_signed_payload(sender, payload))
    sent = await sender.event({"type": "reaction_added", "user": "U0ALICE"})
    assert sent.status == 200  # else Slack retries it, and counts a failure


@pytest.mark.parametrize("value", [7, 10**40, 1.5, True, ["a"]])
async def test_a_modal_value_of_the_wrong_type_is_refused_and_nothing_is_stored(
    sender: SlackSender, running: RunningApp, value: object
) -> None:
    values = {
        "title": {"title": {"type": "plain_text_input", "value": "A title"}},
        "body": {"body": {"type": "plain_text_input", "value": value}},
    }
    payload = sender.view_submission_payload("prompt-modal", values)
    await _assert_malformed(sender, running, *_signed_payload(sender, payload))
    async with running.deps.sessions() as session:
        assert (await session.exec(text("SELECT count(*) FROM prompt"))).one()[0] == 0  # type: ignore[call-overload]


async def test_a_question_that_cannot_be_recorded_says_so_in_the_ack(
    database_down: RunningApp, slack: FakeSlack
) -> None:
    app = database_down
    async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
        sent = await sender.command("/ask-champion", "how do I set up copilot for java?")
    await app.settle()
    assert sent.status == 200
    assert "not recorded" in message_text(sent.json())
    assert "Finding a champion" not in message_text(sent.json())


async def test_a_thread_answer_that_cannot_be_recorded_is_503(
    database_down: RunningApp, slack: FakeSlack
) -> None:
    app = database_down
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": "D0BOB",
        "user": "U0BOB",
        "text": "Use recorded fixtures.",
        "ts": "1800000000.000200",
        "thread_ts": "1800000000.000100",
    }
    async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
        sent = await sender.event(event, event_id="Ev0THREAD1")
    await app.settle()
    assert sent.status == 503
