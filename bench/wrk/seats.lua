-- GET /api/v1/flights/{id}/seats: the seat map, anonymous, a random flight of `flights` per request.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "lib.lua")

bench.scenario(function(ctx)
  local texts = {}
  for index, flight_id in ipairs(ctx.flights) do
    texts[index] = wrk.format("GET", "/api/v1/flights/" .. flight_id .. "/seats")
  end
  return function()
    return texts[math.random(#texts)]
  end
end)
