"""A conversation's case record, for a safeguarding review: what the person wrote, the replies that reached
them (by staff id), whispers and handover notes, tier changes, the escalation timeline, and who held the
conversation, in order with times.

One Redis stream per conversation (`keys.case_record`), one entry per event: its time is the entry id, words
are encrypted (the same `TextCipher` and keys as all text at rest), everything else is our own ids. Each
append is one round trip (a script that also renews the expiry), and the record expires `retention_days`
after its last event, as the conversation's notes do after it closes. `/forget` erases it
(routing/store/erasure.py). Who opened or exported a record is in the audit stream, read back here.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from redis.asyncio import Redis

from routing.model import ConversationId, ConversationState, Pseudonym, RiskTier
from routing.store import keys
from routing.store.autopipeline import autopipeline
from routing.store.cipher import TextCipher
from routing.store.replies import as_bytes, text

DAY = 24 * 3600
LIST_LIMIT = 500  # the most recent cases a list shows
Entries = list[tuple[bytes, dict[bytes, bytes]]]

# KEYS: the case record, the case index, the case's staff set. ARGV: retention s, conversation id, now, the
# staff id who now holds the conversation ("" = no change), then the entry's field/value pairs.
_APPEND = """
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[2])
if ARGV[4] ~= '' then redis.call('SADD', KEYS[3], ARGV[4]) end
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('EXPIRE', KEYS[3], tonumber(ARGV[1])) end
return id
"""


class CaseEvent(enum.StrEnum):
    """What a case record entry is."""

    PERSON = "person"  # the person's message (text)
    REPLY = "reply"  # the holder's reply relayed to the person (text, by)
    WHISPER = "whisper"  # anyone else's words in the thread, kept with staff (text, by)
    NOTE = "note"  # a handover note (text, by)
    TIER = "tier"  # the tier rose (tier, before, by: a staff id, "detector" or "reconnect")
    ESCALATION_RAISED = "escalation_raised"  # (escalation, tier, review, by: a staff id or "detector")
    ESCALATION_UPDATED = "escalation_updated"  # a further risky message in the episode (escalation, tier)
    ESCALATION_LEVEL = "escalation_level"  # a deadline passed: the chain climbed (escalation, level, final)
    ESCALATION_ACKNOWLEDGED = "escalation_acknowledged"  # (escalation, by)
    FALSE_ALARM = "false_alarm"  # (escalation, by)
    ASSIGNED = "assigned"  # (by: the volunteer)
    TRANSFERRED = "transferred"  # (by: who held it, to)
    TAKEN_OVER = "taken_over"  # (by)
    RELEASED = "released"  # back to the queue (by: a staff id or "silence")
    CLOSED = "closed"  # (by: a staff id, "person", "silence", "unreachable")


HOLDING = {CaseEvent.ASSIGNED: "by", CaseEvent.TAKEN_OVER: "by", CaseEvent.TRANSFERRED: "to"}


@dataclass(frozen=True, slots=True)
class CaseEntry:
    """One event of a case record; `text` is decrypted (empty for events without words)."""

    at: float
    event: CaseEvent
    by: str = ""
    text: str = ""
    detail: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """One conversation in the case list: our ids and dates, never text or platform ids."""

    conversation: ConversationId
    pseudonym: Pseudonym
    opened: float
    closed: float | None
    tier: RiskTier
    state: ConversationState
    holder: str | None  # who holds it now (or held it when it closed)
    staff: tuple[str, ...]  # everyone who held it, sorted


@dataclass(frozen=True, slots=True)
class Reading:
    """Someone opened or exported a case record (from the audit stream)."""

    at: float
    event: str
    by: str


class CaseRecords:
    """Appends to and reads conversations' case records."""

    def __init__(self, redis: Redis, cipher: TextCipher, *, retention_days: float = 30) -> None:
        self._redis = redis
        self._cipher = cipher
        self._retention = int(retention_days * DAY)
        self._append = redis.register_script(_APPEND)
        self._batch = autopipeline(redis)

    async def add(
        self,
        conv: ConversationId,
        event: CaseEvent,
        *,
        by: str = "",
        words: str = "",
        attachments: int = 0,
        **detail: str,
    ) -> None:
        """Record `event` in `conv`'s case record now; `words` are encrypted; `attachments`: how many files went
        with them (the record keeps the words, not the files). Handling the same inbound entry again after a
        crash may record it twice (at most once more), as delivery may send twice."""
        entry: dict[str, str | bytes] = {"k": event.value, "by": by, **detail}
        if attachments:
            entry["attachments"] = str(attachments)
        if words:
            entry["d"] = self._cipher.encrypt(words.encode())
        holder = detail.get(HOLDING[event], by) if event in HOLDING else ""
        flat = [item for pair in entry.items() for item in pair]
        await self._batch.script(
            self._append,
            keys=[keys.case_record(conv), keys.CASES, keys.case_staff(conv)],
            args=[self._retention, conv, f"{time.time():.3f}", holder, *flat],
        )

    async def entries(self, conv: ConversationId) -> list[CaseEntry]:
        """The whole record, oldest first, decrypted (for one response: never keep or log it)."""
        found = cast(Entries, await self._redis.xrange(keys.case_record(conv)))
        return [self._entry(entry_id, fields) for entry_id, fields in found]

    async def exists(self, conv: ConversationId) -> bool:
        return bool(await self._redis.exists(keys.case_record(conv)))

    async def summaries(self, limit: int = LIST_LIMIT) -> list[CaseSummary]:
        """The most recent conversations with a case record, newest first; ids whose record is gone (expired
        or erased) are dropped from the index on the way."""
        newest = cast(list[bytes], await self._redis.zrevrange(keys.CASES, 0, limit - 1))
        convs = [ConversationId(text(c)) for c in newest]
        if not convs:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for conv in convs:
                pipe.exists(keys.case_record(conv))
                pipe.hmget(keys.conversation(conv), list(_CONV_FIELDS))
                pipe.smembers(keys.case_staff(conv))
            replies = await pipe.execute()
        found, gone = [], []
        for i, conv in enumerate(convs):
            exists, row, staff = replies[3 * i : 3 * i + 3]
            values = {name: text(v) for name, v in zip(_CONV_FIELDS, row, strict=True) if v is not None}
            if not exists or "state" not in values or values.get("erased"):
                gone.append(conv)
                continue
            found.append(_summary(conv, values, sorted(text(s) for s in staff)))
        if gone:
            await self._redis.zrem(keys.CASES, *gone)
        return found

    async def summary(self, conv: ConversationId) -> CaseSummary | None:
        """One conversation's summary, or None when it has no case record (any more)."""
        if not await self.exists(conv):
            return None
        row = await self._redis.hmget(keys.conversation(conv), list(_CONV_FIELDS))
        values = {name: text(v) for name, v in zip(_CONV_FIELDS, row, strict=True) if v is not None}
        if "state" not in values or values.get("erased"):
            return None
        staff = await self._redis.smembers(keys.case_staff(conv))
        return _summary(conv, values, sorted(text(s) for s in staff))

    async def readings(self, conv: ConversationId, since: float) -> list[Reading]:
        """Who opened or exported `conv`'s record, oldest first: the audit stream's entries since `since` (when
        the conversation opened; stream ids are times, so older entries are not read)."""
        start = f"{max(int(since * 1000), 0)}-0"
        found: list[Reading] = []
        while True:
            batch = cast(Entries, await self._redis.xrange(keys.AUDIT, min=start, count=1000))
            for _entry_id, fields in batch:
                event = text(fields.get(b"event", b""))
                if event in READ_EVENTS and text(fields.get(b"conversation", b"")) == conv:
                    found.append(Reading(float(text(fields.get(b"at", b"0"))), event, text(fields.get(b"by", b""))))
            if len(batch) < 1000:
                return found
            start = "(" + text(batch[-1][0])

    def _entry(self, entry_id: bytes, fields: dict[bytes, bytes]) -> CaseEntry:
        values = {text(k): v for k, v in fields.items()}
        sealed = values.pop("d", None)
        words = self._cipher.decrypt(as_bytes(sealed)).decode() if sealed is not None else ""
        detail = {k: text(v) for k, v in values.items()}
        event, by = CaseEvent(detail.pop("k")), detail.pop("by", "")
        return CaseEntry(int(text(entry_id).partition("-")[0]) / 1000, event, by, words, detail)


READ_EVENTS = frozenset({"case_opened", "case_exported"})
_CONV_FIELDS = ("state", "pseudonym", "tier", "created_at", "closed_at", "volunteer", "erased")


def _summary(conv: ConversationId, values: dict[str, str], staff: list[str]) -> CaseSummary:
    state = ConversationState(values["state"])
    return CaseSummary(
        conversation=conv,
        pseudonym=Pseudonym(values.get("pseudonym", "?")),
        opened=float(values.get("created_at", "0")),
        closed=float(values["closed_at"]) if state == ConversationState.CLOSED and "closed_at" in values else None,
        tier=RiskTier(int(values.get("tier", "0"))),
        state=state,
        holder=values.get("volunteer") or None,
        staff=tuple(staff),
    )
