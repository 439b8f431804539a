#!lua flags=allow-oom
--[[ release: hand back deliveries a worker took but never started (shutdown, drained buffer).
They go to the front of their lane, and the attempt they were charged is given back.
One whose cancellation was requested ends `cancelled` instead (unique key released, result
waiters woken, as settle does). Each leaves its owner's `owned` set.
KEYS: 1 inflight, then pairs (lane, lane wake) for high, normal, low, scheduled, then
      10 stats
ARGV: 1 job key prefix, 2 retention s of a cancelled job, 3 done list prefix,
      4 owned key prefix, then pairs id, token
Returns the number of jobs released. ]]
local lanes = {high = 2, normal = 4, low = 6, scheduled = 8}
local woken = {}
local n = 0
for i = 5, #ARGV, 2 do
  local id = ARGV[i]
  local key = ARGV[1] .. id
  local f = redis.call('HMGET', key, 'token', 'state', 'lane', 'cancel', 'unique', 'waiters', 'owner')
  if f[1] == ARGV[i + 1] and f[2] == 'active' then disown(ARGV[4], f[7], id) end
  if f[1] == ARGV[i + 1] and f[2] == 'active' and f[4] then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HSET', key, 'state', 'cancelled', 'reason', 'cancelled', 'finished_at', now_ms())
    end_job(key, id, f[5], f[6], ARGV[2], ARGV[3] .. id)
    redis.call('HINCRBY', KEYS[10], 'cancelled', 1)
  elseif f[1] == ARGV[i + 1] and f[2] == 'active' then
    local k = lanes[f[3]] or lanes.scheduled
    redis.call('ZREM', KEYS[1], id)
    redis.call('HINCRBY', key, 'attempts', -1)
    redis.call('HSET', key, 'state', 'queued')
    redis.call('RPUSH', KEYS[k], id)
    woken[k] = true
    n = n + 1
  end
end
for k, _ in pairs(woken) do
  if redis.call('LLEN', KEYS[k + 1]) == 0 then redis.call('LPUSH', KEYS[k + 1], '1') end
end
return n
