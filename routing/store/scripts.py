"""Lua scripts: every step where two workers could race, or where a crash between two writes would lose
or duplicate something, runs as one atomic script on the Redis server."""

from __future__ import annotations

# Ingest: dedupe by (platform, update id), count the sender's messages in a window, append to `inbound`.
# KEYS: dedupe, flood, inbound stream.
# ARGV: dedupe ttl s, flood window s, payload, retention min id ("0" = no trim), ordering key (the sender's
#       opaque HMAC key: entries with the same key are handled in order, different keys concurrently).
# Returns {"dup", existing entry id} or {"ok", new entry id, flood count}. A flooded message is still stored
# (a risk message must never be dropped by a flood limit); the router decides what to do with it.
INGEST = """
local seen = redis.call('GET', KEYS[1])
if seen then return {'dup', seen, 0} end
local count = redis.call('INCR', KEYS[2])
if count == 1 then redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2])) end
local id
if ARGV[4] ~= '0' then
  id = redis.call('XADD', KEYS[3], 'MINID', '~', ARGV[4], '*', 'd', ARGV[3], 'flood', count, 'k', ARGV[5])
else
  id = redis.call('XADD', KEYS[3], '*', 'd', ARGV[3], 'flood', count, 'k', ARGV[5])
end
redis.call('SET', KEYS[1], id, 'EX', tonumber(ARGV[1]))
return {'ok', id, count}
"""

# Open (or find) a person's conversation and queue it; optionally add a message to its recent-message window
# (the risk detector's context) in the same round trip.
# KEYS: person map, conversation sequence, queue, person's conversation set, person's reconnect offer, person's
# chosen language.
# ARGV: conversation key prefix, now, platform, chat, pseudonym, person key, initial score, retention s,
#       language, encrypted message for the recent window ("" = none), window size.
# Returns {conversation id, 1 if created else 0, state, the conversation hash as a flat field/value list,
#          the recent window before this message, oldest first, 1 if messages kept while waiting are still
#          being handed to the volunteer (the pending hash exists) else 0, and for a new conversation the tier
#          a reconnect offer starts it at (keys.reconnect, taken here) }.
OPEN_CONVERSATION = """
local function remember(conv)
  if ARGV[10] == '' then return {} end
  local key = ARGV[1] .. conv .. ':recent'
  local earlier = redis.call('LRANGE', key, 0, -1)
  redis.call('RPUSH', key, ARGV[10])
  redis.call('LTRIM', key, -tonumber(ARGV[11]), -1)
  redis.call('EXPIRE', key, tonumber(ARGV[8]))
  return earlier
end
local existing = redis.call('GET', KEYS[1])
if existing then
  local state = redis.call('HGET', ARGV[1] .. existing, 'state')
  if state == 'waiting' or state == 'active' then
    if ARGV[10] ~= '' then redis.call('HSET', ARGV[1] .. existing, 'person_said_at', ARGV[2]) end
    return {existing, 0, state, redis.call('HGETALL', ARGV[1] .. existing), remember(existing),
            redis.call('EXISTS', ARGV[1] .. existing .. ':pending')}
  end
end
local n = redis.call('INCR', KEYS[2])
local conv = 'c-' .. n
local lang = redis.call('GET', KEYS[6]) or ARGV[9]  -- the language they chose beats their app's
redis.call('HSET', ARGV[1] .. conv, 'state', 'waiting', 'platform', ARGV[3], 'chat', ARGV[4],
  'pseudonym', ARGV[5], 'person', ARGV[6], 'tier', 0, 'created_at', ARGV[2], 'arrival', ARGV[2],
  'lang', lang, 'person_said_at', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[7], conv)
redis.call('SET', KEYS[1], conv, 'EX', tonumber(ARGV[8]))
redis.call('SADD', KEYS[4], conv)
redis.call('EXPIRE', KEYS[4], tonumber(ARGV[8]))
local reconnect = redis.call('GETDEL', KEYS[5]) or '0'
return {conv, 1, 'waiting', redis.call('HGETALL', ARGV[1] .. conv), remember(conv), 0, reconnect}
"""

# Keep a person's message for the volunteer while they wait, or while the messages kept so far are still
# being handed over (the pending hash exists): then it joins them and keeps its place after them. Otherwise
# (taken and handed over already) it is not kept and the caller relays it directly.
# KEYS: pending hash, conversation hash.  ARGV: field (stream entry id), value, ttl seconds.  Returns 1 | 0.
HOLD_PENDING = """
if redis.call('HGET', KEYS[2], 'state') ~= 'waiting' and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""

# The volunteer was sent these kept messages: forget them. Messages that arrived meanwhile are returned (to be
# sent next, then finished the same way); when none are left the pending hash is gone, and from then on the
# person's messages are relayed directly, after everything that was kept.
# KEYS: pending hash.  ARGV: the entry ids that were sent.  Returns a flat field/value list of the rest.
FINISH_PENDING = """
if #ARGV > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV)) end
if redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
  return {}
end
return redis.call('HGETALL', KEYS[1])
"""

# What peer matching reads about the first waiting people, in serving order, in one round trip (not one
# HGETALL each: the hashes hold a dozen fields matching never looks at).
# KEYS: queue. ARGV: how many, conv key prefix.
# Returns a flat list: conv, tier, arrival, topic wish, language, the volunteer asked for ("" when not given),
# per person still waiting.
CANDIDATES = """
local out = {}
for _, conv in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)) do
  local f = redis.call('HMGET', ARGV[2] .. conv, 'state', 'tier', 'arrival', 'wish:topic', 'lang', 'wish:volunteer')
  if f[1] == 'waiting' then
    table.insert(out, conv); table.insert(out, f[2] or '0'); table.insert(out, f[3] or '0')
    table.insert(out, f[4] or ''); table.insert(out, f[5] or ''); table.insert(out, f[6] or '')
  end
