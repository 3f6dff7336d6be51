import { MAX_PRE_QUEUE } from '../domain/queue-lottery.ts';

// The waiting room's atomic steps, as Lua run inside Redis. Time is Redis's own clock (TIME), so every
// ticket-service instance agrees on when the queue opens and how much admission credit has accrued. The last join
// number (`seq`) and the serving counter (`served`) are fields of the queue's settings hash (cfg), so the admission
// step reads them with its settings in one command and writes the counter with its credit in another.

/**
 * Every command a script runs goes through `call`, which counts it, and its answer ends with the count (`answer`):
 * the caller adds it to what the call cost Redis (waiting_room_redis_commands_total), since what a script runs
 * inside varies with the data. A bare redis.call would go uncounted.
 */
export const COUNTED = `
local calls = 0
local function call(...)
  calls = calls + 1
  return redis.call(...)
end
local function answer(values)
  values[#values + 1] = calls
  return values
end
`;

export const NOW = `
local function now_ms()
  local t = call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * KEYS: cfg, tickets, gaps   ARGV: user, joinedAtMs
 * Returns {1, n} for a new join number, or {0, "n|joinedAt"} for the one the user holds already (then the count of
 * commands run inside: 2 for a first join, 4 for a second). Three commands for
 * a first join (the script's call, HINCRBY, HSETNX): the queue's settings, its opening and the join limits are the
 * caller's, from memory. A second join spends a number it gives back (a gap the admission step skips).
 */
export const JOIN = `${COUNTED}
local n = call('HINCRBY', KEYS[1], 'seq', 1)
if call('HSETNX', KEYS[2], ARGV[1], n .. '|' .. ARGV[2]) == 1 then return answer({1, n}) end
call('SADD', KEYS[3], n)
return answer({0, call('HGET', KEYS[2], ARGV[1])})
`;

/**
 * KEYS: cfg, tickets   ARGV: user, joinedAtMs. A fan whose turn is over joins again at the back. Returns {n, count}.
 */
export const REJOIN = `${COUNTED}
local n = call('HINCRBY', KEYS[1], 'seq', 1)
call('HSET', KEYS[2], ARGV[1], n .. '|' .. ARGV[2])
return answer({n})
`;

/**
 * A command over many members reads or writes them all at once, but Lua's stack holds only a few thousand values:
 * `many` sends them in chunks of CHUNK members (each chunk one command) and joins the answers (a list's items, and
 * the sum of integer answers, as ZADD's count of members added).
 */
const MANY = `
local CHUNK = 1000
local function many(command, key, args, width)
  local out, total, step = {}, 0, CHUNK * width
  for i = 1, #args, step do
    local part = call(command, key, unpack(args, i, math.min(i + step - 1, #args)))
    if type(part) == 'table' then for j = 1, #part do out[#out + 1] = part[j] end
    elseif type(part) == 'number' then total = total + part end
  end
  return out, total
end
`;

/** TICK's keys, in the order the script reads them. */
export const TICK_KEYS = [
  'cfg',
  'owners',
  'seen',
  'active',
  'admitted',
  'stats',
  'issued',
  'acked',
  'gaps',
  'tickets',
] as const;

/**
 * One admission step. KEYS: cfg, owners, seen, active, admitted, stats, issued, acked, gaps, tickets
 * ARGV: tickId, graceMs, slotMs, maxSteps, base, lotteryKey, n(base), n(base + 1)…
 * Seals the pre-queue at the first step after the opening (its size, and publishes the lottery's key), admitting
 * nothing that step. After that it frees the slots of no-shows and lapsed tokens, then admits as many as the rate
 * credit and the free slots allow (the rate: the operator's, or the admission controller's when lower), place by
 * place, skipping (dropping) anyone who has not said they are there. The join number standing at each place comes
 * from the caller (the lottery's order, for the pre-queue's places from `base` on); behind the pre-queue the place
 * is the number. Presence and owners are kept by join number, so a pre-queue fan is known before their place is.
 * What a step costs Redis hardly grows with the places it walks or the fans it admits or lets go: the places are
 * read a batch at a time (HMGET, ZMSCORE, SMISMEMBER), and the admissions and lapses written with one command per key
 * for each 1,000 members. An admission's id is the step's id, its place and when it was given (\`tick.place.ms\`): a
 * fan's look learns from it when their admission ends, without reading the log.
 * Returns {admitted, served, dropped, active, lastNumber, lapsed, now, paused, preSize, preSeed, count}.
 */
export const TICK = `${COUNTED}${NOW}${MANY}
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
local due = call('ZRANGEBYSCORE', active, '-inf', now)
if #due > 0 then
  local numbers, tokens, token_of = {}, {}, {}
  for i, ticket in ipairs(many('HMGET', tickets, due, 1)) do numbers[i] = string.match(ticket or '', '^(%d+)') or '' end
  local seen_at = many('ZMSCORE', seen, numbers, 1)
  for i, token in ipairs(many('HMGET', admitted, due, 1)) do
    if token then
      tokens[#tokens + 1] = token
      token_of[i] = #tokens
    end
  end
  local records = many('HMGET', issued, tokens, 1)
  local kept, gone = {}, {}
  for i, u in ipairs(due) do
    local record = token_of[i] and records[token_of[i]] or ''
    local endsAt = tonumber(string.match(record, '|(%d+)$') or '0') + slotMs
    local keepUntil = math.min(tonumber(seen_at[i] or '0') + graceMs, endsAt)
    if keepUntil > now then
      kept[#kept + 1] = keepUntil
      kept[#kept + 1] = u
    else
      gone[#gone + 1] = u
    end
  end
  many('ZADD', active, kept, 2)
  many('ZREM', active, gone, 1)
  many('HDEL', admitted, gone, 1)
  many('ZREM', acked, gone, 1)
  lapsedUsers = #gone
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
local inside = call('ZCARD', active)
local free = tonumber(c[3]) - inside
local n_admitted, n_dropped, steps = 0, 0, 0
local held, tokens, records = {}, {}, {}
-- Each batch reads twice what the credit could still admit (at least 64 places), and twice the last batch after
-- that: a batch that did not use the credit up was mostly people who had gone.
local reach = math.max(64, 2 * math.floor(math.min(credit, free)))
local ended = false
while not ended and credit >= 1 and free > 0 and served < last_number and steps < maxSteps do
  local places, numbers = {}, {}
  for place = served + 1, served + math.min(reach, CHUNK, maxSteps - steps, last_number - served) do
    local number = place
    if place <= pre_size then
      number = tonumber(ARGV[6 + place - base + 1])
      -- The caller did not reach this far (another instance moved the queue on meanwhile): the next step will.
      if not number then
        ended = true
        break
      end
    end
    places[#places + 1] = place
    numbers[#numbers + 1] = number
  end
  if #numbers == 0 then break end
  local owner_of = call('HMGET', owners, unpack(numbers))
  local seen_at = call('ZMSCORE', seen, unpack(numbers))
  local absent = {}
  for i, place in ipairs(places) do
    if credit < 1 or free <= 0 then break end
    steps = steps + 1
    served = place
    local u = owner_of[i]
    if u and now - tonumber(seen_at[i] or '0') <= graceMs then
      local token_id = ARGV[1] .. '.' .. place .. '.' .. now
      -- Held for one grace period at first; each step after that keeps it only while the user is still seen.
      held[#held + 1] = now + math.min(graceMs, slotMs)
      held[#held + 1] = u
      tokens[#tokens + 1] = u
      tokens[#tokens + 1] = token_id
      -- The admission log: who was let in, at which place, when. The invariant checker reads it.
      records[#records + 1] = token_id
      records[#records + 1] = u .. '|' .. place .. '|' .. now
      credit = credit - 1
      free = free - 1
      n_admitted = n_admitted + 1
    else
      absent[#absent + 1] = numbers[i]
    end
  end
  -- Not there when their turn came: skipped, and it costs no credit and blocks nobody. A gap is a number given back.
  for _, in_gaps in ipairs(many('SMISMEMBER', gaps, absent, 1)) do
    if in_gaps == 0 then n_dropped = n_dropped + 1 end
  end
  reach = reach * 2
end
local _, added = many('ZADD', active, held, 2)
many('HSET', admitted, tokens, 2)
many('HSET', issued, records, 2)
call('HSET', cfg, 'lastTick', now, 'credit', credit, 'served', served)
if n_admitted > 0 then call('HINCRBY', stats, 'admitted', n_admitted) end
if n_dropped > 0 then call('HINCRBY', stats, 'dropped', n_dropped) end
-- Inside now: who was, and whom this step let in (ZADD counts the members it added, not a score it moved).
return answer({n_admitted, served, n_dropped, inside + added, last_number, lapsedUsers, now, 0, pre_size, c[10]})
`;

/**
 * KEYS: seen, owners   ARGV: n, expectMs, user, n, expectMs, user…  Stamps each join number with when its fan is
 * next expected: now, by Redis's clock (the clock every admission step reads, whichever instance saw them), plus the
 * wait they were told (Retry-After), so a fan told to come back in two minutes is not taken for gone after the grace:
 * the grace counts from when they were due. And who holds each number. Two commands per batch of fans, however many
 * (ZADD and HSET take many pairs at once; batches stay under Lua's stack limit), and TIME. Returns {fans, count}.
 */
export const HEARTBEAT = `${COUNTED}${NOW}
local now = now_ms()
local seen, owners = {}, {}
for i = 1, #ARGV, 3 do
  seen[#seen + 1] = now + tonumber(ARGV[i + 1])
  seen[#seen + 1] = ARGV[i]
  owners[#owners + 1] = ARGV[i]
  owners[#owners + 1] = ARGV[i + 2]
end
call('ZADD', KEYS[1], unpack(seen))
call('HSET', KEYS[2], unpack(owners))
return answer({#ARGV / 3})
`;

/**
 * KEYS: admitted, active, acked   ARGV: user, tokenId. Spends the admission: the slot is freed, the token dies.
 * Returns {1, count}, or {0, count} for a token that is not the user's live admission.
 */
export const SPEND_ADMISSION = `${COUNTED}
if call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  call('HDEL', KEYS[1], ARGV[1])
  call('ZREM', KEYS[2], ARGV[1])
  call('ZREM', KEYS[3], ARGV[1])
  return answer({1})
end
return answer({0})
`;
