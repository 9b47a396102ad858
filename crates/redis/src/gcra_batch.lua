-- GCRA on Redis's clock for several checks of one limiter at once: the
-- checks that queued while another round trip was in flight, sent as one.
-- Each check is `gcra.lua`'s, in order (two checks of one key see each
-- other, as two calls of the script would).
--
-- KEYS[i]    the i-th check's key (its TAT, as in gcra.lua).
-- ARGV[1]    the refill interval of one unit, in whole microseconds.
-- ARGV[2]    the burst.
-- ARGV[2+i]  the i-th check's cost.
--
-- Returns the answers one after the other, four numbers each, as gcra.lua's.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2]) * interval
local out = {}
-- Every TAT in one call; a key checked twice sees its earlier check's TAT.
local read = redis.call('MGET', unpack(KEYS))
local written = {}
for i = 1, #KEYS do
  local cost = tonumber(ARGV[2 + i])
  local tat = written[KEYS[i]] or tonumber(read[i]) or now
  if tat < now then
    tat = now
  end
  local new = tat + cost * interval
  local n = #out
  if new - now > capacity then
    local one = tat + interval - capacity - now
    if one < 0 then one = 0 end
    out[n + 1], out[n + 2], out[n + 3], out[n + 4] =
      0, new - capacity - now, one, math.floor((capacity - (tat - now)) / interval)
  else
    redis.call('SET', KEYS[i], string.format('%.0f', new), 'PX', math.ceil((new - now) / 1000))
    written[KEYS[i]] = new
    out[n + 1], out[n + 2], out[n + 3], out[n + 4] =
      1, 0, 0, math.floor((capacity - (new - now)) / interval)
  end
end
return out
