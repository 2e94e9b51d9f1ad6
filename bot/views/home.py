"""The App Home tab: a person's own view, and the CoE's when they are an admin."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.services.channels import LABEL
from bot.services.home import AdminHome, Directory, PersonalHome
from bot.services.policy import ReviewStatus
from bot.views.common import Block, clip, context, divider, escape, header, plural, section


def _age(since: dt.datetime, now: dt.datetime) -> str:
    hours = (now - since).total_seconds() / 3600
    return f"{hours / 24:.0f} d" if hours >= 48 else f"{hours:.0f} h"


def home_view(
    personal: PersonalHome,
    *,
    now: dt.datetime,
    admin: AdminHome | None,
    review: ReviewStatus | None,
    policy_name: str,
) -> dict[str, Any]:
    blocks: list[Block] = [
        header("Your AI-coding CoE"),
        section(
            "• `/ai-policy <question>` — may I use AI on this code, with which tool?\n"
            "• `/prompts <words>` — proven prompts; `/prompts add` to share yours\n"
            "• `/ask-champion <question>` — ask your team's champion"
        ),
        divider(),
    ]
    blocks += _list(
        "Your open questions",
        [
            f"{escape(clip(q.text, 120))} · {q.status}, {_age(q.created_at, now)}"
            for q in personal.my_questions
        ],
        "No open questions.",
        total=personal.questions_total,
    )
    blocks += _list(
        "Surveys waiting for you",
        [
            f"{escape(str(r.definition.get('title', r.survey_id)))} · closes "
            f"{r.closes_at:%Y-%m-%d}; the invitation is in your DMs"
            for r in personal.waiting_surveys
        ],
        "Nothing to answer.",
        total=personal.surveys_total,
        more="the invitations are in your DMs",
    )
    blocks += _list(
        "Your prompts",
        [
            f"{escape(p.title)} · :thumbsup: {p.helpful_count} · used by {p.user_count}"
            + ("" if p.status == "published" else f" · _{p.status}_")
            for p in personal.my_prompts
        ],
        "You haven't shared a prompt yet.",
        total=personal.prompts_total,
        more="`/prompts mine` lists them all",
    )
    if admin is not None:
        blocks += _admin_blocks(admin, now=now, review=review, policy_name=policy_name)
    return {"type": "home", "blocks": blocks[:100]}


def _list(
    title: str, lines: list[str], empty: str, *, total: int | None = None, more: str = ""
) -> list[Block]:
    """One section: the title with the true count, the lines shown, and how many more."""
    body = "\n".join(f"• {line}" for line in lines) if lines else f"_{empty}_"
    count = f" ({total:,})" if total else ""
    if total is not None and total > len(lines):
        rest = f"…and {total - len(lines):,} more"
        body += f"\n{rest}: {more}" if more else f"\n{rest}"
    return [section(f"*{title}*{count}\n{body}")]


def _admin_blocks(
    admin: AdminHome, *, now: dt.datetime, review: ReviewStatus | None, policy_name: str
) -> list[Block]:
    blocks: list[Block] = [divider(), header("CoE view")]
    queue = [
        f"{_age(q.created_at, now)} · <@{q.asker_id}> · "
        + (f"with <@{q.champion_id}>" if q.champion_id else "unclaimed")
        + f" · {escape(clip(q.text, 80))}"
        for q in admin.open_questions
    ]
    title = f"Open questions ({admin.open_count}), oldest first"
    blocks += _list(title, queue, "No open questions.")
    rates = [
        f"{escape(str(r.run.definition.get('title', r.run.survey_id)))} ({r.run.status}): "
        f"{r.answered} of {r.reached} reached ({100 * r.answered / r.reached:.0f}%)"
        if r.reached
        else f"{escape(str(r.run.definition.get('title', r.run.survey_id)))} ({r.run.status}): "
        f"not delivered yet, {r.run.audience_size} asked"
        for r in admin.runs
    ]
    blocks += _list("Survey response rates", [r for r in rates if r], "No survey runs yet.")
    if review is not None:
        state = (
            f":warning: review overdue since {review.due:%Y-%m-%d}"
            if review.overdue
            else f"next review due {review.due:%Y-%m-%d}"
        )
        blocks.append(context(f"Policy pack {escape(policy_name)}: {state}"))
    blocks.append(context(_directory_line(admin.directory, now)))
    if admin.closed_channels:
        shut = ", ".join(
            f"<#{c.channel_id}> ({LABEL.get(c.closed or '', c.closed)}, "
            f"{_age(c.changed_at, now)} ago)"
            for c in admin.closed_channels
        )
        blocks.append(context(f":no_entry: coe-bot cannot post in {shut}"))
    return blocks


def _directory_line(directory: Directory, now: dt.datetime) -> str:
    if directory.synced_at is None:
        return (
            f":warning: People directory: {plural(directory.people, 'person', 'people')} known,"
            " never read whole"
            " from Slack (`users.list`): leavers are only learnt from `user_change` events"
        )
    return (
        f"People directory: {plural(directory.people, 'person', 'people')}"
        f" ({directory.deactivated:,} deactivated,"
        f" {plural(directory.bots, 'bot')}, {plural(directory.guests, 'guest')}), read from Slack"
        f" {_age(directory.synced_at, now)} ago"
    )
