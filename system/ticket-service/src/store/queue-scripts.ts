// The waiting room's atomic steps, as Lua run inside Redis. Time is Redis's own clock (TIME), so every
// ticket-service instance agrees on when the queue opens and how much admission credit has accrued.

const NOW = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

// Fisher-Yates over the pre-queue, once. The seed comes from Node's crypto for each call; xorshift32 turns it
// into the sequence of swaps. Pre-queue users get tickets 1..n; later joiners continue from n + 1.
const OPEN = `
local function open_queue(cfg, seq, tickets, owners, pre, seed)
  if redis.call('HGET', cfg, 'shuffled') == '1' then return end
  local members = redis.call('LRANGE', pre, 0, -1)
  local n = #members
  local x = tonumber(seed)
  for i = n, 2, -1 do
    x = bit.bxor(x, bit.lshift(x, 13))
    x = bit.bxor(x, bit.rshift(x, 17))
    x = bit.bxor(x, bit.lshift(x, 5))
    local j = (x % i) + 1
    members[i], members[j] = members[j], members[i]
  end
  for i = 1, n do
    redis.call('HSET', tickets, members[i], i)
    redis.call('HSET', owners, i, members[i])
  end
  redis.call('SET', seq, n)
  redis.call('HSET', cfg, 'shuffled', '1')
  redis.call('DEL', pre)
end
`;

/**
 * KEYS: cfg, seq, tickets, owners, pre, seen, joined, served, admitted, userJoins, ipJoins
 * ARGV: user, seed, windowMs, userLimit, ipLimit (0: no limit)
 * Returns {code, ticket}: code 1 already queued, 0 pre-queue, 2 queued; -1 no queue, -2 not open, -3 closed;
 * -4 too many joins, with the milliseconds until the limit's window ends in place of the ticket.
 * Joining again from another tab keeps the place. Only someone whose turn is over (admitted and done, lapsed,
 * or dropped for silence) joins again at the back. The join limits (per fan and per address, per event) are
 * counted in the same script: one round trip per join, not two.
 */
export const JOIN = `${NOW}${OPEN}
local cfg, seq, tickets, owners, pre, seen, joined, served_key, admitted, user_joins, ip_joins =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local user = ARGV[1]
local window, user_limit, ip_limit = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local wait = 0
for _, limit in ipairs({{user_joins, user_limit}, {ip_joins, ip_limit}}) do
  if limit[2] > 0 then
    local n = redis.call('INCR', limit[1])
    if n == 1 then redis.call('PEXPIRE', limit[1], window) end
    if n > limit[2] then wait = math.max(wait, redis.call('PTTL', limit[1])) end
  end
end
if wait > 0 then return {-4, wait} end
local c = redis.call('HMGET', cfg, 'opensAt', 'salesOpenAt', 'closed')
if not c[1] then return {-1, 0} end
local now = now_ms()
local existing = tonumber(redis.call('HGET', tickets, user) or 'nil')
if existing then
  local served = tonumber(redis.call('GET', served_key) or '0')
  local turn_over = existing < 0 or (existing > 0 and existing <= served and redis.call('HEXISTS', admitted, user) == 0)
  if not turn_over then
    redis.call('ZADD', seen, now, user)
    return {1, existing}
  end
end
if c[3] == '1' then return {-3, 0} end
if now < tonumber(c[1]) then return {-2, 0} end
redis.call('ZADD', seen, now, user)
redis.call('HSET', joined, user, now)
if now < tonumber(c[2]) then
  redis.call('RPUSH', pre, user)
  redis.call('HSET', tickets, user, 0)
  return {0, 0}
end
open_queue(cfg, seq, tickets, owners, pre, ARGV[2])
local n = redis.call('INCR', seq)
redis.call('HSET', tickets, user, n)
redis.call('HSET', owners, n, user)
return {2, n}
`;

/**
 * One admission step. KEYS: cfg, seq, served, tickets, owners, pre, seen, active, admitted, stats, issued, acked
 * ARGV: seed, graceMs, slotMs, maxSteps
 * Frees the slots of no-shows and lapsed tokens, then admits as many as the rate credit and the free slots
 * allow (the rate: the operator's, or the admission controller's when lower), in ticket order, skipping
 * (dropping) anyone who stopped heart-beating. A lapsed admission leaves `acked` too.
 * Returns {admitted, served, dropped, active, seq, lapsed, now}.
 */
