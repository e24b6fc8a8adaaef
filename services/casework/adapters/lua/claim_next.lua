-- Claim the first claimable task of some queues: ARGV[3] actor, ARGV[4] scope, ARGV[5] lease ms,
-- ARGV[6] how many candidates to look at per queue, ARGV[7..] queue names.
if unavailable() then return answer('UNAVAILABLE', {}) end
local actor, scope, lease_ms, window = ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local candidates = {}
for i = 7, #ARGV do
  local q = ARGV[i]
  if string.sub(q, 1, 2) == 'd:' or is_supervisor(scope) then
    local found = redis.call('ZRANGE', queue_key(q), 0, window - 1, 'WITHSCORES')
    for j = 1, #found, 2 do candidates[#candidates + 1] = {found[j], tonumber(found[j + 1])} end
  end
end
table.sort(candidates, function(a, b) return a[2] < b[2] end)
for _, c in ipairs(candidates) do
  local id = c[1]
  local t = load(task_key(id))
  if t and t.status == 'QUEUED' and in_scope(t.district, scope) and (t.assignee == '' or t.assignee == actor) then
    local lease_until = NOW + lease_ms
    redis.call('ZREM', queue_key(t.queue), id)
    redis.call('ZADD', held_key(t.queue), t.score, id)
    redis.call('ZADD', LEASES, lease_until, id)
    redis.call('HSET', t.key, 'status', 'CLAIMED', 'holder', actor, 'lease_until', tostring(lease_until),
               'claimed_at', tostring(NOW))
    local emitted = {emit(t, id, 'CLAIMED', actor, '', '', tostring(lease_until))}
    return answer('OK', emitted, {task_id = id, lease_until = tostring(lease_until)})
  end
end
return answer('EMPTY', {})
