--[[ wait: before a client blocks on a job's done list, check the job and register interest.
Atomic with settle: either the job has ended (its outcome is returned now) or settle will
see `waiters` and push the marker the client blocks on. Nothing is pushed for jobs nobody
waits on.
KEYS: 1 job hash
ARGV: none
Returns {} when the job does not exist, {state} while it has not ended,
{state, result, error, traceback, reason} once it ended (succeeded, dead, cancelled); reason
says why a dead job died (`timeout`: its handler ran out of time). ]]
local f = redis.call('HMGET', KEYS[1], 'state', 'result', 'error', 'traceback', 'reason')
if not f[1] then return {} end
if f[1] == 'succeeded' or f[1] == 'dead' or f[1] == 'cancelled' then
  return {f[1], f[2] or '', f[3] or '', f[4] or '', f[5] or ''}
end
redis.call('HSET', KEYS[1], 'waiters', 1)
return {f[1]}
