"""The API's routes, its middleware, and the OpenAPI 3.1 document built from the routes."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from aiohttp import web
from sqlalchemy.exc import DataError, SQLAlchemyError

from bot import csvsafe
from bot.api import (
    CONSUMER,
    DEPS,
    PAGE,
    WINDOW,
    ApiError,
    Param,
    Route,
    encode_cursor,
    impact_routes,
    json_response,
    page,
    read_params,
    usage_routes,
)
from bot.api_tokens import RESPONSES, SCOPES, SEATS, ApiToken, consumer_for
from bot.models import parse_id
from bot.services import (
    adoption,
    audit,
    review,
    survey_disclosure,
    survey_results,
    usage_figures,
)
from bot.services.usage_periods import periods

QUESTION_STATES = ("open", "claimed", "answered", "resolved", "closed")


def _window(params: dict[str, Any]) -> review.Window:
    return review.Window(
        after=params.get("cursor", 0),
        limit=params["limit"],
        since=params.get("since"),
        until=params.get("until"),
        team=params.get("team"),
        status=params.get("status"),
        champion=params.get("champion"),
    )


async def list_surveys(request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
    async with request.app[DEPS].sessions() as session:
        items = await review.surveys(session=session)
    if RESPONSES not in request[CONSUMER].scopes:  # an audience list names people
        for item in items:
            audience = dict(item["definition"].get("audience") or {})
            if isinstance(audience.get("users"), list):
                audience["users"] = len(audience["users"])
            item["definition"] = {**item["definition"], "audience": audience}
    return json_response({"items": items})


async def list_runs(request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
    async with request.app[DEPS].sessions() as session:
        found = await review.runs(session=session, survey_id=params["survey_id"])
    if not found:
        raise ApiError(404, "no such survey, or it has no runs")
    return json_response({"items": found})


def _run_id(params: dict[str, Any]) -> int:
    run_id = parse_id(params["run_id"])
    if run_id is None:
        raise ApiError(404, "no such run")
    return run_id


async def run_results(request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
    deps = request.app[DEPS]
    rules = deps.settings.survey_rules()
    async with deps.sessions() as session:
        run = await review.run(session=session, run_id=_run_id(params))
        if run is None:
            raise ApiError(404, "no such run")
        released, results = await survey_results.released_results(
            session=session, run=run, rules=rules
        )
    return json_response(
        {
            "run_id": run.id,
            "status": run.status,
            "respondents": released.respondents,
            "audience": results.audience,
            "reached": results.reached,
            "delivery": {
                "not_reached": results.delivery.unreached if results.delivery else {},
                "waiting": results.delivery.waiting if results.delivery else 0,
                "left_out": results.delivery.left_out if results.delivery else {},
            },
            "withheld": released.withheld,
            "questions": [
                {
                    "id": q.question.id,
                    "answered": q.answered,
                    "counts": dict(q.counts),
                    "mean": q.mean,
                    "nps": q.nps,
                    "texts": q.texts,
                    "texts_hidden": q.texts_hidden,
                }
                for q in results.questions
            ],
            "by_team": results.by_team,
            "hidden_groups": results.hidden_teams,
        }
    )


async def run_responses(request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
    """A run's rows as `survey_disclosure` releases them: an anonymous run's only once it has
    closed (409 before), as one whole-run set (`since`/`until` answer 422), pages by offset
    in the released order; a named run's with respondents, filterable by time."""
    deps = request.app[DEPS]
    as_csv = params.get("format") == "csv"
    span = survey_disclosure.Span(since=params.get("since"), until=params.get("until"))
    async with deps.sessions() as session:
        run = await review.run(session=session, run_id=_run_id(params))
        if run is None:
            raise ApiError(404, "no such run")
        released = await survey_disclosure.release(
            session=session, run=run, rules=deps.settings.survey_rules()
        )
        if released.anonymous and (span.since or span.until):
            field_name = "since" if span.since else "until"
            raise ApiError(
                422, "an anonymous run's answers leave only as one whole-run set", field_name
            )
        if released.anonymous and run.status != "closed":
            raise ApiError(409, released.withheld or "the run is still open")
        offset = params.get("cursor", 0)
        if as_csv and session.get_bind().dialect.name == "postgresql":
            return await _copy_csv(request, session, released, span)
        rows = survey_disclosure.rows(
            session=session,
            released=released,
            offset=0 if as_csv else offset,
            limit=None if as_csv else params["limit"] + 1,
            span=span,
        )
        if as_csv:
            return await _stream_csv(request, survey_disclosure.columns(released), rows)
        items = [r async for r in rows]
    more = len(items) > params["limit"]
    return json_response(
        {
            "items": items[: params["limit"]],
            "next_cursor": encode_cursor(offset + params["limit"]) if more else None,
            "withheld": released.withheld,
        }
    )


