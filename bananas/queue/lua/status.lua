#!lua flags=allow-oom
--[[ status: write (or remove) one worker process's entry in the `workers` status hash, and
drop the entries of processes that stopped writing theirs (a host that vanished whole).
Each entry has an expiry in a ZSET beside the hash; its key carries the hash's name as its
hash tag, so both are in one slot on Redis Cluster. Every write renews the writer's expiry
and removes up to 100 lapsed entries, so an entry outlives its process by at most its TTL
plus one write of any living process.
KEYS: 1 workers hash, 2 expiry ZSET
ARGV: 1 owner (the field), 2 status JSON ('' = remove the entry), 3 TTL ms
Returns the number of lapsed entries removed. ]]
local now = now_ms()
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
end
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)
for _, owner in ipairs(lapsed) do
  redis.call('HDEL', KEYS[1], owner)
  redis.call('ZREM', KEYS[2], owner)
end
return #lapsed
