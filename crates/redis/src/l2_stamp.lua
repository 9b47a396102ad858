-- Stamps an invalidation: of one tag, or of everything. An entry whose
-- fetch started at or before the stamp is never served again.
--
-- KEYS[1]  the stamp's key
-- ARGV[1]  how long Redis keeps the stamp, in milliseconds (longer than
--          any entry lives)
--
-- Returns the stamp: now, in microseconds on Redis's clock, as text (a Lua
-- number would be written as 1.7e+15).
local now = redis.call('TIME')
local stamp = now[1] .. string.format('%06d', tonumber(now[2]))
redis.call('SET', KEYS[1], stamp, 'PX', ARGV[1])
return stamp
