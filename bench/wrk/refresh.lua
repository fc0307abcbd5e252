-- wrk script: refresh-token rotation. The file $REFRESH holds refresh tokens
-- (one per line, at least as many as connections); each answer's new
-- refresh token goes back into the pool for a later request.
-- REFRESH=... wrk -t1 -c32 -d15s -s bench/wrk/refresh.lua http://HOST/oauth/token
local pool = {}
for line in io.lines(os.getenv("REFRESH")) do pool[#pool + 1] = line end

request = function()
  local token = table.remove(pool, 1) or "exhausted"
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded"},
    "grant_type=refresh_token&client_id=bench-spa&refresh_token=" .. token)
end

response = function(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if token then pool[#pool + 1] = token end
end
