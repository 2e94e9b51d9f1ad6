"""`/ai-coe` admin checks, policy reloads, the review reminder and the outbox worker."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.config import Settings
from bot.jobs.outbox import send_due
from bot.jobs.policy_review import remind_if_overdue
from bot.standin import FakeSlack, SlackSender
from tests.conftest import SIGNING_SECRET, Clock, RunningApp, start_app
from tests.helpers import audit_events, message_text, outbox_rows


async def _replies(slack: FakeSlack, url: str | None) -> list[str]:
    return [message_text(r.body) for r in slack.responses_for(url or "")]


async def test_help_is_for_everyone(sender: SlackSender, running: RunningApp) -> None:
    sent = await sender.command("/ai-coe", "help", user_id="U0BOB")
    assert "policy reload" in message_text(sent.json())


async def test_non_admin_is_refused_and_nothing_changes(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    sent = await sender.command("/ai-coe", "policy reload", user_id="U0BOB")
    await running.settle()

    [reply] = await _replies(slack, sent.response_url)
    assert "CoE admins only" in reply
    assert "Nothing was changed" in reply
    loads = await audit_events(running, "policy.load")
    assert [e.details["trigger"] for e in loads] == ["startup"]


async def test_admin_reload_is_audited_with_version_and_hash(
    settings: Settings, clock: Clock, slack: FakeSlack, pack_file: Path
) -> None:
    app, runner = await start_app(settings.model_copy(update={"policy_pack": pack_file}), clock)
    try:
        startup = await audit_events(app, "policy.load")
        pack_file.write_text(
            pack_file.read_text().replace('version: "2026.11.0"', 'version: "2026.12.0"')
        )
        async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
            sent = await sender.command("/ai-coe", "policy reload", user_id="U0ADMIN")
        await app.settle()

        [reply] = await _replies(slack, sent.response_url)
        assert "2026.12.0" in reply
        loads = await audit_events(app, "policy.load")
        assert len(loads) == len(startup) + 1
        assert loads[-1].actor == "U0ADMIN"
        assert loads[-1].details["version"] == "2026.12.0"
        assert len(loads[-1].details["sha256"]) == 64
        assert app.deps.policy.active.version == "2026.12.0"
    finally:
        await runner.cleanup()


async def test_invalid_pack_keeps_the_old_one_and_lists_errors(
    settings: Settings, clock: Clock, slack: FakeSlack, pack_file: Path
) -> None:
    app, runner = await start_app(settings.model_copy(update={"policy_pack": pack_file}), clock)
    try:
        before = app.deps.policy.active.version
        pack_file.write_text(pack_file.read_text().replace("status: approved", "status: maybe", 1))
        async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
            sent = await sender.command("/ai-coe", "policy reload", user_id="U0ADMIN")
        await app.settle()

        [reply] = await _replies(slack, sent.response_url)
        assert "1 error" in reply
        assert "status" in reply
        assert "pack.yaml:" in reply
        assert app.deps.policy.active.version == before
        [failed] = await audit_events(app, "policy.load_failed")
        assert failed.actor == "U0ADMIN"
    finally:
        await runner.cleanup()


async def test_admins_can_come_from_a_user_group(
    settings: Settings, clock: Clock, slack: FakeSlack
) -> None:
    slack.add_usergroup("S0LEADS", "ai-leads", ["U0CAROL"])
    app, runner = await start_app(settings.model_copy(update={"coe_admins": ("S0LEADS",)}), clock)
    try:
        async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
            allowed = await sender.command("/ai-coe", "policy reload", user_id="U0CAROL")
            refused = await sender.command("/ai-coe", "policy reload", user_id="U0ADMIN")
        await app.settle()

        assert "loaded" in (await _replies(slack, allowed.response_url))[0]
        assert "CoE admins only" in (await _replies(slack, refused.response_url))[0]
    finally:
        await runner.cleanup()


async def test_unknown_subcommand_gets_usage(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    sent = await sender.command("/ai-coe", "launch rockets", user_id="U0ADMIN")
    await running.settle()
    [reply] = await _replies(slack, sent.response_url)
    assert "don't know that subcommand" in reply
    assert "policy reload" in reply


async def test_review_reminder_once_per_overdue_period(
    running: RunningApp, clock: Clock, slack: FakeSlack
) -> None:
    meta = running.deps.policy.active.loaded.pack.metadata
    due = meta.last_reviewed.toordinal() + meta.review_interval_days
    clock.now = clock.now.replace(year=2026, month=1, day=1)
    assert await remind_if_overdue(running.deps) is False  # not due yet

    clock.now = clock.now.fromordinal(due + 1).replace(hour=9, tzinfo=clock.now.tzinfo)
    assert await remind_if_overdue(running.deps) is True
    clock.advance(days=1)
    assert await remind_if_overdue(running.deps) is False  # daily fire, same period
    assert await remind_if_overdue(running.deps) is False  # a duplicate fire
    await send_due(running.deps)
    [posted] = slack.messages("C0COE")
    assert "due for review" in posted["text"]

    clock.advance(days=meta.review_interval_days)
    assert await remind_if_overdue(running.deps) is True  # the next overdue period
    await send_due(running.deps)
    assert len(slack.messages("C0COE")) == 2


async def test_outbox_honours_retry_after_and_gives_up_on_permanent_errors(
    running: RunningApp, clock: Clock, slack: FakeSlack
) -> None:
    from bot.services import outbox

    async with running.deps.sessions.begin() as session:
        for key, channel in (("a", "C0COE"), ("b", "C0NOWHERE")):
            await outbox.enqueue(
                session=session,
                dedupe_key=key,
                kind="test",
                channel=channel,
                text=f"message {key}",
                now=clock(),
            )
    slack.fail("chat.postMessage", status=429, retry_after=30, times=1)
    assert await send_due(running.deps) == 2

    rows = {r.dedupe_key: r for r in await outbox_rows(running)}
    assert rows["a"].status == "pending"
    assert rows["a"].last_error == "ratelimited"
    assert rows["a"].next_attempt_at == clock() + dt.timedelta(seconds=30)
    assert rows["b"].status == "failed"
    assert rows["b"].last_error == "channel_not_found"
    assert slack.messages("C0COE") == []

    clock.advance(seconds=10)
    assert await send_due(running.deps) == 0  # Retry-After not yet over
    clock.advance(seconds=21)
    assert await send_due(running.deps) == 1
    rows = {r.dedupe_key: r for r in await outbox_rows(running)}
    assert rows["a"].status == "sent"
    assert [m["text"] for m in slack.messages("C0COE")] == ["message a"]
    assert await send_due(running.deps) == 0  # sent once, never again


async def test_outbox_retries_server_errors_with_backoff(
    running: RunningApp, clock: Clock, slack: FakeSlack
) -> None:
    from bot.services import outbox

    async with running.deps.sessions.begin() as session:
        await outbox.enqueue(
            session=session, dedupe_key="x", kind="test", channel="C0COE", text="hi", now=clock()
        )
    slack.fail("chat.postMessage", status=503, times=10)
    await send_due(running.deps)
    [row] = await outbox_rows(running)
    assert row.status == "pending"
    assert row.last_error == "internal_error"
    slack.clear_faults()
    clock.advance(minutes=5)
    await send_due(running.deps)
    [row] = await outbox_rows(running)
    assert row.status == "sent"
    assert len(slack.messages("C0COE")) == 1


async def test_a_restart_with_the_same_pack_is_not_audited_again(
    settings: Settings, clock: Clock, pack_file: Path
) -> None:
    changed = settings.model_copy(update={"policy_pack": pack_file})
    for _ in range(3):  # restarts, or replicas starting
        app, runner = await start_app(changed, clock)
        await runner.cleanup()
    app, runner = await start_app(changed, clock)
    try:
        assert [e.details["trigger"] for e in await audit_events(app, "policy.load")] == ["startup"]
    finally:
        await runner.cleanup()
    pack_file.write_text(
        pack_file.read_text().replace('version: "2026.11.0"', 'version: "2026.12.0"')
    )
    app, runner = await start_app(changed, clock)
    try:
        loads = await audit_events(app, "policy.load")
        assert [e.details["version"] for e in loads] == ["2026.11.0", "2026.12.0"]
    finally:
        await runner.cleanup()


async def test_a_long_champions_list_pages_with_the_true_total(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    from bot.services import champions, teams
    from tests.helpers import assert_valid_message

    async with running.deps.sessions.begin() as session:
        team = await teams.get_or_create(session=session, name="platform", now=running.deps.clock())
        for n in range(70):
            await champions.upsert(
                session=session,
                user_id=f"U0CH{n:03d}",
                team=team,
                topics=["python", "code review", "testing"],
                now=running.deps.clock(),
            )
    sent = await sender.command("/ai-coe", "champions list", user_id="U0ADMIN")
    await running.settle()
    first = slack.responses_for(sent.response_url or "")[-1].body
    assert_valid_message(first)
    text = message_text(first)
    assert "*Champions (70)*" in text
    shown = text.count("U0CH")
    assert f"Showing 1–{shown} of 70 champions" in text
    [following] = [
        e
        for b in first["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "champions-list-page"
    ]
    url = slack.new_response_url()
    await sender.block_action(
        "champions-list-page", value=following["value"], user_id="U0ADMIN", response_url=url
    )
    await running.settle()
    second = slack.responses_for(url)[-1].body
    assert_valid_message(second)
    assert shown + message_text(second).count("U0CH") == 70
