#!lua flags=no-writes
--[[ overview: what an operator sees of one queue, in one call.
KEYS: 1-4 lanes high, normal, low, scheduled, 5 delayed, 6 inflight, 7 dead, 8 paused flag,
      9 succeeded index, 10 stats
ARGV: 1 job key prefix, 2 window ms (rates are counted over it)
Returns {now ms, depth high, normal, low, scheduled, delayed, inflight, dead, paused (0/1),
  succeeded in the window (from the capped index), died in the window, enqueued_at of the
  oldest waiting job (-1: none), then the stats hash as field, value pairs} ]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local from = now - tonumber(ARGV[2])
local out = {now}
local oldest = -1
for i = 1, 4 do
  out[#out + 1] = redis.call('LLEN', KEYS[i])
  local id = redis.call('LINDEX', KEYS[i], -1) -- RPOP takes from the right: the oldest
  if id then
    local at = tonumber(redis.call('HGET', ARGV[1] .. id, 'enqueued_at'))
    if at and (oldest < 0 or at < oldest) then oldest = at end
  end
end
out[#out + 1] = redis.call('ZCARD', KEYS[5])
out[#out + 1] = redis.call('ZCARD', KEYS[6])
out[#out + 1] = redis.call('ZCARD', KEYS[7])
out[#out + 1] = redis.call('EXISTS', KEYS[8])
out[#out + 1] = redis.call('ZCOUNT', KEYS[9], from, '+inf')
out[#out + 1] = redis.call('ZCOUNT', KEYS[7], from, '+inf')
out[#out + 1] = oldest
for _, v in ipairs(redis.call('HGETALL', KEYS[10])) do out[#out + 1] = v end
return out
