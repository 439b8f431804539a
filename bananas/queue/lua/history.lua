--[[ history: read a queue's history (layout: `history_add` in _lib.lua). Read-only.
For the hour: the minutes of the last `hour slots` minutes. For the day: the quarters of the
last `day slots` quarters, and every minute still in the minute ring that falls in them (a
minute is added to its quarter only when its slot is reused).
KEYS: 1 the history
ARGV: 1 'hour' | 'day', 2 minute bucket ms, 3 quarter bucket ms, 4 minute slots, 5 quarter slots
Returns {now ms (Redis TIME), then per bucket found: 0 (a minute) or 1 (a quarter), its bucket
number (start = number * width), and the slot's fields after the bucket number: succeeded,
retried, dead, cancelled, recovered, longest wait ms, longest run ms, wait sum us, run sum us,
the wait histogram's HISTORY_BINS counts and the run histogram's}. ]]
local now = now_ms()
local out = {now}
local raw = redis.pcall('GET', KEYS[1])
if type(raw) ~= 'string' then return out end -- none yet, or not a string (written by hand)
local hour_ms, day_ms = tonumber(ARGV[2]), tonumber(ARGV[3])
local hour_slots, day_slots = tonumber(ARGV[4]), tonumber(ARGV[5])
local base = hour_slots * HISTORY_SLOT
if #raw ~= base + day_slots * HISTORY_SLOT then return out end

local function emit(ring, bucket, pos)
  out[#out + 1] = ring
  out[#out + 1] = bucket
  local v = {struct.unpack(HISTORY_FIELDS, raw, pos)}
  for j = 2, #v - 1 do out[#out + 1] = v[j] end -- not the bucket number, nor the next position
end

local minute = math.floor(now / hour_ms)
local oldest -- the first minute the span covers
if ARGV[1] == 'day' then
  local quarter = math.floor(now / day_ms)
  oldest = math.floor((quarter - day_slots + 1) * day_ms / hour_ms)
  for q = quarter - day_slots + 1, quarter do
    local pos = base + (q % day_slots) * HISTORY_SLOT + 1
    if struct.unpack('>I4', raw, pos) == history_epoch(q) then emit(1, q, pos) end
  end
else
  oldest = minute - hour_slots + 1
end
for slot = 0, hour_slots - 1 do
  local pos = slot * HISTORY_SLOT + 1
  local epoch = struct.unpack('>I4', raw, pos)
  if epoch ~= 0 then
    local m = history_bucket(epoch, minute)
    if m >= oldest then emit(0, m, pos) end
  end
end
return out
