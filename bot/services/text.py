"""The one rule for free text people type: no control characters.

Every free-text input (slash-command text, modal fields, thread replies, survey answers,
survey definitions typed in Slack) goes through `control_problem`, so one rule holds
everywhere: NUL and the other C0 controls (U+0000–U+001F) are refused except tab and
newline, and so are DEL and the C1 controls (U+007F–U+009F). A carriage return that ends a
line (`\r\n`) is first read as a plain newline, as a pasted Windows text would be meant.
NUL matters most: PostgreSQL cannot store it, and one in a stored answer would break the
run's CSV export.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
CONTROL_MESSAGE = "contains control characters; please retype it."


def normalise_newlines(value: str) -> str:
    """`\\r\\n` as `\\n`; any other carriage return is left for `control_problem` to refuse."""
    return value.replace("\r\n", "\n")


def has_control_characters(value: str) -> bool:
    """True when `value` (newlines normalised) holds a character the rule refuses."""
    return _CONTROL.search(normalise_newlines(value)) is not None


def control_problem(value: str, what: str = "This") -> str | None:
    """A message naming `what` when the rule refuses `value`, else None."""
    if has_control_characters(value):
        return f"{what[:1].upper()}{what[1:]} {CONTROL_MESSAGE}"
    return None
