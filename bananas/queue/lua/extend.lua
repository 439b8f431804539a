#!lua flags=allow-oom
--[[ extend: renew the leases of deliveries a worker still holds (its lease keeper).
The first `running` pairs are deliveries whose handler has started: each is marked
`started` = its token, so whoever hands the job back later (promote after a lost lease,
recover after a dead process) knows this delivery ran and charges it; a delivery never
marked was only buffered and goes back uncharged.
KEYS: 1 inflight
ARGV: 1 job key prefix, 2 lease ms, 3 running (how many of the pairs come from running
      jobs, first), then pairs id, token
Returns the ids whose lease could not be renewed (token stale: the job was taken back). ]]
local deadline = now_ms() + tonumber(ARGV[2])
local running = tonumber(ARGV[3]) or 0
local lost = {}
for i = 4, #ARGV, 2 do
  local id = ARGV[i]
  local key = ARGV[1] .. id
  local f = redis.call('HMGET', key, 'token', 'state', 'started')
  if f[1] == ARGV[i + 1] and f[2] == 'active' then
    redis.call('ZADD', KEYS[1], 'XX', deadline, id)
    if (i - 4) / 2 < running and f[3] ~= f[1] then redis.call('HSET', key, 'started', f[1]) end
  else
    lost[#lost + 1] = id
  end
end
return lost
