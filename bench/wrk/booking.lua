-- POST /api/v1/bookings: one passenger, seat assigned by the server, on a random flight of `flights`
-- (one flight: the hot flight). Each connection books as its own user (bearer token); each request
-- carries its own Idempotency-Key: key_prefix (new for every wrk run), the thread and a counter.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "lib.lua")

bench.scenario(function(ctx)
  local bodies = {}
  for index, flight_id in ipairs(ctx.flights) do
    bodies[index] = '{"flight_id": '
      .. flight_id
      .. ', "passengers": [{"first_name": "Bench", "last_name": "C'
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
