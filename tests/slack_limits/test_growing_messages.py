"""Attacks on replies that grow with data: survey results, digests."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.jobs import surveys as survey_jobs
from bot.jobs.digests import post_due
from bot.jobs.outbox import send_due
from bot.services import prompts, surveys
from bot.services.survey_definitions import parse_definition
from bot.standin import FakeSlack, SlackSender
from tests.conftest import Clock, RunningApp
from tests.slack_limits.util import assert_slack_ok, message_text, slack_problems

NASTY = "<b>&amp;</b> & <@U0ALICE> *bold* _it_ ~s~ `c` > quote :tada: 🧪 "


def definition_yaml(sid: str, *, anonymous: bool, likert: int, text: int, single: int) -> str:
    lines = [
        f"id: {sid}",
        "title: Big survey & <friends>",
        "intro: hi",
        f"anonymous: {'true' if anonymous else 'false'}",
        "audience:",
        "  users: [U0ALICE]",
        "window_days: 7",
        "reminder_after_days: 3",
        "questions:",
    ]
    for i in range(likert):
        lines += [
            f"  - id: l{i}",
            "    type: likert",
            f'    text: "Likert question {i} about <tools> & {"long words " * 12}"',
        ]
    for i in range(single):
        lines += [
            f"  - id: s{i}",
            "    type: single",
            f'    text: "Which tool {i}?"',
            "    options:",
        ]
        lines += [f'      - "Option {k} {"with a long label " * 3}"' for k in range(10)]
    for i in range(text):
        lines += [f"  - id: t{i}", "    type: text", f'    text: "Free text {i} & <more>?"']
    return "\n".join(lines) + "\n"


async def run_survey(
    running: RunningApp, clock: Clock, yaml_text: str, people: int, answers_of
) -> str:
    definition = parse_definition(yaml_text, source="t")
    async with running.deps.sessions.begin() as session:
        await surveys.save_definition(
            session=session, definition=definition, source="t", actor="U0ADMIN", now=clock()
        )
        users = [f"U0R{i:03d}" for i in range(people)]
        run = await surveys.start_run(
            session=session,
            definition=definition,
            period="p1",
            audience=users,
            started_by="U0ADMIN",
            now=clock(),
        )
        for i, user in enumerate(users):
            await surveys.submit(
                session=session,
                run_id=run.id,
                user_id=user,
                answers=answers_of(i, definition),
                team="payments",
                secret=running.deps.settings.survey_key(),
                now=clock(),
            )
    clock.advance(days=8)
    await survey_jobs.tick(running.deps)
    return definition.id


def answers(i: int, definition) -> dict:
    out = {}
    for q in definition.questions:
        kind = q.type.value
        if kind == "likert":
            out[q.id] = 1 + i % 5
        elif kind == "single":
            out[q.id] = q.options[i % len(q.options)]
        elif kind == "text":
            out[q.id] = f"{i}: " + (NASTY * 40)[:1900]
    return out


async def results(sender, running, slack, sid) -> list:
    asked = await sender.command("/ai-coe", f"survey results {sid}", user_id="U0ADMIN")
    await running.settle()
    return slack.responses_for(asked.response_url or "", ok_only=False), asked


@pytest.mark.parametrize(
    "shape",
    [
        dict(anonymous=False, likert=0, text=3, single=0),
        dict(anonymous=True, likert=0, text=5, single=0),
        dict(anonymous=False, likert=20, text=0, single=0),
        dict(anonymous=False, likert=5, text=5, single=10),
        dict(anonymous=False, likert=0, text=20, single=0),
        dict(anonymous=True, likert=0, text=20, single=0),
    ],
    ids=["named-3-text", "anon-5-text", "20-likert", "mixed", "named-20-text", "anon-20-text"],
)
async def test_results_of_big_surveys_are_answered_within_limits(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock, shape: dict
) -> None:
    yaml_text = definition_yaml("big", **shape)
    parse_definition(yaml_text, source="t")
    sid = await run_survey(running, clock, yaml_text, 60, answers)
    posts, asked = await results(sender, running, slack, sid)
    ack = asked.json()
    if ack:
        assert_slack_ok(ack)
    accepted = [p for p in posts if p.ok]
    assert accepted, [(p.error, slack_problems(p.body)) for p in posts]
    text = "\n".join(message_text(p.body) for p in accepted)
    assert "reference" not in text.lower()
    if shape["text"]:
        assert f"coe-bot export survey {sid}" in text, text[:1500]
    # results must be results: one of the questions' titles shows
    assert "question" in text.lower() or "Free text" in text, text[:1500]


async def test_digest_post_with_a_huge_week_is_valid(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock
) -> None:
    monday = dt.datetime(2026, 11, 9, 8, 0, tzinfo=dt.UTC)
    clock.now = monday - dt.timedelta(days=3)
    await sender.command(
        "/ai-coe",
        "digest subscribe <#C0COMMUNITY|ai-community> weekly mon 09:00 UTC",
        user_id="U0ADMIN",
    )
    await running.settle()
    async with running.deps.sessions.begin() as session:
        for n in range(80):
            await prompts.create(
                session=session,
                draft=prompts.PromptDraft(
                    title=(f"{n:02d} " + NASTY * 5)[:150], body=f"Do the thing, way {n}. " + NASTY
                ),
                author_id="U0BOB",
                team=None,
                now=clock() - dt.timedelta(minutes=n),
                needs_review=False,
            )
    for n in range(30):
        await sender.command("/ask-champion", f"Question {n} " + (NASTY * 30)[:2500] + "?")
    await running.settle()
    while await send_due(running.deps):
        pass
    preview = await sender.command("/ai-coe", "digest preview", user_id="U0ADMIN")
    await running.settle()
    posts = slack.responses_for(preview.response_url or "", ok_only=False)
    assert posts, [(p.error, slack_problems(p.body)) for p in posts]
    assert posts[-1].ok, [(p.error, slack_problems(p.body)) for p in posts]
    clock.now = monday + dt.timedelta(hours=1, minutes=1)
    assert await post_due(running.deps) == 1
    while await send_due(running.deps):
        pass
    posted = slack.messages("C0COMMUNITY")
    digests = [m for m in posted if "prompt" in message_text(m).lower()]
    assert digests, [message_text(m)[:200] for m in posted]
    assert_slack_ok(digests[-1])
    assert "Shortened" not in digests[-1]["text"], "the digest only got through as plain text"


@pytest.mark.parametrize(
    "answer",
    ["&" * 2990, "<" * 2990, "x" * 2990, ("a&<" * 1000)[:2990]],
    ids=["amp", "lt", "plain", "mixed"],
)
async def test_long_written_answers_cut_in_results_say_so_and_name_the_export(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, clock: Clock, answer: str
) -> None:
    yaml_text = definition_yaml("esc", anonymous=False, likert=0, text=1, single=0)

    def of(i, definition):
        return {"t0": f"{i}" + answer[: 2990 - len(str(i))]}

    sid = await run_survey(running, clock, yaml_text, 12, of)
    posts, _asked = await results(sender, running, slack, sid)
    accepted = [p for p in posts if p.ok]
    assert accepted, [(p.error, slack_problems(p.body)) for p in posts]
    text = "\n".join(message_text(p.body) for p in accepted)
    assert "too long for a Slack message" not in text, "only the fallback got through"
    # answers Slack shows cut must say they are cut, and where the whole text is
    assert f"coe-bot export survey {sid}" in text, text[:800]
    assert f"coe-bot export survey {sid}" in text
