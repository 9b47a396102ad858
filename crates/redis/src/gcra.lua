-- GCRA on Redis's clock, one round trip per check.
--
-- KEYS[1]  the key's state: its theoretical arrival time (TAT), in
--          microseconds since the epoch on Redis's clock; absent = full.
-- ARGV[1]  the refill interval of one unit, in whole microseconds.
-- ARGV[2]  the burst: how many units a full key admits at once.
-- ARGV[3]  the cost of this call, in units (at most the burst).
--
-- Returns { admitted (1 or 0), wait until this call could be admitted (µs),
--           wait until a one-unit call could be (µs), units left }.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2]) * interval
local cost = tonumber(ARGV[3])

local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
local new = tat + cost * interval
-- The call conforms when its new TAT is at most one capacity ahead of now.
if new - now > capacity then
  local one = tat + interval - capacity - now
  if one < 0 then one = 0 end
  return { 0, new - capacity - now, one, math.floor((capacity - (tat - now)) / interval) }
end
-- The key is full again once its TAT is reached: it expires then.
redis.call('SET', KEYS[1], string.format('%.0f', new), 'PX', math.ceil((new - now) / 1000))
return { 1, 0, 0, math.floor((capacity - (new - now)) / interval) }
