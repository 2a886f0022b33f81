-- GET /api/v1/flights?<query>&price=<low>-<max>: the search, anonymous.
-- unique=0: the same query every time (the cached search once the first answer is stored).
-- unique=1: each request's price maximum is a number never sent before, above every fare, so the
-- answer is the same flights but the cache key is new every time (the uncached search). Numbers
-- start at price_max and are spaced THREAD_SPACING apart per thread (far more than one thread sends
-- in a measurement), so no two threads ever repeat one; the driver gives each measurement its own
-- price_max, 1,000,000 apart. The search accepts at most 8 digits before the decimal point.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "lib.lua")

local THREAD_SPACING = 10000

bench.scenario(function(ctx)
  local prefix = "/api/v1/flights?" .. ctx.params.query .. "&price=" .. ctx.params.price_low .. "-"
  local price_max = tonumber(ctx.params.price_max)
  if ctx.params.unique ~= "1" then
    local text = wrk.format("GET", prefix .. price_max)
    return function()
      return text
    end
  end
  local next_max = price_max + ctx.id * THREAD_SPACING
  return function()
    next_max = next_max + 1
    return wrk.format("GET", prefix .. string.format("%d", next_max))
  end
end)
