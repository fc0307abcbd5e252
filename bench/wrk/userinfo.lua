-- wrk script: GET /userinfo with the access token in $TOKEN.
-- TOKEN=... wrk -t1 -c32 -d15s -s bench/wrk/userinfo.lua http://HOST/userinfo
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
