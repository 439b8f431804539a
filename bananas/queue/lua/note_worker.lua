-- Append the owner of the running delivery to the job's `workers` field (newline-separated),
-- once per attempt: the history of which worker ran each attempt (Django's worker_ids).
-- KEYS: 1 job hash. ARGV: 1 attempt number (the attempt being noted).
-- Returns the whole list after noting, or false when the job is not active (ended, taken back).
local f = redis.call('HMGET', KEYS[1], 'state', 'owner', 'workers')
if f[1] ~= 'active' or not f[2] then return false end
local seen = f[3] or ''
local count = 0
if seen ~= '' then count = select(2, string.gsub(seen, '\n', '\n')) + 1 end
if count >= tonumber(ARGV[1]) then return seen end  -- this attempt is noted already
seen = seen == '' and f[2] or (seen .. '\n' .. f[2])
redis.call('HSET', KEYS[1], 'workers', seen)
return seen
