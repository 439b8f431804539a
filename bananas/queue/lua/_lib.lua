-- Shared by the lifecycle scripts: the loaders (bananas/queue/broker.py, the TypeScript
-- client's loadScript) put this file in front of each script, after its `#!lua` flags line.

-- Redis server time in epoch milliseconds (the one clock of every deadline and ETA).
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The one writer of a new job's hash (submit, submit_many, cron_fire): the job's own fields
-- and then `extra` (its first state and that state's fields) in one HSET. Defaults stay out:
-- max_retries and timeout when both are defaults, attempts and token before the first
-- dequeue (readers take absent fields as '' and 0), so a pending hash is small. `sig` is the
-- signed envelope's signature (bananas/signing.py), kept only when there is one.
local function new_job(key, id, name, payload, queue, priority, max_retries, timeout, unique, now,
                       extra, sig)
  local f = {'id', id, 'name', name, 'payload', payload, 'queue', queue, 'priority', priority,
    'created_at', now}
  if max_retries ~= '' or timeout ~= '' then
    f[#f + 1] = 'max_retries'
    f[#f + 1] = max_retries
    f[#f + 1] = 'timeout'
    f[#f + 1] = timeout
  end
  if unique then
    f[#f + 1] = 'unique'
    f[#f + 1] = unique
  end
  if sig and sig ~= '' then
    f[#f + 1] = 'sig'
    f[#f + 1] = sig
  end
  for i = 1, #extra do f[#f + 1] = extra[i] end
  redis.call('HSET', key, unpack(f))
end

-- Attempts' errors: the field `errors` holds the last ERRORS_KEPT failures as a JSON list of
-- {attempt, reason, error (its first ERROR_BYTES bytes), at (ms)}, while the fields error,
-- traceback and reason describe the current state only (retrying, dead, cancelled).
local ERRORS_KEPT = 10
local ERROR_BYTES = 500

-- `text` cut to at most `n` bytes, never inside a UTF-8 sequence.
local function clip(text, n)
  if #text <= n then return text end
  while n > 0 do
    local b = string.byte(text, n + 1)
    if b < 128 or b >= 192 then break end
    n = n - 1
  end
  return string.sub(text, 1, n)
end

-- Add one failure to the job's bounded `errors` history.
local function record_failure(key, attempt, reason, error, at)
  local list = {}
  local raw = redis.call('HGET', key, 'errors')
  if raw then
    local ok, decoded = pcall(cjson.decode, raw)
    if ok and type(decoded) == 'table' then list = decoded end
  end
  list[#list + 1] = {attempt = tonumber(attempt) or 0, reason = reason or 'failed',
    error = clip(error or '', ERROR_BYTES), at = at}
  while #list > ERRORS_KEPT do table.remove(list, 1) end
  redis.call('HSET', key, 'errors', cjson.encode(list))
end

-- The job leaves a failed or waiting state: the fields that described it go (the failure
-- itself stays in `errors`).
local function clear_failure(key)
  redis.call('HDEL', key, 'error', 'traceback', 'reason', 'run_at')
end

-- What a succeeded job keeps: who it was, where, how often it ran, when, and what came of it
-- (plus attempts' errors, recoveries and the workers a handler noted, when there are any).
local SUCCEEDED_KEEPS = {'id', 'name', 'queue', 'priority', 'attempts', 'created_at',
  'enqueued_at', 'started_at', 'errors', 'recoveries', 'workers'}

-- A job succeeded. Its hash is written anew with only SUCCEEDED_KEEPS, the state and the
-- result: the payload and the bookkeeping of a running job (token, owner, lane, ...) go, and
-- so does the hashtable encoding a payload over 64 bytes gave it (HDEL would keep that), so
-- the hash is a small listpack again. With `keep_payload` (the servers' retention, or the
-- job's own field) only the last failure's fields go.
local function succeed(key, now, result, keep_payload)
  if keep_payload or redis.call('HEXISTS', key, 'keep_payload') == 1 then
    clear_failure(key)
    redis.call('HSET', key, 'state', 'succeeded', 'result', result, 'finished_at', now)
    return
  end
  local v = redis.call('HMGET', key, unpack(SUCCEEDED_KEEPS))
  local f = {'state', 'succeeded', 'result', result, 'finished_at', now}
  for i = 1, #SUCCEEDED_KEEPS do
    if v[i] then
      f[#f + 1] = SUCCEEDED_KEEPS[i]
      f[#f + 1] = v[i]
    end
  end
  redis.call('DEL', key)
  redis.call('HSET', key, unpack(f))
end

-- A job reached a final state: keep its hash for `ttl` seconds, release its unique key if it
-- still holds it, and wake result waiters (only when someone waits) on its `done` list.
local function end_job(key, id, unique, waiters, ttl, done)
  redis.call('EXPIRE', key, ttl)
  if unique and redis.call('GET', unique) == id then redis.call('DEL', unique) end
  if waiters then
    redis.call('LPUSH', done, '1')
    redis.call('EXPIRE', done, ttl)
  end
end

-- In-flight jobs by owner: `<owned prefix><owner>` is a SET of the ids a worker process holds
-- (taken, handed to it, or running), so recovering a dead process costs what it held.
local function own(prefix, owner, ids)
  for s = 1, #ids, 4000 do -- unpack is bounded by the Lua stack
    redis.call('SADD', prefix .. owner, unpack(ids, s, math.min(s + 3999, #ids)))
  end
end

local function disown(prefix, owner, id)
  if owner then redis.call('SREM', prefix .. owner, id) end
end

-- When the schedulers of a queue plan to wake (Redis time, ms): written by promote (its next
-- ETA, next lease deadline or longest sleep, whichever is first), beside the scheduler's wake
-- marker (same hash tag), as QueueKeys.scheduler_plan names it in Python.
local function scheduler_plan_key(wake)
  return string.match(wake, '^({[^}]*})') .. ':scheduler:plan'
end

-- A lease deadline is about to enter the in-flight set: wake a scheduler only if it would
-- otherwise sleep past it. A lease deadline is now + lease time, so in a stream of jobs each
-- new one is later than the plan and sends no marker; without a plan (no scheduler has run,
-- or it stopped), compare with the earliest lease in flight.
local function lease_added(inflight, deadline, wake)
  if redis.call('LLEN', wake) > 0 then return end
  local plan = redis.call('GET', scheduler_plan_key(wake))
  -- the marker is the deadline: the scheduler plans for it even if the job ends before it looks
  if plan then
    if deadline < tonumber(plan) then redis.call('LPUSH', wake, deadline) end
    return
  end
  local first = redis.call('ZRANGE', inflight, 0, 0, 'WITHSCORES')
  if first[2] == nil or deadline < tonumber(first[2]) then
    redis.call('LPUSH', wake, deadline)
  end
end

-- Search indexes (docs/ARCHITECTURE.md, "Search indexes"): `T:idx:dead` and `T:idx:succeeded`,
-- ZSETs of '<name>\n<id>' scored by the time (ms) the job ended, so a name filter is a string
-- match on the member, with no read of the job hash. The key is built from the tag of any key
-- of the same queue (same slot), as QueueKeys.index does in Python.
local SUCCEEDED_INDEX_CAP = 10000

local function index_key(queue_key, state)
  return string.match(queue_key, '^({[^}]*})') .. ':idx:' .. state
end

local function index_add(queue_key, state, name, id, at)
  redis.call('ZADD', index_key(queue_key, state), at, (name or '') .. '\n' .. id)
end

local function index_remove(queue_key, state, name, id)
  redis.call('ZREM', index_key(queue_key, state), (name or '') .. '\n' .. id)
end

-- Drop entries older than `cutoff` ms and, when `cap` is given, all but the newest `cap`.
local function index_trim(queue_key, state, cutoff, cap)
  local key = index_key(queue_key, state)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. cutoff)
  if cap then redis.call('ZREMRANGEBYRANK', key, 0, -(cap + 1)) end
end

-- History (docs/ARCHITECTURE.md, "History"): per queue one STRING of two rings, the minute
-- ring (`slots` buckets of `width` ms) from byte 0 and the quarter ring after it; each bucket
-- is HISTORY_SLOT bytes, big-endian (bananas/queue/history.py reads the same layout):
--   0 bucket number mod (2^32 - 1), plus 1 (u32, never 0; a slot holding another number is
--     stale)
--   4 succeeded, 8 retried, 12 dead, 16 cancelled, 20 recovered (u32 each)
--   24 longest wait, 28 longest run (u32, ms rounded up), 32 wait sum, 40 run sum (i64, us)
--   48 wait histogram, then run histogram: HISTORY_BINS u32 counts each
-- Bin 0 holds samples under HISTORY_BASE_MS; bin b, those from HISTORY_BASE_MS * 2^((b-1)/2)
-- up to the next (half-octave bins: a percentile read from them is within 19%); the last is
-- open-ended. Scripts write the current minute only; when a minute's slot comes round again
-- its old minute is first added to its quarter (`history_fold`), so each minute is counted in
-- exactly one place: still in the minute ring, or folded into the quarter ring (the reader
-- adds the two). The string is made at full size on the first write (SET: no growth slack)
-- and never grows, so a queue's history costs the same bytes from its first job on; it
-- expires one quarter after its last minute went stale.
local HISTORY_SLOT = 504
local HISTORY_BINS = 57
local HISTORY_BASE_MS = 0.25
local HISTORY_LN_STEP = math.log(2) / 2
local HISTORY_WRAP = 4294967295
local HISTORY_FIELDS = '>' .. string.rep('I4', 8) .. 'i8i8' .. string.rep('I4', 2 * HISTORY_BINS)

local function history_tally()
  return {ok = 0, retry = 0, dead = 0, cancelled = 0, recovered = 0, wait_max = 0, run_max = 0,
    wait_sum = 0, run_sum = 0, wait = {}, run = {}}
end

local function history_bin(ms)
  if ms < HISTORY_BASE_MS then return 0 end
  local b = math.floor(math.log(ms / HISTORY_BASE_MS) / HISTORY_LN_STEP) + 1
  if b >= HISTORY_BINS then return HISTORY_BINS - 1 end
  return b
end

-- One attempt a worker finished: how long it waited from ready to start and ran (ms; the
-- sums stay in ms until they are written, in us).
local function history_sample(t, wait_ms, run_ms)
  if wait_ms < 0 then wait_ms = 0 end
  if run_ms < 0 then run_ms = 0 end
  t.wait_sum = t.wait_sum + wait_ms
  t.run_sum = t.run_sum + run_ms
  if wait_ms > t.wait_max then t.wait_max = wait_ms end
  if run_ms > t.run_max then t.run_max = run_ms end
  local w, r = history_bin(wait_ms), history_bin(run_ms)
  t.wait[w] = (t.wait[w] or 0) + 1
  t.run[r] = (t.run[r] or 0) + 1
end

-- The stored number of bucket `b`, and bucket `b`'s number back from a stored one (the
-- newest bucket up to `now_b` with that number).
local function history_epoch(b)
  return b % HISTORY_WRAP + 1
end

local function history_bucket(epoch, now_b)
  return now_b - (history_epoch(now_b) - epoch) % HISTORY_WRAP
end

-- BITFIELD arguments: `a` gets one subcommand per call.
local function history_op(a, name, kind, bit, n)
  local k = #a
  a[k + 1], a[k + 2], a[k + 3] = name, kind, bit
  if n then a[k + 4] = n end
end

-- Add the minute `raw` (one slot's bytes, bucket `minute` of `hour_ms`) to its quarter in
-- the ring at byte `base`, unless that quarter is older than the ring (then it is dropped).
local function history_fold(key, raw, minute, hour_ms, day_ms, slots, base, now)
  local quarter = math.floor(minute * hour_ms / day_ms)
  if quarter <= math.floor(now / day_ms) - slots then return end
  local v = {struct.unpack(HISTORY_FIELDS, raw)}
  local bit = (base + (quarter % slots) * HISTORY_SLOT) * 8
  local cur = redis.call('BITFIELD', key, 'GET', 'u32', bit, 'GET', 'u32', bit + 192, 'GET', 'u32', bit + 224)
  local a = {'OVERFLOW', 'SAT'}
  if cur[1] ~= history_epoch(quarter) then -- a quarter older than the ring: zero its slot
    redis.call('SETRANGE', key, bit / 8, string.rep('\0', HISTORY_SLOT))
    history_op(a, 'SET', 'u32', bit, history_epoch(quarter))
    cur[2], cur[3] = 0, 0
  end
  for i = 2, 6 do
    if v[i] > 0 then history_op(a, 'INCRBY', 'u32', bit + (i - 1) * 32, v[i]) end
  end
  if v[7] > cur[2] then history_op(a, 'SET', 'u32', bit + 192, v[7]) end
  if v[8] > cur[3] then history_op(a, 'SET', 'u32', bit + 224, v[8]) end
  if v[9] > 0 then history_op(a, 'INCRBY', 'i64', bit + 256, v[9]) end
  if v[10] > 0 then history_op(a, 'INCRBY', 'i64', bit + 320, v[10]) end
  for i = 11, 10 + 2 * HISTORY_BINS do
    if v[i] > 0 then history_op(a, 'INCRBY', 'u32', bit + 384 + (i - 11) * 32, v[i]) end
  end
  if #a > 2 then redis.call('BITFIELD', key, unpack(a)) end
end

-- Add a script's tally to the current minute of the queue's history `key`. ARGV from `at`
-- on: minute bucket ms (0 = no history), quarter bucket ms, minute slots, quarter slots
-- (HistoryShape.script_args in Python). Two BITFIELD calls: one reads the slot's bucket
-- number and maxima, one adds. When the slot held an older minute (once a minute), that
-- minute is folded into its quarter and the slot zeroed first; the first write of all
-- makes the string.
local function history_add(key, at, now, t)
  local hour_ms = tonumber(ARGV[at])
  if hour_ms <= 0 then return end
  local day_ms, hour_slots, day_slots = tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
  local base = hour_slots * HISTORY_SLOT
  local minute = math.floor(now / hour_ms)
  local epoch = history_epoch(minute)
  local byte = (minute % hour_slots) * HISTORY_SLOT
  local bit = byte * 8
  local cur = redis.pcall('BITFIELD', key, 'GET', 'u32', bit, 'GET', 'u32', bit + 192, 'GET', 'u32', bit + 224)
  if cur.err then return end -- not a string (written by hand): the jobs settle, uncounted
  local a = {'OVERFLOW', 'SAT'}
  if cur[1] ~= epoch then
    local total, ttl = base + day_slots * HISTORY_SLOT, day_slots * day_ms + day_ms
    if redis.call('STRLEN', key) ~= total then -- no history yet (or of another shape)
      redis.call('SET', key, string.rep('\0', total), 'PX', ttl)
    else
      if cur[1] ~= 0 then
        history_fold(key, redis.call('GETRANGE', key, byte, byte + HISTORY_SLOT - 1),
          history_bucket(cur[1], minute), hour_ms, day_ms, day_slots, base, now)
        redis.call('SETRANGE', key, byte, string.rep('\0', HISTORY_SLOT))
      end
      redis.call('PEXPIRE', key, ttl)
    end
    history_op(a, 'SET', 'u32', bit, epoch)
    cur[2], cur[3] = 0, 0
  end
  if t.ok > 0 then history_op(a, 'INCRBY', 'u32', bit + 32, t.ok) end
  if t.retry > 0 then history_op(a, 'INCRBY', 'u32', bit + 64, t.retry) end
  if t.dead > 0 then history_op(a, 'INCRBY', 'u32', bit + 96, t.dead) end
  if t.cancelled > 0 then history_op(a, 'INCRBY', 'u32', bit + 128, t.cancelled) end
  if t.recovered > 0 then history_op(a, 'INCRBY', 'u32', bit + 160, t.recovered) end
  local top = math.min(math.ceil(t.wait_max), HISTORY_WRAP)
  if top > cur[2] then history_op(a, 'SET', 'u32', bit + 192, top) end
  top = math.min(math.ceil(t.run_max), HISTORY_WRAP)
  if top > cur[3] then history_op(a, 'SET', 'u32', bit + 224, top) end
  if t.wait_sum > 0 then history_op(a, 'INCRBY', 'i64', bit + 256, math.floor(t.wait_sum * 1000)) end
  if t.run_sum > 0 then history_op(a, 'INCRBY', 'i64', bit + 320, math.floor(t.run_sum * 1000)) end
  for b, n in pairs(t.wait) do history_op(a, 'INCRBY', 'u32', bit + 384 + 32 * b, n) end
  for b, n in pairs(t.run) do history_op(a, 'INCRBY', 'u32', bit + 384 + 32 * (HISTORY_BINS + b), n) end
  redis.call('BITFIELD', key, unpack(a))
end

-- Count the jobs a recovery handed back into the queue's stats hash (`returned`: put back in a
-- lane) and its history (`charged`: the started ones among them), with those it poisoned and
-- those it ended cancelled (promote.lua and recover.lua).
local function count_losses(stats, history, shape_at, now, returned, charged, poisoned, cancelled)
  if returned > 0 then redis.call('HINCRBY', stats, 'recovered', returned) end
  if poisoned > 0 then redis.call('HINCRBY', stats, 'dead', poisoned) end
  if cancelled > 0 then redis.call('HINCRBY', stats, 'cancelled', cancelled) end
  if charged + poisoned + cancelled > 0 then
    local tally = history_tally()
    tally.recovered, tally.dead, tally.cancelled = charged, poisoned, cancelled
    history_add(history, shape_at, now, tally)
  end
end
