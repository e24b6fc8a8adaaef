-- Give a claimed task back: KEYS[1] task hash; ARGV[3] task id, ARGV[4] actor, ARGV[5] scope.
-- The holder may, and so may a supervisor of the region.
if unavailable() then return answer('UNAVAILABLE', {}) end
local id, actor, scope = ARGV[3], ARGV[4], ARGV[5]
local t = load(KEYS[1])
if not t or not in_scope(t.district, scope) then return answer('NOT_FOUND', {}) end
local emitted = {}
if t.status == 'WITHDRAWN' then return withdrawn_answer(t, emitted) end
expire_if_due(t, id, emitted)
if t.status == 'APPROVED' or t.status == 'REJECTED' then return answer('DECIDED', emitted) end
if t.status ~= 'CLAIMED' then return answer('NOT_HOLDER', emitted, {holder = ''}) end
if t.holder ~= actor and not is_supervisor(scope) then return answer('NOT_HOLDER', emitted, {holder = t.holder}) end
release(t, id)
table.insert(emitted, emit(t, id, 'UNCLAIMED', actor, '', '', '0'))
return answer('OK', emitted)
