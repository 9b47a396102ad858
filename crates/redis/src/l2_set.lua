-- Stores one second-level entry, unless an entry from a fetch that started
-- later is there already (an older fetch finishing last must not win).
--
-- KEYS[1]  the entry: a hash of t (when its fetch started, microseconds on
--          Redis's clock), v (the value's bytes) and g (its tags, joined by
--          the byte 0x1f)
-- ARGV[1]  t; 0 for "now" (a value inserted directly, not fetched)
-- ARGV[2]  v
-- ARGV[3]  g
-- ARGV[4]  how long Redis keeps the entry, in milliseconds
--
-- Returns 1 when stored, 0 when a newer entry was kept.
local t = ARGV[1]
if t == '0' then
  local now = redis.call('TIME')
  t = now[1] .. string.format('%06d', tonumber(now[2]))
end
local held = redis.call('HGET', KEYS[1], 't')
if held and tonumber(held) > tonumber(t) then
  return 0
end
redis.call('HSET', KEYS[1], 't', t, 'v', ARGV[2], 'g', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
