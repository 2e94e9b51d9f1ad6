"""`/ai-policy` answers a developer can act on: the verdict first and strictest, short,
asking back only where the answer truly depends on it (issue examples and neighbours)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.jobs.outbox import send_due
from bot.services.policy import PolicyStore
from bot.services.policy_search import PolicyIndex
from bot.standin import FakeSlack, SlackSender
from bot.views.policy import answer_message
from bot.views.text import render_message
from tests.conftest import RunningApp
from tests.helpers import MENTION, assert_valid_message, lookups, message_text, outbox_rows


@pytest.fixture(scope="module")
def index() -> PolicyIndex:
    return PolicyStore(None).active.index  # the shipped pack


def rendered(index: PolicyIndex, question: str, **choice: str) -> str:
    """The reply as `coe-bot try` prints it."""
    answer = index.answer(question, **choice)
    return render_message(answer_message(answer, index.pack))


INCIDENT = ":rotating_light: *Incident: act now*"
NOT_ALLOWED = ":no_entry: *Not allowed*"
REVIEW = ":large_orange_diamond: *Allowed with review*"
ALLOWED = ":white_check_mark: *Allowed*"
ASK_TIER = ":question: *Which tier is this code in?*"


@pytest.mark.parametrize(
    ("question", "first_line", "also"),
    [
        # a secret already pasted: the incident step comes first, not a matrix cell
        (
            "I accidentally pasted an AWS key into copilot chat, what now?",
            f"{INCIDENT} — Secrets and credentials pasted into an AI tool.",
            "*Rotate or revoke it now*",
        ),
        (
            "oops pasted our stripe secret key into chatgpt",
            f"{INCIDENT} — Secrets and credentials pasted into an AI tool.",
            "security incident process",
        ),
        (
            "pasted a bunch of customer emails into cursor chat by accident",
            f"{INCIDENT} — Customer and employee personal data pasted into an AI tool.",
            "*Report it now*",
        ),
        # bypass modes: the agent rule, not "Claude Code — approved"
        (
            "can I run claude code with --dangerously-skip-permissions on my laptop",
            f"{NOT_ALLOWED} — Keep approvals on for shell, network, push",
            "least privilege",
        ),
        ("yolo mode in cursor agent ok?", f"{NOT_ALLOWED} — Keep approvals on", ""),
        # a tool outside its tiers beats the permissive cell
        (
            "is Claude Code allowed for our Terraform in a PCI system",
            f"{NOT_ALLOWED} — *Claude Code* is not approved for *Regulated* systems.",
            "Two-person review with security sign-off",
        ),
        (
            "ChatGPT for writing SQL migrations on the patient records service",
            f"{NOT_ALLOWED} —",
            "",
        ),
        # data in a prompt: the data rule, not the tool's configuration
        (
            "may I paste a customer's invoice into Copilot chat to debug",
            f"{NOT_ALLOWED} — Customer and employee personal data may not go into a prompt",
            "documented exception",
        ),
        (
            "can i paste a stack trace into copilot chat",
            f"{ALLOWED} — Our code, error messages, stack traces and schemas: fine in an approved",
            "",
        ),
        # real words stay words
        ("copilot on yaml k8s manifests", f"{REVIEW} — *Security-critical* code in an", ""),
        ("generate storybook stories for our design system", f"{ALLOWED} — *Boilerplate*", ""),
        # tools the pack does not list
        ("can I use windsurf", f"{NOT_ALLOWED} — *windsurf* is not on the approved list.", ""),
        ("can I use devin", f"{NOT_ALLOWED} — *devin* is not on the approved list.", ""),
        ("is zorblax ok for our repo", f"{NOT_ALLOWED} — *zorblax* is not on the approved", ""),
        ("can I use AI", f"{REVIEW} — with an approved tool and your company account", ""),
        # one category, one tier: no wall of cells
        # a tier that changes the answer is asked about, each tier's answer shown
        (
            "is Claude Code allowed on the auth service",
            ASK_TIER,
            "• *Regulated (PCI, HIPAA, SOX, ...)*: :no_entry: *Not allowed* — *Claude Code* is"
            " not approved",
        ),
        ("AI for the payroll tax calculation", ASK_TIER, "• *Regulated"),
    ],
)
def test_the_first_line_is_the_strictest_verdict(
    index: PolicyIndex, question: str, first_line: str, also: str
) -> None:
    text = rendered(index, question)
    assert text.splitlines()[0].startswith(first_line), text
    assert also in text
    assert "read as:" not in text


# What an outsider who had not read the code found (and their neighbours): each first line
# was more permissive than the pack, or wrong, before the fix.
@pytest.mark.parametrize(
    ("question", "verdict"),
    [
        # a "safe" word cancels only the data it describes
        ("can I paste real customer emails into chatgpt to generate fake data", NOT_ALLOWED),
        (
            "can I paste production api keys into copilot and replace them with placeholders",
            NOT_ALLOWED,
        ),
        ("a dummy config with the real aws secret key into claude, ok?", NOT_ALLOWED),
        ("test data copied from production customer records into chatgpt?", INCIDENT),
        ("masked card numbers and the real cvv into chatgpt to debug?", NOT_ALLOWED),
        ("is synthetic / masked customer data ok in copilot chat", ALLOWED),
        ("prompting cursor with terraform plan output (secrets redacted) - ok?", ALLOWED),
        # a negation reaches only the phrase it negates
        ("I pasted no secrets, only customer emails, into chatgpt", INCIDENT),
        ("I pasted nothing except our api key into claude", INCIDENT),
        ("can I paste the config without masking the customer emails into chatgpt", NOT_ALLOWED),
        ("can I paste logs without redacting the tokens into copilot", NOT_ALLOWED),
        (
            "skip-permissions inside a throwaway docker container with no creds or secrets, ok?",
            ALLOWED,
        ),
        # incidents told indirectly
        ("my screen share with claude had the prod password visible", INCIDENT),
        ("oops, my ssh key was in the context window of cursor", INCIDENT),
        ("copilot chat has seen our production database dump", INCIDENT),
        # a tool's required configuration, personal keys
        ("can I use cursor without privacy mode", NOT_ALLOWED),
        ("chatgpt through the api with my own personal api key on company code", NOT_ALLOWED),
        # unknown tools and plugins
        ("Harness AI for our internal scripts?", NOT_ALLOWED),
        ("can I install an AI plugin for vs code that isn't on the list", NOT_ALLOWED),
        # agents
        ("let the cursor agent push directly to main", NOT_ALLOWED),
        ("auto approve shell commands in a disposable vm with prod credentials", NOT_ALLOWED),
        ("can claude code run terraform apply for me", NOT_ALLOWED),
        ("dependabot auto-merge for patch bumps, with copilot writing the tests", ASK_TIER),
        # words that are not what they look like
        ("can copilot write a kafka consumer for the internal metrics pipeline", ALLOWED),
        ("copilot for the pan and zoom widget in our internal dashboard", ALLOWED),
        ("cursor to fix the virtual env setup in our internal build scripts", ALLOWED),
        ("gemini in copilot, can I pick it in the model picker", ALLOWED),
        # another language is said to be unreadable, not answered
        ("Darf ich Kundendaten in ChatGPT einfügen?", "*Your question:*"),
        ("puis-je coller une clé API dans Claude ?", "*Your question:*"),
    ],
)
def test_what_an_outsider_found(index: PolicyIndex, question: str, verdict: str) -> None:
    text = rendered(index, question)
    assert text.startswith(verdict), text


# A second outsider looked only for first lines more permissive than the pack: 248 of about
# 640 questions were. These are some of each pattern it found, all too permissive before.
@pytest.mark.parametrize(
    ("question", "verdict"),
    [
        ("can I give chatgpt enterprise the subscriber list to dedupe it", NOT_ALLOWED),
        (
            "ok to paste the webinar signups spreadsheet into claude to clean up the columns",
            NOT_ALLOWED,
        ),
        ("google ai studio to prototype an internal tool", NOT_ALLOWED),
        ("gpt-oss 20b running locally via vLLM for the internal cli, ok?", NOT_ALLOWED),
        ("can I turn off duplication detection in copilot for the internal tool", NOT_ALLOWED),
        ("copilot for the radar signal processing code for our DoD contract", NOT_ALLOWED),
        ("can I use premium models in copilot on my personal account", NOT_ALLOWED),
        ("cursor to update the Jenkinsfile that deploys the saas app", REVIEW),
        ("I pasted the prod user CSV into chatgpt", INCIDENT),
        ("cursor for the service that moves money between customer accounts", NOT_ALLOWED),
        ("chatgpt enterprise to refactor the pharmacy dispensing system", NOT_ALLOWED),
        (
            "can I run codex with --dangerously-bypass-approvals-and-sandbox on my laptop",
            NOT_ALLOWED,
        ),
        ("can I let claude code run kubectl against the prod cluster", NOT_ALLOWED),
        ("can I use GitHub Copilot Free for the internal tool", NOT_ALLOWED),
        ("can I use Copilot in Edge to summarise our internal design doc", NOT_ALLOWED),
        (
            "Acme's DPA doesn't list OpenAI as a subprocessor, can I use chatgpt enterprise "
            "on their repo",
            NOT_ALLOWED,
        ),
        ("can I paste the 2FA backup codes into claude to format them", NOT_ALLOWED),
        ("can I paste `ghp_16C7e42F292c6912E7710c838347Ae178B4a` into codex", NOT_ALLOWED),
        (
            "can I let the copilot review be the only review for docs changes in the customer "
            "api repo",
            NOT_ALLOWED,
        ),
        (
            "can I suppress the semgrep findings on the AI-written auth code in the internal tool",
            NOT_ALLOWED,
        ),
        # and what the widened cues must not catch
        (
            "in a throwaway devcontainer, no creds mounted and no route to prod, can the agent "
            "run in full-auto mode?",
            ALLOWED,
        ),
        ("can I let claude code write the GHA workflow that deploys acct-svc to prod", REVIEW),
    ],
)
def test_what_a_second_outsider_found(index: PolicyIndex, question: str, verdict: str) -> None:
    text = rendered(index, question)
    assert text.startswith(verdict), text


@pytest.mark.parametrize(
    ("question", "first_line"),
    [
        # a tier named in doubt is possible, not given: the answer depends on it, so ask
        (
            "can cursor fix the rounding bug in the invoicing svc? not 100% sure if its sox scoped",
            ASK_TIER,
        ),
        (
            "cc for the webhook handler on the checkout svc, it might be in the cde, might not",
            ASK_TIER,
        ),
        (
            "chatgpt enterprise to build the member lookup api, not sure if thats hipaa or not",
            ASK_TIER,
        ),
        # ... and named without doubt, it is the tier
        ("can cursor fix the rounding bug in the invoicing svc? its sox scoped", NOT_ALLOWED),
        # asking before doing is not an incident
        ("can cc have read access to the prod db so it can debug slow queries", NOT_ALLOWED),
        (
            "put the api key in the prompt so the agent can hit the endpoint and test it?",
            NOT_ALLOWED,
        ),
        ("should the agent get the prod db password to run migrations?", NOT_ALLOWED),
        # ... but telling of it is
        ("I put the prod db password in the prompt so the agent could run migrations", INCIDENT),
        # an agent that merged its own work, told in the past tense
        (
            "the copilot coding agent somehow merged its own pr into main over the weekend",
            INCIDENT,
        ),
    ],
)
def test_what_a_third_outsider_found(index: PolicyIndex, question: str, first_line: str) -> None:
    assert rendered(index, question).startswith(first_line)


def test_an_ask_back_puts_the_likely_tier_first_and_answers_the_choice(
    index: PolicyIndex,
) -> None:
    asked = index.answer("cursor for the payments api")
    assert asked.ruling is not None
    assert [o.id for o in asked.ruling.ask] == ["regulated", "customer-facing", "internal"]

    chosen = rendered(index, "cursor for the payments api", tier="regulated")
    assert chosen.startswith(f"{NOT_ALLOWED} — *Cursor Business* is not approved for *Regulated*")
    other = rendered(index, "cursor for the payments api", tier="customer-facing")
    assert other.startswith(f"{REVIEW} — *Security-critical* code in a *Customer-facing* system.")


def test_a_question_whose_category_decides_asks_what_the_code_does(index: PolicyIndex) -> None:
    text = rendered(index, "can ai write code for our regulated systems?")
    assert text.startswith(":question: *What does the code do?*")
    assert "• *Data handling" in text
    answer = rendered(index, "can ai write code for our regulated systems?", category="boilerplate")
    assert answer.startswith(f"{REVIEW} — *Boilerplate* code in a *Regulated* system.")


@pytest.mark.parametrize("name", ["policy_questions.yaml", "policy_questions_heldout.yaml"])
def test_every_answer_is_short(index: PolicyIndex, name: str) -> None:
    """At most 12 lines and 1,200 characters as `coe-bot try` prints it (Details excluded)."""
    import yaml

    from benchmarks.policy_eval import DATA

    for item in yaml.safe_load((DATA / name).read_text(encoding="utf-8")):
        text = rendered(index, item["q"])
        assert text.count("\n") <= 12, text
        assert len(text) <= 1200, text


def _buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        e["action_id"]: e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    }


async def test_pressing_a_tier_replaces_the_question_with_the_answer(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    asked = await sender.command("/ai-policy", "cursor for the payments api")
    message = asked.json()
    assert_valid_message(message)
    assert message_text(message).startswith("Which tier is this code in?")
    buttons = _buttons(message)
    regulated = buttons["policy-choose-0"]
    assert regulated["text"]["text"].startswith("Regulated")
    assert len(regulated["value"]) <= 2000

    await sender.block_action(
        "policy-choose-0", value=regulated["value"], response_url=asked.response_url
    )
    await running.settle()

    [answered] = [r.body for r in slack.responses_for(asked.response_url or "")]
    assert answered["replace_original"] is True
    assert_valid_message(answered)
    assert message_text(answered).startswith("Not allowed — Cursor Business is not approved")
    first, second = await lookups(running)
    assert first.outcome == "ambiguous"
    assert first.matched["asked_for"] == "tier"
    assert second.matched["chosen"] == {"tier": "regulated"}
    assert second.matched["verdict"] == "not_allowed"


async def test_details_opens_a_modal_with_the_full_review(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    asked = await sender.command("/ai-policy", "copilot for auth code in a regulated service")
    details = _buttons(asked.json())["policy-details"]
    await sender.block_action("policy-details", value=details["value"])
    await running.settle()

    [view] = slack.views()
    text = message_text(view)
    assert "Review required" in text
    assert "Approved configuration" in text  # Copilot's configuration
    assert "two qualified reviewers who are not the requester" in text

    slack.fail("views.open", error="expired_trigger_id")  # a click Slack let expire
    told = slack.new_response_url()
    await sender.block_action("policy-details", value=details["value"], response_url=told)
    await running.settle()
    reply = message_text(slack.responses_for(told)[0].body)
    assert "please try again" in reply
    assert "reference" not in reply


async def test_a_vote_is_stored_once_per_person_and_answer(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    from sqlmodel import select

    from bot.models import PolicyFeedback

    asked = await sender.command("/ai-policy", "cursor for the invoice rounding logic")
    choose = _buttons(asked.json())["policy-choose-0"]
    await sender.block_action(
        "policy-choose-0", value=choose["value"], response_url=asked.response_url
    )
    await running.settle()
    answered = slack.responses_for(asked.response_url or "")[-1].body
    down = _buttons(answered)["policy-feedback-down"]
    up = _buttons(answered)["policy-feedback-up"]
    url = slack.new_response_url()
    for action, button in (("down", down), ("up", up), ("down", down)):
        await sender.block_action(
            f"policy-feedback-{action}", value=button["value"], response_url=url
        )
        await running.settle()

    async with running.deps.sessions() as session:
        [vote] = (await session.exec(select(PolicyFeedback))).all()
    assert vote.helpful is False
    assert vote.query == "cursor for the invoice rounding logic"
    assert vote.tier == "regulated"
    assert vote.tier_source == "chosen"
    assert vote.verdict == "not_allowed"
    thanks = [message_text(r.body) for r in slack.responses_for(url)]
    assert any("the CoE reviews every answer marked wrong" in t for t in thanks)


async def test_a_mention_asks_back_only_the_asker(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    event = dict(MENTION, text="<@U0BOT> cursor for the payments api")
    await sender.event(event, event_id="Ev0ASKBACK1")
    await running.settle()
    [row] = await outbox_rows(running)
    assert row.kind == "mention-ask"
    await send_due(running.deps)

    assert slack.messages("C0GENERAL") == []  # nothing public
    [ephemeral] = slack.ephemerals(channel="C0GENERAL", user="U0ALICE")
    assert ephemeral["thread_ts"] == MENTION["ts"]
    choose = _buttons(ephemeral)["policy-choose-0"]
    assert json.loads(choose["value"])["u"] == "U0ALICE"

    bob_url = slack.new_response_url()
    await sender.block_action(
        "policy-choose-0", value=choose["value"], user_id="U0BOB", response_url=bob_url
    )
    alice_url = slack.new_response_url()
    await sender.block_action(
        "policy-choose-0", value=choose["value"], user_id="U0ALICE", response_url=alice_url
    )
    await running.settle()

    [told] = [r.body for r in slack.responses_for(bob_url)]
    assert "Only <@U0ALICE> can choose" in message_text(told)
    assert told["replace_original"] is False
    [answered] = [r.body for r in slack.responses_for(alice_url)]
    assert message_text(answered).startswith("Not allowed — Cursor Business is not approved")
    assert "policy-share" not in _buttons(answered)  # a thread reply is public already


async def test_a_decisive_mention_answers_in_the_thread_in_the_same_shape(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    event = dict(MENTION, text="<@U0BOT> pasted my gh PAT into cursor chat by mistake")
    await sender.event(event, event_id="Ev0INCIDENT1")
    await running.settle()
    await send_due(running.deps)

    [reply] = slack.messages("C0GENERAL")
    assert reply["thread_ts"] == MENTION["ts"]
    text = render_message(reply)
    assert text.startswith(INCIDENT)
    assert text.count("\n") <= 12
    assert "[ Details ]" in text


# -- team default tiers -----------------------------------------------------------------


async def _join(running: RunningApp, user: str, team: str) -> None:
    from bot.services import teams

    async with running.deps.sessions.begin() as session:
        found = await teams.get_or_create(session=session, name=team, now=running.deps.clock())
        await teams.set_member(session=session, user_id=user, team=found, now=running.deps.clock())


async def _admin(
    sender: SlackSender, running: RunningApp, slack: FakeSlack, text: str, user: str = "U0ADMIN"
) -> str:
    sent = await sender.command("/ai-coe", text, user_id=user)
    await running.settle()
    return message_text(slack.responses_for(sent.response_url or "")[-1].body)


async def test_a_team_default_tier_is_assumed_and_said(
    sender: SlackSender, running: RunningApp, slack: FakeSlack
) -> None:
    await _join(running, "U0ALICE", "payments")
    map_it = "teams map payments tier=regulated"
    assert "for CoE admins only" in await _admin(sender, running, slack, map_it, "U0BOB")
    unknown = await _admin(sender, running, slack, "teams map payments tier=secret")
    assert "is not a tier of the policy pack" in unknown
    assert running.deps.team_tiers.of("U0ALICE") is None

    mapped = await _admin(sender, running, slack, map_it)
    assert "answered for *Regulated (PCI, HIPAA, SOX, ...)* systems" in mapped

    sent = await sender.command("/ai-policy", "cursor for the shipping cost calculation")
    lines = render_message(sent.json()).splitlines()
    assert lines[0] == f"{NOT_ALLOWED} — *Cursor Business* is not approved for *Regulated* systems."
    assert lines[1] == "_Assumed *Regulated* (payments team default)._"
    said = await sender.command(
        "/ai-policy", "cursor for the shipping cost calculation, internal tool"
    )
    assert render_message(said.json()).startswith(
        f"{ALLOWED} — *Business logic* code in an *Internal tooling* system."
    )
    other = await sender.command(
        "/ai-policy", "cursor for the shipping cost calculation", user_id="U0CAROL"
    )
    assert message_text(other.json()).startswith("Which tier is this code in?")
    await running.settle()
    first, *_ = await lookups(running)
    assert (first.matched["tier"], first.matched["tier_source"]) == ("regulated", "team")

    cleared = await _admin(sender, running, slack, "teams map payments tier=none")
    assert "has no default tier now" in cleared
    again = await sender.command("/ai-policy", "cursor for the shipping cost calculation")
    assert message_text(again.json()).startswith("Which tier is this code in?")


async def test_a_csv_giving_one_team_two_tiers_names_both_lines(running: RunningApp) -> None:
    from bot.services import teams

    csv = (
        "user_id,team,is_champion,topics,tier\n"
        "U0ALICE,payments,false,,regulated\n"
        "U0BOB,payments,false,,internal\n"
        "U0CAROL,web,false,,customer-facing\n"
        "U0DAVE,web,false,,\n"
    )
    async with running.deps.sessions.begin() as session:
        report = await teams.import_rows(
            session=session,
            rows=teams.read_csv(csv),
            actor="test",
            now=running.deps.clock(),
            known_tiers=["internal", "customer-facing", "regulated"],
        )
        await running.deps.team_tiers.load(session)
    assert report.problems == [
        "lines 2 and 3: team payments has two tiers, “regulated” and “internal”; "
        "its tier was not changed"
    ]
    assert report.tiers == 1
    assert running.deps.team_tiers.of("U0ALICE") is None
    assert running.deps.team_tiers.of("U0DAVE") == ("web", "customer-facing")


def test_a_pilot_tool_asks_whether_the_team_is_enrolled(index: PolicyIndex) -> None:
    text = rendered(index, "amazon q for unit tests in our internal cli")
    assert text.startswith(":question: *Is your team enrolled in the pilot?*")
    enrolled = rendered(index, "amazon q for unit tests in our internal cli", enrolled=True)
    assert enrolled.startswith(f"{ALLOWED} — *Boilerplate* code in an *Internal tooling* system.")
    not_enrolled = rendered(index, "amazon q for unit tests in our internal cli", enrolled=False)
    assert not_enrolled.startswith(f"{NOT_ALLOWED} — *Amazon Q Developer Pro* is a pilot")
    said = rendered(index, "we're in the amazon q pilot, ok for unit tests in our internal cli?")
    assert said.startswith(ALLOWED)
    said_not = rendered(
        index, "amazon q for unit tests in our internal cli, we're not in the pilot"
    )
    assert said_not.startswith(NOT_ALLOWED)


# -- the accuracy floor (what the evaluation set measures; figures in docs/benchmarks.md) --

# Every file meets the targets: at least 95 % of first lines right and none more
# permissive than expected. Both held-out batches were written blind and measured before
# their misses were studied (their blind figures are in docs/benchmarks.md); since then
# they guard against regressions like the rest.
FLOORS = {
    "policy_questions.yaml": {"verdict_accuracy": 0.95, "too_permissive": 0},
    "policy_questions_heldout.yaml": {"verdict_accuracy": 0.95, "too_permissive": 0},
    "policy_questions_heldout2.yaml": {"verdict_accuracy": 0.95, "too_permissive": 0},
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_the_evaluation_set_meets_its_floor(name: str) -> None:
    from benchmarks.policy_eval import DATA, evaluate

    figures = evaluate(DATA / name)
    floor = FLOORS[name]
    assert figures["verdict_accuracy"] >= floor["verdict_accuracy"], figures
    assert figures["too_permissive"] <= floor["too_permissive"], figures
    assert figures["ask_back_rate"] <= 0.15, figures
    assert figures["lines_median"] <= 8, figures


# -- what the ninth batch of evaluation questions taught ----------------------------------


@pytest.mark.parametrize(
    ("question", "first_line"),
    [
        # something a rule forbids, already done: contain and report comes first
        (
            "my teammate ran claude code with --dangerously-skip-permissions on his laptop"
            " yesterday with our aws profile loaded, was that allowed?",
            f"{INCIDENT} — Already done, against the policy: Keep approvals on",
        ),
        (
            "codex agent merged its own pr into main over the weekend bc auto-merge was on. do we"
            " need to do anything?",
            f"{INCIDENT} — Already done, against the policy: Agents never approve or merge",
        ),
        (
            "someone suppressed the semgrep findings on an ai-written auth pr and merged it friday."
            " what now",
            f"{INCIDENT} — Already done, against the policy: The review, label and scans",
        ),
        (
            "a contractor has been using his personal claude pro on our repo for like a week",
            f"{INCIDENT} — Already done, against the policy: Use your company seat",
        ),
        # asking whether a done paste was fine is telling of the paste
        (
            "is it ok that i pasted a couple of real PANs from the chargeback report into copilot"
            " chat? its the enterprise one",
            INCIDENT,
        ),
        # neighbours that ask before doing it, or ask for a change: not incidents
        ("can I run claude code with --dangerously-skip-permissions on my laptop", NOT_ALLOWED),
        (
            "for an AI-touched auth PR, can the AI reviewer count as the second approver if one"
            " human already approved?",
            NOT_ALLOWED,
        ),
        ("how do i get the jira mcp server added", NOT_ALLOWED),
        ("is it ok to paste a couple of PANs into copilot chat", NOT_ALLOWED),
    ],
)
def test_something_forbidden_already_done_is_an_incident(
    index: PolicyIndex, question: str, first_line: str
) -> None:
    text = rendered(index, question)
    assert text.startswith(first_line), text
    if first_line.startswith(f"{INCIDENT} — Already done"):
        assert "*Contain it now*" in text
        assert "security incident process" in text


@pytest.mark.parametrize(
    ("question", "lines"),
    [
        (
            "can i use copilot to write unit tests for heimdall",
            [
                "• *Regulated (PCI, HIPAA, SOX, ...)*: :large_orange_diamond:"
                " *Allowed with review*",
                "• *Customer-facing* or *Internal tooling*: :white_check_mark: *Allowed*",
            ],
        ),
        (
            "is claude code approved",
            [
                "• *Regulated (PCI, HIPAA, SOX, ...)*: :no_entry: *Not allowed* — *Claude Code* is"
                " not approved for *Regulated* systems.",
                "• *Customer-facing* or *Internal tooling*: :white_check_mark: *Allowed*",
            ],
        ),
    ],
)
def test_a_tier_that_changes_the_answer_is_asked_with_each_tiers_answer(
    index: PolicyIndex, question: str, lines: list[str]
) -> None:
    text = rendered(index, question)
    assert text.startswith(ASK_TIER), text
    for line in lines:
        assert line in text.splitlines(), text
    assert "[ Regulated (PCI, HIPAA, SOX, ...) ]  [ Customer-facing ]  [ Internal tooling ]" in text


@pytest.mark.parametrize(
    ("question", "first_line"),
    [
        # the asker names the possible tiers, and they agree: no need to ask
        (
            "can codex write the data migration for the accounts table, not sure if its internal"
            " or customer facing",
            REVIEW,
        ),
        # a tier said in other words
        (
            "can i use copilot to scaffold a new rails engine for the oncall roster app? only SREs"
            " ever touch it",
            ALLOWED,
        ),
        ("regex for email validation in the signup form, w/ cursor", REVIEW),
        # a tool approved everywhere: the tier does not matter
        ("is copilot approved?", ALLOWED),
        # a request that names the tier is answered by that tier's cell
        ("do we need an exception to use copilot for unit tests in the pci repo?", REVIEW),
    ],
)
def test_no_ask_back_where_the_tier_is_known_or_does_not_matter(
    index: PolicyIndex, question: str, first_line: str
) -> None:
    assert rendered(index, question).startswith(first_line)


# -- what the tenth batch taught ----------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "first_line"),
    [
        # a tool not approved there, an unlisted tool, an agent in production: already done
        (
            "yesterday i used cursor on the pci repo to fix a lint error, didnt realise its not"
            " approved there",
            f"{INCIDENT} — Already done, against the policy: *Cursor Business* is not approved",
        ),
        (
            "been using windsurf for ~2 weeks on the internal admin panel before i found out it"
            " isnt approved",
            f"{INCIDENT} — Already done, against the policy: *windsurf* is not on the approved",
        ),
        (
            "suppressed 3 semgrep findings on the ai-written auth code so the pr could make the"
            " release",
            f"{INCIDENT} — Already done, against the policy: The review, label and scans",
        ),
        (
            "teammate gave the cursor agent the prod kube admin context during the on-call mess"
            " last night and it restarted pods in the payments ns",
            f"{INCIDENT} — Already done, against the policy: Agents get no production",
        ),
        # plans, states and past words that are not deeds: the rule, not an incident
        (
            "pm wants a new endpoint on claimsvc (the HIPAA claims service), i was gonna have"
            " claude code bang it out, ok?",
            NOT_ALLOWED,
        ),
        ("copilot for the kyc document upload flow? passport images get stored in s3", NOT_ALLOWED),
        ("amazon q on our internal scripts? we're not in the pilot tho", NOT_ALLOWED),
        ("is codebuddy approved? saw it on hn", NOT_ALLOWED),
        # tests for a checkout follow the security-critical row
        (
            "can i use cursor to write playwright e2e tests for the public shop checkout page?",
            f"{REVIEW} — *Security-critical* code in a *Customer-facing* system.",
        ),
    ],
)
def test_forbidden_deeds_are_incidents_and_plans_are_not(
    index: PolicyIndex, question: str, first_line: str
) -> None:
    assert rendered(index, question).startswith(first_line)


# -- what the eleventh batch taught -------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "first_line"),
    [
        # words quoted as code, placeholders, lists that share a neutraliser: not data
        ("can I paste the error msg `InvalidTokenSignature: token expired` into copilot?", ALLOWED),
        ("db connection string with the password replaced by `<PASSWORD>` — ok to paste?", ALLOWED),
        (
            "ok to paste our `.env.example` (placeholders only, like `STRIPE_KEY=<changeme>`)"
            " into copilot?",
            ALLOWED,
        ),
        (
            "prod logs from the storefront into cursor after I strip the user ids and session"
            " tokens?",
            ALLOWED,
        ),
        # ...while a secret written out, or named outside the quotes, still is
        (
            "can I paste `AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY` into"
            " copilot?",
            NOT_ALLOWED,
        ),
        ("can I paste the prod db password and the error `timeout` into copilot?", NOT_ALLOWED),
        # "to use" a tool is not handing it data
        (
            "Is it ok to use Cursor to rename vars in the JWT validation middleware of our public"
            " API? purely mechanical, no logic change",
            f"{REVIEW} — *Security-critical* code in a *Customer-facing* system.",
        ),
        # a tier phrase's modifier still names the category; its head noun does not
        (
            "any issue using copilot to write a regex that validates UK postcodes on our signup"
            " page?",
            f"{REVIEW} — *Security-critical* code in a *Customer-facing* system.",
        ),
        ("copilot allowed in the hipaa cluster repos?", ALLOWED),
        # "my lead" is a person's manager, not sales leads; a question is not a deed
        (
            "my lead reckons we can use Cursor on the PCI repo as long as Privacy Mode is"
            " enforced — it's only a small refactor. is that right?",
            NOT_ALLOWED,
        ),
        ("is sourcegraph cody approved? we're not in any pilot", NOT_ALLOWED),
        (
            "copilot agent mode with auto-approve switched on for the terraform repo, ok?",
            NOT_ALLOWED,
        ),
        # a skipped security sign-off, already merged, is an incident
        (
            "last sprint I used Copilot to write the new OAuth scopes check for our public API;"
            " it went through normal peer review but nobody from security signed off",
            INCIDENT,
        ),
        ("can the CoE add the Linear MCP server to the allowlist? how do I ask", NOT_ALLOWED),
    ],
)
def test_what_the_eleventh_batch_taught(index: PolicyIndex, question: str, first_line: str) -> None:
    assert rendered(index, question).startswith(first_line)


# -- what the twelfth batch taught --------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "first_line"),
    [
        # another vendor's "copilot" or assistant is not GitHub Copilot
        ("does snowflake copilot / cortex count as an approved tool?", NOT_ALLOWED),
        ("is the databricks assistant allowed?", NOT_ALLOWED),
        ("m365 copilot for summarising the design doc?", NOT_ALLOWED),
        # "already have" and "read-only" are not deeds
        (
            "we already have sourcegraph - is cody fine for searching + asking questions across"
            " the mobile app repos?",
            NOT_ALLOWED,
        ),
        (
            "need an exception so the codex agent can run in CI against a read-only prod db"
            " replica - how do i get that?",
            NOT_ALLOWED,
        ),
        # redacted lists and design tokens are not data
        (
            "ok to paste prod pod logs into copilot chat after I redact the user emails and"
            " tokens?",
            ALLOWED,
        ),
        ("can I paste our design tokens json (colors, spacing, font sizes) into cursor?", ALLOWED),
        # an agent given production access to debug
        (
            "can the cursor agent have my kubeconfig for the prod cluster so it can debug pods"
            " directly?",
            NOT_ALLOWED,
        ),
    ],
)
def test_what_the_twelfth_batch_taught(index: PolicyIndex, question: str, first_line: str) -> None:
    assert rendered(index, question).startswith(first_line)


@pytest.mark.parametrize(
    ("question", "first_line"),
    [
        # a general question that names a tool or code is about the policy's guidance
        (
            "do i need to do some AI training before i use copilot?",
            f"{REVIEW} — Yes: complete the company's AI-coding training",
        ),
        (
            "whats the deal with AI and licences, like what if copilot copies some GPL code?",
            f"{REVIEW} — with an approved tool and your company account",
        ),
        (
            "do the tools train on our code? how long do they keep prompts",
            f"{REVIEW} — with an approved tool and your company account",
        ),
        # ...while a question about doing it is answered for the tool or the data
        ("can i use copilot?", ALLOWED),
        ("can i paste our code into copilot chat?", ALLOWED),
        ("can i paste the training data with customer emails into copilot?", NOT_ALLOWED),
    ],
)
def test_general_questions_get_the_policy_not_a_tool_status(
    index: PolicyIndex, question: str, first_line: str
) -> None:
    assert rendered(index, question).startswith(first_line)


@pytest.mark.parametrize(
    "question",
    [
        "can tabnine help with a few things in the pci repo",
        "can i use cc for some changes in our internal admin tool?",
        "copilot in the customer portal repo, whats the rule",
    ],
)
def test_work_of_no_kind_in_a_named_tier_asks_what_the_code_does(
    index: PolicyIndex, question: str
) -> None:
    text = rendered(index, question)
    assert text.startswith(":question: *What does the code do?*"), text
    # each choice says what it would mean, so the ask-back answers too
    assert all(":" in line for line in text.splitlines()[1:5])
    assert "*Not allowed*" in text or "*Allowed*" in text


@pytest.mark.parametrize(
    ("question", "first_line"),
    [
        ("claude code for a one-off script that bulk relabels jira tickets for my team?", ALLOWED),
        (
            "can i vibe code a hackathon thing w/ cursor? totally throwaway, no customer data",
            ALLOWED,
        ),
        ("is copilot ok in the hipaa cluster", ALLOWED),
    ],
)
def test_named_work_or_a_tool_question_is_not_asked_about(
    index: PolicyIndex, question: str, first_line: str
) -> None:
    assert rendered(index, question).startswith(first_line)


# -- what the held-out half's misses taught (each kind, with neighbours) -----------------

ASK_CATEGORY = ":question: *What does the code do?*"


@pytest.mark.parametrize(
    ("question", "first_line"),
    [
        # a data word naming a feature of code is code, not the data handed over
        (
            "password reset flow for the ios app with ai, thats ok?",
            f"{REVIEW} — *Security-critical* code in a *Customer-facing* system.",
        ),
        ("can copilot write the token refresh handler for the mobile app?", REVIEW),
        ("cursor for the api key rotation job in our internal tooling?", REVIEW),
        # ...while the data itself still may not go in
        ("can i paste the password into copilot chat", f"{NOT_ALLOWED} — Secrets"),
        ("i pasted my api key into chatgpt", f"{INCIDENT} — Secrets"),
        # "in the pilot" and "sandbox account" say where, not what goes into a prompt
        (
            "we're in the amazon q pilot - ok for a terraform module in our internal sandbox acct?",
            f"{REVIEW} — *Security-critical* code in an *Internal tooling* system.",
        ),
        (
            "we're in the amazon q pilot - ok for a terraform module in our internal sandbox?",
            REVIEW,
        ),
        # a setting described as off is a configuration asked about, not a deed told
        (
            "cursor with privacy mode turned off for internal scripts, fine?",
            f"{NOT_ALLOWED} — A tool is approved only as configured",
        ),
        ("copilot with content exclusion disabled on the billing repo, ok?", NOT_ALLOWED),
        ("i turned off privacy mode in cursor yesterday, whats next", INCIDENT),
        ("cursor with privacy mode on for the storefront, ok?", ALLOWED),
        # the whole thing: what the code does decides, so it is asked
        ("hackathon project, can i just vibe code the whole thing with cursor", ASK_CATEGORY),
        ("hackathon project, can i write the entire app with cursor", ASK_CATEGORY),
        ("hackathon project, can cursor write the unit tests", ALLOWED),
        # seats of approved tools: how to get one, and not a personal plan meanwhile
        ("our team has zero ai seats, how do we get some", f"{ALLOWED} — Seats of approved"),
        ("how do i get a copilot seat for our new hire", ALLOWED),
        (
            "my copilot seat is still pending, can i use something else meanwhile?",
            f"{NOT_ALLOWED} — Use your company seat",
        ),
        ("waiting for my seat, can i use my chatgpt plus for now", NOT_ALLOWED),
        # training is a condition of use, and outranks the seat it comes before
        ("do i need training before i get a seat", f"{REVIEW} — Yes: complete"),
        # "zero retention" names a plan, it negates nothing: the tool still counts
        (
            "can we request zero retention for chatgpt so we can use it on the regulated stuff",
            NOT_ALLOWED,
        ),
        # code that moves personal data is data handling, even when no category is named
        (
            "The sales team's CRM sync is internal only but it copies contacts from HubSpot into"
            " our warehouse every night. I need to add a couple of fields. Copilot ok for that?",
            f"{REVIEW} — *Data handling* code in an *Internal tooling* system",
        ),
        # comparing two ways of using a model is a general question
        (
            "is using claude through copilot's model picker any different from using the claude"
            " app directly?",
            REVIEW,
        ),
        (
            "can i pick claude sonnet in the copilot model dropdown or is that a different"
            " approval",
            ALLOWED,
        ),
        # a guidance entry leads with the general verdict, then its question
        (
            "what's prompt injection and should I care when an agent reads our github issues?",
            REVIEW,
        ),
        ("how do I work out which tier my service falls under?", REVIEW),
    ],
)
def test_what_the_held_out_misses_taught(
    index: PolicyIndex, question: str, first_line: str
) -> None:
    text = rendered(index, question)
    assert text.startswith(first_line), text


@pytest.mark.parametrize(
    ("question", "first_line"),
    [
        # "if X is allowed" names a tool the pack does not know
        (
            "anyone know if zencoder is allowed? saw it on HN",
            f"{NOT_ALLOWED} — *zencoder* is not on the approved list.",
        ),
        ("does anyone know whether windsurf is approved", NOT_ALLOWED),
        # a licence for a team is a seat; "who do I talk to" asks for the way
        (
            "who do i talk to about claude code licenses for a team of 6",
            f"{ALLOWED} — Seats of approved tools",
        ),
        # "the repo checkout" is git's, not the payments checkout; the sandbox lifts the rule
        (
            "fyi ran cc with --dangerously-skip-permissions yesterday but inside a throwaway"
            " container, no creds or secrets in it, just the repo checkout. that ok?",
            f"{ALLOWED} — Bypass modes are acceptable only in a disposable sandbox",
        ),
        ("can copilot help with the checkout flow on the storefront", REVIEW),
        # "a shared lib" is a library, not a deed
        ("copilot to do a rename refactor in a shared lib used by our internal tools", ALLOWED),
        ("i shared the api key with chatgpt by mistake", INCIDENT),
        ("we shared the prod db dump with cursor yesterday", INCIDENT),
    ],
)
def test_what_the_second_blind_batch_taught(
    index: PolicyIndex, question: str, first_line: str
) -> None:
    text = rendered(index, question)
    assert text.startswith(first_line), text
