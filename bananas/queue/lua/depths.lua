--[[ depths: the counts of one queue in one call (the master reads them every 10 s and the
CLI on demand): lane lengths, then delayed, in flight and dead set sizes, then 1 if paused.
Read-only. A lane's length counts ids a dequeue has not met yet, cancelled ones included.
KEYS: lanes high, normal, low, scheduled, then delayed, inflight, dead, paused flag
Returns {high, normal, low, scheduled, delayed, inflight, dead, paused} ]]
return {redis.call('LLEN', KEYS[1]), redis.call('LLEN', KEYS[2]), redis.call('LLEN', KEYS[3]),
  redis.call('LLEN', KEYS[4]), redis.call('ZCARD', KEYS[5]), redis.call('ZCARD', KEYS[6]),
  redis.call('ZCARD', KEYS[7]), redis.call('EXISTS', KEYS[8])}
