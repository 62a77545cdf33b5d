"""Escalation records in Redis: raised on their own stream, with state and an acknowledgement deadline."""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from routing.model import ConversationId, EscalationId, RiskCategory, RiskTier, VolunteerId
from routing.store import keys
from routing.store.replies import text

RECORD_TTL = 90 * 24 * 3600
DEADLINES = keys.PREFIX + "esc:deadlines"
UNANSWERED = keys.PREFIX + "esc:unanswered"  # escalations that climbed the whole chain unacknowledged
ESCALATION_SEQ = keys.PREFIX + "seq:escalation"


@dataclass(frozen=True, slots=True)
class Escalation:
    """One escalation as stored (no message text)."""

    id: EscalationId
    conversation: ConversationId
    tier: RiskTier
    category: RiskCategory | None
    phrase_ids: tuple[str, ...]
    raised_at: float
    state: str
    acknowledged_by: VolunteerId | None
    level: int = 0  # 0: first alert; each missed acknowledgement deadline adds one
    review: bool = False  # an `elevated` review request rather than a page
    entry: str = ""  # the inbound entry that raised it (handled again after a crash: the same raise)
    raised_by: VolunteerId | None = None  # a staff member who escalated by hand (None: the risk detector)


# KEYS: deadlines zset, escalations stream, unanswered zset.  ARGV: now, limit, record key prefix, last level.
# Returns a flat list of {esc, new level} pairs. At the last level the escalation is marked unanswered and its
# deadline removed: announced once more, then kept on the unanswered list until someone acknowledges it.
_CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, esc in ipairs(due) do
  local rec = ARGV[3] .. esc
  if redis.call('HGET', rec, 'state') == 'acknowledged' or redis.call('EXISTS', rec) == 0 then
    redis.call('ZREM', KEYS[1], esc)
  else
    local level = redis.call('HINCRBY', rec, 'level', 1)
    if level >= tonumber(ARGV[4]) then
      redis.call('HSET', rec, 'state', 'unanswered')
      redis.call('ZREM', KEYS[1], esc)
      redis.call('ZADD', KEYS[3], tonumber(ARGV[1]), esc)
    else
      redis.call('HSET', rec, 'state', 're_escalated')
      local timeout = tonumber(redis.call('HGET', rec, 'timeout') or '120')
      redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + timeout, esc)
    end
    redis.call('XADD', KEYS[2], '*', 'esc', esc, 'level', level)
    table.insert(out, {esc, level})
  end
end
return out
"""


# KEYS: dedupe marker, escalation sequence, deadlines zset, escalations stream, audit stream, and (not for a
# review) the conversation's open-episode pointer.
# ARGV: record key prefix, dedupe ttl, record ttl, now, ack timeout, audit event, conversation, tier label,
# then the record's field/value pairs. Returns the new escalation's id, or false if the dedupe marker was
# already set. One round trip for all of it: an alert waits for every round trip before it, and under load
# each one costs a turn of a busy event loop.
_RAISE = """
if not redis.call('SET', KEYS[1], 1, 'NX', 'EX', tonumber(ARGV[2])) then return false end
local esc = 'e-' .. redis.call('INCR', KEYS[2])
local rec = ARGV[1] .. esc
redis.call('HSET', rec, unpack(ARGV, 9))
redis.call('EXPIRE', rec, tonumber(ARGV[3]))
redis.call('ZADD', KEYS[3], tonumber(ARGV[4]) + tonumber(ARGV[5]), esc)
if KEYS[6] then redis.call('SET', KEYS[6], esc, 'EX', tonumber(ARGV[3])) end
redis.call('XADD', KEYS[4], '*', 'esc', esc, 'level', 0)
redis.call('XADD', KEYS[5], 'MAXLEN', '~', 100000, '*', 'event', ARGV[6], 'at', ARGV[4], 'escalation', esc,
           'conversation', ARGV[7], 'tier', ARGV[8])
return esc
"""


def _record(esc: EscalationId) -> str:
    return f"{keys.PREFIX}esc:{esc}"


def _episode(conv: ConversationId) -> str:
    """The escalation a conversation's risk episode has (one per conversation: further risk updates it)."""
    return f"{keys.PREFIX}esc:episode:{conv}"


def _resources_sent(conv: ConversationId) -> str:
    return f"{keys.PREFIX}esc:resources:{conv}"


# KEYS: the conversation's resources marker.  ARGV: tier, interval seconds, inbound entry id. 1 when crisis
# resources are due: never sent in this conversation, the tier rose since, the interval passed, or this same
# entry is being handled again (a router that died before emitting must not leave the person without them).
_RESOURCES_DUE = """
local seen = redis.call('GET', KEYS[1])
if seen then
  local tier, entry = string.match(seen, '^(%d+):(.*)$')
  if entry == ARGV[3] then return 1 end
  if tonumber(tier) >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[3], 'EX', tonumber(ARGV[2]))
return 1
"""


