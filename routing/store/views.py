"""Read-only views of the live state for the dashboard and `/metrics`: no message text, no platform ids.

Every row carries our own ids (conversation, escalation, staff id) and the person's pseudonym only. The
conversation hash holds the person's raw chat id; it is never read here (HMGET of named fields only).
Active conversations are found through the audit stream (assignments), followed incrementally, so nothing
here scans the keyspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from redis.asyncio import Redis

from routing.model import ConversationId, EscalationId, Platform, Pseudonym, RiskTier, VolunteerId
from routing.store import keys
from routing.store.escalations import DEADLINES, ESCALATION_SEQ, UNANSWERED

_CONV_FIELDS = ("state", "pseudonym", "tier", "arrival", "lang", "platform", "volunteer", "assigned_at")
_ESC_FIELDS = (
    "conversation", "tier", "category", "state", "raised_at", "ack_by", "ack_at", "level", "review",
)  # fmt: skip
_ASSIGNING = frozenset({"assigned", "transferred", "taken_over"})
RELAY_DIRECTIONS = ("to_person", "to_staff")
_RECEIVER = {"assigned": "volunteer", "transferred": "to", "taken_over": "by"}  # who was given the conversation


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One waiting person, in serving order."""

    position: int
    conversation: ConversationId
    pseudonym: Pseudonym
    tier: RiskTier
    arrival: float
    language: str | None
    platform: Platform | None


@dataclass(frozen=True, slots=True)
class ActiveRow:
    """One conversation a volunteer is in."""

    conversation: ConversationId
    pseudonym: Pseudonym
    tier: RiskTier
    volunteer: VolunteerId
    assigned_at: float
    platform: Platform | None


