--[[ submit_many: create many jobs of one queue in one call; per job it does what `submit`
does (the hash written by the same new_job of _lib.lua, same states, idempotent on the job
id), and it pushes each lane's new ids with one LPUSH, adds the delayed ones with one ZADD
and sets each wake marker once.
KEYS: 1 stats, 2 delayed, 3 scheduler wake, then pairs (lane, lane wake) for high, normal, low
ARGV: 1 job key prefix, 2 queue, then 9 per job:
      id, name, payload (JSON), priority, max_retries ('' = default),
      timeout seconds ('' = default), delay ms ('' = none), ETA epoch ms ('' = none),
      signature ('' = unsigned)
Unique jobs are not taken here (the client sends them to `submit`, which checks their key).
Returns {codes, then the state of each job that already existed, in order}: codes has one
character per job, 'q' created queued, 's' created scheduled, '-' the id already existed
(a reply per job would cost Redis and the client more than the jobs' hashes). ]]
local now = now_ms()
local lanes = {high = {}, normal = {}, low = {}}
local lane_key = {high = 4, normal = 6, low = 8}
local delayed = {}
local earliest = nil
local codes = {}
local out = {''}
local created = 0
for i = 3, #ARGV, 9 do
  local id = ARGV[i]
  local key = ARGV[1] .. id
  local existing = redis.call('HGET', key, 'state')
  if existing then
    codes[#codes + 1] = '-'
    out[#out + 1] = existing
  else
    local run_at = nil
    if ARGV[i + 6] ~= '' then
      run_at = now + tonumber(ARGV[i + 6])
    elseif ARGV[i + 7] ~= '' then
      run_at = tonumber(ARGV[i + 7])
    end
    if run_at and run_at > now then
      new_job(key, id, ARGV[i + 1], ARGV[i + 2], ARGV[2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], nil,
        now, {'state', 'scheduled', 'run_at', run_at, 'lane', 'scheduled'}, ARGV[i + 8])
      delayed[#delayed + 1] = run_at
      delayed[#delayed + 1] = id
      if earliest == nil or run_at < earliest then earliest = run_at end
      codes[#codes + 1] = 's'
    else
      new_job(key, id, ARGV[i + 1], ARGV[i + 2], ARGV[2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], nil,
        now, {'state', 'queued', 'enqueued_at', now, 'lane', ARGV[i + 3]}, ARGV[i + 8])
      local ids = lanes[ARGV[i + 3]]
      ids[#ids + 1] = id
      codes[#codes + 1] = 'q'
    end
    created = created + 1
  end
end
-- unpack() is bounded by the Lua stack: push in slices.
local SLICE = 4000
for lane, ids in pairs(lanes) do
  if #ids > 0 then
    local k = lane_key[lane]
    for s = 1, #ids, SLICE do
      redis.call('LPUSH', KEYS[k], unpack(ids, s, math.min(s + SLICE - 1, #ids)))
    end
    if redis.call('LLEN', KEYS[k + 1]) == 0 then redis.call('LPUSH', KEYS[k + 1], '1') end
  end
end
if #delayed > 0 then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  for s = 1, #delayed, SLICE do
    redis.call('ZADD', KEYS[2], unpack(delayed, s, math.min(s + SLICE - 1, #delayed)))
  end
  -- Schedulers sleep until the earliest ETA they know: wake them if one of these is earlier.
  if (first[2] == nil or earliest < tonumber(first[2])) and redis.call('LLEN', KEYS[3]) == 0 then
    redis.call('LPUSH', KEYS[3], '1')
  end
end
if created > 0 then redis.call('HINCRBY', KEYS[1], 'submitted', created) end
out[1] = table.concat(codes)
return out
