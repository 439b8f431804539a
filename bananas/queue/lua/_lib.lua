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
