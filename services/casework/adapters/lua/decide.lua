-- Decide a claimed task: KEYS[1] task hash; ARGV[3] task id, ARGV[4] actor, ARGV[5] scope,
-- ARGV[6] APPROVED | REJECTED | INFORMATION_REQUESTED, ARGV[7] reason. Only the holder of a live lease decides.
if unavailable() then return answer('UNAVAILABLE', {}) end
local id, actor, scope, action, reason = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local t = load(KEYS[1])
if not t or not in_scope(t.district, scope) then return answer('NOT_FOUND', {}) end
local emitted = {}
if t.status == 'WITHDRAWN' then return withdrawn_answer(t, emitted) end
expire_if_due(t, id, emitted)
if t.status == 'APPROVED' or t.status == 'REJECTED' then return answer('DECIDED', emitted) end
if t.status ~= 'CLAIMED' or t.holder ~= actor then return answer('NOT_HOLDER', emitted, {holder = t.holder}) end
local claimed_at = redis.call('HGET', KEYS[1], 'claimed_at')
if action == 'INFORMATION_REQUESTED' then
  release(t, id)
  redis.call('HSET', KEYS[1], 'info_requested', tostring(NOW))
else
  redis.call('ZREM', held_key(t.queue), id)
  redis.call('ZREM', LEASES, id)
  redis.call('ZREM', DUE, id)
  redis.call('HSET', KEYS[1], 'status', action, 'holder', '', 'lease_until', '0', 'claimed_at', '0',
             'decided_at', tostring(NOW), 'decided_by', actor)
end
table.insert(emitted, emit(t, id, action, actor, reason, '', '0'))
return answer('OK', emitted, {claimed_at = claimed_at})
