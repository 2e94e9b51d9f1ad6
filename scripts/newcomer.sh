#!/usr/bin/env bash
# What a new CoE lead does on a fresh clone, as the README's Quick start says: `make run` in
# the background, then every Quick start command against it. Fails on a non-zero exit or a
# traceback anywhere (a command's output, or the server's log). Called by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export PORT
export DATABASE_URL="sqlite+aiosqlite:///${work}/coe-bot.db"
export COE_ADMINS=U0ADMIN COE_API_TOKEN=local-dev-api-token  # the README's .env lines
base="http://127.0.0.1:${PORT}"
bin=.venv/bin/coe-bot

setsid make run >"${work}/serve.log" 2>&1 &  # its own process group: stopped whole
server=$!
stop() {
    kill -TERM -- "-${server}" 2>/dev/null || true
    wait "${server}" 2>/dev/null || true
}
trap stop EXIT

for _ in $(seq 1 240); do  # a fresh clone installs first
    if curl -fsS "${base}/healthz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "${server}" 2>/dev/null; then
        echo "newcomer: make run stopped:" >&2; cat "${work}/serve.log" >&2; exit 1
    fi
    sleep 0.5
done
curl -fsS "${base}/healthz" >/dev/null || { echo "newcomer: no /healthz" >&2; cat "${work}/serve.log" >&2; exit 1; }

step=0
run() {  # run a Quick start command; its output must hold no traceback
    step=$((step + 1))
    echo "== ${step}: $*"
    if ! "$@" >"${work}/out" 2>&1; then
        echo "newcomer: failed: $*" >&2; cat "${work}/out" >&2; exit 1
    fi
    if grep -q "Traceback" "${work}/out"; then
        echo "newcomer: a traceback from: $*" >&2; cat "${work}/out" >&2; exit 1
    fi
    head -c 600 "${work}/out"; echo
}
expect() {  # the last command's output says this
    grep -qF -- "$1" "${work}/out" || { echo "newcomer: expected “$1”" >&2; cat "${work}/out" >&2; exit 1; }
}

run "${bin}" try "/ai-policy can I use copilot on payment code in a regulated service"
run "${bin}" try "/ai-policy"
run "${bin}" try "/ai-coe policy reload" --user U0ADMIN
expect "loaded from"
run "${bin}" prompts import --starter
run "${bin}" try "/prompts unit tests"
run "${bin}" teams template
cp "${work}/out" "${work}/all.txt"
grep -E '^(user_id,|U)' "${work}/all.txt" >"${work}/teams.csv"  # the CSV, not the help
run "${bin}" teams import "${work}/teams.csv"
expect "5 people mapped to teams"
run "${bin}" try "/ask-champion how do I test code that calls an LLM?"
expect "Finding a champion"
run "${bin}" try "/ask-champion queue" --user U0BOB
expect "#1"
run "${bin}" try "/ask-champion claim 1" --user U0BOB
expect "claimed question #1"
run "${bin}" try "/ask-champion answer 1 Record the model's replies once and replay them in tests." --user U0BOB
expect "was sent"
run "${bin}" surveys load
run "${bin}" surveys send monthly-pulse --yes
expect "queued"
for _ in $(seq 1 45); do  # the server starts queued runs every minute
    "${bin}" surveys list >"${work}/out" 2>&1 || true
    if grep -qP "run #\d+\tmanual:\S+\topen\t" "${work}/out"; then break; fi
    sleep 2
done
run "${bin}" surveys list
expect "open"
run "${bin}" try "/ai-coe digest preview" --user U0ADMIN
run "${bin}" export questions --format json
expect "Record the model"
run "${bin}" export lookups --format json
run curl -fsS -H "Authorization: Bearer ${COE_API_TOKEN}" "${base}/api/v1/metrics"
run curl -fsS -H "Authorization: Bearer ${COE_API_TOKEN}" "${base}/api/v1/questions"
expect "\"answered_by\": \"U0BOB\""

# README "Measuring the tools": the demo organisation, a pull, and the figures it gives
run "${bin}" usage demo
expect "Demo organisation: 400 people"
run "${bin}" usage pull
expect "0 records skipped"
run "${bin}" usage pull cursor
expect "0 records skipped"
run "${bin}" usage pull claude-code
expect "0 records skipped"
run "${bin}" usage guardrails
expect "security: spend this month, all tools"
run "${bin}" try "/ai-coe usage" --user U0ADMIN
expect "AI tool use by team"
expect "*Cursor*"
expect "*Claude Code*"
expect "*Spend* · "
run "${bin}" try "/ai-coe usage payments" --user U0ADMIN
run "${bin}" try "/ai-coe usage note security new team onboarding" --user U0ADMIN
run "${bin}" try "/ai-coe usage" --user U0ADMIN
expect ":warning: over its guardrail: spend this month, all tools"
expect "_CoE note_: new team onboarding"
run curl -fsS -H "Authorization: Bearer ${COE_API_TOKEN}" "${base}/api/v1/usage?period=month"
expect "\"active_people\""
grep -qP '"spend_cents": [1-9]' "${work}/out" || { echo "newcomer: no spend in stand-in mode" >&2; exit 1; }
run curl -fsS -H "Authorization: Bearer ${COE_API_TOKEN}" "${base}/api/v1/seats/idle"
run "${bin}" people unmatched
expect "Every GitHub login Copilot reports matches a Slack user."
run "${bin}" try "/ai-coe rollout" --user U0ADMIN
expect "· pilot · started"
run "${bin}" usage pull pull-requests
expect "reverts linked"
run curl -fsS -H "Authorization: Bearer ${COE_API_TOKEN}" "${base}/api/v1/impact"
grep -qF '"enough": true' "${work}/out" || { echo "newcomer: no before/after in /impact" >&2; exit 1; }

# README "The monthly report": a signed link a VP opens, the token route, the offline page
run "${bin}" report link
expect "/reports/monthly?month="
link="$(grep -o 'http://[^ ]*/reports/monthly?[^ ]*' "${work}/out" | head -1)"
run curl -fsS "${link}"
expect "How to read this"
grep -qF '<figure id="chart-impact"><svg' "${work}/out" || { echo "newcomer: no impact chart" >&2; exit 1; }
run curl -fsS -H "Authorization: Bearer ${COE_API_TOKEN}" "${base}/reports/monthly"
expect "AI coding tools — "
run "${bin}" try "/ai-coe report" --user U0ADMIN
expect "The report for"
run "${bin}" report monthly -o "${work}/report.html"
expect "Wrote the report for"

if grep -q "Traceback" "${work}/serve.log"; then
    echo "newcomer: the server logged a traceback:" >&2; cat "${work}/serve.log" >&2; exit 1
fi
echo "newcomer: all ${step} Quick start steps passed"
