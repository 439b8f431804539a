#!lua flags=allow-oom
--[[ extend: renew the leases of deliveries a worker still holds (its heartbeat).
KEYS: 1 inflight
ARGV: 1 job key prefix, 2 lease ms, then pairs id, token
Returns the ids whose lease could not be renewed (token stale: the job was taken back). ]]
local deadline = now_ms() + tonumber(ARGV[2])
local lost = {}
for i = 3, #ARGV, 2 do
  local id = ARGV[i]
  local f = redis.call('HMGET', ARGV[1] .. id, 'token', 'state')
  if f[1] == ARGV[i + 1] and f[2] == 'active' then
    redis.call('ZADD', KEYS[1], 'XX', deadline, id)
  else
    lost[#lost + 1] = id
  end
end
return lost
