-- Shared by the lifecycle scripts: the loaders (bananas/queue/broker.py, the TypeScript
-- client's loadScript) put this file in front of each script, after its `#!lua` flags line.

-- Redis server time in epoch milliseconds (the one clock of every deadline and ETA).
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
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
