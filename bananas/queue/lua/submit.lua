--[[ submit: create a job and put it in its lane, or in the delayed set if it has an ETA.
Idempotent on the job id: a second submit of an existing id changes nothing.
Unique jobs: with a unique key (KEYS 7), a submit while the key's owner is still pending or
running (queued, scheduled, active, retrying) creates nothing and returns the owner's id;
otherwise this job takes the key for `unique_for` seconds (released when it finishes).
KEYS: 1 job hash, 2 lane, 3 lane wake, 4 delayed, 5 scheduler wake, 6 stats,
      7 unique key (optional)
ARGV: 1 id, 2 name, 3 payload (JSON), 4 queue, 5 priority, 6 max_retries ('' = default),
      7 timeout seconds ('' = default), 8 delay ms ('' = none), 9 ETA epoch ms ('' = none),
      10 unique_for seconds (with KEYS 7), 11 job key prefix (with KEYS 7)
Returns {1, state, id} when created, {0, state, id} when the id (or the unique key's owner,
whose id is returned) already existed. ]]
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, redis.call('HGET', KEYS[1], 'state'), ARGV[1]}
end
local pending = {queued = true, scheduled = true, active = true, retrying = true}
if KEYS[7] then
  local owner = redis.call('GET', KEYS[7])
  if owner then
    local state = redis.call('HGET', ARGV[11] .. owner, 'state')
    if state and pending[state] then return {0, state, owner} end
  end
  redis.call('SET', KEYS[7], ARGV[1], 'EX', ARGV[10])
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local run_at = nil
if ARGV[8] ~= '' then
  run_at = now + tonumber(ARGV[8])
elseif ARGV[9] ~= '' then
  run_at = tonumber(ARGV[9])
end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'name', ARGV[2], 'payload', ARGV[3], 'queue', ARGV[4],
  'priority', ARGV[5], 'max_retries', ARGV[6], 'timeout', ARGV[7], 'created_at', now,
  'attempts', 0, 'token', 0)
if KEYS[7] then redis.call('HSET', KEYS[1], 'unique', KEYS[7]) end
redis.call('HINCRBY', KEYS[6], 'submitted', 1)
if run_at and run_at > now then
  local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  redis.call('HSET', KEYS[1], 'state', 'scheduled', 'run_at', run_at, 'lane', 'scheduled')
  redis.call('ZADD', KEYS[4], run_at, ARGV[1])
  -- Schedulers sleep until the earliest ETA they know: wake them if this one is earlier.
  if (first[2] == nil or run_at < tonumber(first[2])) and redis.call('LLEN', KEYS[5]) == 0 then
    redis.call('LPUSH', KEYS[5], '1')
  end
  return {1, 'scheduled', ARGV[1]}
end
redis.call('HSET', KEYS[1], 'state', 'queued', 'enqueued_at', now, 'lane', ARGV[5])
redis.call('LPUSH', KEYS[2], ARGV[1])
if redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('LPUSH', KEYS[3], '1')
end
return {1, 'queued', ARGV[1]}
