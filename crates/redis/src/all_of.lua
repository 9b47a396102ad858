-- Several GCRA limits in one decision: every key admits, or none is touched.
--
-- KEYS[i]        limit i's key (its TAT, as in gcra.lua).
-- ARGV[1]        the cost, in units.
-- ARGV[2i], ARGV[2i+1]   limit i's refill interval (µs) and burst.
--
-- Returns { admitted (1 or 0), the longest wait among the refusing limits
--           (µs), the index (from 1) of that limit }.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local cost = tonumber(ARGV[1])
local new = {}
local longest, refusing = -1, 0
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i])
  local capacity = tonumber(ARGV[2 * i + 1]) * interval
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  if tat < now then
    tat = now
  end
  new[i] = tat + cost * interval
  local wait = new[i] - capacity - now
  if wait > 0 and wait > longest then
    longest, refusing = wait, i
  end
end
if refusing > 0 then
  return { 0, longest, refusing }
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], string.format('%.0f', new[i]), 'PX', math.ceil((new[i] - now) / 1000))
end
return { 1, 0, 0 }
