"""`costs.yaml`: what the CoE writes is checked like the policy pack, each problem with
file:line and field; a slip of the keyboard is refused, not priced."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.services import costs, guardrails, teams


def test_the_example_loads_with_its_prices_and_thresholds() -> None:
    example = costs.load(costs.example_path())
    assert example.seat_price("copilot", "business") == 1900
    assert example.seat_price("copilot", "no-such-plan") == 1900  # "default"
    assert example.seat_price("claude_code", None) is None  # billed by use
    assert example.guardrails_for("Security").monthly_spend_cents == 200000
    assert example.guardrails_for("web").monthly_spend_cents == 1500000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # YAML reads `true` as 1: never a price
            "seat_price_cents:\n  copilot:\n    default: true\n",
            "c.yaml:3: seat_price_cents.copilot.default: Input should be a valid integer",
        ),
        (
            "seat_price_cents:\n  copilot:\n    default: '1900'\n",
            "c.yaml:3: seat_price_cents.copilot.default: Input should be a valid integer",
        ),
        (  # YAML keeps the last of two keys: the CoE would not see the first vanish
            "seat_price_cents:\n  copilot:\n    default: 1900\n    default: 2000\n",
            "c.yaml:4: seat_price_cents.copilot.default: appears twice",
        ),
        (
            "team_guardrails:\n  web:\n    monthly_spend_cents: 1\n"
            "  web:\n    idle_seat_share: 0.1\n",
            "c.yaml:4: team_guardrails.web: appears twice",
        ),
        (
            "seat_price_cents:\n  copilot:\n    default: 100000000000000000000000\n",
            "c.yaml:3: seat_price_cents.copilot.default: Input should be less than or equal to",
        ),
        (
            "guardrails:\n  monthly_spend_cents: 1000000000000000\n",
            "c.yaml:2: guardrails.monthly_spend_cents: Input should be less than or equal to",
        ),
        ("guardrails:\n  idle_seat_share: 1.5\n", "c.yaml:2: guardrails.idle_seat_share:"),
        ("seat_price_cents:\n  copilot:\n    default: -1\n", "greater than or equal to 0"),
        ("seat_price_cents:\n  windsurf:\n    default: 1500\n", "seat_price_cents.windsurf"),
        ("currency: EUR\n", "c.yaml:1: currency:"),
        ("guardrails: [1, 2]\n", "c.yaml:1: guardrails:"),
        ("seat_price_cents: {copilot: {default: 1900}\n", "c.yaml:"),
    ],
)
def test_a_bad_costs_file_is_refused_naming_the_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(costs.CostsError) as refused:
        costs.parse(text, source="c.yaml")
    assert expected in str(refused.value)


async def test_a_team_guardrail_for_no_team_is_named(sessions: Any) -> None:
    async with sessions.begin() as session:
        await teams.import_rows(
            session=session,
            rows=teams.read_csv("user_id,team,is_champion,topics\nU0A,security,false,\n"),
            actor="test",
            now=dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
        )
    prices = costs.parse(
        "team_guardrails:\n  Security:\n    monthly_spend_cents: 1\n"
        "  secruity:\n    monthly_spend_cents: 1\n",
        source="c.yaml",
    )
    async with sessions() as session:
        assert await guardrails.unknown_teams(session=session, costs=prices) == ["secruity"]
