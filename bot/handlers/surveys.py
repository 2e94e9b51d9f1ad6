"""Surveys in Slack: the invitation's buttons, the answer modal, and `/ai-coe survey …`."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.errors import BadInput, UserError
from bot.handlers.common import (
    button_id,
    guarded,
    metadata_id,
    open_modal_first,
    require_admin,
    tell,
)
from bot.jobs import surveys as survey_jobs
from bot.models import SurveyRun
from bot.services import survey_results, surveys
from bot.services.survey_definitions import (
    Audience,
    DefinitionError,
    SurveyDefinition,
    audience_from,
    describe,
    load_definition,
    templates_dir,
)
from bot.views import surveys as views
from bot.views.common import ephemeral_text, escape, followup, plural

logger = logging.getLogger(__name__)
USAGE = (
    "Usage: `/ai-coe survey load` (the templates and SURVEYS_DIR), `/ai-coe survey list`, "
    "`/ai-coe survey send <id> [to all | to #channel | to @user-group | to team <name>]`, "
    "`/ai-coe survey status <id>`, `/ai-coe survey results <id>`."
)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(views.SurveyActions.answer.value)
    async def answer(
        ack: AsyncAck,
        action: dict[str, Any],
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        work = _open_modal(deps, action, body, client)
        deps.background.spawn(guarded(work, respond, what="survey answer"), name="survey-modal")

    @app.action(views.SurveyActions.stop.value)
    async def stop(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        deps.background.spawn(
            guarded(_stop(deps, body["user"]["id"], respond), respond, what="survey opt-out"),
            name="survey-stop",
        )

    @app.action(views.SurveyActions.send.value)
    @app.action(views.SurveyActions.cancel.value)
    async def confirmed(
        ack: AsyncAck, action: dict[str, Any], body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """Send or Cancel on the confirmation: an admin action, so the clicker is checked."""
        await ack()
        work = _confirmed(deps, body["user"]["id"], action, respond)
        deps.background.spawn(guarded(work, respond, what="survey send"), name="survey-send")

    @app.view(views.ANSWER_MODAL)
    async def submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        run_id = metadata_id(view, "run_id")
        async with deps.sessions.begin() as session:
            run = await session.get(SurveyRun, run_id) if run_id is not None else None
            if run is None or run_id is None:
                await ack(response_action="clear")
                return
            definition = SurveyDefinition.model_validate(run.definition)
            answers = views.read_answers(definition, view.get("state", {}).get("values", {}))
            problems = surveys.check_answers(definition, answers)
            if problems:
                await ack(response_action="errors", errors=problems)
                return
            team = await deps.teams.team_of(session, user)
            try:
                changed = await surveys.submit(
                    session=session,
                    run_id=run_id,
                    user_id=user,
                    answers=answers,
                    team=team.name if team else None,
                    secret=deps.settings.survey_key(anonymous=definition.anonymous),
                    now=deps.clock(),
                )
            except UserError as problem:
                first = definition.questions[0].id
                await ack(response_action="errors", errors={first: str(problem)})
                return
        await ack(response_action="update", view=views.thanks_view(definition, changed=changed))


async def _open_modal(
    deps: Deps, action: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
) -> None:
    user = body["user"]["id"]
    run_id = button_id(action.get("value"), "survey")

    async def fill() -> dict[str, Any]:
        async with deps.sessions() as session:
            run = await session.get(SurveyRun, run_id)
            if run is None:
                raise BadInput("That survey no longer exists.")
            if run.status != "open" or deps.clock() >= run.closes_at:
                raise surveys.SurveyClosed(run.closes_at)
            definition = SurveyDefinition.model_validate(run.definition)
            previous = await surveys.previous_answers(
                session=session,
                run_id=run_id,
                user_id=user,
                secret=deps.settings.survey_key(anonymous=definition.anonymous),
            )
        return views.answer_modal(definition, run_id, previous)

    await open_modal_first(client, body["trigger_id"], "Survey", fill)


async def _confirmed(
    deps: Deps, user_id: str, action: dict[str, Any], respond: AsyncRespond
) -> None:
    await require_admin(deps, user_id)
    try:
        value = json.loads(action.get("value") or "")
        survey_id, to = str(value["s"]), [str(w) for w in value["to"]]
    except (ValueError, KeyError, TypeError):
        raise BadInput("That button points at no survey.") from None
    if action.get("action_id") == views.SurveyActions.cancel.value:
        await respond({**ephemeral_text("Nothing was sent."), "replace_original": True})
        return
    words = ["survey", "sent", survey_id] + (["to", *to] if to else [])
    await respond({**await admin(deps, user_id, words), "replace_original": True})


async def _stop(deps: Deps, user_id: str, respond: AsyncRespond) -> None:
    async with deps.sessions.begin() as session:
        await surveys.opt_out(session=session, user_id=user_id, now=deps.clock())
    await tell(
        respond,
        followup(
            ephemeral_text(
                "Done: you won't be asked to answer CoE surveys again. Tell the CoE if you change "
                "your mind."
            )
        ),
    )


async def admin(deps: Deps, admin_id: str, words: list[str]) -> dict[str, Any]:
    """`/ai-coe survey …` (the caller has checked COE_ADMINS); `words` as typed (IDs in
    an audience keep their case; the verb and a survey ID do not matter)."""
    verb = words[1].lower() if len(words) > 1 else ""
    rest = [w.lower() for w in words[2:4]] + words[4:]
    if verb == "load":
        return await _load_all(deps, admin_id)
    if verb == "new":
        raise BadInput("Open the form with `/ai-coe survey new` (it needs the command's trigger).")
    if verb == "list":
        return await _list(deps)
    if verb == "send" and (len(rest) == 1 or (len(rest) >= 3 and rest[1].lower() == "to")):
        audience = audience_of(rest[2:]) if len(rest) > 1 else None
        definition, chosen, count, skipped = await survey_jobs.preview(deps, rest[0], audience)
        if not count:
            raise BadInput(
                f"*{escape(definition.title)}* has nobody to ask in {escape(describe(chosen))}: "
                "everyone opted out, left Slack, or is a bot or guest. Nothing was sent."
            )
        value = json.dumps({"s": definition.id, "to": rest[2:]})[:1900]
        return views.send_confirmation(definition.title, count, describe(chosen), skipped, value)
    if verb == "sent" and len(rest) >= 1:  # the Send button, after the confirmation
        audience = audience_of(rest[2:]) if len(rest) > 2 else None
        run = await survey_jobs.send_survey(deps, rest[0], actor=admin_id, audience=audience)
        if run is None:
            raise BadInput("That survey was just sent; wait a moment before sending it again.")
        async with deps.sessions() as session:
            went = await surveys.delivery(session=session, run=run)
        left = views.left_out_line(went.left_out)
        return ephemeral_text(
            f"Survey *{escape(rest[0])}* started (run #{run.id}): "
            f"{plural(run.audience_size, 'person', 'people')} to ask."
            + (f" {left} (not asked)." if left else "")
            + " Invitations go out as Slack allows; `/ai-coe survey status "
            f"{escape(rest[0])}` shows how many were sent, are waiting or failed, and why."
        )
    if verb == "status" and len(rest) == 1:
        return await status_message(deps, rest[0])
    if verb == "results" and len(rest) == 1:
        return await results_message(deps, rest[0])
    raise BadInput(USAGE)


def audience_of(words: list[str]) -> Audience:
    """Who `… send ID to …` names (`survey_definitions.audience_from`), user text escaped
    in the refusal."""
    try:
        return audience_from(words)
    except BadInput:
        raise BadInput(
            f"“{escape(' '.join(words)[:60])}” is not an audience: send it `to all` (the "
            "roster), `to #channel`, `to @user-group` or `to team payments`. Nothing was sent."
        ) from None


async def _load_all(deps: Deps, admin_id: str) -> dict[str, Any]:
    files = sorted(templates_dir().glob("*.yaml"))
    if deps.settings.surveys_dir:
        files += sorted(deps.settings.surveys_dir.glob("*.yaml"))
    loaded, problems = [], []
    for path in files:
        try:
            definition = load_definition(path)
        except DefinitionError as error:
            problems += [str(issue) for issue in error.issues]
            continue
        async with deps.sessions.begin() as session:
            survey = await surveys.save_definition(
                session=session,
                definition=definition,
                source=str(path),
                actor=admin_id,
                now=deps.clock(),
            )
        loaded.append(
            f"• *{escape(survey.id)}* v{survey.version}: {escape(survey.title)}"
            + (
                " (no audience: send it `to all`, `to #channel`, `to @user-group` or "
                "`to team <name>`)"
                if definition.audience is None
                else ""
            )
        )
    text = "*Loaded*\n" + "\n".join(loaded) if loaded else "Nothing loaded."
    if problems:
        text += "\n*Errors (nothing stored for these files)*\n" + "\n".join(
            f"• `{escape(p[:300])}`" for p in problems[:20]
        )
    return ephemeral_text(text)


LIST_FETCH = 48  # more than a message's 50 blocks hold: paging keeps the ones that fit


async def _list(deps: Deps, offset: int = 0) -> dict[str, Any]:
    """The surveys loaded, a line each with the schedule and the last run, paged."""
    async with deps.sessions() as session:
        found = list(await surveys.list_surveys(session=session))
        lines = []
        for survey in found[offset : offset + LIST_FETCH]:
            runs = await surveys.runs_of(session=session, survey_id=survey.id)
            latest = (
                f"last run #{runs[0].id} {runs[0].status}, {runs[0].audience_size} asked"
                if runs
                else "never sent"
            )
            cron = (survey.definition.get("schedule") or {}).get("cron")
            schedule = f"`{escape(cron)}`" if cron else "no schedule"
            lines.append(
                f"• *{escape(survey.id)}* — {escape(survey.title)} · {schedule} · {latest}"
            )
    if not found:
        return ephemeral_text("No surveys loaded: `/ai-coe survey load`.")
    return views.survey_list(lines, offset=offset, total=len(found))


async def list_page(deps: Deps, offset: int) -> dict[str, Any]:
    """A further page of `/ai-coe survey list` (a CoE admin's list; the caller checks)."""
    return await _list(deps, offset)


async def status_message(deps: Deps, survey_id: str) -> dict[str, Any]:
    """Delivery of a survey's latest run: sent, waiting (until when), failed (why)."""
    async with deps.sessions() as session:
        runs = await surveys.runs_of(session=session, survey_id=survey_id)
        if not runs:
            raise BadInput(f"Survey “{escape(survey_id[:60])}” has no runs yet.")
        went = await surveys.delivery(session=session, run=runs[0])
    title = str(runs[0].definition.get("title") or survey_id)
    return ephemeral_text("\n".join(views.status_lines(runs[0], title, went)))


async def results_message(deps: Deps, survey_id: str) -> dict[str, Any]:
    rules = deps.settings.survey_rules()
    async with deps.sessions() as session:
        latest = await survey_results.latest_runs(session=session, survey_id=survey_id, rules=rules)
    if not latest:
        raise BadInput(f"Survey “{escape(survey_id[:60])}” has no runs yet.")
    (released, results) = latest[0]
    previous = latest[1][1] if len(latest) > 1 and latest[1][0].withheld is None else None
    lines = views.result_lines(
        results,
        previous,
        withheld=released.withheld,
        min_group=rules.min_group,
        min_text=rules.min_text,
        survey_id=survey_id,
    )
    run = released.run
    title = f"{run.definition.get('title', survey_id)} (run #{run.id}, {run.status})"
    return views.results_message(lines, title, survey_id)
