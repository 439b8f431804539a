#!lua flags=allow-oom
--[[ recover: the master saw a worker process die; return its in-flight jobs to their lanes
now instead of when their leases run out.
The jobs it was running when it died (the suspects) count a recovery each; a job recovered
more than `max recoveries` times keeps killing its workers and goes dead as `poison`. Jobs
it only held in its buffer go back to the front of their lane with the attempt they were
charged given back. A job whose cancellation was requested ends `cancelled`. A job that
ends here releases its unique key and wakes result waiters, as settle does. Every lane holding work
gets a wake marker (the dead process may have taken one and died before using it), unless
the queue is paused (resuming pushes them). Reads only the dead process's `owned` set:
O(jobs it held), whatever the queue holds in flight besides.
First the dead process's fetchers leave the waiter sets and their mailboxes are deleted, so no
submit hands it a job from now on; the jobs handed to it and never read are in flight under
its name, and come back with the rest (uncharged: it never started them).
History: the jobs it was running count as recovered (or dead, or cancelled) in the queue's
history (KEYS 17; see `history_add` in _lib.lua).
KEYS: 1 inflight, 2 dead, 3 stats, then pairs (lane, lane wake) for
      high, normal, low, scheduled, then 12 paused flag, then 13-16 waiters of
      high, normal, low, scheduled, then 17 history
ARGV: 1 job key prefix, 2 owner (the process identity that dequeued the jobs),
      3 max recoveries, 4 dead retention s, 5 done list prefix,
      6 nothing is known of what ran ('1': charge every job marked `started` by the
      worker's lease keeper) or only the suspects ('0'), 7 mailbox key prefix,
      8 owned key prefix, 9-12 history bucket widths and slots (hour ms, day ms, hour slots,
      day slots), then the suspects' ids
Returns {recovered, poisoned, returned} ]]
local now = now_ms()
local lanes = {high = 4, normal = 6, low = 8, scheduled = 10}
local suspects = {}
for i = 13, #ARGV do suspects[ARGV[i]] = true end
local charge_all = ARGV[6] == '1'
local recovered, poisoned, returned, cancelled = 0, 0, 0, 0

for i = 13, 16 do
  for _, w in ipairs(redis.call('ZRANGE', KEYS[i], 0, -1)) do
    if string.match(w, '^%d+|[^|]*|(.*)|[^|]*$') == ARGV[2] then
      redis.call('ZREM', KEYS[i], w)
      redis.call('DEL', ARGV[7] .. w)
    end
  end
end

local owned = ARGV[8] .. ARGV[2]
local held = redis.call('SMEMBERS', owned)
redis.call('DEL', owned)
for _, id in ipairs(held) do
  local key = ARGV[1] .. id
  local f = redis.call('HMGET', key, 'state', 'owner', 'lane', 'cancel', 'unique', 'waiters', 'name', 'token', 'started')
  if f[1] == 'active' and f[2] == ARGV[2] then
    redis.call('ZREM', KEYS[1], id)
    local charged = suspects[id] or (charge_all and f[9] == f[8])
    local n = 0
    if charged and not f[4] then n = redis.call('HINCRBY', key, 'recoveries', 1) end
    if f[4] then
      redis.call('HSET', key, 'state', 'cancelled', 'reason', 'cancelled', 'finished_at', now)
      end_job(key, id, f[5], f[6], ARGV[4], ARGV[5] .. id)
      cancelled = cancelled + 1
    elseif n > tonumber(ARGV[3]) then
      local error = 'the job was lost with its worker ' .. n .. ' times'
      redis.call('HSET', key, 'state', 'dead', 'reason', 'poison', 'finished_at', now, 'error', error)
      record_failure(key, redis.call('HGET', key, 'attempts'), 'poison', error, now)
      redis.call('ZADD', KEYS[2], now, id)
      index_add(KEYS[2], 'dead', f[7], id, now)
      end_job(key, id, f[5], f[6], ARGV[4], ARGV[5] .. id)
      poisoned = poisoned + 1
    else
      if charged then
        recovered = recovered + 1
      else
        redis.call('HINCRBY', key, 'attempts', -1)
        returned = returned + 1
      end
      redis.call('HSET', key, 'state', 'queued', 'enqueued_at', now)
      local k = lanes[f[3]] or lanes.scheduled
      redis.call('RPUSH', KEYS[k], id)
    end
  end
end
count_losses(KEYS[3], KEYS[17], 9, now, recovered, recovered, poisoned, cancelled)
if redis.call('EXISTS', KEYS[12]) == 0 then
  for k = 4, 10, 2 do
    if redis.call('LLEN', KEYS[k]) > 0 and redis.call('LLEN', KEYS[k + 1]) == 0 then
      redis.call('LPUSH', KEYS[k + 1], '1')
    end
  end
end
return {recovered, poisoned, returned}
