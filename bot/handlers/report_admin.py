"""`/ai-coe report [YYYY-MM]`: a signed link to a month's report (last month by default)
for the CoE admin who asks, only them to see; audited like every link made."""

from __future__ import annotations

from typing import Any

from bot.config import secret_bytes
from bot.deps import Deps
from bot.errors import BadInput
from bot.reports import links
from bot.reports.monthly import BadMonth, parse_month, previous_month
from bot.views.common import ephemeral_text, escape, sentence


async def run(deps: Deps, words: list[str], *, user_id: str) -> dict[str, Any]:
    """`words` after `report`: nothing, or one month `YYYY-MM`."""
    now = deps.clock()
    if len(words) > 1:
        raise BadInput("Name one month, like `/ai-coe report 2026-11`, or none for last month.")
    try:
        month = parse_month(words[0], today=now.date()) if words else previous_month(now.date())
    except BadMonth as error:
        raise BadInput(f"{sentence(escape(str(error)))}.") from None
    settings = deps.settings
    if settings.report_link_secret is None or settings.public_url is None:
        missing = " and ".join(
            name
            for name, value in (
                ("REPORT_LINK_SECRET", settings.report_link_secret),
                ("PUBLIC_URL", settings.public_url),
            )
            if value is None
        )
        return ephemeral_text(
            f"Signed links need {missing} set on the server. Meanwhile an API token with the"
            f" `metrics` scope opens `/reports/monthly?month={month:%Y-%m}`."
        )
    async with deps.sessions.begin() as session:
        made = await links.issue(
            session=session,
            secret=secret_bytes(settings.report_link_secret.get_secret_value()),
            base_url=settings.public_url,
            month=f"{month:%Y-%m}",
            now=now,
            actor=user_id,
            purpose="slack",
        )
    return ephemeral_text(
        f":bar_chart: <{made.url}|The report for {month:%B %Y}> — this link works until"
        f" {made.expires:%-d %B %Y %H:%M} UTC for anyone who has it; every view is in the"
        " audit log."
    )