@dataclass(frozen=True, slots=True)
class EscalationRow:
    """One escalation with its acknowledgement state and deadline."""

    id: EscalationId
    conversation: ConversationId
    pseudonym: Pseudonym | None
    tier: RiskTier
    category: str
    state: str
    raised_at: float
    deadline: float | None
    acknowledged_by: VolunteerId | None
    acknowledged_at: float | None
    level: int
    review: bool


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One content-free audit entry."""

    entry_id: str
    event: str
    at: float
    fields: dict[str, str] = field(default_factory=dict)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entries(rows: Any) -> list[tuple[Any, dict[Any, Any]]]:
    """Stream entries as (id, fields) pairs (the client's types allow None for both)."""
    return [(entry_id, dict(raw or {})) for entry_id, raw in rows or []]


def _event(entry_id: Any, raw: dict[Any, Any]) -> AuditEvent:
    fields = {_text(k): _text(v) for k, v in raw.items()}
    return AuditEvent(_text(entry_id), fields.pop("event", ""), float(fields.pop("at", "0") or 0), fields)


class AuditFollower:
    """Reads the audit stream forward from a cursor; each follower has its own cursor."""

    def __init__(self, redis: Redis, start: str = "0-0") -> None:
        self._redis = redis
        self._cursor = start

    async def read(self, batch: int = 2000, max_batches: int = 50) -> list[AuditEvent]:
        """Events after the cursor (at most batch * max_batches per call; the rest come next call)."""
        found: list[AuditEvent] = []
        for _ in range(max_batches):
            rows = _entries(await self._redis.xrange(keys.AUDIT, f"({self._cursor}", "+", count=batch))
            found += [_event(entry_id, raw) for entry_id, raw in rows]
            if rows:
                self._cursor = _text(rows[-1][0])
            if len(rows) < batch:
                break
        return found


class WeeklyConversations:
    """Distinct conversations each staff member was given (taken, transferred to, taken over) since a week
    began; the audit stream is followed incrementally, and read again from the start when a new week begins."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._since: float | None = None
        self._follower = AuditFollower(redis)
        self._given: dict[VolunteerId, set[str]] = {}

    async def counts(self, since: float) -> dict[VolunteerId, int]:
        """Conversations per staff id since `since` (epoch seconds; the start of the week)."""
        if since != self._since:
            self._since, self._given = since, {}
            self._follower = AuditFollower(self._redis, f"{int(since * 1000)}-0")
        for event in await self._follower.read():
            who = event.fields.get(_RECEIVER.get(event.event, ""), "")
            if who and event.fields.get("conversation"):
                self._given.setdefault(VolunteerId(who), set()).add(event.fields["conversation"])
        return {volunteer: len(conversations) for volunteer, conversations in self._given.items()}


async def audit_since(redis: Redis, since: float, limit: int = 100_000) -> list[AuditEvent]:
    """Audit events from `since` (epoch seconds) on, oldest first, at most `limit`."""
    rows = _entries(await redis.xrange(keys.AUDIT, f"{int(since * 1000)}-0", "+", count=limit))
    return [_event(entry_id, raw) for entry_id, raw in rows]


def _tier(value: str | None) -> RiskTier:
    try:
        return RiskTier(int(value or "0"))
    except ValueError:
        return RiskTier.NONE


def _platform(value: str | None) -> Platform | None:
    return Platform(value) if value is not None and value in Platform.__members__.values() else None


class DashboardViews:
    """The live queue, active conversations, escalations and counts, read from Redis."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._assignments = AuditFollower(redis)
        self._candidates: set[str] = set()

    async def _conversations(self, ids: Sequence[str]) -> list[dict[str, str]]:
        pipe = self._redis.pipeline(transaction=False)
        for conv in ids:
            pipe.hmget(keys.conversation(ConversationId(conv)), list(_CONV_FIELDS))
        rows = cast(list[list[Any]], await pipe.execute())
        return [{name: _text(v) for name, v in zip(_CONV_FIELDS, row, strict=True) if v is not None} for row in rows]

    async def queue(self, limit: int = 200) -> list[QueueRow]:
        ids = [_text(c) for c in await self._redis.zrange(keys.QUEUE, 0, limit - 1)]
        rows = []
        for position, (conv, d) in enumerate(zip(ids, await self._conversations(ids), strict=True), start=1):
            if d.get("state") != "waiting":
                continue
            rows.append(
                QueueRow(
                    position,
                    ConversationId(conv),
                    Pseudonym(d.get("pseudonym", "?")),
                    _tier(d.get("tier")),
                    float(d.get("arrival", "0")),
                    d.get("lang") or None,
                    _platform(d.get("platform")),
                )
            )
        return rows

    async def queue_tiers(self, limit: int = 5000) -> dict[RiskTier, int]:
        """How many people wait, per tier (every tier present, zero when none)."""
        counts = dict.fromkeys(RiskTier, 0)
        ids = [_text(c) for c in await self._redis.zrange(keys.QUEUE, 0, limit - 1)]
        pipe = self._redis.pipeline(transaction=False)
        for conv in ids:
            pipe.hget(keys.conversation(ConversationId(conv)), "tier")
        for tier in await pipe.execute():
            counts[_tier(_text(tier) if tier is not None else None)] += 1
        return counts

    async def active(self) -> list[ActiveRow]:
        """Conversations in ACTIVE state, longest-running first."""
        for event in await self._assignments.read():
            if event.event in _ASSIGNING and "conversation" in event.fields:
                self._candidates.add(event.fields["conversation"])
        ids = sorted(self._candidates)
        rows = []
        for conv, d in zip(ids, await self._conversations(ids), strict=True):
            if d.get("state") != "active" or not d.get("volunteer"):
                if d.get("state") != "waiting":  # closed or expired: never active again
                    self._candidates.discard(conv)
                continue
            rows.append(
                ActiveRow(
                    ConversationId(conv),
                    Pseudonym(d.get("pseudonym", "?")),
                    _tier(d.get("tier")),
                    VolunteerId(d["volunteer"]),
                    float(d.get("assigned_at", "0")),
                    _platform(d.get("platform")),
                )
            )
        return sorted(rows, key=lambda r: r.assigned_at)

    async def escalations(self, limit: int = 50) -> list[EscalationRow]:
        """The most recent escalations, newest first (ids are sequential: e-1, e-2, ...)."""
        last = int(await self._redis.get(ESCALATION_SEQ) or 0)
        ids = [EscalationId(f"e-{n}") for n in range(last, max(last - limit, 0), -1)]
        pipe = self._redis.pipeline(transaction=False)
        for esc in ids:
            pipe.hmget(f"{keys.PREFIX}esc:{esc}", list(_ESC_FIELDS))
            pipe.zscore(DEADLINES, esc)
        raw = await pipe.execute()
        records = [(ids[i], raw[2 * i], raw[2 * i + 1]) for i in range(len(ids))]
        found = [(esc, fields, deadline) for esc, fields, deadline in records if fields[0] is not None]
        pseudonyms = await self._conversations([_text(fields[0]) for _e, fields, _d in found])
        return [
            _escalation(esc, fields, deadline, conv)
            for (esc, fields, deadline), conv in zip(found, pseudonyms, strict=True)
        ]

    async def on_duty_count(self) -> int:
        return int(await self._redis.scard(keys.ON_DUTY))

    async def unacknowledged_count(self) -> int:
        """Escalations still climbing their chain, and those that reached its end unanswered."""
        return int(await self._redis.zcard(DEADLINES)) + await self.unanswered_count()

    async def unanswered_count(self) -> int:
        return int(await self._redis.zcard(UNANSWERED))

    async def stream_lengths(self) -> dict[str, int]:
        """Entries held in the outbound streams (per platform and lane) and the dead-letter stream."""
        names = {f"{p.value}{':urgent' if u else ''}": keys.outbound(p, u) for p in Platform for u in (False, True)}
        names["deadletter"] = keys.DEAD_LETTER
        pipe = self._redis.pipeline(transaction=False)
        for key in names.values():
            pipe.xlen(key)
        return dict(zip(names, (int(n) for n in await pipe.execute()), strict=True))

    async def relayed_counts(self) -> dict[tuple[Platform, str], int]:
        """Relays delivered since the counters began, by (platform delivered on, direction); zero when none."""
        counts = {(p, d): 0 for p in Platform for d in RELAY_DIRECTIONS}
        for field_name, value in (await self._redis.hgetall(keys.RELAYED)).items():
            platform, _, direction = _text(field_name).partition(":")
            if platform in Platform.__members__.values() and direction in RELAY_DIRECTIONS:
                counts[(Platform(platform), direction)] = int(value)
        return counts

    async def open_counts(self, volunteers: Sequence[VolunteerId]) -> dict[VolunteerId, int]:
        """How many conversations each volunteer has open now (their active set)."""
        pipe = self._redis.pipeline(transaction=False)
        for volunteer in volunteers:
            pipe.scard(keys.volunteer_active(volunteer))
        return {v: int(n) for v, n in zip(volunteers, await pipe.execute(), strict=True)}

    async def dead_letters_since(self, cursor: str, batch: int = 1000) -> tuple[list[str], str]:
        """Reasons of dead-lettered entries after `cursor`, and the new cursor."""
        rows = _entries(await self._redis.xrange(keys.DEAD_LETTER, f"({cursor}", "+", count=batch))
        if not rows:
            return [], cursor
        return [_text(raw.get(b"reason", b"")) for _id, raw in rows], _text(rows[-1][0])

    async def conversation_times(self, conv: ConversationId) -> tuple[float | None, RiskTier]:
        """Arrival time and tier of a conversation (for wait-time histograms)."""
        arrival, tier = await self._redis.hmget(keys.conversation(conv), ["arrival", "tier"])
        return (float(_text(arrival)) if arrival is not None else None), _tier(_text(tier) if tier else None)

    async def escalation_times(self, esc: EscalationId) -> tuple[float | None, float | None]:
        """(raised_at, ack_at) of an escalation."""
        raised, acked = await self._redis.hmget(f"{keys.PREFIX}esc:{esc}", ["raised_at", "ack_at"])
        return (float(_text(raised)) if raised else None), (float(_text(acked)) if acked else None)


def _escalation(esc: EscalationId, fields: list[Any], deadline: Any, conv: dict[str, str]) -> EscalationRow:
    d = {name: _text(v) for name, v in zip(_ESC_FIELDS, fields, strict=True) if v is not None}
    return EscalationRow(
        id=esc,
        conversation=ConversationId(d["conversation"]),
        pseudonym=Pseudonym(conv["pseudonym"]) if conv.get("pseudonym") else None,
        tier=_tier(d.get("tier")),
        category=d.get("category", ""),
        state=d.get("state", "raised"),
        raised_at=float(d.get("raised_at", "0")),
        deadline=float(deadline) if deadline is not None and d.get("state") != "acknowledged" else None,
        acknowledged_by=VolunteerId(d["ack_by"]) if d.get("ack_by") else None,
        acknowledged_at=float(d["ack_at"]) if d.get("ack_at") else None,
        level=int(d.get("level", "0")),
        review=d.get("review") == "1",
    )
