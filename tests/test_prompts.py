"""`/prompts` end to end: search, add through the modal, use, vote, share, report, moderate."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlmodel import col, select

from bot.models import Prompt, PromptUse, PromptVersion
from bot.services import prompts
from bot.standin import FakeSlack, SlackSender
from tests.conftest import Clock, RunningApp
from tests.helpers import assert_valid_message, audit_events, message_text, outbox_rows

SAMPLE_BODY = (
    "Write pytest unit tests for the function below.\n"
    "Cover the happy path, empty input and invalid types.\n"
    "<paste the function here>"
)


async def add_prompt(
    app: RunningApp,
    *,
    title: str = "Unit tests for a Python function",
    body: str = SAMPLE_BODY,
    tags: list[str] | None = None,
    author: str = "U0BOB",
    now: dt.datetime | None = None,
) -> Prompt:
    async with app.deps.sessions.begin() as session:
        return await prompts.create(
            session=session,
            draft=prompts.PromptDraft(title=title, body=body, tags=tags or ["testing", "python"]),
            author_id=author,
            team=None,
            now=now or app.deps.clock(),
            needs_review=False,
        )


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e for b in message.get("blocks", []) if b.get("type") == "actions" for e in b["elements"]
    ]


def form(
    title: str, body: str, tags: str = "", *, confirm: bool = False, metadata: str = ""
) -> dict[str, Any]:
    def text(block: str, value: str) -> dict[str, Any]:
        return {block: {block: {"type": "plain_text_input", "value": value or None}}}

    values: dict[str, Any] = {}
    for block, value in (
        ("title", title),
        ("body", body[:3000]),
        ("body_more", body[3000:6000]),
        ("body_rest", body[6000:]),
        ("tags", tags),
        ("stack", "python"),
        ("use_case", "unit tests"),
        ("tool", "Claude Code"),
    ):
        values.update(text(block, value))
    selected = [{"value": "example-data"}] if confirm else []
    values["confirm"] = {"confirm": {"type": "checkboxes", "selected_options": selected}}
    return values


async def stored(app: RunningApp) -> list[Prompt]:
    async with app.deps.sessions() as session:
        return list((await session.exec(select(Prompt).order_by(col(Prompt.id)))).all())


async def test_search_ranks_and_shows_cards(sender: SlackSender, running: RunningApp) -> None:
    await add_prompt(running)
    await add_prompt(
        running,
        title="Refactor for readability",
        body="Refactor this module without changing behaviour.",
        tags=["refactoring"],
    )
    sent = await sender.command("/prompts", "unit tests")
    reply = sent.json()
    assert_valid_message(reply)
    text = message_text(reply)
    assert "Unit tests for a Python function" in text
    assert "Refactor" not in text
    assert {b["text"]["text"] for b in buttons(reply)} >= {
        "Use",
        "Helpful",
        "Share in channel",
        "Report",
    }


async def test_search_tolerates_typos_and_filters_tags(
    sender: SlackSender, running: RunningApp
) -> None:
    await add_prompt(running)
    await add_prompt(
        running,
        title="Review a pull request",
        body="Review this diff for security issues.",
        tags=["code-review"],
    )
    typo = message_text((await sender.command("/prompts", "pytset")).json())
    assert "Showing results for" in typo
    assert "Unit tests" in typo
    tagged = message_text((await sender.command("/prompts", "tag:code-review")).json())
    assert "Review a pull request" in tagged
    assert "Unit tests" not in tagged


async def test_add_through_the_modal(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await sender.command("/prompts", "add")
    await running.settle()
    [opened] = slack.calls_to("views.open")
    assert opened.args["view"]["callback_id"] == "prompt-modal"

    sent = await sender.view_submission(
        "prompt-modal",
        form(
            "Explain a regex",
            "Explain this regular expression step by step: <regex>",
            "regex, docs",
        ),
        private_metadata=opened.args["view"]["private_metadata"],
    )
    assert sent.json()["response_action"] == "update"
    [prompt] = await stored(running)
    assert prompt.title == "Explain a regex"
    assert prompt.tags == ["regex", "docs"]
    assert prompt.author_id == "U0ALICE"
    assert prompt.status == "published"


async def test_modal_field_errors(sender: SlackSender, running: RunningApp) -> None:
    await add_prompt(running)
    cases = [
        (form("", "x"), "title"),
        (form("t" * 151, "Explain the code"), "title"),
        (form("Too long", "y" * 8001), "body"),
        (form("Bad tags", "Explain this", "no spaces allowed!"), "tags"),
        (form("Secret", "Call the API with key AKIAIOSFODNN7EXAMPLE and secret\n"), "body"),
        (form("Copy", SAMPLE_BODY.upper()), "body"),
    ]
    for values, field in cases:
        sent = await sender.view_submission("prompt-modal", values)
        answer = sent.json()
        assert answer["response_action"] == "errors", values
        assert field in answer["errors"], answer
    assert len(await stored(running)) == 1


async def test_personal_data_needs_confirmation(sender: SlackSender, running: RunningApp) -> None:
    body = "Draft a reply to jane.doe@acme-corp.com about the outage."
    refused = (await sender.view_submission("prompt-modal", form("Reply", body))).json()
    assert refused["response_action"] == "errors"
    assert "made-up examples" in refused["errors"]["body"]
    confirmed = await sender.view_submission("prompt-modal", form("Reply", body, confirm=True))
    assert confirmed.json()["response_action"] == "update"
    assert len(await stored(running)) == 1


async def test_use_vote_and_counts_per_person(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    prompt = await add_prompt(running, author="U0BOB")
    value = str(prompt.id)
    for user in ("U0ALICE", "U0ALICE", "U0CAROL"):
        url = slack.new_response_url()
        await sender.block_action("prompt-use", value=value, user_id=user, response_url=url)
        await running.settle()
        [shown] = [r.body for r in slack.responses_for(url)]
        assert "```" in message_text(shown)
        assert "<paste the function here>" not in message_text(shown)  # escaped
    for user in ("U0ALICE", "U0CAROL", "U0CAROL"):  # Carol's second click takes it back
        await sender.block_action("prompt-helpful", value=value, user_id=user)
        await running.settle()
    own = slack.new_response_url()
    await sender.block_action("prompt-helpful", value=value, user_id="U0BOB", response_url=own)
    await running.settle()

    [after] = await stored(running)
    assert after.use_count == 3
    assert after.user_count == 2
    assert after.helpful_count == 1
    assert 0 < after.score < 1
    assert "own prompt" in message_text(slack.responses_for(own)[0].body)
    async with running.deps.sessions() as session:
        uses = (await session.exec(select(PromptUse))).all()
    assert sorted(u.user_id for u in uses) == ["U0ALICE", "U0ALICE", "U0CAROL"]


async def test_share_posts_in_channel(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    prompt = await add_prompt(running, title="<!here> tests")
    url = slack.new_response_url()
    await sender.block_action("prompt-share", value=str(prompt.id), response_url=url)
    await running.settle()
    [posted] = [r.body for r in slack.responses_for(url)]
    assert posted["response_type"] == "in_channel"
    text = message_text(posted)
    assert "&lt;!here&gt; tests" in text
    assert "<!here>" not in text
    assert "Shared by <@U0ALICE>" in text


async def test_reports_hide_a_prompt_until_reviewed(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    from bot.jobs.outbox import send_due

    prompt = await add_prompt(running)
    for user in ("U0ALICE", "U0CAROL", "U0CAROL", "U0DAVE"):
        await sender.block_action("prompt-report", value=str(prompt.id), user_id=user)
    await running.settle()
    [hidden] = await stored(running)
    assert hidden.status == "hidden"
    assert "Unit tests" not in message_text((await sender.command("/prompts", "unit tests")).json())
    await send_due(running.deps)
    assert "hidden after 3 reports" in slack.messages("C0COE")[0]["text"]

    refused_url = slack.new_response_url()
    await sender.block_action(
        "prompt-review-publish", value=str(prompt.id), user_id="U0BOB", response_url=refused_url
    )
    review = await sender.command("/ai-coe", "prompts review", user_id="U0ADMIN")
    await running.settle()
    assert "CoE admins only" in message_text(slack.responses_for(refused_url)[0].body)
    assert "Unit tests" in message_text(slack.responses_for(review.response_url or "")[0].body)

    url = slack.new_response_url()
    await sender.block_action(
        "prompt-review-publish", value=str(prompt.id), user_id="U0ADMIN", response_url=url
    )
    await running.settle()
    [published] = await stored(running)
    assert published.status == "published"
    assert [e.actor for e in await audit_events(running, "prompt.publish")] == ["U0ADMIN"]
    assert len(await outbox_rows(running)) == 1


async def test_edit_and_delete_permissions(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    prompt = await add_prompt(running, author="U0BOB")
    metadata = f'{{"channel": "C0GENERAL", "prompt_id": {prompt.id}, "version": 1}}'
    other = await sender.view_submission(
        "prompt-modal",
        form("Hijacked", "Something else entirely"),
        user_id="U0ALICE",
        private_metadata=metadata,
    )
    assert other.json()["response_action"] == "errors"
    edited = await sender.view_submission(
        "prompt-modal",
        form("Better title", SAMPLE_BODY + "\nUse pytest.mark.parametrize."),
        user_id="U0BOB",
        private_metadata=metadata,
    )
    assert edited.json()["response_action"] == "update"
    async with running.deps.sessions() as session:
        versions = (await session.exec(select(PromptVersion))).all()
    assert [v.version for v in versions] == [1, 2]

    refused = slack.new_response_url()
    await sender.block_action(
        "prompt-delete", value=str(prompt.id), user_id="U0ALICE", response_url=refused
    )
    await running.settle()
    assert "Only the prompt's author" in message_text(slack.responses_for(refused)[0].body)
    await sender.block_action("prompt-delete", value=str(prompt.id), user_id="U0ADMIN")
    await running.settle()
    [gone] = await stored(running)
    assert gone.status == "deleted"

    removed = slack.new_response_url()
    await sender.block_action("prompt-use", value=str(prompt.id), response_url=removed)
    await running.settle()
    assert "was removed" in message_text(slack.responses_for(removed)[0].body)


async def test_top_and_empty_search(sender: SlackSender, running: RunningApp, clock: Clock) -> None:
    old = await add_prompt(
        running, title="Old favourite", body="Explain this code to a new joiner."
    )
    new = await add_prompt(running, title="New one", body="Write a migration plan.")
    async with running.deps.sessions.begin() as session:
        for user in ("U0ALICE", "U0CAROL", "U0DAVE"):
            await prompts.record_use(
                session=session,
                prompt=old,
                user_id=user,
                team=None,
                now=clock() - dt.timedelta(days=30),
            )
            await prompts.toggle_helpful(
                session=session, prompt=old, user_id=user, now=clock() - dt.timedelta(days=30)
            )
        await prompts.record_use(
            session=session, prompt=new, user_id="U0ALICE", team=None, now=clock()
        )
        await prompts.toggle_helpful(session=session, prompt=new, user_id="U0ALICE", now=clock())
    text = message_text((await sender.command("/prompts", "")).json())
    week, all_time = text.split("Top prompts: all time")
    assert "New one" in week
    assert "Old favourite" not in week
    assert all_time.index("Old favourite") < all_time.index("New one")


async def test_more_results_pages_through(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    for number in range(7):
        await add_prompt(
            running, title=f"Testing recipe {number}", body=f"Write tests, recipe number {number}."
        )
    first = (await sender.command("/prompts", "testing recipe")).json()
    [more] = [b for b in buttons(first) if b["action_id"] == "prompt-more"]
    assert message_text(first).count("Testing recipe") == 5
    assert "(7 prompts)" in message_text(first)
    assert "Showing 1–5 of 7 prompts" in message_text(first)
    assert more["text"]["text"] == "Next 2"
    url = slack.new_response_url()
    await sender.block_action("prompt-more", value=more["value"], response_url=url)
    await running.settle()
    [page] = [r.body for r in slack.responses_for(url)]
    assert page["replace_original"] is True
    assert message_text(page).count("Testing recipe") == 2
    assert "Showing 6–7 of 7 prompts" in message_text(page)
    [back] = [b for b in buttons(page) if b["action_id"] == "prompt-more"]
    assert back["text"]["text"] == "First page"


async def test_a_search_matching_more_than_can_be_paged_says_so(
    sender: SlackSender, running: RunningApp
) -> None:
    """The total is counted up to the ranked pool: past it, the reply says "more than" and
    asks for more words instead of offering pages that could not be reached."""
    from bot.services.prompt_search import RANKED_POOL

    async with running.deps.sessions.begin() as session:
        session.add_all(
            Prompt(
                title=f"Refactor module {number}",
                body="Refactor this module into smaller functions.",
                tags_text="refactoring",
                author_id="U0BOB",
                body_hash=f"{number:064d}",
                created_at=running.deps.clock(),
                updated_at=running.deps.clock(),
            )
            for number in range(RANKED_POOL + 1)
        )
    text = message_text((await sender.command("/prompts", "refactor module")).json())
    assert f"(more than {RANKED_POOL:,} prompts)" in text
    assert f"Showing 1–5 of {RANKED_POOL:,} prompts" in text
    assert "add words to narrow" in text
    await add_prompt(running, title="Refactor a lonely module", body="Only one like it.")
    text = message_text((await sender.command("/prompts", "lonely")).json())
    assert "(1 prompt)" in text
    assert "Showing" not in text


async def test_bad_search_text_is_refused_politely(
    sender: SlackSender, running: RunningApp
) -> None:
    assert "control characters" in message_text(
        (await sender.command("/prompts", "tests\x07")).json()
    )
    assert "3,000" in message_text((await sender.command("/prompts", "x" * 3001)).json())


async def test_review_before_publishing(settings: Any, clock: Clock, slack: FakeSlack) -> None:
    from bot.jobs.outbox import send_due
    from tests.conftest import SIGNING_SECRET, start_app

    app, runner = await start_app(
        settings.model_copy(update={"prompts_require_review": True}), clock
    )
    try:
        async with SlackSender(app.events_url, SIGNING_SECRET, slack=slack) as sender:
            sent = await sender.view_submission(
                "prompt-modal", form("Pending one", "Summarise this design document.")
            )
            await app.settle()
            assert sent.json()["response_action"] == "update"
            assert "once the CoE has reviewed it" in message_text(sent.json()["view"])
            [prompt] = await stored(app)
            assert prompt.status == "pending"
            assert "Pending one" not in message_text(
                (await sender.command("/prompts", "summarise design")).json()
            )
            await send_due(app.deps)
            assert "waits for review" in slack.messages("C0COE")[0]["text"]
    finally:
        await runner.cleanup()


async def test_mine_lists_own_prompts_and_edit_opens_a_filled_modal(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    long_body = "Review this design for failure modes.\n" + ("Consider retries. " * 300)
    mine = await add_prompt(running, title="Design review", body=long_body, author="U0ALICE")
    await add_prompt(running, title="Someone else's", body="Explain this stack trace.")
    listed = (await sender.command("/prompts", "mine")).json()
    text = message_text(listed)
    assert "Design review" in text
    assert "Someone else's" not in text
    edit = next(b for b in buttons(listed) if b["action_id"] == "prompt-edit")
    await sender.block_action("prompt-edit", value=edit["value"])
    await running.settle()
    [opened] = slack.views()  # opened at once as "Loading…", then filled
    values = {
        b["block_id"]: b["element"].get("initial_value", "")
        for b in opened["blocks"]
        if b["type"] == "input"
    }
    assert values["title"] == "Design review"
    assert values["body"] + values["body_more"] + values["body_rest"] == mine.body
    assert len(values["body"]) <= 3000


async def test_a_vote_shows_at_once_in_a_repeated_search(
    sender: SlackSender, running: RunningApp
) -> None:
    prompt = await add_prompt(running, author="U0BOB")
    before = message_text((await sender.command("/prompts", "unit tests")).json())
    assert ":thumbsup: 0 helpful" in before
    await sender.block_action("prompt-helpful", value=str(prompt.id), user_id="U0CAROL")
    await running.settle()
    after = message_text((await sender.command("/prompts", "unit tests")).json())
    assert ":thumbsup: 1 helpful" in after


async def test_uses_and_new_prompts_record_the_persons_team(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    from bot.services import teams

    async with running.deps.sessions.begin() as session:
        payments = await teams.get_or_create(
            session=session, name="payments", now=running.deps.clock()
        )
        await teams.set_member(
            session=session, user_id="U0ALICE", team=payments, now=running.deps.clock()
        )
    prompt = await add_prompt(running, author="U0BOB")
    await sender.block_action("prompt-use", value=str(prompt.id), user_id="U0ALICE")
    await sender.view_submission("prompt-modal", form("Team prompt", "Summarise this incident."))
    await running.settle()
    async with running.deps.sessions() as session:
        [use] = (await session.exec(select(PromptUse))).all()
        added = (await session.exec(select(Prompt).where(Prompt.title == "Team prompt"))).one()
    assert use.team == "payments"
    assert added.team == "payments"


async def test_a_save_from_an_older_version_is_refused_not_overwriting(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    """Alice opens Edit on v1; an admin opens Edit too and saves v2; Alice's save of her
    older modal is refused with a field error showing the current text, and v2 stays."""
    prompt = await add_prompt(running, author="U0ALICE")
    for user in ("U0ALICE", "U0ADMIN"):
        await sender.block_action("prompt-edit", value=str(prompt.id), user_id=user)
    await running.settle()
    alice_modal, admin_modal = slack.views()
    assert '"version": 1' in alice_modal["private_metadata"]

    admin_body = SAMPLE_BODY + "\nAlso cover None."
    saved = await sender.view_submission(
        "prompt-modal",
        form("Admin's title", admin_body),
        user_id="U0ADMIN",
        private_metadata=admin_modal["private_metadata"],
    )
    assert saved.json()["response_action"] == "update"
    late = await sender.view_submission(
        "prompt-modal",
        form("Alice's title", SAMPLE_BODY + "\nAlice's change."),
        user_id="U0ALICE",
        private_metadata=alice_modal["private_metadata"],
    )
    answer = late.json()
    assert answer["response_action"] == "errors"
    assert (
        "changed since you opened it (version 1 → 2): nothing was saved" in answer["errors"]["body"]
    )
    assert "Admin's title" in answer["errors"]["body"]
    [kept] = await stored(running)
    assert (kept.title, kept.body, kept.version) == ("Admin's title", admin_body, 2)
    async with running.deps.sessions() as session:
        versions = (await session.exec(select(PromptVersion))).all()
    assert [v.version for v in versions] == [1, 2]

    # opened again, the edit starts from v2 and saves
    again = await sender.view_submission(
        "prompt-modal",
        form("Alice's title", SAMPLE_BODY + "\nAlice's change."),
        user_id="U0ALICE",
        private_metadata=alice_modal["private_metadata"].replace('"version": 1', '"version": 2'),
    )
    assert again.json()["response_action"] == "update"
    [latest] = await stored(running)
    assert latest.version == 3


async def test_two_saves_racing_from_one_version_cannot_both_win(
    sender: SlackSender, running: RunningApp
) -> None:
    prompt = await add_prompt(running, author="U0ALICE")
    metadata = f'{{"channel": "C0GENERAL", "prompt_id": {prompt.id}, "version": 1}}'
    first, second = await asyncio.gather(
        sender.view_submission(
            "prompt-modal",
            form("One", SAMPLE_BODY + "\nOne."),
            user_id="U0ALICE",
            private_metadata=metadata,
        ),
        sender.view_submission(
            "prompt-modal",
            form("Two", SAMPLE_BODY + "\nTwo."),
            user_id="U0ADMIN",
            private_metadata=metadata,
        ),
    )
    actions = sorted(r.json()["response_action"] for r in (first, second))
    assert actions == ["errors", "update"]
    [kept] = await stored(running)
    assert kept.version == 2


async def _walk_pages(
    sender: SlackSender,
    running: RunningApp,
    slack: FakeSlack,
    first: dict[str, Any],
    page_action: str,
    entry_action: str,
    user: str,
) -> list[list[str]]:
    """Every page of a paged list, by pressing Next: the entry IDs each page shows."""
    pages, message = [], first
    while True:
        assert len(message["blocks"]) <= 50
        assert_valid_message(message)
        pages.append([b["value"] for b in buttons(message) if b["action_id"] == entry_action])
        following = [
            b for b in buttons(message) if b["action_id"] == page_action and b["value"] != "0"
        ]
        if not following:
            return pages
        url = slack.new_response_url()
        await sender.block_action(
            page_action, value=following[0]["value"], user_id=user, response_url=url
        )
        await running.settle()
        message = slack.responses_for(url)[-1].body


async def test_mine_pages_whole_prompts_with_the_true_total(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    made = []
    for n in range(20):
        made.append(
            await add_prompt(
                running,
                title=f"Prompt {n:02d}",
                body=f"{SAMPLE_BODY}\nVariant {n}.",
                author="U0ALICE",
                now=clock() + dt.timedelta(minutes=n),
            )
        )
    first = (await sender.command("/prompts", "mine", user_id="U0ALICE")).json()
    assert "*Your prompts* (20)" in message_text(first)
    assert "Showing 1–11 of 20 prompts" in message_text(first)
    pages = await _walk_pages(
        sender, running, slack, first, "prompt-mine-page", "prompt-edit", "U0ALICE"
    )
    assert [len(p) for p in pages] == [11, 9]
    seen = [v for p in pages for v in p]
    assert sorted(seen, key=int) == sorted((str(p.id) for p in made), key=int)  # all, once


async def test_the_review_queue_pages_every_waiting_prompt(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    waiting = []
    for n in range(30):
        async with running.deps.sessions.begin() as session:
            waiting.append(
                await prompts.create(
                    session=session,
                    draft=prompts.PromptDraft(
                        title=f"Pending {n:02d}", body=f"{SAMPLE_BODY}\nPending {n}.", tags=[]
                    ),
                    author_id="U0BOB",
                    team=None,
                    now=clock() + dt.timedelta(minutes=n),
                    needs_review=True,
                )
            )
    sent = await sender.command("/ai-coe", "prompts review", user_id="U0ADMIN")
    await running.settle()
    first = slack.responses_for(sent.response_url)[-1].body
    assert "30 prompts to review" in message_text(first)
    pages = await _walk_pages(
        sender, running, slack, first, "prompt-review-page", "prompt-review-publish", "U0ADMIN"
    )
    assert sum(len(p) for p in pages) == 30
    assert sorted((v for p in pages for v in p), key=int) == sorted(
        (str(p.id) for p in waiting), key=int
    )
    refused = slack.new_response_url()  # paging the queue is for admins too
    await sender.block_action(
        "prompt-review-page", value="11", user_id="U0ALICE", response_url=refused
    )
    await running.settle()
    assert "CoE admins only" in message_text(slack.responses_for(refused)[-1].body)


async def test_an_expired_trigger_on_add_asks_to_try_again(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    slack.fail("views.open", error="expired_trigger_id")
    sent = await sender.command("/prompts", "add")
    await running.settle()
    reply = message_text(slack.responses_for(sent.response_url or "")[0].body)
    assert "please try again" in reply
    assert "reference" not in reply
