-- Gives `cost` units back to each key: its TAT moves back by cost × interval
-- (never before now: a key is at most full, which deletes it).
--
-- KEYS[i]        a limit's key.
-- ARGV[1]        the cost, in units.
-- ARGV[i + 1]    limit i's refill interval (µs).
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local cost = tonumber(ARGV[1])
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if tat then
    local back = tat - cost * tonumber(ARGV[i + 1])
    if back <= now then
      redis.call('DEL', KEYS[i])
    else
      redis.call('SET', KEYS[i], string.format('%.0f', back), 'PX', math.ceil((back - now) / 1000))
    end
  end
end
return #KEYS
