-- POST /api/v1/bookings: a return trip (two flights in one booking), one passenger, seats assigned by
-- the server, on a random pair of `flights` (given as outbound, return, outbound, return, …). Each
-- connection books as its own user; each request carries its own Idempotency-Key.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "lib.lua")

bench.scenario(function(ctx)
  local bodies = {}
  for index = 1, #ctx.flights - 1, 2 do
    bodies[#bodies + 1] = '{"segments": [{"flight_id": '
      .. ctx.flights[index]
      .. '}, {"flight_id": '
      .. ctx.flights[index + 1]
      .. '}], "passengers": [{"first_name": "Bench", "last_name": "C'
      .. ctx.id
      .. '"}]}'
  end
  local headers = {
    ["Authorization"] = "Bearer " .. ctx.token,
    ["Content-Type"] = "application/json",
  }
  local key_prefix = ctx.params.key_prefix .. "-" .. ctx.id .. "-"
  local sequence = 0
  return function()
    sequence = sequence + 1
    headers["Idempotency-Key"] = key_prefix .. sequence
    return wrk.format("POST", "/api/v1/bookings", headers, bodies[math.random(#bodies)])
  end
end)
