"""Starting survey runs (now, or when their cron schedule says), reminders and closing."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from sqlalchemy import update
from sqlmodel import col, select

from bot import db, notices, schedules
from bot.deps import Deps
from bot.errors import BadInput
from bot.jobs import people as people_jobs
from bot.models import (
    PolicyLookup,
    PromptUse,
    Question,
    SurveyRun,
)
from bot.services import audit, people, surveys, teams
from bot.services.survey_definitions import Audience, SurveyDefinition
from bot.slack import TOKEN_ERRORS

logger = logging.getLogger(__name__)
SCHEDULE_GRACE = dt.timedelta(hours=6)  # a fire missed while down runs once within this


async def resolve_audience(deps: Deps, audience: Audience) -> list[str]:
    """The people an audience means today, through the Web API (paginated) or our tables
    (`team: all` is everyone on the roster). Raises `BadInput` naming the audience when
    Slack does not know it (`channel_not_found`, `no_such_subteam`, ...)."""
    try:
        return await _resolve(deps, audience)
    except SlackApiError as error:
        code = error.response.get("error") or "error"
        if code in TOKEN_ERRORS or code in {"ratelimited", "internal_error", "fatal_error"}:
            raise
        what = (
            f"the channel <#{audience.channel}>"
            if audience.channel
            else f"the user group {audience.usergroup}"
        )
        raise BadInput(
            f"Slack doesn't know {what} (`{code}`), so it has nobody to ask. Check the "
            "survey's audience, or choose one when sending; nothing was sent."
        ) from None


async def _resolve(deps: Deps, audience: Audience) -> list[str]:
    client = deps.client
    people: set[str] = set()
    if audience.channel:
        cursor = None
        while True:
            page = await client.conversations_members(
                channel=audience.channel, limit=1000, cursor=cursor
            )
            people.update(page.get("members") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
    elif audience.usergroup:
        page = await client.usergroups_users_list(usergroup=audience.usergroup)
        people.update(page.get("users") or [])
    elif audience.users:
        people.update(audience.users)
    elif audience.team:
        people.update(await _team_people(deps, audience.team))
    elif audience.active_days:
        people.update(await _active_people(deps, audience.active_days))
    bot_user = await _bot_user(deps)
    people.discard(bot_user)
    return sorted(people)


async def _bot_user(deps: Deps) -> str | None:
    response = await deps.client.auth_test()
    user = response.get("user_id")
    return str(user) if user else None


async def _team_people(deps: Deps, name: str) -> set[str]:
    async with deps.sessions() as session:
        found, groups = await teams.roster_of(session=session, name=name)
    for group in groups:  # only Slack knows who is in a user group
        page = await deps.client.usergroups_users_list(usergroup=group)
        found.update(page.get("users") or [])
    return found


async def _active_people(deps: Deps, days: int) -> set[str]:
    since = deps.clock() - dt.timedelta(days=days)
    queries = (
        select(col(PolicyLookup.user_id)).where(col(PolicyLookup.created_at) >= since),
        select(col(PromptUse.user_id)).where(col(PromptUse.created_at) >= since),
        select(col(Question.asker_id)).where(col(Question.created_at) >= since),
    )
    people: set[str] = set()
    async with deps.sessions() as session:
        for query in queries:
            people.update(str(u) for u in (await session.exec(query.distinct())).all())
    return people


async def send_survey(
    deps: Deps,
    survey_id: str,
    *,
    actor: str,
    period: str | None = None,
    audience: Audience | None = None,
) -> SurveyRun | None:
    """Start a run now (or for a scheduled `period`); None when that period already ran.
    `audience` (chosen when sending) replaces the definition's; a definition without one
    must be given one.

    The audience leaves out deactivated accounts, bots and (unless
    `SURVEY_INCLUDE_GUESTS`) guests, by the people directory; strangers to the directory
    are looked up with `users.info` first. Raises `BadInput` when there is no audience,
    when Slack does not know it, or when nobody is left to ask."""
    async with deps.sessions() as session:
        definition = await surveys.get_definition(session=session, survey_id=survey_id)
    return await _start(deps, definition, audience, actor=actor, period=period)


async def _start(
    deps: Deps,
    definition: SurveyDefinition,
    audience: Audience | None,
    *,
    actor: str,
    period: str | None,
    requested: SurveyRun | None = None,
) -> SurveyRun | None:
    now = deps.clock()
    _, everyone = await _who(deps, definition, audience)
    async with deps.sessions.begin() as session:
        asked, left_out = await people.screen(
            session=session,
            user_ids=everyone,
            include_guests=deps.settings.survey_include_guests,
        )
        run = await surveys.start_run(
            session=session,
            definition=definition,
            period=period or f"manual:{now:%Y-%m-%dT%H:%M:%S}",
            audience=asked,
            left_out=left_out,
            started_by=actor,
            now=now,
            requested=requested,
        )
    deps.survey_wakeup.set()
    return run


async def _who(
    deps: Deps, definition: SurveyDefinition, audience: Audience | None
) -> tuple[Audience, list[str]]:
    """The audience a send uses (`audience`, else the definition's) and the people it
    means today, strangers looked up first. Raises `BadInput` when there is none, and
    `MissingSurveySecret` for an anonymous survey without its key, before anyone is asked."""
    chosen = audience or definition.audience
    if chosen is None:
        raise BadInput(
            f"*{definition.title}* has no audience: say who, like `/ai-coe survey send "
            f"{definition.id} to team all` (everyone on the roster), `to #channel`, "
            "`to @user-group` or `to team payments`. Nothing was sent."
        )
    if definition.anonymous:
        deps.settings.survey_key()  # raises MissingSurveySecret before anyone is asked
    everyone = await resolve_audience(deps, chosen)
    await people_jobs.look_up(deps, everyone)
    return chosen, everyone


async def preview(
    deps: Deps, survey_id: str, audience: Audience | None
) -> tuple[SurveyDefinition, Audience, int, dict[str, int]]:
    """Who a send would ask, without asking: the definition, the audience, how many people
    (opted-out, deactivated, bots and guests aside) and how many are left out by reason.
    Raises `BadInput` as `send_survey` would."""
    async with deps.sessions() as session:
        definition = await surveys.get_definition(session=session, survey_id=survey_id)
    chosen, everyone = await _who(deps, definition, audience)
    async with deps.sessions() as session:
        asked, left_out = await people.screen(
            session=session, user_ids=everyone, include_guests=deps.settings.survey_include_guests
        )
        opted = await surveys.opted_out(session=session, user_ids=asked)
    reasons: dict[str, int] = {}
    for reason in left_out.values():
        reasons[reason] = reasons.get(reason, 0) + 1
    return definition, chosen, len([u for u in asked if u not in opted]), reasons


async def start_requested(deps: Deps) -> list[int]:
    """Every minute, on the leader: start the runs `coe-bot surveys send` queued (the
    command line cannot reach Slack to resolve an audience). One that cannot start (no
    audience, Slack does not know it, nobody to ask) is cancelled, audited and the CoE told."""
    async with deps.sessions() as session:
        waiting = list(await surveys.requested_runs(session=session))
    started: list[int] = []
    for run in waiting:
        try:
            definition = SurveyDefinition.model_validate(run.definition)
            done = await _start(
                deps, definition, None, actor=run.started_by, period=run.period, requested=run
            )
        except BadInput as problem:
            await _cancel(deps, run, str(problem))
            continue
        if done is not None and done.id is not None:
            started.append(done.id)
    return started


async def _cancel(deps: Deps, run: SurveyRun, reason: str) -> None:
    now = deps.clock()
    async with deps.sessions.begin() as session:
        changed = await session.exec(
            update(SurveyRun)
            .where(col(SurveyRun.id) == run.id, col(SurveyRun.status) == surveys.REQUESTED)
            .values(status="cancelled", closed_at=now)
            .execution_options(synchronize_session=False)
        )
        if not changed.rowcount:
            return
        await audit.record(
            session=session,
            actor="system",
            action="survey.request_cancelled",
            subject=run.survey_id,
            details={"run": run.id, "reason": reason[:500]},
            now=now,
        )
        await notices.to_coe(
            session=session,
            places=deps.places(),
            dedupe_key=f"survey-request-cancelled:{run.id}",
            kind="coe-notice",
            text=f":x: Run #{run.id} of *{run.survey_id}*, asked for with `coe-bot surveys "
            f"send`, was not started: {reason}",
            now=now,
        )
    deps.outbox_wakeup.set()


def due_fire(definition: SurveyDefinition, now: dt.datetime) -> schedules.Fire | None:
    """The latest scheduled occurrence at or before `now`, if within the grace window."""
    if definition.schedule is None:
        return None
    return schedules.latest_fire(
        definition.schedule.cron, definition.schedule.zone(), now, SCHEDULE_GRACE
    )


def run_period(fire: schedules.Fire) -> str:
    """A scheduled run's key: `cron:` and the occurrence's local time and zone."""
    return f"cron:{fire.key}"


def legacy_periods(fire: schedules.Fire) -> list[str]:
    """The keys runs of the same occurrence had before keys named the local time and zone
    (`cron:` + the local time with its UTC offset): both offsets of a repeated hour, so an
    occurrence that ran under the old key, or twice under it, does not run again."""
    forms = {fire.local.replace(tzinfo=fire.zone, fold=fold).isoformat() for fold in (0, 1)}
    return [f"cron:{form}" for form in sorted(forms)]


async def run_schedules(deps: Deps) -> list[int]:
    """Every minute: start the runs `coe-bot surveys send` asked for, and those whose
    schedule fired (each period once)."""
    started: list[int] = await start_requested(deps)
    now = deps.clock()
    async with deps.sessions() as session:
        loaded: Sequence[str] = [s.id for s in await surveys.list_surveys(session=session)]
    for survey_id in loaded:
        async with deps.sessions() as session:
            definition = await surveys.get_definition(session=session, survey_id=survey_id)
        fire = due_fire(definition, now)
        if fire is None:
            continue
        async with deps.sessions() as session:
            period = run_period(fire)  # and the keys it had before they named the zone:
            keys = [period, *legacy_periods(fire)]
            if await surveys.has_run(session=session, survey_id=survey_id, periods=keys):
                continue  # ran already: no need to ask Slack who the audience is
        try:
            run = await send_survey(deps, survey_id, actor="schedule", period=period)
        except BadInput as problem:
            logger.warning("scheduled survey %s not sent: %s", survey_id, problem)
            continue
        if run is not None and run.id is not None:
            started.append(run.id)
    return started


async def tick(deps: Deps) -> tuple[int, int]:
    """Close runs whose window ended; queue the one reminder for runs that are due."""
    now = deps.clock()
    async with deps.sessions.begin() as session:
        closed = await surveys.close_due(
            session=session, now=now, rules=deps.settings.survey_rules()
        )
        reminded = await surveys.start_reminders(session=session, now=now)
    if closed or deps.scrub_pending:  # and once after every start, in case it was cut short
        deps.scrub_pending = not await db.vacuum(deps.engine, "survey_response", "survey_recipient")
        if deps.scrub_pending:
            logger.warning("sealed survey pages are still in the WAL (a reader holds it); retrying")
    if reminded:
        deps.survey_wakeup.set()
    return len(closed), reminded
