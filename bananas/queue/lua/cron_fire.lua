--[[ cron_fire: record a schedule's fire and submit its jobs, in one step, at most once.
Check-and-set on the schedule's last fire: only the server that read the current value
moves it on, so several servers ticking together fire each time once. Each job id is
deterministic (cron:<name>:<fire ms>) and created only if absent, so even a replay after
the check cannot submit a tick twice. Each job's hash is written by new_job (_lib.lua), as
submit writes it.
KEYS: 1 schedule state hash, 2 lane, 3 lane wake, 4 stats
ARGV: 1 expected last fire ms ('' = never fired), 2 new last fire ms ('' = unchanged),
      3 next fire ms, 4 job key prefix, 5 job name, 6 payload (JSON), 7 queue, 8 priority,
      then (job id, signature or '') of each fire to submit, oldest first
Returns {1, jobs created} when this call moved the schedule on, {0, current last fire}
when another server did first. ]]
local current = redis.call('HGET', KEYS[1], 'last_fire') or ''
if current ~= ARGV[1] then return {0, current} end
local now = now_ms()
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'last_fire', ARGV[2]) end
redis.call('HSET', KEYS[1], 'next_fire', ARGV[3], 'updated_at', now)
local created = 0
for i = 9, #ARGV, 2 do
  local key = ARGV[4] .. ARGV[i]
  if redis.call('EXISTS', key) == 0 then
    new_job(key, ARGV[i], ARGV[5], ARGV[6], ARGV[7], ARGV[8], '', '', nil, now,
      {'state', 'queued', 'enqueued_at', now, 'lane', ARGV[8]}, ARGV[i + 1])
    redis.call('LPUSH', KEYS[2], ARGV[i])
    created = created + 1
  end
end
if created > 0 then
  redis.call('HINCRBY', KEYS[4], 'submitted', created)
  if redis.call('LLEN', KEYS[3]) == 0 then redis.call('LPUSH', KEYS[3], '1') end
end
return {1, created}