end
return out
"""

# Assign a waiting conversation to a volunteer without exceeding their capacity.
# KEYS: queue, volunteer's active set, the set of every active conversation.
# ARGV: volunteer id, capacity, now, conversation id ("" = the most urgent waiting person), conv key prefix.
# Returns {"ok", conv} | {"full", ""} | {"empty", ""} | {"taken", conv}.
ASSIGN = """
if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[2]) then return {'full', ''} end
local conv = ARGV[4]
if conv == '' then
  for _ = 1, 50 do
    local head = redis.call('ZRANGE', KEYS[1], 0, 0)
    if #head == 0 then return {'empty', ''} end
    if redis.call('HGET', ARGV[5] .. head[1], 'state') == 'waiting' then conv = head[1]; break end
    redis.call('ZREM', KEYS[1], head[1])  -- a stale queue entry: drop it and look again
  end
  if conv == '' then return {'empty', ''} end
end
local ckey = ARGV[5] .. conv
if redis.call('HGET', ckey, 'state') ~= 'waiting' then return {'taken', conv} end
redis.call('ZREM', KEYS[1], conv)
redis.call('HSET', ckey, 'state', 'active', 'volunteer', ARGV[1], 'assigned_at', ARGV[3])
redis.call('HDEL', ckey, 'staff_said_at')
redis.call('SADD', KEYS[2], conv)
redis.call('SADD', KEYS[3], conv)
return {'ok', conv}
"""

# Move an active conversation from one volunteer to another (transfer) with the same capacity rule.
# KEYS: conversation, from-volunteer active set, to-volunteer active set.
# ARGV: conv id, from volunteer, to volunteer, capacity of the receiver, now.
TRANSFER = """
if redis.call('HGET', KEYS[1], 'state') ~= 'active' then return 'not_active' end
if redis.call('HGET', KEYS[1], 'volunteer') ~= ARGV[2] then return 'not_yours' end
if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[4]) then return 'full' end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], 'volunteer', ARGV[3], 'assigned_at', ARGV[5])
return 'ok'
"""

# Put an active conversation back in the queue (release / hand-off).
# KEYS: conversation, volunteer's active set, queue, the set of every active conversation.
# ARGV: conv id, volunteer id, score.
RELEASE = """
if redis.call('HGET', KEYS[1], 'state') ~= 'active' then return 'not_active' end
if redis.call('HGET', KEYS[1], 'volunteer') ~= ARGV[2] then return 'not_yours' end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'waiting')
redis.call('HDEL', KEYS[1], 'volunteer', 'assigned_at')
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
return 'ok'
"""

# Close a conversation from any open state.
# KEYS: conversation, queue, person map, the set of every active conversation.
# ARGV: conv id, now, conv key prefix for the volunteer set.
CLOSE = """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'waiting' and state ~= 'active' then return 'not_open' end
local vol = redis.call('HGET', KEYS[1], 'volunteer')
if vol then redis.call('SREM', ARGV[3] .. vol .. ':active', ARGV[1]) end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'closed', 'closed_at', ARGV[2])
redis.call('SREM', KEYS[4], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return 'ok'
"""

# Raise a conversation's tier (never lower it) and re-score it in the queue if it is waiting.
# KEYS: conversation, queue.  ARGV: conv id, new tier, new score.
# Returns the tier before the call.
RAISE_TIER = """
local old = tonumber(redis.call('HGET', KEYS[1], 'tier') or '0')
local new = tonumber(ARGV[2])
if new > old then
  redis.call('HSET', KEYS[1], 'tier', new)
  if redis.call('HGET', KEYS[1], 'state') == 'waiting' then
    redis.call('ZADD', KEYS[2], 'XX', ARGV[3], ARGV[1])
  end
end
return old
"""

# Emit an outbound message once per idempotency key (a reclaimed router entry must not send twice).
# KEYS: emitted marker, outbound stream.  ARGV: ttl s, payload, retention min id ("0" = no trim).
EMIT = """
if not redis.call('SET', KEYS[1], 1, 'NX', 'EX', tonumber(ARGV[1])) then return 0 end
if ARGV[3] ~= '0' then
  redis.call('XADD', KEYS[2], 'MINID', '~', ARGV[3], '*', 'd', ARGV[2])
else
  redis.call('XADD', KEYS[2], '*', 'd', ARGV[2])
end
return 1
"""

# The first staff reply relayed to the person since the conversation was last assigned: once per assignment
# (a transfer or a new take sets a new assigned_at, and its first reply counts again).
# KEYS: conversation.  ARGV: now.
# Returns the seconds from assignment to now as a string the first time per assignment, else nil.
FIRST_REPLY = """
local assigned = redis.call('HGET', KEYS[1], 'assigned_at')
if not assigned or redis.call('HGET', KEYS[1], 'first_reply_for') == assigned then return false end
redis.call('HSET', KEYS[1], 'first_reply_for', assigned)
return tostring(math.max(tonumber(ARGV[1]) - tonumber(assigned), 0))
"""
