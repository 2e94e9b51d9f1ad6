"""Block Kit for the weekly digest and its subscription list."""

from __future__ import annotations

from typing import Any

from bot.models import DigestSubscription
from bot.services.digests import DAYS, Digest
from bot.views.common import Block, clip, context, divider, escape, header, plural, section
from bot.views.paging import page

POLICY_CHANGES_SHOWN = 3  # the latest; earlier ones in the period are counted


def digest_message(digest: Digest) -> dict[str, Any]:
    span = f"{digest.period_start:%d %b} – {digest.period_end:%d %b %Y}"
    blocks: list[Block] = [header(f"AI-coding community digest · {span}")]
    if digest.new_prompts or digest.top_prompts:
        lines = [f"• *New:* {escape(p.title)} (by <@{p.author_id}>)" for p in digest.new_prompts]
        if digest.new_prompt_count > len(digest.new_prompts):
            more = digest.new_prompt_count - len(digest.new_prompts)
            lines.append(f"• …and {plural(more, 'more new prompt')}")
        lines += [
            f"• *Most helpful:* {escape(p.title)} · :thumbsup: {p.helpful_count}"
            for p in digest.top_prompts
        ]
        blocks.append(section("*Prompts* — find them with `/prompts`\n" + "\n".join(lines)))
    if digest.asked or digest.answered:
        median = (
            f", median time to answer {_duration(digest.median_hours_to_answer)}"
            if digest.median_hours_to_answer is not None
            else ""
        )
        overdue = (
            f"\n:hourglass: {digest.overdue} still open past their deadline"
            if digest.overdue
            else ""
        )
        blocks.append(
            section(
                f"*Questions to champions*\n{digest.asked} asked, "
                f"{digest.answered} answered{median}{overdue}"
            )
        )
    if digest.survey_lines:
        blocks.append(
            section("*Feedback*\n" + "\n".join(f"• {escape(x)}" for x in digest.survey_lines))
        )
    if digest.adoption or digest.tools:
        blocks.append(section(_adoption(digest)))
    if digest.policy_changes:
        latest = digest.policy_changes[-POLICY_CHANGES_SHOWN:]
        earlier = len(digest.policy_changes) - len(latest)
        blocks.append(
            section(
                "*Policy pack updated*: "
                + "; ".join(escape(clip(c, 120)) for c in latest)
                + (f" (and {plural(earlier, 'earlier change')})" if earlier else "")
                + " — see `/ai-policy`"
            )
        )
    if digest.thanked:
        names = ", ".join(f"<@{user}> ({count})" for user, count in digest.thanked)
        blocks.append(section(f":pray: *Thanks* to the champions whose answers helped: {names}"))
    if digest.tip is not None:
        blocks += [
            divider(),
            section(
                f":bulb: *Did you know?* {escape(digest.tip.question)}\n"
                f"{escape(clip(digest.tip.answer, 600))}"
            ),
        ]
    blocks.append(context("Posted by the AI-coding CoE · `/ai-coe digest` to change it"))
    return {"text": f"AI-coding community digest, {span}", "blocks": blocks}


def _adoption(digest: Digest) -> str:
    """The week's use of each pulled tool across the organisation (no team, nobody named),
    each acceptance rate in its own tool's terms, and the CoE's notes on the month's spend."""
    lines = []
    if digest.adoption:
        figures = digest.adoption
        lines += [
            f"*Adoption this week* (GitHub Copilot, {_days(figures)}: GitHub settles a day two"
            " days later)",
            _use(figures, "suggestions"),
        ]
    else:
        lines.append("*Adoption this week*")
    for tool, figures in digest.tools:
        gap = f" Not measured by this source: {tool.not_measured}." if tool.not_measured else ""
        use = (
            f"fewer than {figures['min_group']} people used it, so no figures (nobody is"
            " singled out)"
            if figures["too_few"]
            else _use(figures, tool.suggestions)
        )
        lines.append(f"*{tool.title}* ({_days(figures)}): {use}.{gap}")
    if digest.notes:
        lines.append("The CoE's notes on this month's spend:")
        lines += [f"• _{escape(team)}_: {escape(text)}" for team, text in digest.notes[:5]]
    return "\n".join(lines)


def _days(figures: dict[str, Any]) -> str:
    first, last = figures["first_day"], figures["last_day"]
    return f"{first:%-d %b} – {last:%-d %b}" if first != last else f"{first:%-d %b}"


def _use(figures: dict[str, Any], suggestions: str) -> str:
    active, engaged, seats = figures["active_people"], figures["engaged_people"], figures["seats"]
    of = f" of {plural(seats, 'seat')} ({active / seats:.0%})" if seats else ""
    rate = figures["acceptance_rate"]
    accepted = f"; {rate:.0%} of {suggestions} accepted" if rate is not None else ""
    often = f", {engaged:,} on 3 days or more" if engaged is not None else ""
    return f"{plural(active, 'person', 'people')} used it{of}{often}{accepted}"


DIGEST_LIST_PAGE = "digest-list-page"


def subscriptions_message(
    found: list[DigestSubscription], *, offset: int = 0, total: int | None = None
) -> dict[str, Any]:
    """The channels that get a digest, a line each, paged from `offset` (true `total`)."""
    total = len(found) if total is None else total
    if not total:
        return {
            "response_type": "ephemeral",
            "text": "No digests",
            "blocks": [
                section(
                    "No channel gets a digest yet: `/ai-coe digest subscribe "
                    "#channel weekly mon 09:00 Europe/Paris`."
                )
            ],
        }
    entries = [
        [
            section(
                f"• <#{s.channel_id}> · {DAYS[s.weekday]} {s.time_of_day} {escape(s.timezone)} · "
                f"{', '.join(s.sections)}"
                + (
                    f" · :pause_button: paused ({escape(s.paused_reason or '')})"
                    if s.status == "paused"
                    else ""
                )
            )
        ]
        for s in found
    ]
    blocks = page(
        [section(f"*Digest subscriptions* ({total:,})")],
        entries,
        total=total,
        offset=offset,
        action_id=DIGEST_LIST_PAGE,
        noun=("subscription", "subscriptions"),
        divided=False,
    )
    return {"response_type": "ephemeral", "text": "Digests", "blocks": blocks}


def _duration(hours: float) -> str:
    """ "12 min" under an hour, else "3.5 h", as the champions list shows answer times."""
    return f"{round(hours * 60)} min" if hours < 1 else f"{hours:.1f} h"
