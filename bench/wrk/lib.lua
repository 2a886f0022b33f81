-- Shared by the scenario scripts beside this file; driven by bench/wrk_load.py (docs/BENCHMARK.md).
--
-- The bench runs wrk with one connection per thread (-t N -c N). wrk's Lua API has no hook per
-- connection, only per thread, so one connection per thread is what makes each connection a client
-- of its own: its own bearer token, and a closed loop whose request and answer pair up, so the
-- latency measured here is the plain time of each request (wrk's own percentiles add synthetic
-- samples for coordinated omission, which a closed loop does not have).
--
-- Each thread prints "BENCH-STARTED <id>" with its first request (the driver starts counting wrk's
-- CPU once all have, leaving out wrk's start-up). Every thread stops by itself: after the answer that arrives past `duration` seconds (or, with
-- stop_on=CODE, at the first answer with that problem+json code) it prints "BENCH-DRAINED <id>" and
-- stops, so no request is left in flight and every 201 the server committed was seen here. The
-- driver interrupts wrk once every thread has drained. done() prints one "BENCH-THREAD <json>" line
-- per thread (its counts and latencies; "null" for a thread that never drained), and the driver adds
-- them up. Each thread hands done() a single JSON string: wrk 4.1's thread:get() corrupts the
-- thread's Lua stack when it copies a table (it pops one value too many), and crashes now and then.
--
-- Arguments after "--", each key=value: duration (seconds), tokens and flights (files, one value a
-- line), and what the scenario script reads (key_prefix, query, price_low, price_max, unique).

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]])

local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

local bench = {}

function bench.now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) / 1e9
end

local function read_lines(path)
  local lines = {}
  if path then
    for line in io.lines(path) do
      if line ~= "" then
        lines[#lines + 1] = line
      end
    end
  end
  return lines
end

local function parse_args(args)
  local params = {}
  for _, arg in ipairs(args) do
    local key, value = arg:match("^([%w_]+)=(.*)$")
    if key then
      params[key] = value
    end
  end
  return params
end

local function increment(counts, key)
  counts[key] = (counts[key] or 0) + 1
end

local function json_encode(value)
  local kind = type(value)
  if kind == "number" then
    -- %.0f: exact for whole numbers up to 2^53 (timestamps in microseconds), whatever %d's width
    if value == math.floor(value) then
      return string.format("%.0f", value)
    end
    return string.format("%.3f", value)
  elseif kind == "string" then
    return '"' .. value:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
    end) .. '"'
  elseif kind == "table" then
    local parts = {}
    if #value > 0 then
      for index = 1, #value do
        parts[index] = json_encode(value[index])
      end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    for key, item in pairs(value) do
      parts[#parts + 1] = json_encode(tostring(key)) .. ":" .. json_encode(item)
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return "null"
end

-- Lower-cased header lookup: gunicorn sends "Connection", a hyper-based server "connection".
local function header(headers, wanted)
  for name, value in pairs(headers) do
    if name:lower() == wanted then
      return value
    end
  end
  return nil
end

-- build(ctx) runs once per thread, in init(); it returns the function that makes each request.
-- ctx: id (1-based thread number), params, token (this connection's), flights (ids, as strings).
function bench.scenario(build)
  local threads = {}

  function setup(thread)
    threads[#threads + 1] = thread
    thread:set("thread_id", #threads)
  end

  function init(args)
    params = parse_args(args)
    local tokens, flights = read_lines(params.tokens), read_lines(params.flights)
    math.randomseed(thread_id * 7919)
    next_request = build({
      id = thread_id,
      params = params,
      token = #tokens > 0 and tokens[(thread_id - 1) % #tokens + 1] or nil,
      flights = flights,
    })
    stop_on = params.stop_on
    deadline = bench.now() + tonumber(params.duration)
    stopped = false
    sent_at = nil
    -- wrk.c calls request() once on its first thread before starting it, to count pipelined
    -- requests; that request is never sent.
    dry_calls = thread_id == 1 and 1 or 0
    result_json = nil
    counts = { requests = 0, answers = 0, unanswered = 0, pending = 0, closed = 0, first_at = 0, last_at = 0 }
    statuses, codes, cache, latencies_ms = {}, {}, {}, {}
  end

  function request()
    local text = next_request()
    if dry_calls > 0 then
      dry_calls = dry_calls - 1
      return text
    end
    local now = bench.now()
    if sent_at then
      -- the previous request never got its answer (wrk reconnected after a socket error)
      counts.unanswered = counts.unanswered + 1
    elseif counts.requests == 0 then
      counts.first_at = now
      -- one string per write: stdio keeps it whole while other threads write theirs
      io.write("BENCH-STARTED " .. thread_id .. "\n")
      io.stdout:flush()
    end
    counts.requests = counts.requests + 1
    counts.pending = 1
    sent_at = now
    return text
  end

  function response(status, headers, body)
    if stopped then
      return
    end
    if not sent_at then
      error("bench/wrk scripts pair each answer with its request: run wrk with -t N -c N")
    end
    local now = bench.now()
    counts.answers = counts.answers + 1
    latencies_ms[counts.answers] = (now - sent_at) * 1000
    counts.last_at = now
    counts.pending = 0
    sent_at = nil
    increment(statuses, tostring(status))
    local code = nil
    if status >= 400 and body then
      code = body:match('"code"%s*:%s*"([^"]*)"')
      if code then
        increment(codes, code)
      end
    end
    local cache_header = header(headers, "x-cache")
    if cache_header then
      increment(cache, cache_header)
    end
    local connection = header(headers, "connection")
    if connection and connection:lower() == "close" then
      counts.closed = counts.closed + 1
    end
    if now >= deadline or (stop_on and code == stop_on) then
      stopped = true
      io.write("BENCH-DRAINED " .. thread_id .. "\n")
      io.stdout:flush()
      wrk.thread:stop()
      counts.first_at = math.floor(counts.first_at * 1e6) -- microseconds, whole
      counts.last_at = math.floor(counts.last_at * 1e6)
      counts.statuses, counts.codes, counts.cache, counts.latencies_ms = statuses, codes, cache, latencies_ms
      result_json = json_encode(counts)
    end
  end

  function done(summary, latency, requests)
    for _, thread in ipairs(threads) do
      io.write("BENCH-THREAD " .. (thread:get("result_json") or "null") .. "\n")
    end
    io.write("BENCH-ERRORS " .. json_encode(summary.errors) .. "\n")
  end
end

return bench
