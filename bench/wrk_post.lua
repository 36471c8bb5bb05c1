-- wrk script of bench/run_all.py for the counter's POSTs: every request is a POST of the body
-- given after `--` to the path given there, with the staff session's cookie and CSRF token
-- (one logged-in counter volunteer for every connection); "NONCE" in the body becomes a new
-- random text each time (a debit is told apart from a retry by it). Prints the RESULT line of
-- wrk_paths.lua.
local path, cookie, csrf, content_type, template
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
end

function init(args)
  path, cookie, csrf, content_type, template = args[1], args[2], args[3], args[4], args[5]
  math.randomseed(os.time() * 100 + (thread_number or 1))
  sequence = 0
end

function request()
  sequence = sequence + 1
  local nonce = string.format("w%d-%d-%d", thread_number or 1, sequence, math.random(1, 1e9))
  local body = template:gsub("NONCE", nonce)
  return wrk.format("POST", path, {["Cookie"] = cookie, ["X-CSRFToken"] = csrf,
    ["Content-Type"] = content_type}, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %.3f %d %d %d %d %d\n", summary.requests,
    summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
