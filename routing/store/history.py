"""A returning person's earlier conversations, as far as retention keeps them.

What a volunteer is shown when someone comes back: when each earlier conversation was, the highest risk it
reached, who helped (staff ids), and its handover notes. All of it is already kept with the conversation (its
hash and its notes expire `storage.retention_days` after closing, and `/forget` erases them): this module reads
it, and marks on the conversation who helped and which volunteer the person asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from routing.model import ConversationId, ConversationState, RiskTier, VolunteerId
from routing.store import keys
from routing.store.cipher import CipherError, TextCipher
from routing.store.conversations import ASKED_FOR_FIELD, RETURNING_FIELD
from routing.store.replies import as_bytes, text

HELPED = "helped:"  # a field per volunteer who held the conversation: "helped:<staff id>" -> when they took it
SHOWN, NOTES_SHOWN = 3, 3  # a summary stays short: the latest conversations, the latest notes of each


@dataclass(frozen=True, slots=True)
class Earlier:
    """One earlier conversation of a person (closed, within retention)."""

    id: ConversationId
    opened_at: float
    closed_at: float
    tier: RiskTier  # the highest it reached: a conversation's tier is only ever raised
    helpers: tuple[VolunteerId, ...]  # in the order they took it
    notes: tuple[str, ...]  # its handover notes, latest last


class PersonHistory:
    """Reads a person's earlier conversations; marks who helped and whom they asked for."""

    def __init__(self, redis: Redis, cipher: TextCipher) -> None:
        self._redis = redis
        self._cipher = cipher

    async def earlier(self, person_key: str, current: ConversationId) -> list[Earlier]:
        """The closed conversations of the person with `person_key` other than `current`, latest first (all of
        them: `SHOWN` is the summary's business), each with its helpers and at most `NOTES_SHOWN` latest notes."""
        if not person_key:
            return []
        members = await self._redis.smembers(keys.person_conversations(person_key))
        others = sorted({ConversationId(text(m)) for m in members} - {current})
        pipe = self._redis.pipeline(transaction=False)
        for other in others:
            pipe.hgetall(keys.conversation(other))
            pipe.lrange(keys.notes(other), -NOTES_SHOWN, -1)
        replies = await pipe.execute() if others else []
        found = []
        for index, other in enumerate(others):
            record = {text(k): text(v) for k, v in cast(dict[bytes, bytes], replies[2 * index]).items()}
            if record.get("state") != ConversationState.CLOSED or record.get("erased"):
                continue  # still open elsewhere, gone with retention, or a /forget tombstone
            took = sorted((float(at), name.removeprefix(HELPED)) for name, at in record.items() if name[:7] == HELPED)
            found.append(Earlier(
                id=other,
                opened_at=float(record.get("created_at", "0")),
                closed_at=float(record.get("closed_at", "0")),
                tier=RiskTier(int(record.get("tier", "0"))),
                helpers=tuple(VolunteerId(name) for _at, name in took),
                notes=tuple(self._notes(cast(list[bytes], replies[2 * index + 1]))),
            ))  # fmt: skip
        return sorted(found, key=lambda e: e.opened_at, reverse=True)

    def _notes(self, raw: list[bytes]) -> list[str]:
        notes = []
        for item in raw:
            try:
                notes.append(self._cipher.decrypt(as_bytes(item)).decode())
            except CipherError:
                continue  # written under a key since retired: the rest of the summary still helps
        return notes

    async def helped(self, conv: ConversationId, volunteer: VolunteerId, at: float) -> None:
        """`volunteer` took `conv` (kept on its hash: gone with it, at retention or /forget). A wish for a
        volunteer is spent once someone holds the person: back in the queue, anyone may take them."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hsetnx(keys.conversation(conv), HELPED + volunteer, repr(at))
        pipe.hdel(keys.conversation(conv), ASKED_FOR_FIELD)
        await pipe.execute()

    async def mark_returning(self, conv: ConversationId, count: int) -> None:
        await self._redis.hset(keys.conversation(conv), RETURNING_FIELD, count)

    async def ask_for(self, conv: ConversationId, volunteer: VolunteerId) -> None:
        """The person asked for `volunteer` again (the conversation must still exist: never recreate one)."""
        if await self._redis.exists(keys.conversation(conv)):
            await self._redis.hset(keys.conversation(conv), ASKED_FOR_FIELD, volunteer)
