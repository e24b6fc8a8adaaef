-- Take in one publication of a task: KEYS[1] task hash, KEYS[2] audit stream, KEYS[3] revisions stream.
-- ARGV[3] JSON {fields = task and progress fields, receipt = receipt entry fields, revision = revision entry fields
-- or null, number = offer.revision.number (-1 when the publication carries none), revised = the fields a revision
-- replaces, releaser = the actor of a reinstatement's release}. ARGV[2] is the publication's time: a reinstatement's
-- release transition takes it. Returns 1 for a new task, 2 for a revision, withdrawal or reinstatement applied, 0
-- when it changes nothing (domain/revisions.py, next_number and its module docstring, is the same rule).
if unavailable() then return redis.error_reply('UNAVAILABLE the view is being rebuilt') end
local d = cjson.decode(ARGV[3])
local function flat(map)
  local out = {}
  for k, v in pairs(map) do out[#out + 1] = k; out[#out + 1] = v end
  return out
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], unpack(flat(d.fields)))
  redis.call('XADD', KEYS[2], '0-1', unpack(flat(d.receipt)))
  redis.call('SADD', P .. ':household:' .. d.fields.household, d.fields.id)
  if d.revision ~= cjson.null then redis.call('XADD', KEYS[3], d.fields.rev .. '-1', unpack(flat(d.revision))) end
  if d.fields.status ~= 'WITHDRAWN' then
    local t = load(KEYS[1])
    redis.call('ZADD', queue_key(t.queue), t.score, d.fields.id)
    redis.call('ZADD', DUE, t.due, d.fields.id)
    redis.call('SADD', QUEUES, t.queue)
  end
  return 1
end
if d.revision == cjson.null then return 0 end
local stored = redis.call('HMGET', KEYS[1], 'rev', 'change', 'due', 'priority', 'reason')
-- A withdrawal closes the chain: only a higher number that is not a withdrawal reopens it.
if stored[2] == 'WITHDRAWN' and d.revision.change == 'WITHDRAWN' then return 0 end
local before = tonumber(stored[1] or '0')
local number = tonumber(d.number)
if number < 0 then
  -- A REVISED one without a number (a warning's moved deadline, perhaps published twice) is applied only when it
  -- changes the due time, priority or reason that stand, and never reopens a withdrawn task.
  if d.revision.change ~= 'WITHDRAWN' and (stored[2] == 'WITHDRAWN' or (stored[3] == d.fields.due
      and stored[4] == d.fields.priority and stored[5] == d.fields.reason)) then return 0 end
  number = before + 1
end
if number <= before then return 0 end
local id = d.fields.id
local t = load(KEYS[1])
local entry = d.revision
local open = t.status == 'QUEUED' or t.status == 'CLAIMED'
if entry.change == 'WITHDRAWN' and t.status == 'CLAIMED' then entry.held_by = t.holder end
local reinstated = t.status == 'WITHDRAWN' and entry.change ~= 'WITHDRAWN'
if reinstated then
  -- The claim the withdrawal ended is released on the record too, so a rebuild finds the task queued.
  local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1]
  local held_by = ''
  if last then
    for i = 1, #last[2], 2 do if last[2][i] == 'held_by' then held_by = last[2][i + 1] end end
  end
  if held_by ~= '' then emit(t, id, 'UNCLAIMED', d.releaser, t.change_reason or '', '', '0') end
end
redis.call('XADD', KEYS[3], number .. '-1', unpack(flat(entry)))
local revised = {'rev', tostring(number)}
for _, name in ipairs(d.revised) do revised[#revised + 1] = name; revised[#revised + 1] = d.fields[name] end
redis.call('HSET', KEYS[1], unpack(revised))
redis.call('SADD', P .. ':household:' .. d.fields.household, id)
if entry.change == 'WITHDRAWN' then
  if open then
    redis.call('ZREM', queue_key(t.queue), id)
    redis.call('ZREM', held_key(t.queue), id)
    redis.call('ZREM', LEASES, id)
    redis.call('ZREM', DUE, id)
    redis.call('HSET', KEYS[1], 'status', 'WITHDRAWN', 'holder', '', 'lease_until', '0', 'claimed_at', '0')
  end
  return 2
end
if reinstated then
  redis.call('HSET', KEYS[1], 'status', 'QUEUED', 'holder', '', 'lease_until', '0', 'claimed_at', '0')
  t.status = 'QUEUED'
  open = true
  redis.call('SADD', QUEUES, t.queue)
end
-- A revision keeps the task where its new priority and deadline put it, claimed or queued, escalated or not.
if t.status == 'QUEUED' then redis.call('ZADD', queue_key(t.queue), d.fields.score, id)
elseif t.status == 'CLAIMED' then redis.call('ZADD', held_key(t.queue), d.fields.score, id) end
if open and t.escalated ~= '1' then redis.call('ZADD', DUE, d.fields.due, id) end
return 2
