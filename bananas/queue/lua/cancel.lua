#!lua flags=allow-oom
--[[ cancel: stop a job. A queued or scheduled (delayed, retrying) job ends `cancelled` at
once: it never runs. A queued one stays in its lane until a dequeue meets it there and drops
it (dequeue takes only jobs in state `queued`), so cancelling costs O(1), not a scan of the
lane; a scheduled one leaves the delayed set. A running job gets the field `cancel` and its
id pushed to its worker's cancel list (the worker sets ctx.cancelled, then kills the handler
after a grace period, and settles it as cancelled). A finished job is left as it is. Ending
releases the unique key and wakes result waiters, as settle does; a retrying job's error
fields go (its failures stay in `errors`).
KEYS: 1 job hash, 2 delayed, 3 stats, 4 done list
ARGV: 1 id, 2 retention s of the cancelled job, 3 cancel list prefix (+ owner),
      4 cancel list TTL s
Returns the job's state afterwards: 'cancelled', 'cancelling' (running), another final
state ('succeeded', 'dead') when it had already ended, or 'missing'. ]]
local f = redis.call('HMGET', KEYS[1], 'state', 'owner', 'waiters', 'unique')
local state = f[1]
if not state then return 'missing' end
if state == 'active' then
  redis.call('HSET', KEYS[1], 'cancel', 1)
  local list = ARGV[3] .. (f[2] or '')
  redis.call('LPUSH', list, ARGV[1])
  redis.call('EXPIRE', list, ARGV[4])
  return 'cancelling'
end
if state == 'scheduled' or state == 'retrying' then
  redis.call('ZREM', KEYS[2], ARGV[1])
elseif state ~= 'queued' then
  return state
end
clear_failure(KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'cancelled', 'reason', 'cancelled', 'finished_at', now_ms())
end_job(KEYS[1], ARGV[1], f[4], f[3], ARGV[2], KEYS[4])
redis.call('HINCRBY', KEYS[3], 'cancelled', 1)
return 'cancelled'
