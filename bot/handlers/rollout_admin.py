"""`/ai-coe rollout`: each team's rollout wave and start day, which the impact comparisons
use (`bot.services.rollout`)."""

from __future__ import annotations

from typing import Any

from bot.deps import Deps
from bot.errors import BadInput
from bot.services import rollout
from bot.views.common import ephemeral_text, escape

HOW = (
    "`/ai-coe rollout <team> <wave> <YYYY-MM-DD>` sets when a team started (waves:"
    f" {', '.join(rollout.WAVES)}) · `/ai-coe rollout <team> remove` clears it"
)


async def run(deps: Deps, words: list[str], *, user_id: str) -> dict[str, Any]:
    """`words` after `rollout`: nothing (the list), `<team> <wave> <YYYY-MM-DD>`, or
    `<team> remove`. A team name may hold spaces: the wave and day are the last words."""
    now = deps.clock()
    if not words:
        async with deps.sessions() as session:
            found = await rollout.listing(session=session)
        if not found:
            return ephemeral_text(f"No team has a rollout start yet.\n{HOW}")
        lines = [
            f"• *{escape(r.team)}* · {r.wave} · started {r.start:%-d %b %Y} · baseline"
            f" {r.baseline_first:%-d %b} – {r.baseline_last:%-d %b %Y}"
            for r in found
        ]
        return ephemeral_text("*Rollout waves*\n" + "\n".join(lines) + f"\n{HOW}")
    if words[-1].lower() == "remove" and len(words) >= 2:
        team = " ".join(words[:-1])
        async with deps.sessions.begin() as session:
            removed = await rollout.remove(session=session, team=team, actor=user_id, now=now)
        if removed is None:
            return ephemeral_text("That team had no rollout start: nothing changed.")
        return ephemeral_text(f"Removed *{escape(removed)}*'s rollout start.")
    if len(words) < 3:
        raise BadInput(f"Name the team, its wave and its start day.\n{HOW}")
    wave = rollout.wave_of(words[-2])
    start = rollout.day_of(words[-1], today=now.date())
    async with deps.sessions.begin() as session:
        done = await rollout.set_start(
            session=session,
            team=" ".join(words[:-2]),
            wave=wave,
            start=start,
            actor=user_id,
            now=now,
        )
    return ephemeral_text(
        f"*{escape(done.team)}* is in the *{done.wave}* wave from {done.start:%-d %b %Y}. Its"
        f" baseline is {done.baseline_first:%-d %b} – {done.baseline_last:%-d %b %Y}"
        f" ({rollout.BASELINE_WEEKS} weeks before its start); impact compares its weeks since"
        " with teams not started yet."
    )
