-- Take in a task once: KEYS[1] task hash, KEYS[2] audit stream. ARGV[3..] field/value pairs of the hash
-- (task fields then progress fields), the last four being receipt entry fields handled below.
-- Returns 1 when new, 0 when the task id is already known.
if unavailable() then return redis.error_reply('UNAVAILABLE the view is being rebuilt') end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local n = tonumber(ARGV[3])
local fields = {}
for i = 4, 3 + n * 2 do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
local receipt = {}
for i = 4 + n * 2, #ARGV do receipt[#receipt + 1] = ARGV[i] end
redis.call('XADD', KEYS[2], '0-1', unpack(receipt))
local t = load(KEYS[1])
redis.call('ZADD', queue_key(t.queue), t.score, redis.call('HGET', KEYS[1], 'id'))
redis.call('ZADD', DUE, t.due, redis.call('HGET', KEYS[1], 'id'))
redis.call('SADD', QUEUES, t.queue)
return 1
