--[[ pause: set or clear a queue's paused flag. Dequeue checks the flag, so workers take
nothing from a paused queue from their next dequeue on; running jobs finish. The flag is an
ordinary key: it survives server restarts. Resuming pushes a wake marker to every lane that
holds work, so fetchers blocked on those markers look again at once.
KEYS: 1 paused flag, then pairs (lane, lane wake) for high, normal, low, scheduled
ARGV: 1 '1' to pause, '0' to resume
Returns 1 when the flag changed, 0 when it already was so. ]]
if ARGV[1] == '1' then
  return redis.call('SET', KEYS[1], '1', 'NX') and 1 or 0
end
local changed = redis.call('DEL', KEYS[1])
for i = 2, #KEYS, 2 do
  if redis.call('LLEN', KEYS[i]) > 0 and redis.call('LLEN', KEYS[i + 1]) == 0 then
    redis.call('LPUSH', KEYS[i + 1], '1')
  end
end
return changed
