-- GET /api/v1/auth/me, each connection with its own user's bearer token: the cheapest authenticated
-- request, the yardstick every other figure is divided by.
local bench = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "lib.lua")

bench.scenario(function(ctx)
  local text = wrk.format("GET", "/api/v1/auth/me", { Authorization = "Bearer " .. ctx.token })
  return function()
    return text
  end
end)
