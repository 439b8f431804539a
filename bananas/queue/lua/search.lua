#!lua flags=no-writes
--[[ search: one page of jobs of one queue in one state, newest first, walking the state's
own structure (never the keyspace), at most `budget` entries per call.
Kinds:
  'named' — KEYS 1 is a search index (T:idx:dead, T:idx:succeeded): members '<name>\n<id>',
            so the name pattern is matched on the member without reading the job hash;
  'zset'  — KEYS 1 is a ZSET of ids (delayed, inflight): the hash gives name and state;
  'lists' — KEYS are lanes (LPUSH in, so index 0 is the newest), walked in the order given.
A cursor is where the walk stopped: '<score>\t<member>' for ZSETs (the member's rank now,
or the rank of its score if it left the set meanwhile), '<key index>\t<offset>' for lanes.
ARGV: 1 kind, 2 job key prefix, 3 cursor ('' = from the newest), 4 limit, 5 budget,
      6 name Lua pattern ('' = any), 7 error text, lower case ('' = any),
      8 state the hash must be in ('' = any)
Returns {cursor after the walk ('' = nothing left), then 12 fields per job:
  cursor after this job, sort score, id, name, state, priority, attempts, created_at,
  finished_at, run_at, error (first 300 bytes), reason} ]]
local kind, prefix, cursor = ARGV[1], ARGV[2], ARGV[3]
local limit, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local pattern, needle, wanted = ARGV[6], ARGV[7], ARGV[8]
local CHUNK = 1000
local out = {''}
local found, examined = 0, 0

-- The job if it passes the filters: the fields of one reply row, or nil.
local function check(id, name_known)
  if pattern ~= '' and name_known and not string.match(name_known, pattern) then return nil end
  local f = redis.call('HMGET', prefix .. id, 'name', 'state', 'priority', 'attempts', 'created_at',
    'finished_at', 'run_at', 'error', 'reason', 'enqueued_at')
  if not f[2] then return nil end
  if wanted ~= '' and f[2] ~= wanted then return nil end
  if pattern ~= '' and not name_known and not string.match(f[1] or '', pattern) then return nil end
  if needle ~= '' and not string.find(string.lower(f[8] or ''), needle, 1, true) then return nil end
  return f
end

local function emit(after, score, id, f)
  local row = {after, score, id, f[1] or '', f[2], f[3] or '', f[4] or '0', f[5] or '', f[6] or '',
    f[7] or '', string.sub(f[8] or '', 1, 300), f[9] or ''}
  for _, v in ipairs(row) do out[#out + 1] = v end
  found = found + 1
end

local function walk_zset(key, named)
  local start = 0
  if cursor ~= '' then
    local score, member = string.match(cursor, '^([^\t]*)\t(.*)$')
    local rank = member and redis.call('ZREVRANK', key, member)
    if rank then start = rank + 1 else start = redis.call('ZCOUNT', key, '(' .. (score or '+inf'), '+inf') end
  end
  -- scores are read only for what is returned or where the walk stops (a reply without
  -- them is half the size)
  local function at(member) return redis.call('ZSCORE', key, member) .. '\t' .. member end
  while found < limit and examined < budget do
    local chunk = redis.call('ZREVRANGE', key, start, start + CHUNK - 1)
    if #chunk == 0 then return '' end
    for i = 1, #chunk do
      local member = chunk[i]
      local id, name = member, nil
      if named then
        local cut = string.find(member, '\n', 1, true)
        if cut then name, id = string.sub(member, 1, cut - 1), string.sub(member, cut + 1) else id = nil end
      end
      examined = examined + 1
      -- the cheap test first: most entries of a name search end here, with nothing allocated
      if id and (pattern == '' or not named or string.find(name, pattern)) then
        local f = check(id, name)
        if f then
          local after = at(member)
          emit(after, string.match(after, '^[^\t]*'), id, f)
        end
      end
      if found >= limit or examined >= budget then return at(member) end
    end
    start = start + CHUNK
  end
  return ''
end

local function walk_lists()
  local k, offset = 1, 0
  if cursor ~= '' then
    local a, b = string.match(cursor, '^(%d+)\t(%d+)$')
    k, offset = tonumber(a) or 1, tonumber(b) or 0
  end
  while k <= #KEYS do
    while found < limit and examined < budget do
      local ids = redis.call('LRANGE', KEYS[k], offset, offset + CHUNK - 1)
      if #ids == 0 then break end
      for j, id in ipairs(ids) do
        examined = examined + 1
        local after = k .. '\t' .. (offset + j)
        local f = check(id, nil)
        if f then emit(after, f[10] or '0', id, f) end
        if found >= limit or examined >= budget then return after end
      end
      offset = offset + CHUNK
    end
    k, offset = k + 1, 0
  end
  return ''
end

if kind == 'lists' then
  out[1] = walk_lists()
else
  out[1] = walk_zset(KEYS[1], kind == 'named')
end
return out