async def _copy_csv(
    request: web.Request,
    session: Any,
    released: survey_disclosure.Released,
    span: survey_disclosure.Span,
) -> web.StreamResponse:
    """On PostgreSQL the database writes the CSV itself (COPY … TO STDOUT), streamed chunk
    by chunk to the client: as fast as `psql \\copy`, memory flat, same columns and rules."""
    sql, args = survey_disclosure.copy_sql(released, span=span)
    response = web.StreamResponse(headers={"Content-Type": "text/csv; charset=utf-8"})
    await response.prepare(request)
    connection = await (await session.connection()).get_raw_connection()
    # JIT compiles the defusing expressions for ~1 s on every export: not worth it here.
    await connection.driver_connection.execute("SET LOCAL jit = off")

    async def write(chunk: bytes) -> None:
        await response.write(chunk)

    await connection.driver_connection.copy_from_query(
        sql, *args, output=write, format="csv", header=True
    )
    await response.write_eof()
    return response


async def _stream_csv(request: web.Request, columns: list[str], rows: Any) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/csv; charset=utf-8"})
    await response.prepare(request)
    buffer = io.StringIO()
    writer = csvsafe.DictWriter(buffer, columns)
    writer.writeheader()
    async for row in rows:
        writer.writerow(row)
        if buffer.tell() > 256_000:
            await response.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
    await response.write(buffer.getvalue().encode())
    await response.write_eof()
    return response


