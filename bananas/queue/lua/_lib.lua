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

-- A lease deadline is about to enter the in-flight set: if it is earlier than every lease
-- there, wake a scheduler (they sleep until the earliest deadline they know of).
local function lease_added(inflight, deadline, wake)
  local first = redis.call('ZRANGE', inflight, 0, 0, 'WITHSCORES')
  if (first[2] == nil or deadline < tonumber(first[2])) and redis.call('LLEN', wake) == 0 then
    redis.call('LPUSH', wake, '1')
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