class EscalationStore:
    """Raises, reads and acknowledges escalations."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._claim = redis.register_script(_CLAIM_DUE)
        self._raise = redis.register_script(_RAISE)
        self._resources = redis.register_script(_RESOURCES_DUE)

    async def episode_of(self, conv: ConversationId) -> Escalation | None:
        """The escalation already open for this conversation's risk, if any."""
        esc = await self._redis.get(_episode(conv))
        return await self.get(EscalationId(text(esc))) if esc is not None else None

    async def update(
        self, esc: EscalationId, tier: RiskTier, category: RiskCategory | None, dedupe_key: str
    ) -> tuple[RiskTier, bool]:
        """A further risky message in the episode: raise the tier if higher, once per inbound entry. Returns the
        tier before, and whether this entry is new (False: handled again after a crash, counted already)."""
        before = RiskTier(int(await self._redis.hget(_record(esc), "tier") or 0))
        if not await self._redis.set(f"{keys.PREFIX}esc:dedupe:{dedupe_key}", 1, nx=True, ex=2 * 24 * 3600):
            return before, False
        if tier > before:
            await self._redis.hset(
                _record(esc), mapping={"tier": str(int(tier)), "category": category.value if category else ""}
            )
        return before, True

    async def resources_due(self, conv: ConversationId, tier: RiskTier, interval: float, entry: str) -> bool:
        """Whether a person should be sent crisis resources (again) for inbound `entry`; marks them sent."""
        args: list[int | str] = [int(tier), max(1, int(interval)), entry]
        return bool(await self._resources(keys=[_resources_sent(conv)], args=args))

    async def raise_(
        self,
        conv: ConversationId,
        tier: RiskTier,
        category: RiskCategory | None,
        phrase_ids: tuple[str, ...],
        ack_timeout: float,
        dedupe_key: str,
        review: bool = False,
        sealed_text: bytes | None = None,
        raised_by: VolunteerId | None = None,
    ) -> Escalation | None:
        """Record an escalation, append it to the escalations stream and audit it, atomically; None if
        `dedupe_key` was seen."""
        now = round(time.time(), 3)
        record: dict[str, str | bytes] = {
            "conversation": conv, "tier": str(int(tier)), "category": category.value if category else "",
            "phrases": ",".join(phrase_ids), "raised_at": f"{now:.3f}", "state": "raised", "level": "0",
            "review": str(int(review)), "timeout": str(ack_timeout), "entry": dedupe_key, "raised_by": raised_by or "",
        }  # fmt: skip
        if sealed_text is not None:  # only with escalation.include_text; encrypted by the caller
            record["text"] = sealed_text
        esc = await self._raise(
            keys=[
                f"{keys.PREFIX}esc:dedupe:{dedupe_key}", ESCALATION_SEQ, DEADLINES, keys.ESCALATIONS, keys.AUDIT,
                *([] if review else [_episode(conv)]),
            ],
            args=[keys.PREFIX + "esc:", 2 * 24 * 3600, RECORD_TTL, f"{now:.3f}", ack_timeout,
                  "review_raised" if review else "escalation_raised", conv, tier.label,
                  *(item for pair in record.items() for item in pair)],
        )  # fmt: skip
        if not esc:
            return None
        return Escalation(
            id=EscalationId(text(esc)), conversation=conv, tier=tier, category=category, phrase_ids=phrase_ids,
            raised_at=now, state="raised", acknowledged_by=None, review=review, entry=dedupe_key,
            raised_by=raised_by,
        )  # fmt: skip

    async def get(self, esc: EscalationId) -> Escalation | None:
        raw = await self._redis.hgetall(_record(esc))
        if not raw:
            return None
        d = {text(k): text(v) for k, v in raw.items() if k not in (b"text", "text")}  # text: ciphertext
        return Escalation(
            id=esc,
            conversation=ConversationId(d["conversation"]),
            tier=RiskTier(int(d["tier"])),
            category=RiskCategory(d["category"]) if d.get("category") else None,
            phrase_ids=tuple(p for p in d.get("phrases", "").split(",") if p),
            raised_at=float(d["raised_at"]),
            state=d["state"],
            acknowledged_by=VolunteerId(d["ack_by"]) if d.get("ack_by") else None,
            level=int(d.get("level", "0")),
            review=d.get("review") == "1",
            entry=d.get("entry", ""),
            raised_by=VolunteerId(d["raised_by"]) if d.get("raised_by") else None,
        )

    async def sealed_text(self, esc: EscalationId) -> bytes | None:
        value = await self._redis.hget(_record(esc), "text")
        return value if isinstance(value, bytes) else None

    async def claim_due(
        self, now: float | None = None, limit: int = 50, last_level: int = 3
    ) -> list[tuple[EscalationId, int]]:
        """Escalations whose acknowledgement deadline passed: each is moved one level up, given a new
        deadline (at `last_level`: marked unanswered, none) and re-announced on the escalations stream,
        atomically (two routers never double it)."""
        claimed = await self._claim(
            keys=[DEADLINES, keys.ESCALATIONS, UNANSWERED],
            args=[now or time.time(), limit, keys.PREFIX + "esc:", last_level],
        )
        return [(EscalationId(text(esc)), int(level)) for esc, level in claimed]

    async def mark_false_alarm(self, esc: EscalationId) -> None:
        """Remember that an overseer called the alert a false alarm (its outcome in a safeguarding record)."""
        if await self._redis.exists(_record(esc)):  # HSET on an expired record would create one without a TTL
            await self._redis.hset(_record(esc), "false_alarm", "1")

    async def acknowledge(self, esc: EscalationId, by: VolunteerId) -> bool:
        """Mark acknowledged and stop its deadline; False if unknown or already acknowledged."""
        state = await self._redis.hget(_record(esc), "state")
        if state is None or text(state) == "acknowledged":
            return False
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(_record(esc), mapping={"state": "acknowledged", "ack_by": by, "ack_at": f"{time.time():.3f}"})
        pipe.zrem(DEADLINES, esc)
        pipe.zrem(UNANSWERED, esc)
        await pipe.execute()
        return True
