-- wrk script: authorization_code exchanges, one prepared code per request,
-- read from the file $CODES (one "code verifier redirect_uri" line each, as
-- `go run ./bench --serve` writes them). Every code is single use, so a run
-- longer than the file allows reports non-2xx answers once it runs out.
-- CODES=... wrk -t1 -c32 -d15s -s bench/wrk/code.lua http://HOST/oauth/token
local lines = {}
for line in io.lines(os.getenv("CODES")) do lines[#lines + 1] = line end
local next = 1

local function esc(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

request = function()
  local line = lines[next]
  next = next + 1
  if not line then line = "exhausted x http://x/" end
  local code, verifier, redirect = line:match("^(%S+) (%S+) (%S+)$")
  local body = "grant_type=authorization_code&client_id=bench-spa&code=" .. esc(code) ..
    "&code_verifier=" .. esc(verifier) .. "&redirect_uri=" .. esc(redirect)
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
