-- Claim a task: KEYS[1] task hash; ARGV[3] task id, ARGV[4] actor, ARGV[5] scope, ARGV[6] lease ms.
if unavailable() then return answer('UNAVAILABLE', {}) end
local id, actor, scope = ARGV[3], ARGV[4], ARGV[5]
local t = load(KEYS[1])
if not t or not in_scope(t.district, scope) then return answer('NOT_FOUND', {}) end
local emitted = {}
if t.status == 'WITHDRAWN' then return withdrawn_answer(t, emitted) end
expire_if_due(t, id, emitted)
if t.status == 'CLAIMED' then return answer('HELD', emitted, {holder = t.holder}) end
if t.status ~= 'QUEUED' then return answer('DECIDED', emitted) end
if t.assignee ~= '' and t.assignee ~= actor then return answer('ASSIGNED', emitted, {assignee = t.assignee}) end
if string.sub(t.queue, 1, 2) == 'r:' and not is_supervisor(scope) then return answer('ESCALATED', emitted) end
local lease_until = NOW + tonumber(ARGV[6])
redis.call('ZREM', queue_key(t.queue), id)
redis.call('ZADD', held_key(t.queue), t.score, id)
redis.call('ZADD', LEASES, lease_until, id)
redis.call('HSET', KEYS[1], 'status', 'CLAIMED', 'holder', actor, 'lease_until', tostring(lease_until),
           'claimed_at', tostring(NOW))
table.insert(emitted, emit(t, id, 'CLAIMED', actor, '', '', tostring(lease_until)))
return answer('OK', emitted, {lease_until = tostring(lease_until)})