def _lister(reader: Any) -> Any:
    async def handler(request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
        async with request.app[DEPS].sessions() as session:
            items = await reader(session=session, window=_window(params))
        return json_response(page(items, params["limit"]))

    return handler


async def topics(request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
    async with request.app[DEPS].sessions() as session:
        found = await review.lookup_topics(session=session, window=_window(params))
    if RESPONSES not in request[CONSUMER].scopes:  # what people typed may name anyone
        found["unanswered_queries"] = found["asked_back"] = found["voted_wrong"] = None
    return json_response(found)


async def metrics(request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
    deps = request.app[DEPS]
    until = params.get("until") or deps.clock() + dt.timedelta(days=1)  # today included
    since = params.get("since") or until - dt.timedelta(weeks=12)
    rules = deps.settings.survey_rules()
    async with deps.sessions() as session:
        used = await usage_figures.figures(
            session=session,
            period="week",
            since=since.date(),
            until=(until - dt.timedelta(days=1)).date(),
            rules=rules,
            impact=False,  # the rows below carry it
        )
        copilot = {(u["period"], u["team"]): u for u in used if u["active_people"] is not None}
        rows = await adoption.weekly(
            session=session, since=since, until=until, rules=rules, also=copilot
        )
        spans = periods("week", since.date(), (until - dt.timedelta(days=1)).date())
        measured = await usage_figures.delivery(session=session, spans=spans, rules=rules)
    for row in rows:  # the tools' own use beside the bot's
        found = copilot.get((row["week"], row["team"]))
        row["adoption"]["copilot"] = {k: found[k] for k in COPILOT_FIELDS} if found else None
        # self-reported time saved is never shown without measured cycle time
        cycle = measured.get((row["week"], row["team"]), {}).get("cycle_time_hours")
        row["impact"]["cycle_time_hours"] = cycle
    if params.get("team"):
        rows = [r for r in rows if r["team"] == params["team"]]
    return json_response({"items": rows})


COPILOT_FIELDS = (
    "seats",
    "active_people",
    "engaged_people",
    "acceptance_rate",
    "reviews_per_reviewer",  # acceptance's pair: never one without the other
    "idle_seats",
)

ROUTES = [
    Route("/surveys", "Survey definitions", list_surveys),
    Route(
        "/surveys/{survey_id}/runs",
        "Runs of a survey, with response counts",
        list_runs,
        path_params=("survey_id",),
    ),
    Route(
        "/runs/{run_id}/responses",
        "A closed run's responses as one whole-run set (anonymity kept); audited",
        run_responses,
        params=(*PAGE, *WINDOW[1:]),
        path_params=("run_id",),
        csv=True,
        scope=RESPONSES,
    ),
    Route(
        "/runs/{run_id}/results",
        "A run's aggregated results, group-size rules applied",
        run_results,
        path_params=("run_id",),
    ),
    Route(
        "/questions",
        "Questions to champions: text, asker, every champion tried, answer, rating, timings",
        _lister(review.questions),
        params=(
            *PAGE,
            *WINDOW,
            Param("status", "enum", "only questions in this state", QUESTION_STATES),
            Param("champion", "string", "only questions this champion (a user ID) was given"),
        ),
        scope=RESPONSES,
    ),
    Route(
        "/prompts",
        "Prompts with their authors and use",
        _lister(review.prompts),
        params=(*PAGE, *WINDOW),
        scope=RESPONSES,
    ),
    Route(
        "/lookups",
        "Policy lookups, with who asked",
        _lister(review.lookups),
        params=(*PAGE, *WINDOW[1:]),
        scope=RESPONSES,
    ),
    Route(
        "/lookups/votes",
        "Votes on /ai-policy answers (right or wrong), with who voted",
        _lister(review.policy_votes),
        params=(*PAGE, *WINDOW[1:]),
        scope=RESPONSES,
    ),
    Route(
        "/lookups/topics",
        "Top policy topics; questions that matched nothing, were asked back or voted wrong",
        topics,
        params=WINDOW[1:],
    ),
    Route(
        "/audit",
        "The audit log",
        _lister(review.audit_log),
        params=(*PAGE, *WINDOW[1:]),
        scope=RESPONSES,
    ),
    Route(
        "/metrics",
        "Adoption (distinct people) beside impact, per team and week",
        metrics,
        params=WINDOW,
    ),
    *usage_routes.ROUTES,
    *impact_routes.ROUTES,
]


def document() -> dict[str, Any]:
    """OpenAPI 3.1, generated from ROUTES: it names exactly the parameters handlers accept."""
    paths: dict[str, Any] = {}
    for route in ROUTES:
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in route.path_params
        ] + [
            {
                "name": p.name,
                "in": "query",
                "required": False,
                "description": p.description,
                "schema": _schema(p),
            }
            for p in route.params
        ]
        if route.csv:
            parameters.append(
                {
                    "name": "format",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["json", "csv"]},
                }
            )
        content: dict[str, Any] = {"application/json": {"schema": {"type": "object"}}}
        if route.csv:
            content["text/csv"] = {"schema": {"type": "string"}}
        paths["/api/v1" + route.path] = {
            "get": {
                "summary": route.summary,
                "description": f"Needs a token with the `{route.scope}` scope.",
                "parameters": parameters,
                "security": [{"bearer": [route.scope]}],
                "x-scope": route.scope,
                "responses": {
                    "200": {"description": "OK", "content": content},
                    "401": {"description": "Missing or wrong token", "content": _error()},
                    "403": {
                        "description": f"The token lacks the `{route.scope}` scope",
                        "content": _error(),
                    },
                    "404": {"description": "Not found", "content": _error()},
                    **(
                        {
                            "409": {
                                "description": "An anonymous run's answers leave only once it"
                                " has closed",
                                "content": _error(),
                            }
                        }
                        if "{run_id}" in route.path
                        else {}
                    ),
                    "422": {"description": "A parameter is wrong", "content": _error()},
                    "503": {"description": "The database is unavailable", "content": _error()},
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "coe-bot CoE review API", "version": "1"},
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "COE_API_TOKEN; each token has scopes: " + ", ".join(SCOPES),
                }
            }
        },
        "paths": paths,
    }


