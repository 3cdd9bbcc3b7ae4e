package redisstore

import "github.com/redis/go-redis/v9"

// The queue scripts. Each runs atomically on the server, so an item is always in
// exactly one list: waiting, or in one consumer's in-flight list. Heartbeats use
// the server's clock (TIME), so that hosts with skewed clocks agree on who is
// dead. All keys are declared, as Redis Cluster requires.

// nowMs is the server's time in milliseconds, for the scripts below.
const nowMs = `local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

// reserveScript moves up to ARGV[1] items from the right of the queue to the
// left of the in-flight list and returns them, oldest first. It registers the
// in-flight list for recovery, refreshes the consumer's heartbeat, and trims the
// wake list to the queue's length: its tokens are not needed here, and this
// keeps it bounded even though producers push one per event.
//
// KEYS: queue, in-flight list, wake list, consumer's in-flight registry, consumers
// ARGV: max, consumer id
var reserveScript = redis.NewScript(nowMs + `
local out = {}
for i = 1, tonumber(ARGV[1]) do
  local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not v then break end
  out[i] = v
end
redis.call('HSET', KEYS[4], KEYS[2], KEYS[1])
redis.call('ZADD', KEYS[5], now_ms(), ARGV[2])
local n = redis.call('LLEN', KEYS[1])
if n == 0 then
  redis.call('DEL', KEYS[3])
else
  redis.call('LTRIM', KEYS[3], 0, n - 1)
end
return out
`)

// putBackScript returns one item, taken by a wait its caller gave up on, from
// the in-flight list to the head of the line (the right end) of its queue.
//
// KEYS: in-flight list, queue
// ARGV: payload
var putBackScript = redis.NewScript(`
if redis.call('LREM', KEYS[1], 1, ARGV[1]) > 0 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
`)

// requeueScript pushes every item of an in-flight list back to the head of the
// line of its queue, in the order they were taken, and forgets the list. With a
// timeout (ARGV[2] >= 0) it does so only if the consumer's heartbeat is older
// than that many milliseconds, checked in the same step, so that a consumer
// that came back to life meanwhile keeps its items. It returns the number of
// items moved, or -1 when the consumer is alive.
//
// KEYS: in-flight list, queue, consumer's in-flight registry, consumers
// ARGV: consumer id, timeout in ms or -1
var requeueScript = redis.NewScript(nowMs + `
local timeout = tonumber(ARGV[2])
if timeout >= 0 then
  local seen = redis.call('ZSCORE', KEYS[4], ARGV[1])
  if seen and tonumber(seen) > now_ms() - timeout then
    return -1
  end
end
local n = 0
while redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') do
  n = n + 1
end
redis.call('HDEL', KEYS[3], KEYS[1])
return n
`)

// heartbeatScript records that consumer ARGV[1] is alive.
//
// KEYS: consumers
var heartbeatScript = redis.NewScript(nowMs + `
redis.call('ZADD', KEYS[1], now_ms(), ARGV[1])
return 1
`)

// deadScript lists the consumers whose last heartbeat is older than ARGV[1]
// milliseconds.
//
// KEYS: consumers
var deadScript = redis.NewScript(nowMs + `
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now_ms() - tonumber(ARGV[1])))
`)

// forgetScript removes a dead consumer that has no in-flight list left, unless
// it came back to life.
//
// KEYS: consumers, consumer's in-flight registry
// ARGV: consumer id, timeout in ms
var forgetScript = redis.NewScript(nowMs + `
local seen = redis.call('ZSCORE', KEYS[1], ARGV[1])
if seen and tonumber(seen) > now_ms() - tonumber(ARGV[2]) then
  return 0
end
if redis.call('HLEN', KEYS[2]) > 0 then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
`)
