-- wrk script of bench/run_all.py: each request GETs the next address of a list (one per line in
-- the file given after `--`), each thread starting at another place in it; at the end, one line
-- "RESULT requests seconds p50_us p95_us p99_us socket_errors non_2xx_3xx" for the runner.
local paths = {}
local next_index = 1
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(paths, line) end
  end
  next_index = ((thread_number or 1) * 7919) % #paths + 1
end

function request()
  local path = paths[next_index]
  next_index = next_index % #paths + 1
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %.3f %d %d %d %d %d\n", summary.requests,
    summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
