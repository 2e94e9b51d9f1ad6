"""Attacks on `/prompts mine`, search and the review queue with real-workspace data."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.standin import FakeSlack, SlackSender
from tests.conftest import Clock, RunningApp
from tests.slack_limits.util import (
    add_prompt,
    assert_slack_ok,
    buttons,
    click,
    entry_values,
    message_text,
    walk,
)

NASTY = "&<>*_~`" * 21 + "&<>"  # 150 chars, every one escaped or mrkdwn
EMOJI = ("🧪✅ " * 50)[:150]


async def seed_mine(running: RunningApp, clock: Clock, n: int, title_of) -> list[int]:
    ids = []
    for i in range(n):
        p = await add_prompt(
            running,
            title=title_of(i),
            body=f"Prompt body number {i}. " * 3,
            author="U0ALICE",
            now=clock() + dt.timedelta(minutes=i),
        )
        ids.append(int(p.id))
    return ids


@pytest.mark.parametrize("kind", ["plain", "nasty", "emoji"])
async def test_mine_120_prompts_long_titles_all_reachable_and_within_limits(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock, kind: str
) -> None:
    def title_of(i: int) -> str:
        base = {"plain": "T" * 150, "nasty": NASTY, "emoji": EMOJI}[kind]
        tag = f"#{i:03d}"
        return (tag + base)[:150]

    ids = await seed_mine(running, clock, 120, title_of)
    first = (await sender.command("/prompts", "mine", user_id="U0ALICE")).json()
    assert_slack_ok(first)
    assert "120" in message_text(first)
    pages = await walk(sender, running, slack, first, "prompt-mine-page", "prompt-edit", "U0ALICE")
    seen = [v for p in pages for v in entry_values(p, "prompt-edit")]
    for p in pages:
        assert_slack_ok(p)
    assert sorted(seen, key=int) == [str(i) for i in sorted(ids)]
    # every entry keeps all of its buttons: as many Delete as Edit on every page
    for p in pages:
        assert len(entry_values(p, "prompt-edit")) == len(entry_values(p, "prompt-delete"))


@pytest.mark.parametrize(
    "forged",
    [
        "-5",
        "999999",
        "abc",
        '{"offset": 3}',
        "",
        "1e9",
        "3.5",
        " 11 ",
        "-0",
        "99999999999999999999999",
    ],
)
async def test_mine_forged_page_values_get_a_sensible_answer(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock, forged: str
) -> None:
    await seed_mine(running, clock, 25, lambda i: f"Prompt {i:02d}")
    posts, sent = await click(sender, running, slack, "prompt-mine-page", forged, "U0ALICE")
    assert sent.status == 200
    assert posts, "the person got no answer at all"
    last = posts[-1]
    assert last.ok, (last.error, last.body)
    text = message_text(last.body)
    assert "reference" not in text.lower()
    assert "something went wrong" not in text.lower()
    # whatever page it lands on says the true total
    assert "25" in text, text


async def test_mine_past_the_end_offers_a_way_back(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    """A Next button from an older page, after most prompts were deleted: offset past end."""
    ids = await seed_mine(running, clock, 30, lambda i: f"Prompt {i:02d}")
    first = (await sender.command("/prompts", "mine", user_id="U0ALICE")).json()
    forward = [b for b in buttons(first) if b["action_id"] == "prompt-mine-page"]
    assert forward
    for pid in ids[:-3]:
        await click(sender, running, slack, "prompt-delete", str(pid), "U0ALICE")
    posts, _ = await click(
        sender, running, slack, "prompt-mine-page", forward[0]["value"], "U0ALICE"
    )
    assert posts
    assert posts[-1].ok
    text = message_text(posts[-1].body)
    # the 3 left must be visible, or at least a way back to them
    shown = entry_values(posts[-1].body, "prompt-edit")
    back = [b for b in buttons(posts[-1].body) if b["action_id"] == "prompt-mine-page"]
    assert shown or back, text
    assert "3" in text, text


@pytest.mark.parametrize("kind", ["nasty", "plain"])
async def test_review_queue_60_pending_long_entries(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock, kind: str
) -> None:
    ids = []
    for i in range(60):
        title = NASTY if kind == "nasty" else "Refactor the legacy billing module safely " * 4
        body = ("&<b>* " * 400) if kind == "nasty" else ("Explain each step and why. " * 200)
        p = await add_prompt(
            running,
            title=(f"#{i:02d}" + title)[:150],
            body=body + f" {i}",
            author="U0BOB",
            now=clock() + dt.timedelta(minutes=i),
            needs_review=True,
        )
        ids.append(str(p.id))
    sent = await sender.command("/ai-coe", "prompts review", user_id="U0ADMIN")
    await running.settle()
    posts = slack.responses_for(sent.response_url or "", ok_only=False)
    assert posts, "admin saw nothing"
    assert posts[-1].ok, (posts[-1].error,)
    first = posts[-1].body
    assert "60" in message_text(first)
    pages = await walk(
        sender, running, slack, first, "prompt-review-page", "prompt-review-publish", "U0ADMIN"
    )
    for p in pages:
        assert_slack_ok(p)
    seen = [v for p in pages for v in entry_values(p, "prompt-review-publish")]
    assert sorted(seen) == sorted(ids)


async def test_review_queue_forged_offsets(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    for i in range(15):
        await add_prompt(
            running, title=f"Pending {i}", author="U0BOB", body=f"Body {i} here.", needs_review=True
        )
    for forged in ("-5", "999999", "abc", "[]", '{"a":', "\u0000"):
        posts, sent = await click(sender, running, slack, "prompt-review-page", forged, "U0ADMIN")
        assert sent.status == 200, forged
        assert posts, forged
        assert posts[-1].ok, forged
        text = message_text(posts[-1].body)
        assert "reference" not in text.lower(), (forged, text)
        assert "15" in text, (forged, text)


async def test_search_120_matches_walks_to_the_end(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    ids = []
    for i in range(120):
        p = await add_prompt(
            running,
            title=(f"Refactor recipe {i:03d} " + NASTY)[:150],
            body=f"Refactor recipe body {i}. " * 20,
            author="U0BOB",
            now=clock() + dt.timedelta(minutes=i),
        )
        ids.append(str(p.id))
    first = (await sender.command("/prompts", "refactor recipe")).json()
    assert_slack_ok(first)
    assert "120" in message_text(first)
    pages = await walk(sender, running, slack, first, "prompt-more", "prompt-use", "U0ALICE")
    for p in pages:
        assert_slack_ok(p)
    seen = [v for p in pages for v in entry_values(p, "prompt-use")]
    assert len(seen) == len(set(seen))
    assert sorted(seen) == sorted(ids)


@pytest.mark.parametrize(
    "forged",
    [
        '{"q": "testing recipe", "o": -5}',
        '{"q": "testing recipe", "o": 999999}',
        '{"q": "testing recipe", "o": "abc"}',
        '{"q": "testing recipe", "o": 99999999999999999999999}',
        '{"q": "testing recipe", "o": 2.5}',
        '{"q": "testing recipe"}',
        '{"q": "", "o": 5}',
        '{"q": "' + "x" * 1900 + '", "o": 5}',
        "abc",
    ],
)
async def test_search_forged_more_values(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, forged: str
) -> None:
    for i in range(8):
        await add_prompt(running, title=f"Testing recipe {i}", body=f"Write tests, number {i}.")
    first = (await sender.command("/prompts", "testing recipe")).json()
    [more] = [b for b in buttons(first) if b["action_id"] == "prompt-more"]
    posts, sent = await click(sender, running, slack, "prompt-more", forged, "U0ALICE")
    assert sent.status == 200
    assert posts, f"no answer at all to a forged value (real one: {more['value']!r})"
    assert posts[-1].ok
    text = message_text(posts[-1].body)
    assert "reference" not in text.lower(), text
