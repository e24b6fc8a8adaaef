-- Move an undecided task to a district's queue, optionally reserved for one caseworker (a supervisor's act):
-- KEYS[1] task hash; ARGV[3] task id, ARGV[4] actor, ARGV[5] scope, ARGV[6] district, ARGV[7] assignee or '',
-- ARGV[8] reason. A held lease is withdrawn.
if unavailable() then return answer('UNAVAILABLE', {}) end
local id, actor, scope, district, assignee, reason = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local t = load(KEYS[1])
if not t or not in_scope(t.district, scope) or not is_supervisor(scope) then return answer('NOT_FOUND', {}) end
if not in_scope(district, scope) then return answer('OUT_OF_SCOPE', {}) end
local emitted = {}
if t.status == 'WITHDRAWN' then return withdrawn_answer(t, emitted) end
expire_if_due(t, id, emitted)
if t.status == 'APPROVED' or t.status == 'REJECTED' then return answer('DECIDED', emitted) end
redis.call('ZREM', held_key(t.queue), id)
redis.call('ZREM', LEASES, id)
redis.call('ZREM', queue_key(t.queue), id)
local queue = 'd:' .. district
redis.call('ZADD', queue_key(queue), t.score, id)
redis.call('SADD', QUEUES, queue)
redis.call('HSET', KEYS[1], 'status', 'QUEUED', 'holder', '', 'lease_until', '0', 'claimed_at', '0',
           'district', district, 'queue', queue, 'assignee', assignee)
t.district = district
table.insert(emitted, emit(t, id, 'REASSIGNED', actor, reason, assignee, '0'))
return answer('OK', emitted)
