-- A sliding (or fixed) window counter on Redis's clock, one round trip per check.
--
-- KEYS[1]  the key's counts: a hash of the window's number `w`, the
--          previous window's count `p` and this one's `c`; absent = empty.
-- ARGV[1]  the window's length, in microseconds.
-- ARGV[2]  the limit per window.
-- ARGV[3]  the cost of this call.
-- ARGV[4]  1 for a sliding window, 0 for a fixed one.
--
-- The sliding estimate of the calls in the window ending now is
-- previous × (W − e) / W + current, e the time into the current window.
-- Returns { admitted, wait for this call (µs), wait for one unit (µs), units left }.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local w = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local sliding = ARGV[4] == '1'

local index = math.floor(now / w)
local into = now - index * w
local state = redis.call('HMGET', KEYS[1], 'w', 'p', 'c')
local at, prev, cur = tonumber(state[1]), tonumber(state[2]) or 0, tonumber(state[3]) or 0
if at == nil or index - at >= 2 then
  prev, cur = 0, 0
elseif index - at == 1 then
  prev, cur = cur, 0
end
if not sliding then
  prev = 0
end

-- How long until `n` more fit (never: -1), given prev and cur now.
local function wait_for(n)
  if n > limit then return -1 end
  local used = prev * (w - into) / w + cur
  if used + n <= limit then return 0 end
  if cur + n <= limit and sliding and prev > 0 then
    -- Later in this window, once enough of the previous one slid out.
    return math.ceil(w - (limit - cur - n) * w / prev - into)
  end
  if not sliding or cur == 0 then
    return w - into
  end
  -- In the next window, where this window's count is the previous one.
  return math.ceil((w - into) + w - (limit - n) * w / cur)
end

local wait = wait_for(cost)
if wait ~= 0 then
  return { 0, wait, wait_for(1), math.max(0, math.floor(limit - (prev * (w - into) / w + cur))) }
end
cur = cur + cost
redis.call('HSET', KEYS[1], 'w', index, 'p', prev, 'c', cur)
-- Its counts matter until the end of the next window.
redis.call('PEXPIREAT', KEYS[1], math.ceil(((index + 2) * w) / 1000))
return { 1, 0, 0, math.max(0, math.floor(limit - (prev * (w - into) / w + cur))) }
