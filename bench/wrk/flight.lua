-- GET /api/v1/flights/{id}: flight detail, anonymous (browsing needs no sign-in), a random flight
-- of `flights` per request.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "lib.lua")

bench.scenario(function(ctx)
  local texts = {}
  for index, flight_id in ipairs(ctx.flights) do
    texts[index] = wrk.format("GET", "/api/v1/flights/" .. flight_id)
  end
  return function()
    return texts[math.random(#texts)]
  end
end)
