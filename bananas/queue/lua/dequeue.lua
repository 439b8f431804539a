#!lua flags=allow-oom
--[[ dequeue: take up to `count` jobs, lanes in the order given, each leased in one step.
Runs at maxmemory too: it only moves ids (plus a few hash fields), and taking jobs is how a
full Redis drains; submits are refused there instead.
Every taken job gets a new fencing token, one more attempt, state active, and an entry in
the in-flight set scored by its lease deadline. An id whose hash is gone (expired, or
garbage pushed by hand) is dead-lettered with a reason instead of being handed out.
A paused queue (KEYS 4 exists) hands out nothing: one EXISTS, so pausing costs the hot path
almost nothing and takes effect on the next dequeue of every worker.
KEYS: 1 inflight, 2 dead, 3 stats, 4 paused flag, then pairs (lane, lane wake) in priority order
ARGV: 1 count, 2 lease ms, 3 owner, 4 job key prefix, 5 dead retention seconds
Returns a flat list, 9 entries a job:
  id, token, attempts, name, payload, priority, max_retries, timeout, enqueued_at ]]
if redis.call('EXISTS', KEYS[4]) == 1 then return {} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local count = tonumber(ARGV[1])
local deadline = now + tonumber(ARGV[2])
local out = {}
local leased = {}
local n = 0
for i = 5, #KEYS, 2 do
  while n < count do
    local id = redis.call('RPOP', KEYS[i])
    if not id then break end
    local key = ARGV[4] .. id
    local f = redis.call('HMGET', key, 'name', 'payload', 'priority', 'max_retries', 'timeout',
      'enqueued_at', 'state', 'attempts', 'token')
    if not f[1] then
      redis.call('HSET', key, 'id', id, 'state', 'dead', 'reason', 'missing',
        'error', 'job id found in a lane without its job hash', 'finished_at', now)
      redis.call('EXPIRE', key, ARGV[5])
      redis.call('ZADD', KEYS[2], now, id)
      redis.call('HINCRBY', KEYS[3], 'dead', 1)
    elseif f[7] == 'queued' then
      -- one HSET instead of two HINCRBYs and an HSET: Redis CPU is the budget under load
      local attempts = (tonumber(f[8]) or 0) + 1
      local token = (tonumber(f[9]) or 0) + 1
      redis.call('HSET', key, 'state', 'active', 'started_at', now, 'owner', ARGV[3],
        'attempts', attempts, 'token', token)
      leased[#leased + 1] = deadline
      leased[#leased + 1] = id
      out[#out + 1] = id
      out[#out + 1] = token
      out[#out + 1] = attempts
      for j = 1, 6 do out[#out + 1] = f[j] or '' end
      n = n + 1
    end
    -- any other state (cancelled, a stray duplicate id) is dropped from the lane
  end
end
-- Every taken job enters the in-flight set in this same script: one ZADD per slice
-- (unpack is bounded by the Lua stack).
for s = 1, #leased, 4000 do
  redis.call('ZADD', KEYS[1], unpack(leased, s, math.min(s + 3999, #leased)))
end
-- Pass the baton: a lane still holding work wakes another idle fetcher.
for i = 5, #KEYS, 2 do
  if redis.call('LLEN', KEYS[i]) > 0 and redis.call('LLEN', KEYS[i + 1]) == 0 then
    redis.call('LPUSH', KEYS[i + 1], '1')
  end
end
return out
