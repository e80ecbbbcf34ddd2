-- wrk's side of bench/overload.ts: the lookup, new and details workloads of bench/workloads.ts,
-- over a table seeded by bench/seed.ts. Arguments (after --): customers workload run-id.
-- done() prints one line: OVERLOAD_RESULT {json}.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  customers = tonumber(args[1])
  workload = args[2]
  run = args[3]
  math.randomseed(os.time() * 1000 + id)
end

local function email_of(c)
  if c % 10 == 1 then return nil end
  return "u" .. c .. "@bench.io"
end

local function phone_of(c)
  if c % 10 == 0 then return nil end
  return "90" .. c
end

local json_headers = { ["Content-Type"] = "application/json" }

request = function()
  if workload == "new" then
    counter = counter + 1
    local n = run .. id .. string.format("%08d", counter)
    return wrk.format("POST", "/identify", json_headers, '{"email":"n' .. n .. '@new.bench.io","phoneNumber":"7' .. n .. '"}')
  end
  local c = math.random(1, customers)
  local email, phone = email_of(c), phone_of(c)
  if workload == "details" then
    local query = {}
    if email then table.insert(query, "email=" .. email:gsub("@", "%%40")) end
    if phone then table.insert(query, "phoneNumber=" .. phone) end
    return wrk.format("GET", "/customers/lookup?" .. table.concat(query, "&"))
  end
  local fields = {}
  if email then table.insert(fields, '"email":"' .. email .. '"') end
  if phone then table.insert(fields, '"phoneNumber":"' .. phone .. '"') end
  return wrk.format("POST", "/identify", json_headers, "{" .. table.concat(fields, ",") .. "}")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'OVERLOAD_RESULT {"durationUs":%d,"requests":%d,"non2xx":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeouts":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d}\n',
    summary.duration, summary.requests, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