export const TICK = `${NOW}${OPEN}
local cfg, seq, served_key, tickets, owners, pre, seen, active, admitted, stats, issued, acked =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12]
local graceMs, slotMs, maxSteps = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local c = redis.call('HMGET', cfg, 'salesOpenAt', 'rate', 'maxActive', 'paused', 'lastTick', 'credit', 'control', 'ctlRate')
if not c[1] then return {-1, 0, 0, 0, 0, 0, 0} end
local now = now_ms()
local served = tonumber(redis.call('GET', served_key) or '0')
if now < tonumber(c[1]) then return {0, served, 0, 0, 0, 0, now} end
open_queue(cfg, seq, tickets, owners, pre, ARGV[1])

-- A slot whose time is up is kept while its user is still there (a poll, an open stream or a reservation
-- attempt within the grace), up to the slot time after admission; otherwise it goes to the next person.
local lapsedUsers = {}
for _, u in ipairs(redis.call('ZRANGEBYSCORE', active, '-inf', now)) do
  local seenAt = tonumber(redis.call('ZSCORE', seen, u) or '0')
  local token = redis.call('HGET', admitted, u)
  local record = token and redis.call('HGET', issued, token) or ''
  local endsAt = tonumber(string.match(record, '|(%d+)$') or '0') + slotMs
  local keepUntil = math.min(seenAt + graceMs, endsAt)
  if keepUntil > now then
    redis.call('ZADD', active, keepUntil, u)
  else
    redis.call('ZREM', active, u)
    redis.call('HDEL', admitted, u)
    redis.call('ZREM', acked, u)
    lapsedUsers[#lapsedUsers + 1] = u
  end
end

local last = tonumber(c[5] or now)
local rate = tonumber(c[2])
-- The operator's rate is a ceiling: the admission controller (docs/overload.md) may ask for less.
if c[7] ~= 'off' and c[8] then rate = math.min(rate, tonumber(c[8])) end
local credit = tonumber(c[6] or '0')
if c[4] == '1' then
  redis.call('HSET', cfg, 'lastTick', now, 'credit', 0)
  -- The last 1 says "paused": the waiting fans' pages show it, pushed with their place (queue-updates.ts).
  return {0, served, 0, redis.call('ZCARD', active), tonumber(redis.call('GET', seq) or '0'), #lapsedUsers, now, 1}
end
-- The bucket holds at most one second of admissions: a pause or a slow tick does not bank a burst.
credit = math.min(credit + (now - last) / 1000 * rate, math.max(rate, 1))
local free = tonumber(c[3]) - redis.call('ZCARD', active)
local last_ticket = tonumber(redis.call('GET', seq) or '0')
local n_admitted, n_dropped, steps = 0, 0, 0
while credit >= 1 and free > 0 and served < last_ticket and steps < maxSteps do
  steps = steps + 1
  served = served + 1
  local u = redis.call('HGET', owners, served)
  if u then
    local seenAt = tonumber(redis.call('ZSCORE', seen, u) or '0')
    if now - seenAt > graceMs then
      n_dropped = n_dropped + 1
      redis.call('HSET', tickets, u, -served)
    else
      local token_id = ARGV[1] .. '.' .. served
      -- Held for one grace period at first; each tick after that keeps it only while the user is still seen.
      redis.call('ZADD', active, now + math.min(graceMs, slotMs), u)
      redis.call('HSET', admitted, u, token_id)
      -- The admission log: who was let in, on which ticket, when. The invariant checker reads it.
      redis.call('HSET', issued, token_id, u .. '|' .. served .. '|' .. now)
      credit = credit - 1
      free = free - 1
      n_admitted = n_admitted + 1
    end
  end
end
redis.call('SET', served_key, served)
redis.call('HSET', cfg, 'lastTick', now, 'credit', credit)
if n_admitted > 0 then redis.call('HINCRBY', stats, 'admitted', n_admitted) end
if n_dropped > 0 then redis.call('HINCRBY', stats, 'dropped', n_dropped) end
return {n_admitted, served, n_dropped, redis.call('ZCARD', active), last_ticket, #lapsedUsers, now}
`;

/**
 * KEYS: seen   ARGV: user, expectMs, user, expectMs… Stamps each user with when they are next expected: now, by
 * Redis's clock (the same clock every admission step reads, whichever instance saw them), plus the wait they
 * were told (Retry-After). A fan far back who was told to come back in two minutes is not taken for gone after
 * the grace: the grace counts from when they were due.
 */
export const HEARTBEAT = `${NOW}
local now = now_ms()
for i = 1, #ARGV, 2 do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[i + 1]), ARGV[i]) end
return #ARGV / 2
`;

/** KEYS: admitted, active, acked   ARGV: user, tokenId. Spends the admission: the slot is freed, the token dies. */
export const SPEND_ADMISSION = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 1
end
return 0
`;
