-- The start of every wrk script of bench.run and bench.caching (run.LUA_COMMON).
local function pick(list) return list[math.random(#list)] end
local serial = 0
local function idempotency_key()
  serial = serial + 1
  return string.format("bench-%d-%d-%d", os.time(), math.random(1, 2147483647), serial)
end
init = function(args) math.randomseed(os.time() + math.floor(os.clock() * 1e6)) end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"errors":%d,"status_errors":%d,' ..
    '"p50_us":%d,"p99_us":%d,"bytes":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout + e.status,
    e.status, latency:percentile(50), latency:percentile(99), summary.bytes))
end
local function keyed(path, key, body)
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. key,
    ["Idempotency-Key"] = idempotency_key(), ["Content-Type"] = "application/json"}, body)
end
