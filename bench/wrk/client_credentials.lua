-- wrk script: client_credentials grant for the benchmark's m2m client.
-- SECRET=... AUDIENCE=... wrk -t1 -c32 -d15s -s bench/wrk/client_credentials.lua http://HOST/oauth/token
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials&client_id=bench-m2m&client_secret=" .. os.getenv("SECRET") ..
  "&audience=" .. os.getenv("AUDIENCE")
