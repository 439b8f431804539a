#!lua flags=allow-oom
--[[ promote: the scheduler's step for one queue.
1. Delayed jobs and retries whose time has come move to the `scheduled` lane (a retry's
   error fields go: its failure is in the job's `errors` history).
2. Jobs whose lease ran out (their worker died or lost Redis) go back to the front of the
   lane they came from. A delivery marked `started` (by the worker's lease keeper) ran: it
   keeps its attempt and counts a recovery, and a job recovered more than `max_recoveries`
   times keeps killing its workers: it goes dead as `poison`. A delivery never marked was
   only buffered: its attempt is given back and it is not charged.
   A lost job whose cancellation was requested ends `cancelled` instead. A job that ends
   here releases its unique key and wakes result waiters, as settle does. Each job leaves
   its owner's `owned` set.
3. A lane with work but no wake marker gets one, unless the queue is paused (see below).
4. Dead-set entries older than the dead retention are dropped (their hashes have expired).
5. With ARGV 11, the scheduler's plan: when it will run next (the next ETA, the next lease
   deadline, the deadline of the lease whose marker woke it (ARGV 12; its job may have been
   settled already), or now + ARGV 11 ms, whichever is first; now when a batch was full) is
   written beside the scheduler's wake marker (KEYS 15), so a new lease wakes it only if it is
   due before that.
History: the lost jobs that had started count as recovered (or dead, or cancelled) in the
queue's history (KEYS 14; see `history_add` in _lib.lua); promoting costs nothing there.
KEYS: 1 delayed, 2 inflight, 3 dead, 4 stats, then pairs (lane, lane wake) for
      high, normal, low, scheduled, then 13 paused flag, 14 history, 15 scheduler wake (optional)
ARGV: 1 job key prefix, 2 batch size, 3 dead retention s, 4 max recoveries,
      5 done list prefix, 6 owned key prefix, 7-10 history bucket widths and slots (hour ms,
      day ms, hour slots, day slots), 11 longest sleep ms, 12 waking lease deadline ms or 0
      (both optional)
Returns {promoted, recovered, poisoned, now, next ETA or -1, next lease deadline or -1,
plan or -1} ]]
local now = now_ms()
local batch = tonumber(ARGV[2])
local lanes = {high = 5, normal = 7, low = 9, scheduled = 11}
local woken = {}

local function push_front(lane, id)
  local k = lanes[lane] or lanes.scheduled
  redis.call('RPUSH', KEYS[k], id)
  woken[k] = true
end

local promoted = 0
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, batch)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  local key = ARGV[1] .. id
  if redis.call('EXISTS', key) == 1 then
    clear_failure(key)
    redis.call('HSET', key, 'state', 'queued', 'enqueued_at', now, 'lane', 'scheduled')
    redis.call('LPUSH', KEYS[11], id)
    woken[11] = true
    promoted = promoted + 1
  end
end

local recovered, poisoned, cancelled, charged = 0, 0, 0, 0
local lost = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, batch)
for _, id in ipairs(lost) do
  redis.call('ZREM', KEYS[2], id)
  local key = ARGV[1] .. id
  local f = redis.call('HMGET', key, 'state', 'lane', 'cancel', 'unique', 'waiters', 'name', 'token',
    'started', 'owner', 'attempts')
  if f[1] == 'active' then disown(ARGV[6], f[9], id) end
  if f[1] == 'active' and f[3] then
    redis.call('HSET', key, 'state', 'cancelled', 'reason', 'cancelled', 'finished_at', now)
    end_job(key, id, f[4], f[5], ARGV[3], ARGV[5] .. id)
    cancelled = cancelled + 1
  elseif f[1] == 'active' and f[8] ~= f[7] then  -- buffered, never started: uncharged
    redis.call('HINCRBY', key, 'attempts', -1)
    redis.call('HSET', key, 'state', 'queued', 'enqueued_at', now)
    push_front(f[2], id)
    recovered = recovered + 1
  elseif f[1] == 'active' then
    local n = redis.call('HINCRBY', key, 'recoveries', 1)
    if n > tonumber(ARGV[4]) then
      local error = 'the job was lost with its worker ' .. n .. ' times'
      redis.call('HSET', key, 'state', 'dead', 'reason', 'poison', 'finished_at', now, 'error', error)
      record_failure(key, f[10], 'poison', error, now)
      redis.call('ZADD', KEYS[3], now, id)
      index_add(KEYS[3], 'dead', f[6], id, now)
      end_job(key, id, f[4], f[5], ARGV[3], ARGV[5] .. id)
      poisoned = poisoned + 1
    else
      redis.call('HSET', key, 'state', 'queued', 'enqueued_at', now)
      push_front(f[2], id)
      recovered = recovered + 1
      charged = charged + 1
    end
  end
end
count_losses(KEYS[4], KEYS[14], 7, now, recovered, charged, poisoned, cancelled)

-- Re-arm: a lane holding work without a wake marker (one lost with a fetcher that died or was
-- stopped while holding it) wakes a fetcher here, so idle fetchers never poll the lanes. A
-- paused queue is left asleep (resuming pushes the markers).
if redis.call('EXISTS', KEYS[13]) == 0 then
  for k = 5, 11, 2 do
    if redis.call('LLEN', KEYS[k]) > 0 then woken[k] = true end
  end
end
for k, _ in pairs(woken) do
  if redis.call('LLEN', KEYS[k + 1]) == 0 then redis.call('LPUSH', KEYS[k + 1], '1') end
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[3]) * 1000)
index_trim(KEYS[3], 'dead', now - tonumber(ARGV[3]) * 1000)

local next_eta = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local next_lease = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local plan = -1
if ARGV[11] and KEYS[15] then
  plan = now + tonumber(ARGV[11])
  local eta, lease = tonumber(next_eta[2]), tonumber(next_lease[2])
  if eta and eta < plan then plan = eta end
  if lease and lease < plan then plan = lease end
  local woken_by = tonumber(ARGV[12] or '') or 0
  if woken_by > now and woken_by < plan then plan = woken_by end
  if plan < now then plan = now end
  if promoted == batch or recovered + poisoned == batch then plan = now end
  -- outlives the plan a little: a scheduler that stopped leaves the old rule in charge
  redis.call('SET', scheduler_plan_key(KEYS[15]), plan, 'PX', plan - now + 2000)
end
return {promoted, recovered, poisoned, now, tonumber(next_eta[2] or -1), tonumber(next_lease[2] or -1), plan}
