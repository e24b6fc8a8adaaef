-- Return tasks whose lease ran out to their queues: ARGV[3] how many at most.
if unavailable() then return answer('UNAVAILABLE', {}) end
local emitted = {}
for _, id in ipairs(redis.call('ZRANGE', LEASES, '-inf', NOW, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))) do
  local t = load(task_key(id))
  if t then expire_if_due(t, id, emitted) end
  if not t or t.status ~= 'CLAIMED' then redis.call('ZREM', LEASES, id) end
end
return answer('OK', emitted)
