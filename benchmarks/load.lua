-- wrk script: replays pre-signed Slack slash commands (one per line: ts<TAB>sig<TAB>body).
local reqs = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    local ts, sig, body = line:match("([^\t]+)\t([^\t]+)\t(.*)")
    reqs[#reqs + 1] = wrk.format("POST", "/slack/events", {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Slack-Request-Timestamp"] = ts,
      ["X-Slack-Signature"] = sig,
    }, body)
  end
  i = math.random(#reqs)
end

function request()
  i = i % #reqs + 1
  return reqs[i]
end

function done(summary, latency, requests)
  io.write(string.format(
    "RESULT %d %d %d %d %d %d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
