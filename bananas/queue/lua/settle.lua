#!lua flags=allow-oom
--[[ settle: record the outcome of a batch of deliveries (it only frees or rewrites memory,
so it runs even when Redis is at maxmemory; the one exception, a queue's history, is made
once at a fixed size of ~80 KB).
A delivery is settled only if its fencing token is still current and the job is active:
a worker whose lease was lost and whose job was delivered again cannot touch it.
A job that ends (succeeded, dead, cancelled) releases its unique key if it still owns it,
and, only if someone waits for its result (field `waiters`, set by wait.lua), pushes one
marker to its done list, which expires with the job. A retry of a job whose cancellation
was requested ends it as cancelled instead.
A succeeded job keeps what a person needs (see `succeed` in _lib.lua): its payload goes
unless ARGV 5 is '1'. A failed attempt (retry or dead) is added to the job's bounded
`errors` history; error, traceback and reason describe the current state only.
Each settled job leaves its owner's `owned` set.
History (see `history_add` in _lib.lua): the batch's outcomes are counted into the current
bucket of the hour and day rings (KEYS 6; bucket widths ARGV 7, 8, 0 = no history), with
each attempt a worker finished (not a cancellation): its wait, from ready (enqueued_at) to the
start of its handler, and its run time. The worker measures the run time (ARGV run ms); the
wait is then settle time - enqueued_at - run time, so it includes the time the job spent in
the worker's buffer (and the few ms of the ack batch). Without a run time ('', e.g. a job
whose process the watchdog killed): run = settle time - started_at, wait = started_at -
enqueued_at. This costs one BITFIELD call per batch, not per job (more once per bucket).
KEYS: 1 inflight, 2 delayed, 3 dead, 4 stats, 5 scheduler wake, 6 history
ARGV: 1 job key prefix, 2 succeeded retention s, 3 dead retention s, 4 done list prefix,
      5 keep the payload of succeeded jobs ('1') or not ('0'), 6 owned key prefix,
      7 hour bucket ms, 8 day bucket ms, 9 hour slots, 10 day slots,
      then 8 per job: id, token, outcome ('ok' | 'retry' | 'dead' | 'cancelled'),
      data (result JSON or error text), traceback, retry delay ms,
      reason (why it failed: 'failed', 'timeout', 'invalid', 'unknown_handler', 'rejected'),
      run ms (the handler's run time as the worker measured it, or '')
Returns a list with 1 (settled) or 0 (stale token) per job. ]]
local now = now_ms()
local out = {}
local stats = {ok = 0, retry = 0, dead = 0, cancelled = 0}
local earliest = nil

local keep_payload = ARGV[5] == '1'
local tally = history_tally()

for i = 11, #ARGV, 8 do
  local id, outcome = ARGV[i], ARGV[i + 2]
  local key = ARGV[1] .. id
  local f = redis.call('HMGET', key, 'token', 'state', 'waiters', 'unique', 'cancel', 'name',
    'owner', 'attempts', 'enqueued_at', 'started_at')
  if f[1] ~= ARGV[i + 1] or f[2] ~= 'active' then
    out[#out + 1] = 0
  else
    redis.call('ZREM', KEYS[1], id)
    disown(ARGV[6], f[7], id)
    if outcome == 'retry' and f[5] then outcome = 'cancelled' end
    if outcome ~= 'cancelled' then
      local ready, started, run = tonumber(f[9]), tonumber(f[10]), tonumber(ARGV[i + 7])
      if ready and run then
        history_sample(tally, now - ready - run, run)
      elseif ready and started then
        history_sample(tally, started - ready, now - started)
      end
    end
    if outcome == 'ok' then
      succeed(key, now, ARGV[i + 3], keep_payload)
      index_add(KEYS[1], 'succeeded', f[6], id, now)
      end_job(key, id, f[4], f[3], ARGV[2], ARGV[4] .. id)
    elseif outcome == 'retry' then
      local run_at = now + tonumber(ARGV[i + 5])
      redis.call('HSET', key, 'state', 'retrying', 'error', ARGV[i + 3], 'traceback', ARGV[i + 4],
        'run_at', run_at, 'lane', 'scheduled', 'reason', ARGV[i + 6])
      record_failure(key, f[8], ARGV[i + 6], ARGV[i + 3], now)
      redis.call('ZADD', KEYS[2], run_at, id)
      if earliest == nil or run_at < earliest then earliest = run_at end
    elseif outcome == 'cancelled' then
      clear_failure(key)
      redis.call('HSET', key, 'state', 'cancelled', 'reason', 'cancelled', 'finished_at', now)
      end_job(key, id, f[4], f[3], ARGV[3], ARGV[4] .. id)
    else
      redis.call('HSET', key, 'state', 'dead', 'error', ARGV[i + 3], 'traceback', ARGV[i + 4],
        'reason', ARGV[i + 6], 'finished_at', now)
      record_failure(key, f[8], ARGV[i + 6], ARGV[i + 3], now)
      redis.call('ZADD', KEYS[3], now, id)
      index_add(KEYS[1], 'dead', f[6], id, now)
      end_job(key, id, f[4], f[3], ARGV[3], ARGV[4] .. id)
    end
    stats[outcome] = stats[outcome] + 1
    out[#out + 1] = 1
  end
end
if stats.ok > 0 then
  redis.call('HINCRBY', KEYS[4], 'succeeded', stats.ok)
  index_trim(KEYS[1], 'succeeded', now - tonumber(ARGV[2]) * 1000, SUCCEEDED_INDEX_CAP)
end
if stats.retry > 0 then redis.call('HINCRBY', KEYS[4], 'retried', stats.retry) end
if stats.dead > 0 then redis.call('HINCRBY', KEYS[4], 'dead', stats.dead) end
if stats.cancelled > 0 then redis.call('HINCRBY', KEYS[4], 'cancelled', stats.cancelled) end
if stats.ok + stats.retry + stats.dead + stats.cancelled > 0 then
  tally.ok, tally.retry, tally.dead, tally.cancelled = stats.ok, stats.retry, stats.dead, stats.cancelled
  history_add(KEYS[6], 7, now, tally)
end
if earliest ~= nil and redis.call('LLEN', KEYS[5]) == 0 then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if tonumber(first[2]) >= earliest then redis.call('LPUSH', KEYS[5], '1') end
end
return out
