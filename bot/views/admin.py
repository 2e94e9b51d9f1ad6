"""Block Kit for `/ai-coe` replies."""

from __future__ import annotations

from typing import Any

from bot.views.common import clip, ephemeral_text, escape, plural

USAGE = (
    "*`/ai-coe`* — commands for the AI Center of Excellence (CoE admins only).\n"
    "• `/ai-coe policy reload` — read the policy pack file again; an invalid pack keeps "
    "the current one and lists the errors\n"
    "• `/ai-coe prompts review` — prompts waiting for review or hidden by reports\n"
    "• `/ai-coe champions add @user team=<team> topics=python,testing [capacity=5]`\n"
    "• `/ai-coe champions remove @user` · `/ai-coe champions list`\n"
    "• `/ai-coe teams map <usergroup-id> <team>` — members of a Slack user group join a team\n"
    "• `/ai-coe teams map <team> tier=<tier|none>` — `/ai-policy` assumes that tier for the "
    "team's questions that don't name one\n"
    "• `/ai-coe survey load` · `survey new` · `survey list` · "
    "`survey send <id> [to all | #channel | @user-group | team <name>]` · "
    "`survey status <id>` · `survey results <id>`\n"
    "• `/ai-coe digest subscribe #channel weekly mon 09:00 Europe/Paris [sections]` · "
    "`digest resume #channel` · `digest unsubscribe #channel` · `digest list` · `digest preview`\n"
    "• `/ai-coe usage [team]` — AI tool use per team (Copilot, Cursor, Claude Code: seats,"
    " active, engaged, acceptance, idle seats) beside the team's survey answers, and this"
    " month's spend · `/ai-coe usage note <team> <text>` — the CoE's note on a team's month\n"
    "• `/ai-coe rollout` · `/ai-coe rollout <team> <wave> <YYYY-MM-DD>` — when each team"
    " started with the tools (waves: pilot, 10%, 25%, 50%, everyone) · "
    "`/ai-coe rollout <team> remove`\n"
    "• `/ai-coe report [YYYY-MM]` — a signed link to the month's report (last month by"
    " default), for you to share\n"
    "• `/ai-coe help` — this message"
)
MAX_ERRORS_SHOWN = 20


def reload_message(name: str, version: str, sha256: str, source: str) -> dict[str, Any]:
    return ephemeral_text(
        f":white_check_mark: Policy pack *{escape(name)}* version *{escape(version)}* "
        f"loaded from `{escape(source)}` (sha256 `{sha256[:12]}…`). The load is in the audit log."
    )


def reload_failed_message(errors: list[str], kept_version: str) -> dict[str, Any]:
    shown = "\n".join(f"• `{escape(clip(e, 300))}`" for e in errors[:MAX_ERRORS_SHOWN])
    more = len(errors) - MAX_ERRORS_SHOWN
    extra = f"\n…and {more} more." if more > 0 else ""
    return ephemeral_text(
        f":x: The policy pack has {plural(len(errors), 'error')}; version *{escape(kept_version)}* "
        f"stays in use.\n{shown}{extra}"
    )
