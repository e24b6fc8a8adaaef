-- Remove one closed task past its retention window (services/casework/domain/retention.py, the same rule).
-- KEYS: task hash, audit stream, revisions stream, the rebuilding marker. ARGV: cutoff (ms), key prefix.
-- Returns 1 removed, 0 kept (closed within the window, or gone), 2 kept (open), -1 while a rebuild runs.
if redis.call('EXISTS', KEYS[4]) == 1 then return -1 end
local f = redis.call('HMGET', KEYS[1], 'status', 'decided_at', 'created', 'household', 'id')
local status = f[1]
if not status then return 0 end
if status ~= 'APPROVED' and status ~= 'REJECTED' and status ~= 'WITHDRAWN' then return 2 end
local decided = tonumber(f[2] or '0') or 0
local withdrawn = 0
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
if last[1] then
  local fields = last[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == 'change' and fields[i + 1] ~= 'WITHDRAWN' then break end
    if fields[i] == 'at' then withdrawn = tonumber(fields[i + 1]) or 0 end
  end
end
local closed = decided
if closed == 0 then closed = withdrawn end
if closed == 0 then closed = tonumber(f[3] or '0') or 0 end
if closed == 0 or closed >= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
if f[4] then redis.call('SREM', ARGV[2] .. ':household:' .. f[4], f[5]) end
redis.call('ZREM', ARGV[2] .. ':due', f[5])
redis.call('ZREM', ARGV[2] .. ':leases', f[5])
return 1
