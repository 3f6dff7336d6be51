import { MAX_PRE_QUEUE } from '../src/domain/queue-lottery.ts';
import { COUNTED, NOW } from '../src/store/queue-scripts.ts';

/**
 * The admission step as it was before its reads and writes were batched: each place read with HGET, ZSCORE and
 * SISMEMBER, each admission and each due slot written on its own. Plain enough to be read as the step's meaning, and
 * kept as the reference the batched TICK must agree with (admission-step-equivalence.test.ts).
 */
export const PLACE_BY_PLACE_TICK = `${COUNTED}${NOW}
local cfg, owners, seen, active, admitted, stats, issued, acked, gaps, tickets =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10]
local graceMs, slotMs, maxSteps, base = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local c = call('HMGET', cfg, 'salesOpenAt', 'rate', 'maxActive', 'paused', 'lastTick', 'credit', 'control', 'ctlRate', 'preSize', 'preSeed', 'served', 'seq')
if not c[1] then return answer({-1, 0, 0, 0, 0, 0, 0, 0, -1, ''}) end
local now = now_ms()
local served = tonumber(c[11] or '0')
local last_number = tonumber(c[12] or '0')
if now < tonumber(c[1]) then return answer({0, served, 0, 0, last_number, 0, now, 0, -1, ''}) end
if not c[9] then
  -- The opening: whoever has a number now is in the pre-queue's lottery, whose key is published with it. Past the
  -- lottery's largest size the numbers queue in join order behind it, as later joiners do.
  local pre = math.min(last_number, ${MAX_PRE_QUEUE})
  call('HSET', cfg, 'preSize', pre, 'preSeed', ARGV[6], 'lastTick', now, 'credit', 0)
  return answer({0, served, 0, call('ZCARD', active), last_number, 0, now, 0, pre, ARGV[6]})
end
local pre_size = tonumber(c[9])

-- A slot whose time is up is kept while its user is still there (a poll, an open stream or a reservation
-- attempt within the grace), up to the slot time after admission; otherwise it goes to the next person.
local lapsedUsers = 0
for _, u in ipairs(call('ZRANGEBYSCORE', active, '-inf', now)) do
  local number = string.match(call('HGET', tickets, u) or '', '^(%d+)') or ''
  local seenAt = tonumber(call('ZSCORE', seen, number) or '0')
  local token = call('HGET', admitted, u)
  local record = token and call('HGET', issued, token) or ''
  local endsAt = tonumber(string.match(record, '|(%d+)$') or '0') + slotMs
  local keepUntil = math.min(seenAt + graceMs, endsAt)
  if keepUntil > now then
    call('ZADD', active, keepUntil, u)
  else
    call('ZREM', active, u)
    call('HDEL', admitted, u)
    call('ZREM', acked, u)
    lapsedUsers = lapsedUsers + 1
  end
end

local last = tonumber(c[5] or now)
local rate = tonumber(c[2])
-- The operator's rate is a ceiling: the admission controller (docs/overload.md) may ask for less.
if c[7] ~= 'off' and c[8] then rate = math.min(rate, tonumber(c[8])) end
local credit = tonumber(c[6] or '0')
if c[4] == '1' then
  call('HSET', cfg, 'lastTick', now, 'credit', 0)
  -- "paused": the waiting fans' pages show it, from the shared status.
  return answer({0, served, 0, call('ZCARD', active), last_number, lapsedUsers, now, 1, pre_size, c[10]})
end
-- The bucket holds at most one second of admissions: a pause or a slow tick does not bank a burst.
credit = math.min(credit + (now - last) / 1000 * rate, math.max(rate, 1))
local free = tonumber(c[3]) - call('ZCARD', active)
local n_admitted, n_dropped, steps = 0, 0, 0
while credit >= 1 and free > 0 and served < last_number and steps < maxSteps do
  local place = served + 1
  local number = place
  if place <= pre_size then
    number = tonumber(ARGV[6 + place - base + 1])
    -- The caller did not reach this far (another instance moved the queue on meanwhile): the next step will.
    if not number then break end
  end
  steps = steps + 1
  served = place
  local u = call('HGET', owners, number)
  local seenAt = tonumber(call('ZSCORE', seen, number) or '0')
  if u and now - seenAt <= graceMs then
    local token_id = ARGV[1] .. '.' .. place .. '.' .. now
    -- Held for one grace period at first; each step after that keeps it only while the user is still seen.
    call('ZADD', active, now + math.min(graceMs, slotMs), u)
    call('HSET', admitted, u, token_id)
    -- The admission log: who was let in, at which place, when. The invariant checker reads it.
    call('HSET', issued, token_id, u .. '|' .. place .. '|' .. now)
    credit = credit - 1
    free = free - 1
    n_admitted = n_admitted + 1
  elseif call('SISMEMBER', gaps, number) == 0 then
    -- Not there when their turn came: skipped, and it costs no credit and blocks nobody.
    n_dropped = n_dropped + 1
  end
end
call('HSET', cfg, 'lastTick', now, 'credit', credit, 'served', served)
if n_admitted > 0 then call('HINCRBY', stats, 'admitted', n_admitted) end
if n_dropped > 0 then call('HINCRBY', stats, 'dropped', n_dropped) end
return answer({n_admitted, served, n_dropped, call('ZCARD', active), last_number, lapsedUsers, now, 0, pre_size, c[10]})
`;
