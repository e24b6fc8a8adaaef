-- Shared by every casework script. ARGV[1] is the key prefix, ARGV[2] the caller's clock in epoch ms.
-- Keys other than KEYS[1] are derived from the prefix: casework runs on one Redis node (not a cluster).
local P = ARGV[1]
local NOW = tonumber(ARGV[2])
local LEASES = P .. ':leases'
local DUE = P .. ':due'
local QUEUES = P .. ':queues'
local OUTBOX = P .. ':outbox'

local function task_key(id) return P .. ':task:' .. id end
local function queue_key(q) return P .. ':queue:' .. q end
local function held_key(q) return P .. ':held:' .. q end

local FIELDS = {'status', 'district', 'queue', 'holder', 'lease_until', 'claimed_at', 'assignee', 'escalated',
                'seq', 'household', 'person', 'offer', 'policy', 'score', 'due', 'change_reason'}

local function load(key)
  local values = redis.call('HMGET', key, unpack(FIELDS))
  if not values[1] then return nil end
  local t = {key = key}
  for i, name in ipairs(FIELDS) do t[name] = values[i] end
  return t
end

-- Nothing changes while a rebuild runs, nor before the view was built (a wiped Redis waits for its rebuild).
local function unavailable()
  return redis.call('EXISTS', P .. ':rebuilding') == 1 or redis.call('EXISTS', P .. ':built') == 0
end

-- scope: 'r:<two digits>' for a supervisor, 'd:<code>,<code>' for a caseworker.
local function in_scope(district, scope)
  local kind = string.sub(scope, 1, 2)
  if kind == 'r:' then return string.sub(district, 1, 2) == string.sub(scope, 3, 4) end
  if kind == 'd:' then
    return string.find(',' .. string.sub(scope, 3) .. ',', ',' .. district .. ',', 1, true) ~= nil
  end
  return false
end

local function is_supervisor(scope) return string.sub(scope, 1, 2) == 'r:' end

-- Append the transition to the task's audit stream and to the outbox, in this same atomic step.
local function emit(t, id, action, actor, reason, assignee, lease_until)
  local seq = redis.call('HINCRBY', t.key, 'seq', 1)
  local decision = 'd-' .. string.sub(redis.sha1hex(id .. '|' .. action .. '|' .. seq), 1, 32)
  local at = tostring(NOW)
  redis.call('XADD', P .. ':audit:' .. id, seq .. '-1', 'action', action, 'actor', actor, 'reason', reason,
             'at', at, 'decision', decision, 'district', t.district, 'assignee', assignee,
             'lease_until', lease_until)
  redis.call('XADD', OUTBOX, '*', 'decision', cjson.encode({
    decision_id = decision, action = action, task_id = id, offer_id = t.offer, household_id = t.household,
    person_id = t.person, policy_id = t.policy, district = t.district, actor = actor, reason = reason, at = at,
    seq = tostring(seq), assignee = assignee, lease_until = lease_until}))
  return {action = action, district = t.district, decision_id = decision}
end

local function release(t, id)
  redis.call('ZREM', held_key(t.queue), id)
  redis.call('ZREM', LEASES, id)
  redis.call('ZADD', queue_key(t.queue), t.score, id)
  redis.call('HSET', t.key, 'status', 'QUEUED', 'holder', '', 'lease_until', '0', 'claimed_at', '0')
  t.status = 'QUEUED'
  t.holder = ''
end

-- A lease that has run out is returned to its queue before anything else looks at the task.
local function expire_if_due(t, id, emitted)
  if t.status == 'CLAIMED' and tonumber(t.lease_until) <= NOW then
    release(t, id)
    table.insert(emitted, emit(t, id, 'LEASE_EXPIRED', 'system', '', '', '0'))
  end
end

-- A task matching withdrew is in no queue; every command on it is refused with matching's reason.
local function withdrawn_answer(t, emitted)
  return cjson.encode({status = 'WITHDRAWN', emitted = emitted, reason = t.change_reason or ''})
end

local function answer(status, emitted, extra)
  local result = extra or {}
  result.status = status
  result.emitted = emitted
  return cjson.encode(result)
end
