--[[ history: read one history ring (layout: `history_write` in _lib.lua). Read-only.
KEYS: 1 the ring
ARGV: 1 bucket width ms, 2 slots
Returns {now ms (Redis TIME), then per live bucket, oldest first: its bucket number (start =
number * width) and the slot's fields after the bucket number: succeeded, retried, dead,
cancelled, recovered, longest wait ms, longest run ms, wait sum us, run sum us, the wait histogram's
HISTORY_BINS counts and the run histogram's}. A bucket outside the last `slots` ones, or whose
slot was overwritten, is left out (its counts are zero). ]]
local now = now_ms()
local out = {now}
local raw = redis.call('GET', KEYS[1])
if not raw then return out end
local width, slots = tonumber(ARGV[1]), tonumber(ARGV[2])
local current = math.floor(now / width)
local fields = '>' .. string.rep('I4', 7) .. 'i8i8' .. string.rep('I4', 2 * HISTORY_BINS)
for bucket = current - slots + 1, current do
  local pos = (bucket % slots) * HISTORY_SLOT + 1
  if #raw >= pos + HISTORY_SLOT - 1 and struct.unpack('>I4', raw, pos) == bucket % 4294967295 + 1 then
    out[#out + 1] = bucket
    local v = {struct.unpack(fields, raw, pos + 4)}
    for j = 1, #v - 1 do out[#out + 1] = v[j] end -- the last value is the next position
  end
end
return out
