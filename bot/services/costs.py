"""What the AI coding tools cost: `costs.yaml` (path `COSTS_FILE`), edited by the CoE and
validated like the policy pack (every problem with file:line and field).

- `seat_price_cents`: tool ("copilot", "cursor", "claude_code") → plan → cents per seat per
  month; "default" prices any plan not listed. The vendors' APIs report no seat prices
  (MEASUREMENT_FACTS §2), so these are the CoE's.
- `guardrails`: soft thresholds for every team (`monthly_spend_cents`,
  `spend_per_active_person_cents`, `idle_seat_share` 0–1), and `team_guardrails` replacing
  them field by field for a named team. Never caps: a crossing is told, nothing is blocked.

Without `COSTS_FILE`, stand-in mode uses the shipped example (`bot/costs/example.yaml`,
example prices) and a real workspace has no costs: spend figures are null, never invented.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.config import Settings
from bot.services.yaml_source import SourceErrors, SourceIssue, parse_model

Tool = Literal["copilot", "cursor", "claude_code"]


class CostsError(SourceErrors):
    """`costs.yaml` could not be loaded; `issues` are file:line: field: message."""


# Bounds that catch a slip of the keyboard, not a real contract: $100,000 a seat a month,
# $1,000,000,000 a team a month.
SEAT_PRICE_MAX = 10_000_000
SPEND_MAX = 100_000_000_000


class Guardrails(BaseModel):
    # strict: `true` or "1900" is not a price (YAML would make true 1 cent)
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    monthly_spend_cents: int | None = Field(default=None, ge=0, le=SPEND_MAX)
    spend_per_active_person_cents: int | None = Field(default=None, ge=0, le=SPEND_MAX)
    idle_seat_share: float | None = Field(default=None, ge=0, le=1)


class Costs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    currency: Literal["USD"] = "USD"
    seat_price_cents: dict[Tool, dict[str, Annotated[int, Field(ge=0, le=SEAT_PRICE_MAX)]]] = {}
    guardrails: Guardrails = Guardrails()
    team_guardrails: dict[str, Guardrails] = {}
    source: str = ""  # where it was read from (not in the file)

    def seat_price(self, tool: str, plan: str | None) -> int | None:
        """Cents per seat per month for `tool` on `plan`, or None when the file gives none."""
        for name, prices in self.seat_price_cents.items():
            if name == tool and prices:
                price = prices.get(plan or "default", prices.get("default"))
                return None if price is None else int(price)
        return None

    def guardrails_for(self, team: str) -> Guardrails:
        """The team's thresholds: its own fields over the defaults (case-insensitive name)."""
        own = {k.lower(): v for k, v in self.team_guardrails.items()}.get(team.lower())
        if own is None:
            return self.guardrails
        return self.guardrails.model_copy(update=own.model_dump(exclude_none=True))


def parse(text: str, *, source: str) -> Costs:
    """`text` as a costs file; raises `CostsError` naming each problem's line and field."""
    return parse_model(
        text, Costs, source=source, error=CostsError, root="costs", extra={"source": source}
    )


def example_path() -> Path:
    return Path(str(resources.files("bot") / "costs" / "example.yaml"))


def load(path: Path) -> Costs:
    """The costs file at `path`; raises `CostsError` (unreadable, not YAML, or invalid)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CostsError(
            [SourceIssue(str(path), None, "file", error.strerror or str(error))]
        ) from None
    except UnicodeDecodeError as error:
        message = f"not UTF-8 text (byte {error.start + 1}): save it as UTF-8"
        raise CostsError([SourceIssue(str(path), None, "file", message)]) from None
    return parse(text, source=str(path))


def for_settings(settings: Settings) -> Costs | None:
    """The costs in force: `COSTS_FILE`; else, in stand-in mode (no Slack credentials), the
    shipped example; else none. Read again when the file changes. Raises `CostsError`."""
    path = settings.costs_file
    if path is None:
        if settings.has_slack_credentials:
            return None
        path = example_path()
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as error:
        raise CostsError(
            [SourceIssue(str(path), None, "file", error.strerror or str(error))]
        ) from None
    return _cached(str(path), stamp)


@functools.lru_cache(maxsize=4)
def _cached(path: str, _stamp: int) -> Costs:
    return load(Path(path))
