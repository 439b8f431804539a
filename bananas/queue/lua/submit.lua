--[[ submit: create a job and put it in its lane, or in the delayed set if it has an ETA.
Idempotent on the job id: a second submit of an existing id changes nothing.
Unique jobs: with a unique key (KEYS 9), a submit while the key's owner is still pending or
running (queued, scheduled, active, retrying) creates nothing and returns the owner's id;
otherwise this job takes the key for `unique_for` seconds (released when it finishes).
Hand-off: when an idle fetcher of the job's lane is registered (dequeue found all its lanes
empty and registered it in `waiters:<lane>`, scored by the registration's expiry), the queue
is not paused and the fetcher's lanes up to this one are still empty (strict priority), the
job is leased to that fetcher here, exactly as dequeue would (attempt 1, token 1, state
active, owner, in-flight entry at now + its lease), the fetcher leaves every waiter set, and
the delivery is pushed onto its mailbox, which it blocks on with its wake markers: one hop
from submit to worker. The mailbox expires with the lease; a delivery nobody reads is
recovered with its owner (recover.lua: the job is in the owner's `owned` set) or its lease
(promote.lua).
KEYS: 1 job hash, 2 lane, 3 lane wake, 4 delayed, 5 scheduler wake, 6 stats, 7 inflight,
      8 paused flag, 9 unique key (optional)
ARGV: 1 id, 2 name, 3 payload (JSON), 4 queue, 5 priority, 6 max_retries ('' = default),
      7 timeout seconds ('' = default), 8 delay ms ('' = none), 9 ETA epoch ms ('' = none),
      10 unique_for seconds ('' without KEYS 9), 11 job key prefix, 12 lane key prefix,
      13 waiters key prefix, 14 mailbox key prefix, 15 owned key prefix,
      16 '1' to keep the payload after success ('' or absent: the servers' retention decides),
      17 the job's signature ('' or absent: unsigned)
A waiter is `<lease ms>|<lanes, comma-separated>|<owner>|<pool>`; a mailbox item is the
delivery dequeue returns, newline-separated, payload last:
  id, token, attempts, name, priority, max_retries, timeout, enqueued_at, signature, payload
Returns {1, state, id} when created ('active' when handed off), {0, state, id} when the id
(or the unique key's owner, whose id is returned) already existed. ]]
local existing = redis.call('HGET', KEYS[1], 'state')
if existing then
  return {0, existing, ARGV[1]}
end
local pending = {queued = true, scheduled = true, active = true, retrying = true}
if KEYS[9] then
  local owner = redis.call('GET', KEYS[9])
  if owner then
    local state = redis.call('HGET', ARGV[11] .. owner, 'state')
    if state and pending[state] then return {0, state, owner} end
  end
  redis.call('SET', KEYS[9], ARGV[1], 'EX', ARGV[10])
end
local now = now_ms()
local run_at = nil
if ARGV[8] ~= '' then
  run_at = now + tonumber(ARGV[8])
elseif ARGV[9] ~= '' then
  run_at = tonumber(ARGV[9])
end
-- The job's hash is written by new_job (_lib.lua), as submit_many and cron_fire write it.
local function create(extra)
  if ARGV[16] == '1' then
    extra[#extra + 1] = 'keep_payload'
    extra[#extra + 1] = '1'
  end
  new_job(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], KEYS[9], now, extra,
    ARGV[17])
end
redis.call('HINCRBY', KEYS[6], 'submitted', 1)
if run_at and run_at > now then
  local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  create({'state', 'scheduled', 'run_at', run_at, 'lane', 'scheduled'})
  redis.call('ZADD', KEYS[4], run_at, ARGV[1])
  -- Schedulers sleep until the earliest ETA they know: wake them if this one is earlier.
  if (first[2] == nil or run_at < tonumber(first[2])) and redis.call('LLEN', KEYS[5]) == 0 then
    redis.call('LPUSH', KEYS[5], '1')
  end
  return {1, 'scheduled', ARGV[1]}
end

-- The idle fetcher to hand this job to, if there is one: {member, lease ms, owner, lanes}.
local function waiter()
  local key = ARGV[13] .. ARGV[5]
  local w = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if not w[1] then return nil end
  if tonumber(w[2]) <= now then
    redis.call('DEL', key) -- the latest registration has expired, so have all the others
    return nil
  end
  if redis.call('EXISTS', KEYS[8]) == 1 then return nil end
  local lease, lanes, owner = string.match(w[1], '^(%d+)|([^|]*)|(.*)|[^|]*$')
  if not lease then
    redis.call('ZREM', key, w[1])
    return nil
  end
  for lane in string.gmatch(lanes, '[^,]+') do
    -- strict priority (and FIFO in the lane): only while the waiter's lanes up to this one
    -- are as empty as it found them
    if redis.call('LLEN', ARGV[12] .. lane) > 0 then return nil end
    if lane == ARGV[5] then break end
  end
  for lane in string.gmatch(lanes, '[^,]+') do redis.call('ZREM', ARGV[13] .. lane, w[1]) end
  return {w[1], tonumber(lease), owner}
end

local w = waiter()
if w then
  create({'state', 'active', 'attempts', 1, 'token', 1, 'enqueued_at', now, 'started_at', now,
    'lane', ARGV[5], 'owner', w[3]})
  lease_added(KEYS[7], now + w[2], KEYS[5])
  redis.call('ZADD', KEYS[7], now + w[2], ARGV[1])
  own(ARGV[15], w[3], {ARGV[1]})
  local box = ARGV[14] .. w[1]
  redis.call('LPUSH', box, table.concat({ARGV[1], 1, 1, ARGV[2], ARGV[5], ARGV[6], ARGV[7], now,
    ARGV[17] or '', ARGV[3]}, '\n'))
  redis.call('PEXPIRE', box, w[2])
  return {1, 'active', ARGV[1]}
end
create({'state', 'queued', 'enqueued_at', now, 'lane', ARGV[5]})
redis.call('LPUSH', KEYS[2], ARGV[1])
if redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('LPUSH', KEYS[3], '1')
end
return {1, 'queued', ARGV[1]}
