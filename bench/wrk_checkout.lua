-- wrk script of bench/checkout_wrk.py: "add to cart + checkout" on one hot product, what
-- checkout_bench.py's phase 1a clients do, driven by wrk. Run it with -t N -c N: one connection
-- per wrk thread, so each thread's Lua state drives exactly one connection and its requests and
-- answers strictly alternate (the state below is the connection's).
--
--   wrk -t 20 -c 20 -d 25s -s bench/wrk_checkout.lua http://127.0.0.1:PORT \
--       -- PRODUCT_ID ORG_ID SLOT_ID SECONDS PARKING_PORT [COOKIE TOKEN]...
--
-- Each thread first GETs /products/<id>: the template session (the cookie of its Set-Cookie,
-- a session holding a CSRF token and no cart) and the token (the page's csrf_token field);
-- unless the runner fetched them (as checkout_bench.py's clients do before the run): then
-- thread n takes the n-th COOKIE TOKEN pair and starts at once.
-- Then, until SECONDS after that, each iteration is a new shopper: POST /cart/add from the
-- template session, take the new session cookie from the answer's Set-Cookie (the template's
-- when there is none), POST /checkout as a guest with the fields checkout_bench.Client sends;
-- a 303, or a 302 to /payments/, is a checkout, anything else a failure (the next iteration
-- then fetches the template again: the session may have been lost). No iteration starts after
-- the deadline; each thread then says so on stderr (the runner ends wrk once all have) and
-- stops, so every checkout the server made has been answered and counted.
--
-- Parking: gunicorn's sync workers close the connection after each answer and wrk opens a new
-- one at once, before it asks for the next request. A thread that stopped would leave that
-- connection open and idle, and a sync worker that accepts it waits for a request that never
-- comes (until its timeout): 4 finished threads would stall the server for the others. So a
-- finishing thread first points its address at PARKING_PORT on 127.0.0.1, a socket the runner
-- listens on and never accepts from: the last connection goes there.
--
-- Each checkout POST is timed here (clock_gettime(CLOCK_MONOTONIC) through LuaJIT's ffi: from
-- the moment wrk asks for the request, once connected, to the answer's end). done() merges the
-- threads' samples and prints one line for the runner:
--   RESULT checkouts=N seconds=T p50_ms=.. p95_ms=.. p99_ms=.. failures=F iterations=I
--          add_failures=A template_failures=G unfinished=U socket_errors=E requests=R
-- seconds: from the first thread's start (template fetched) to the last thread's last answer.
-- Each thread's SECONDS start there too: with the templates given, when wrk starts them.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } wrk_checkout_timespec;
int clock_gettime(int clock_id, wrk_checkout_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("wrk_checkout_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

-- After this many template fetches in a row without a cookie and a token, the thread gives up.
local MAX_TEMPLATE_FAILURES = 20

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
  table.insert(threads, thread)
end

local function urlencode(value)
  return (tostring(value):gsub("[^%w%-%._~ ]", function(c)
    return string.format("%%%02X", string.byte(c))
  end):gsub(" ", "+"))
end

local function form(fields)
  local parts = {}
  for _, pair in ipairs(fields) do
    parts[#parts + 1] = urlencode(pair[1]) .. "=" .. urlencode(pair[2])
  end
  return table.concat(parts, "&")
end

local function header(headers, name)
  local value = headers[name]
  if value then return value end
  name = name:lower()
  for key, v in pairs(headers) do
    if key:lower() == name then return v end
  end
  return nil
end

local function session_cookie(headers)
  local value = header(headers, "Set-Cookie")
  if not value then return nil end
  local cookie = value:match("^([^;]*)")
  if cookie == nil or cookie == "" then return nil end
  return cookie
end

local function post(path, cookie, body)
  return "POST " .. path .. " HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " .. cookie ..
    "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " .. #body ..
    "\r\n\r\n" .. body
end

local product_id, org_id, slot_id, seconds, parking
local template_request
local state = "template"      -- template, add, checkout, finished
local template_cookie, token, add_request, checkout_body, cart_cookie
local sent_at, deadline
local template_failures_in_a_row = 0

-- What done() reads back from each thread, with thread:get: numbers, booleans and strings
-- only (wrk 4.1's copy of a table pops one value too many from the thread's stack: a crash).
-- The checkout latencies are a text of milliseconds separated by spaces.
checkouts, failures, iterations, add_failures, template_failures = 0, 0, 0, 0, 0
finished, first_ms, last_ms, latency_text = false, nil, nil, ""

-- The template session and token: the requests of every iteration, which can start now.
local function use_template(cookie, found)
  template_cookie, token = cookie, found
  add_request = post("/cart/add", template_cookie, form({
    {"csrf_token", token}, {"product_id", product_id}, {"quantity", 1}}))
  checkout_body = form({
    {"csrf_token", token}, {"name", "Camille Bench"}, {"email", "bench@example.org"},
    {"accept_terms", "y"}, {"slot-" .. org_id, slot_id}})
  if not deadline then
    first_ms = now_ms()
    deadline = first_ms + seconds * 1000
  end
  state = "add"
end

function init(args)
  product_id, org_id, slot_id, seconds = args[1], args[2], args[3], tonumber(args[4])
  if not seconds then
    error("wrk_checkout.lua: arguments PRODUCT_ID ORG_ID SLOT_ID SECONDS PARKING_PORT after --")
  end
  if args[5] and args[5] ~= "" then
    parking = wrk.lookup("127.0.0.1", args[5])[1]
  end
  template_request = "GET /products/" .. product_id .. " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
  local n = thread_number or 1
  if args[4 + 2 * n] and args[5 + 2 * n] then
    use_template(args[4 + 2 * n], args[5 + 2 * n])
  end
end

function request()
  -- wrk calls this once more on the first thread before the run to check the request: it
  -- must not change the state, which only response() moves on.
  if state == "add" then
    sent_at = now_ms()
    return add_request
  elseif state == "checkout" then
    sent_at = now_ms()
    return post("/checkout", cart_cookie, checkout_body)
  end
  -- "template"; and "finished", whose request is never sent (the thread has stopped).
  return template_request
end

local function finish()
  state = "finished"
  finished = true
  if parking then
    wrk.thread.addr = parking  -- wrk's next connection, opened on return, goes there
  end
  io.stderr:write(string.format("wrk_checkout: thread %d finished\n", thread_number or 0))
  wrk.thread:stop()
end

local function end_iteration(failed)
  local ended = now_ms()
  iterations = iterations + 1
  last_ms = ended
  if ended >= deadline then
    finish()
  elseif failed then
    state = "template"  -- the session may have been lost: a new template first
  else
    state = "add"
  end
end

function response(status, headers, body)
  if state == "template" then
    local cookie = session_cookie(headers)
    local found = body and body:match('name="csrf_token"[^>]*value="([^"]+)"')
    if status == 200 and cookie and found then
      template_failures_in_a_row = 0
      use_template(cookie, found)
    else
      template_failures = template_failures + 1
      template_failures_in_a_row = template_failures_in_a_row + 1
      if template_failures_in_a_row >= MAX_TEMPLATE_FAILURES
          or (deadline and now_ms() >= deadline) then
        finish()
      end
    end
  elseif state == "add" then
    if status >= 300 and status < 400 then  -- back to the product page, the cart made
      cart_cookie = session_cookie(headers) or template_cookie
      state = "checkout"
    else
      add_failures = add_failures + 1
      failures = failures + 1
      end_iteration(true)
    end
  elseif state == "checkout" then
    latency_text = latency_text .. string.format("%.3f ", now_ms() - sent_at)
    local location = header(headers, "Location") or ""
    local ok = status == 303 or (status == 302 and location:find("/payments/", 1, true) ~= nil)
    if ok then
      checkouts = checkouts + 1
    else
      failures = failures + 1
    end
    end_iteration(not ok)
  end
end

function done(summary, latency, requests)
  local total = {checkouts = 0, failures = 0, iterations = 0, add_failures = 0,
                 template_failures = 0, unfinished = 0}
  local samples, first, last = {}, nil, nil
  for _, thread in ipairs(threads) do
    for key in pairs(total) do
      if key ~= "unfinished" then total[key] = total[key] + thread:get(key) end
    end
    if not thread:get("finished") then total.unfinished = total.unfinished + 1 end
    local started, ended = thread:get("first_ms"), thread:get("last_ms")
    if started and (not first or started < first) then first = started end
    if ended and (not last or ended > last) then last = ended end
    for value in thread:get("latency_text"):gmatch("%S+") do
      samples[#samples + 1] = tonumber(value)
    end
  end
  table.sort(samples)
  local n = #samples
  -- The percentiles of checkout_bench.summary: the median, and sorted[int(n * q) - 1].
  local function at(q)
    if n == 0 then return 0 end
    return samples[math.max(1, math.floor(n * q))]
  end
  local p50 = 0
  if n > 0 then
    p50 = n % 2 == 1 and samples[(n + 1) / 2] or (samples[n / 2] + samples[n / 2 + 1]) / 2
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT checkouts=%d seconds=%.3f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f failures=%d " ..
    "iterations=%d add_failures=%d template_failures=%d unfinished=%d socket_errors=%d " ..
    "requests=%d\n",
    total.checkouts, (first and last) and (last - first) / 1000 or 0, p50, at(.95), at(.99),
    total.failures, total.iterations, total.add_failures, total.template_failures,
    total.unfinished, e.connect + e.read + e.write + e.timeout, summary.requests))
end
