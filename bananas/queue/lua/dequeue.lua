#!lua flags=allow-oom
--[[ dequeue: take up to `count` jobs, lanes in the order given, each leased in one step.
Runs at maxmemory too: it only moves ids (plus a few hash fields), and taking jobs is how a
full Redis drains; submits are refused there instead.
Every taken job gets a new fencing token, one more attempt, state active, an entry in the
in-flight set scored by its lease deadline and one in its owner's `owned` set (what recovery
of the owner reads). An id whose hash is gone (expired, or garbage pushed by hand) is
dead-lettered with a reason instead of being handed out; an id whose job is no longer queued
(cancelled, a stray duplicate) is dropped from the lane.
A paused queue (KEYS 4 exists) hands out nothing: one EXISTS, so pausing costs the hot path
almost nothing and takes effect on the next dequeue of every worker.
Hand-off (see submit.lua): a fetcher that may be registered as a waiter (ARGV 7 = '1') leaves
every waiter set of its lanes here, and takes what submit pushed onto its mailbox meanwhile
(those jobs are already leased to it: their lease is renewed; one taken back since is
dropped). When this call drains its lanes (takes fewer than `count`) and ARGV 8 > 0 it
registers the fetcher again, until now + ARGV 8 ms (not while paused): the fetcher blocks
next, without another round trip to register.
A lease earlier than every other in flight wakes a scheduler (KEYS 5), which sleeps until
the earliest deadline it knows of.
KEYS: 1 inflight, 2 dead, 3 stats, 4 paused flag, 5 scheduler wake,
      then triples (lane, lane wake, lane waiters) in priority order
ARGV: 1 count, 2 lease ms, 3 owner, 4 job key prefix, 5 dead retention seconds,
      6 waiter ('' = none), 7 '1' when it may be registered, 8 registration ms (0 = none),
      9 its mailbox, 10 owned key prefix
Returns {k, k mailbox items (encoded as in submit.lua), then 11 entries a job:
  id, token, attempts, name, payload, priority, max_retries, timeout, enqueued_at, signature,
  recoveries (times lost with a worker that ran it), then
  1 when the fetcher is registered now, else 0} ]]
local now, deadline = nil, nil
local function clock() -- read once, and not at all by a paused queue's dequeue
  if not now then
    now = now_ms()
    deadline = now + tonumber(ARGV[2])
  end
end
local count = tonumber(ARGV[1])
local out = {0}
local n = 0
if ARGV[7] == '1' then
  for i = 8, #KEYS, 3 do redis.call('ZREM', KEYS[i], ARGV[6]) end
  local items = redis.call('LRANGE', ARGV[9], 0, -1)
  if #items > 0 then
    redis.call('DEL', ARGV[9])
    clock()
    for j = #items, 1, -1 do -- oldest first
      local id, token = string.match(items[j], '^([^\n]+)\n([^\n]+)\n')
      if id then
        local f = redis.call('HMGET', ARGV[4] .. id, 'state', 'token', 'owner')
        if f[1] == 'active' and f[2] == token and f[3] == ARGV[3] then
          redis.call('ZADD', KEYS[1], 'XX', deadline, id)
          out[#out + 1] = items[j]
          n = n + 1
        end
      end
    end
    out[1] = n
  end
end
if redis.call('EXISTS', KEYS[4]) == 1 then
  out[#out + 1] = 0
  return out
end
clock()
local leased, taken = {}, {}
for i = 6, #KEYS, 3 do
  while n < count do
    local id = redis.call('RPOP', KEYS[i])
    if not id then break end
    local key = ARGV[4] .. id
    local f = redis.call('HMGET', key, 'name', 'payload', 'priority', 'max_retries', 'timeout',
      'enqueued_at', 'state', 'attempts', 'token', 'sig', 'recoveries')
    if not f[1] then
      redis.call('HSET', key, 'id', id, 'state', 'dead', 'reason', 'missing',
        'error', 'job id found in a lane without its job hash', 'finished_at', now)
      redis.call('EXPIRE', key, ARGV[5])
      redis.call('ZADD', KEYS[2], now, id)
      index_add(KEYS[2], 'dead', '', id, now)
      redis.call('HINCRBY', KEYS[3], 'dead', 1)
    elseif f[7] == 'queued' then
      -- one HSET instead of two HINCRBYs and an HSET: Redis CPU is the budget under load
      local attempts = (tonumber(f[8]) or 0) + 1
      local token = (tonumber(f[9]) or 0) + 1
      redis.call('HSET', key, 'state', 'active', 'started_at', now, 'owner', ARGV[3],
        'attempts', attempts, 'token', token)
      leased[#leased + 1] = deadline
      leased[#leased + 1] = id
      taken[#taken + 1] = id
      out[#out + 1] = id
      out[#out + 1] = token
      out[#out + 1] = attempts
      for j = 1, 6 do out[#out + 1] = f[j] or '' end
      out[#out + 1] = f[10] or ''
      out[#out + 1] = f[11] or '0'
      n = n + 1
    end
    -- any other state (cancelled, a stray duplicate id) is dropped from the lane
  end
end
-- Every taken job enters the in-flight set and its owner's set in this same script: one
-- ZADD and one SADD per slice (unpack is bounded by the Lua stack).
if #taken > 0 then
  lease_added(KEYS[1], deadline, KEYS[5])
  own(ARGV[10], ARGV[3], taken)
end
for s = 1, #leased, 4000 do
  redis.call('ZADD', KEYS[1], unpack(leased, s, math.min(s + 3999, #leased)))
end
-- Drained the lanes: register as a waiter of each lane; drop expired registrations (of
-- fetchers that vanished with their host) while here.
local registered = 0
if n < count and (tonumber(ARGV[8]) or 0) > 0 then
  for i = 8, #KEYS, 3 do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
    redis.call('ZADD', KEYS[i], now + tonumber(ARGV[8]), ARGV[6])
  end
  registered = 1
end
-- Pass the baton: a lane still holding work wakes another idle fetcher.
for i = 6, #KEYS, 3 do
  if redis.call('LLEN', KEYS[i]) > 0 and redis.call('LLEN', KEYS[i + 1]) == 0 then
    redis.call('LPUSH', KEYS[i + 1], '1')
  end
end
out[#out + 1] = registered
return out
