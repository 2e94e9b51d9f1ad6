"""Survey definitions: YAML files validated by pydantic, errors reported at file:line.

A definition names its questions (Likert 1-5, NPS 0-10, single or multiple choice, free
text), its audience (a channel, a user group, a team, a list of people, or everyone who
used the bot in the last N days), an optional cron schedule with its time zone, how long
a run stays open and when non-respondents get their one reminder.
"""

from __future__ import annotations

import re
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from bot.schedules import check_cron
from bot.services.text import CONTROL_MESSAGE, has_control_characters
from bot.services.yaml_source import SourceErrors, SourceIssue, parse_model
from bot.views.common import escape

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,59}$")]


def _no_controls(value: str) -> str:
    if has_control_characters(value):
        raise ValueError(CONTROL_MESSAGE)
    return value


Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=75),
    AfterValidator(_no_controls),
]
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(_no_controls),
]


class QuestionType(StrEnum):
    likert = "likert"
    nps = "nps"
    single = "single"
    multi = "multi"
    text = "text"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SurveyQuestion(_Strict):
    id: Slug
    type: QuestionType
    text: Text
    options: list[Label] = []
    required: bool = True
    source: Annotated[str, StringConstraints(max_length=300)] | None = None
    reverse: bool = False  # a reverse-worded Likert item, reversed before averaging
    measures: Annotated[str, StringConstraints(max_length=60)] | None = None  # the construct

    @model_validator(mode="after")
    def _options_fit_the_type(self) -> SurveyQuestion:
        if self.type in {QuestionType.single, QuestionType.multi}:
            if not 2 <= len(self.options) <= 10:
                raise ValueError("choice questions need 2 to 10 options")
            if len(set(self.options)) != len(self.options):
                raise ValueError("options must differ")
        elif self.options and self.type != QuestionType.likert:
            raise ValueError(f"{self.type.value} questions take no options")
        elif self.type == QuestionType.likert and self.options and len(self.options) != 5:
            raise ValueError("a Likert question's labels are exactly 5 options (1 to 5)")
        return self


class Audience(_Strict):
    """Exactly one of the fields."""

    channel: Annotated[str, StringConstraints(pattern=r"^[CG][A-Z0-9]{2,}$")] | None = None
    usergroup: Annotated[str, StringConstraints(pattern=r"^S[A-Z0-9]{2,}$")] | None = None
    team: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = None
    users: list[Annotated[str, StringConstraints(pattern=r"^[UW][A-Z0-9]{2,}$")]] | None = None
    active_days: Annotated[int, Field(ge=1, le=365)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Audience:
        given = [k for k, v in self.model_dump().items() if v not in (None, [])]
        if len(given) != 1:
            raise ValueError("name exactly one of channel, usergroup, team, users, active_days")
        return self

    @property
    def kind(self) -> str:
        return next(k for k, v in self.model_dump().items() if v not in (None, []))


ROSTER = "all"  # `team: all`: everyone on the roster (every team's members and champions)
_CHANNEL_ID = re.compile(r"^<#([CG][A-Z0-9]{2,})(?:\|[^>]*)?>$|^([CG][A-Z0-9]{2,})$")
_GROUP_ID = re.compile(r"^<!subteam\^(S[A-Z0-9]{2,})(?:\|[^>]*)?>$|^(S[A-Z0-9]{2,})$")


def audience_from(words: list[str]) -> Audience:
    """The audience `… to …` names when sending: `all` (the roster), a channel (`#x` as
    Slack sends it, or its ID), a user group (`@x` as Slack sends it, or its ID), or
    `team NAME`. Raises `BadInput` for anything else."""
    from bot.errors import BadInput

    if len(words) == 1 and words[0].lower() == ROSTER:
        return Audience(team=ROSTER)
    if len(words) == 2 and words[0].lower() == "team":
        return Audience(team=words[1].lower())
    if len(words) == 1 and (found := _CHANNEL_ID.match(words[0])):
        return Audience(channel=found[1] or found[2])
    if len(words) == 1 and (found := _GROUP_ID.match(words[0])):
        return Audience(usergroup=found[1] or found[2])
    spec = " ".join(words)[:60]
    raise BadInput(
        f"“{escape(spec)}” is not an audience: send it to `all` (the roster), a channel, a user "
        "group or `team payments`. Nothing was sent."
    )


def describe(audience: Audience) -> str:
    """ "everyone on the roster", "<#C…>", "the user group S…", "team payments", ..."""
    if audience.team == ROSTER:
        return "everyone on the roster"
    if audience.team:
        return f"team {audience.team}"
    if audience.channel:
        return f"the members of <#{audience.channel}>"
    if audience.usergroup:
        return f"the user group {audience.usergroup}"
    if audience.users:
        return f"{len(audience.users)} people listed"
    return f"people active in the last {audience.active_days} days"


class Schedule(_Strict):
    cron: Annotated[str, StringConstraints(min_length=9, max_length=100)]
    timezone: str = "UTC"
    local_hour: Annotated[int, Field(ge=0, le=23)] | None = None  # deliver at this hour, per person

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        try:
            check_cron(value)
        except ValueError as error:
            raise ValueError(f"not a cron expression ({error})") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class SurveyDefinition(_Strict):
    id: Slug
    title: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=150),
        AfterValidator(_no_controls),
    ]
    intro: Text
    anonymous: bool = True
    audience: Audience | None = None  # None: chosen when sending (`… send ID to …`)
    schedule: Schedule | None = None
    window_days: Annotated[int, Field(ge=1, le=60)] = 7
    reminder_after_days: Annotated[int, Field(ge=1, le=59)] | None = 3
    questions: Annotated[list[SurveyQuestion], Field(min_length=1, max_length=20)]

    @model_validator(mode="after")
    def _consistent(self) -> SurveyDefinition:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must be unique")
        if self.reminder_after_days is not None and self.reminder_after_days >= self.window_days:
            raise ValueError("reminder_after_days must be before the window closes")
        if self.schedule is not None and self.audience is None:
            raise ValueError("a scheduled survey needs an audience (it is sent by nobody)")
        return self


DefinitionIssue = SourceIssue


class DefinitionError(SourceErrors):
    """A survey definition could not be loaded; `issues` are file:line: field: message."""


def templates_dir() -> Path:
    return Path(str(resources.files("bot") / "surveys"))


def parse_definition(text: str, *, source: str) -> SurveyDefinition:
    return parse_model(text, SurveyDefinition, source=source, error=DefinitionError, root="survey")


def load_definition(path: Path) -> SurveyDefinition:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise DefinitionError(
            [DefinitionIssue(str(path), None, "file", error.strerror or str(error))]
        ) from None
    except UnicodeDecodeError as error:
        message = f"not UTF-8 text (byte {error.start + 1}): save it as UTF-8"
        raise DefinitionError([DefinitionIssue(str(path), None, "file", message)]) from None
    return parse_definition(text, source=str(path))
