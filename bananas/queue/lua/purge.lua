#!lua flags=allow-oom
--[[ purge: an operator deletes dead jobs for good (it only frees memory, so it runs at
maxmemory too). An id that is not in the dead set is left alone.
KEYS: 1 dead, 2 stats
ARGV: 1 job key prefix, then the ids
Returns the ids purged. ]]
local purged = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('ZSCORE', KEYS[1], id) then
    local name = redis.call('HGET', ARGV[1] .. id, 'name')
    redis.call('ZREM', KEYS[1], id)
    index_remove(KEYS[1], 'dead', name, id)
    redis.call('DEL', ARGV[1] .. id)
    purged[#purged + 1] = id
  end
end
if #purged > 0 then redis.call('HINCRBY', KEYS[2], 'purged', #purged) end
return purged
