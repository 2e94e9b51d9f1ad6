"""SQLModel tables, by feature. Alembic migrations in `migrations/` create them."""

from bot.models.base import MAX_ID, UTCDateTime, parse_id, utcnow
from bot.models.champions import (
    Champion,
    Question,
    QuestionAssignment,
    Team,
    TeamMember,
    TeamUsergroup,
)
from bot.models.core import (
    AuditEvent,
    JobRun,
    OutboxMessage,
    PolicyFeedback,
    PolicyLookup,
    ProcessedRequest,
)
from bot.models.people import ChannelState, Person
from bot.models.prompts import (
    Prompt,
    PromptReport,
    PromptTag,
    PromptUse,
    PromptUser,
    PromptVersion,
    PromptVote,
    SearchTerm,
)
from bot.models.surveys import (
    DigestSubscription,
    Survey,
    SurveyOptOut,
    SurveyRecipient,
    SurveyResponse,
    SurveyRun,
)
from bot.models.usage import (
    CopilotSeat,
    CopilotUserDay,
    CopilotUserPeriod,
    CopilotUserTeam,
    PersonIdentity,
    UsagePull,
)

__all__ = [
    "MAX_ID",
    "AuditEvent",
    "Champion",
    "ChannelState",
    "CopilotSeat",
    "CopilotUserDay",
    "CopilotUserPeriod",
    "CopilotUserTeam",
    "DigestSubscription",
    "JobRun",
    "OutboxMessage",
    "Person",
    "PersonIdentity",
    "PolicyFeedback",
    "PolicyLookup",
    "ProcessedRequest",
    "Prompt",
    "PromptReport",
    "PromptTag",
    "PromptUse",
    "PromptUser",
    "PromptVersion",
    "PromptVote",
    "Question",
    "QuestionAssignment",
    "SearchTerm",
    "Survey",
    "SurveyOptOut",
    "SurveyRecipient",
    "SurveyResponse",
    "SurveyRun",
    "Team",
    "TeamMember",
    "TeamUsergroup",
    "UTCDateTime",
    "UsagePull",
    "parse_id",
    "utcnow",
]
