--[[ revive: an operator sends a dead job back to work, at the back of its priority lane,
with a fresh set of attempts and recoveries. Its last error stays in its `errors` history
(settle put it there); the fields that described the dead state go.
KEYS: 1 dead, 2 job hash, 3 stats, then (lane, lane wake) pairs for high, normal, low
ARGV: 1 job id
Returns 1 when revived, 0 when the job is not in the dead set, -1 when its hash is gone
(expired or never written: nothing to run; the stale dead-set entry is removed). ]]
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local f = redis.call('HMGET', KEYS[2], 'state', 'name', 'priority')
if f[1] ~= 'dead' or not f[2] or f[2] == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  index_remove(KEYS[1], 'dead', f[2], ARGV[1])
  return -1
end
local now = now_ms()
redis.call('ZREM', KEYS[1], ARGV[1])
index_remove(KEYS[1], 'dead', f[2], ARGV[1])
redis.call('PERSIST', KEYS[2])
redis.call('HDEL', KEYS[2], 'finished_at')
clear_failure(KEYS[2])
local lanes = {high = 4, normal = 6, low = 8}
local priority = lanes[f[3]] and f[3] or 'normal'
local k = lanes[priority]
redis.call('HSET', KEYS[2], 'state', 'queued', 'enqueued_at', now, 'attempts', 0, 'recoveries', 0,
  'lane', priority)
redis.call('LPUSH', KEYS[k], ARGV[1])
if redis.call('LLEN', KEYS[k + 1]) == 0 then redis.call('LPUSH', KEYS[k + 1], '1') end
redis.call('HINCRBY', KEYS[3], 'revived', 1)
return 1
