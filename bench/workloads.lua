-- wrk's side of bench/workloads.ts: the same request streams, over a table seeded by bench/seed.ts.
-- Arguments (after --): customers workload run-id cursor phone-style threads [api-key]
--   cursor: the highest customer merge may use (merges walk down from it, untouched; an extension
--           adds a fresh phone to any customer with an email, so it uses none up);
--   phone-style: "seeded" (as seeded) or "indian" (as bench/seed.ts's indianPhoneAsTyped writes it).
-- Each thread takes its own share of fresh identifiers and untouched customers (thread i of n the
-- customers i-1 below the cursor, then every n-th), so no two requests of a run share them.
-- done() prints one line: WORKLOAD_RESULT {json}, with the lowest customer any thread reached.

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  customers = tonumber(args[1])
  workload = args[2]
  run = args[3]
  local cursor = tonumber(args[4])
  phone_style = args[5]
  headers = { ["Content-Type"] = "application/json" }
  stride = tonumber(args[6])
  if args[7] ~= nil and args[7] ~= "" then headers["x-api-key"] = args[7] end
  next_untouched = cursor - (id - 1)
  lowest = cursor + 1
  fresh = 0
  math.randomseed(os.time() * 1000 + id)
end

local function email_of(c)
  if c % 10 == 1 then return nil end
  return "u" .. c .. "@bench.io"
end

local function phone_of(c)
  if c % 10 == 0 then return nil end
  local seeded = "90" .. c
  if phone_style ~= "indian" then return seeded end
  local national = "9" .. string.rep("0", 9 - #seeded) .. seeded
  return "+91 " .. national:sub(1, 5) .. " " .. national:sub(6)
end

-- Digits no seeded value and no autocannon run (bench/workloads.ts) uses: "nw…" emails, "71…"/"61…" phones.
local function fresh_id()
  fresh = fresh + 1
  return run .. id .. string.format("%08d", fresh)
end

-- The next customer of this thread's share that has both an email and a phone.
local function untouched()
  local c = next_untouched
  while c % 10 == 0 or c % 10 == 1 do c = c - stride end
  if c < 2 then error("ran out of untouched customers: seed a larger table") end
  next_untouched = c - stride
  if c < lowest then lowest = c end
  return c
end

local function body(email, phone)
  local fields = {}
  if email then table.insert(fields, '"email":"' .. email .. '"') end
  if phone then table.insert(fields, '"phoneNumber":"' .. phone .. '"') end
  return "{" .. table.concat(fields, ",") .. "}"
end

local function identify(json)
  return wrk.format("POST", "/identify", headers, json)
end

local generators = {
  lookup = function()
    local c = math.random(1, customers)
    return identify(body(email_of(c), phone_of(c)))
  end,
  new = function()
    local n = fresh_id()
    return identify(body("nw" .. n .. "@new.bench.io", "71" .. n))
  end,
  extend = function()
    local c = math.random(1, customers)
    while c % 10 == 1 do c = math.random(1, customers) end -- phone-only customers have no email
    return identify(body(email_of(c), "61" .. fresh_id()))
  end,
  merge = function()
    local older = untouched()
    local newer = untouched()
    return identify(body(email_of(newer), phone_of(older)))
  end,
  details = function()
    local c = math.random(1, customers)
    local email, phone = email_of(c), phone_of(c)
    local query = {}
    if email then table.insert(query, "email=" .. email:gsub("@", "%%40")) end
    if phone then table.insert(query, "phoneNumber=" .. phone:gsub("%+", "%%2B"):gsub(" ", "+")) end
    return wrk.format("GET", "/customers/lookup?" .. table.concat(query, "&"), headers)
  end,
}

-- bench/workloads.ts's mix: 80% lookups, 10% new, 7% extend, 3% merge.
generators.mixed = function()
  local roll = math.random()
  if roll < 0.8 then return generators.lookup() end
  if roll < 0.9 then return generators.new() end
  if roll < 0.97 then return generators.extend() end
  return generators.merge()
end

request = function()
  return generators[workload]()
end

function done(summary, latency, requests)
  local reached = math.huge
  for _, thread in ipairs(threads) do
    local low = thread:get("lowest")
    if low < reached then reached = low end
  end
  local e = summary.errors
  io.write(string.format(
    'WORKLOAD_RESULT {"durationUs":%d,"requests":%d,"non2xx":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeouts":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,"lowestUntouched":%d}\n',
    summary.duration, summary.requests, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, reached))
end
