-- Move undecided tasks past their deadline to their region's supervisor queue: ARGV[3] how many at most.
if unavailable() then return answer('UNAVAILABLE', {}) end
local emitted = {}
for _, id in ipairs(redis.call('ZRANGE', DUE, '-inf', '(' .. NOW, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))) do
  redis.call('ZREM', DUE, id)
  local t = load(task_key(id))
  if t and (t.status == 'QUEUED' or t.status == 'CLAIMED') and t.escalated ~= '1' then
    local queue = 'r:' .. string.sub(t.district, 1, 2) .. '0000'
    if t.status == 'QUEUED' then
      redis.call('ZREM', queue_key(t.queue), id)
      redis.call('ZADD', queue_key(queue), t.score, id)
    else
      redis.call('ZREM', held_key(t.queue), id)
      redis.call('ZADD', held_key(queue), t.score, id)
    end
    redis.call('SADD', QUEUES, queue)
    redis.call('HSET', t.key, 'queue', queue, 'escalated', '1')
    table.insert(emitted, emit(t, id, 'ESCALATED', 'system', '', '', '0'))
  end
end
return answer('OK', emitted)
