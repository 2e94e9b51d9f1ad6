"""`COE_API_TOKEN`: bare tokens (base64 padding included), named tokens with scopes, and
values that must stop start-up with one line naming the variable and never the secret."""

from __future__ import annotations

import pytest

from bot.api_tokens import METRICS, RESPONSES, SEATS, consumer_for, parse_tokens
from bot.config import ConfigError, load_settings

BASE64 = "c2VjcmV0dG9rZW4xMjM0NQ=="  # as secret managers make them


@pytest.mark.parametrize("raw", [BASE64, BASE64[:-1], BASE64.rstrip("="), f"  {BASE64}\n"])
def test_a_bare_token_is_one_token_with_every_scope_padding_and_all(raw: str) -> None:
    [token] = parse_tokens(raw)
    assert token.secret == raw.strip()
    assert token.scopes == {METRICS, RESPONSES, SEATS}
    assert consumer_for((token,), f"Bearer {raw.strip()}") == token
    for wrong in ("Bearer =", "Bearer ==", f"Bearer {raw.strip()[:-1]}", "Bearer", ""):
        assert consumer_for((token,), wrong) is None


def test_named_tokens_take_everything_after_the_first_equals_sign() -> None:
    tokens = parse_tokens(
        f"dash:metrics={BASE64};raw:responses=a=b=c:d,e f0123456789;"
        f"both:metrics, responses={'x' * 20}"
    )
    assert [(t.name, sorted(t.scopes), t.secret) for t in tokens] == [
        ("dash", [METRICS], BASE64),
        ("raw", [RESPONSES], "a=b=c:d,e f0123456789"),
        ("both", [METRICS, RESPONSES], "x" * 20),
    ]
    assert consumer_for(tokens, "Bearer =") is None
    assert consumer_for(tokens, f"bearer {BASE64}") == tokens[0]  # the scheme is case-blind
    assert "0123456789" not in repr(tokens)  # reprs never show a secret


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "is empty"),
        ("short", "5 characters; tokens need at least 16"),
        ("dash:metrics=short", "entry 1 (dash) is 5 characters"),
        ("dash:metrics=", "entry 1 (dash) is 0 characters"),
        (f"dash:admin={BASE64}", "unknown scope admin"),
        (f"dash:metrics,bogus={BASE64}", "unknown scope bogus"),
        (f"dash:metrics={BASE64};raw:responses={BASE64}", "repeats another entry's token"),
        (f"dash:metrics={BASE64};dash:responses={'y' * 20}", "the name 'dash' is used twice"),
        (f"dash:metrics={BASE64};{'z' * 20}", "entry 2 is not name:scope=token"),
        (f"dash={BASE64};raw:responses={'y' * 20}", "entry 1 is not name:scope=token"),
        (";;", "names no token"),
        ("dash:=abcdefghijklmnopq", "entry 1 (dash): unknown scope (none)"),
        (":metrics=abcdefghijklmnopq", "entry 1 is not name:scope=token"),
        ("dash:METRICS=abcdefghijklmnopq", "unknown scope METRICS"),
    ],
)
def test_a_value_that_does_not_parse_stops_start_up_naming_the_variable(
    raw: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, coe_api_token=raw)
    message = str(caught.value)
    assert message.startswith("COE_API_TOKEN: ")
    assert says in message
    assert "\n" not in message
    for part in raw.split(";"):
        secret = part.partition("=")[2] if ":" in part else part
        assert len(secret) < 4 or secret not in message  # never the secret itself


def test_settings_hand_the_parsed_tokens_to_the_api() -> None:
    settings = load_settings(_env_file=None, coe_api_token=f"board:metrics={BASE64}")
    [token] = settings.api_tokens
    assert (token.name, token.scopes) == ("board", {METRICS})
    assert load_settings(_env_file=None).api_tokens == ()


def test_a_header_with_bytes_that_are_not_utf8_is_no_token() -> None:
    tokens = parse_tokens(BASE64)
    assert consumer_for(tokens, "Bearer \udcff\udcfe") is None  # as aiohttp decodes \xff\xfe