def _schema(param: Any) -> dict[str, Any]:
    if param.kind == "integer":
        return {"type": "integer", "minimum": 1, "maximum": 500}
    if param.kind == "date":
        return {"type": "string", "format": "date"}
    return {"type": "string"}


def _error() -> dict[str, Any]:
    return {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"error": {"type": "string"}, "field": {"type": ["string", "null"]}},
            }
        }
    }


def create_api(deps: Any, tokens: tuple[ApiToken, ...]) -> web.Application:
    """The /api/v1 sub-application: each request needs one of `tokens`, and the route's
    scope (401 without a known token, 403 naming the scope it lacks)."""
    open_paths = {"/api/v1/openapi.json"}

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        consumer = consumer_for(tokens, request.headers.get("Authorization"))
        if consumer is None and request.path not in open_paths:
            return json_response({"error": "unauthorized", "field": None}, status=401)
        request[CONSUMER] = consumer or ApiToken("anonymous", frozenset())
        try:
            response: web.StreamResponse = await handler(request)
        except ApiError as error:
            return json_response(
                {"error": error.message, "field": error.field}, status=error.status
            )
        except web.HTTPException as error:  # no such path, or a method it does not take
            return json_response(
                {"error": error.reason.lower(), "field": None}, status=error.status
            )
        except DataError:  # a value the database's types cannot hold
            return json_response({"error": "a value is out of range", "field": None}, status=422)
        except SQLAlchemyError:
            return json_response(
                {"error": "the database is unavailable", "field": None}, status=503
            )
        return response

    api = web.Application(middlewares=[guard])
    api[DEPS] = deps
    for route in ROUTES:
        api.router.add_get(route.path, _bind(route))
    api.router.add_get("/openapi.json", _openapi)
    return api


async def _openapi(request: web.Request) -> web.StreamResponse:
    return json_response(document())


def _bind(route: Route) -> Any:
    async def handle(request: web.Request) -> web.StreamResponse:
        consumer = request[CONSUMER]
        if route.scope not in consumer.scopes:
            raise ApiError(403, f"this token lacks the {route.scope!r} scope")
        params = read_params(request, route)
        if route.scope in (RESPONSES, SEATS):  # reads that name people
            await _audit_read(request, route, params)
        response: web.StreamResponse = await route.handler(request, params)
        return response

    return handle


async def _audit_read(request: web.Request, route: Route, params: dict[str, Any]) -> None:
    """Every read under the `responses` or `seats` scope (they name people) is audited
    before anything is read: which token (name and scope), which route, which parameters
    (the cursor left out). Actions `api.read_responses` and `api.read_seats`."""
    deps = request.app[DEPS]
    consumer = request[CONSUMER]
    declared = {p.name for p in route.params} | set(route.path_params) | {"format"}
    async with deps.sessions.begin() as session:
        await audit.record(
            session=session,
            actor=f"api:{consumer.name}",
            action=f"api.read_{route.scope}",
            subject=request.path[:200],
            details={
                "token": consumer.name,
                "scope": route.scope,
                "route": route.path,
                # the route's own parameters (page size too where it pages), not a default
                # filled in for a parameter the route does not have
                "params": {k: str(v)[:100] for k, v in params.items() if k in declared},
                "format": params.get("format", "json"),
            },
            now=deps.clock(),
        )
