-- Brute-force lockout on Redis's clock, as steadfast_ratelimit::Lockout:
-- `max` failures within `window` lock a key for `first`, doubling with each
-- lockout up to `cap`; `forget` after a lockout ends, the doubling starts over.
--
-- KEYS[1]  the key's record: a hash of `s` (window start), `f` (failures),
--          `l` (lockout level), `u` (locked until); µs on Redis's clock.
-- ARGV[1]  0 'a success', 1 'check', 2 'a failure'.
-- ARGV[2..6] max, window, first, cap, forget (µs; max a count).
--
-- Returns { µs left locked (0: not locked), lockout started by this call (µs,
-- 0: none), level, failures in the window }: a check of a key with no record
-- (level and failures 0) tells the caller a success need not be recorded.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local op = tonumber(ARGV[1])
if op == 0 then
  redis.call('DEL', KEYS[1])
  return { 0, 0, 0, 0 }
end
local r = redis.call('HMGET', KEYS[1], 's', 'f', 'l', 'u')
local start, failures, level, until_ = tonumber(r[1]) or 0, tonumber(r[2]) or 0, tonumber(r[3]) or 0, tonumber(r[4]) or 0
if now < until_ then
  return { until_ - now, 0, level, failures }
end
if op == 1 then
  return { 0, 0, level, failures }
end
local max, window, first, cap, forget =
  tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if level > 0 and now >= until_ + forget then
  level = 0
end
if failures == 0 or now - start >= window then
  start, failures = now, 0
end
failures = failures + 1
local started = 0
if failures >= max then
  started = math.min(first * 2 ^ level, cap)
  level = level + 1
  failures = 0
  until_ = now + started
end
redis.call('HSET', KEYS[1], 's', string.format('%.0f', start), 'f', failures, 'l', level, 'u', string.format('%.0f', until_))
-- The record matters until its window ends, or the doubling is forgotten.
local keep = math.max(start + window, until_ + forget) - now
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(keep / 1000)))
return { 0, started, level, failures }
