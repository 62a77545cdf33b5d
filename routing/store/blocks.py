"""Blocks: a person staff paused for a while (abuse, repeated re-contact), by opaque person key.

A block never gates safety: the router still assesses every message of a blocked person, and a high-risk one
still sends them crisis resources and pages the on-call professional. The reason is staff text: encrypted at
rest like all text. A block expires by itself; coordinators can list and lift them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from routing.model import ConversationId, Pseudonym, VolunteerId
from routing.store import keys
from routing.store.cipher import TextCipher
from routing.store.replies import as_bytes, text

BLOCKS = keys.PREFIX + "blocks"  # sorted set: person key -> when the block ends


def _block(person_key: str) -> str:
    return f"{keys.PREFIX}block:{person_key}"


@dataclass(frozen=True, slots=True)
class Block:
    person_key: str
    pseudonym: Pseudonym
    conversation: ConversationId
    until: float
    by: VolunteerId
    reason: str


class BlockStore:
    """Adds, reads, lists and lifts blocks."""

    def __init__(self, redis: Redis, cipher: TextCipher, *, refresh_seconds: float = 2.0) -> None:
        self._redis = redis
        self._cipher = cipher
        # Who is blocked, as this process last read it: every person message asks, and blocks are rare, so
        # one read every `refresh_seconds` instead of one per message (a block placed by another router
        # process takes effect within that time; one placed here at once).
        self._refresh = refresh_seconds
        self._known: dict[str, float] = {}
        self._read_at = -refresh_seconds

    async def blocked(self, person_key: str) -> Block | None:
        """The person's block while it lasts, else None; cheap for everyone who is not blocked."""
        now = time.monotonic()
        if now - self._read_at >= self._refresh:
            entries = cast(
                list[tuple[bytes, float]], await self._redis.zrangebyscore(BLOCKS, time.time(), "+inf", withscores=True)
            )
            self._known = {text(key): float(until) for key, until in entries}
            self._read_at = now
        return await self.of(person_key) if person_key in self._known else None

    async def add(self, block: Block) -> None:
        seconds = max(60, int(block.until - time.time()))
        fields = {
            "pseudonym": block.pseudonym, "conversation": block.conversation, "until": f"{block.until:.0f}",
            "by": block.by, "reason": self._cipher.encrypt(block.reason.encode()),
        }  # fmt: skip
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(_block(block.person_key))
            pipe.hset(_block(block.person_key), mapping=fields)  # type: ignore[arg-type]
            pipe.expire(_block(block.person_key), seconds)
            pipe.zadd(BLOCKS, {block.person_key: block.until})
            await pipe.execute()
        self._known[block.person_key] = block.until

    async def of(self, person_key: str) -> Block | None:
        """The person's block while it lasts, else None."""
        raw = await self._redis.hgetall(_block(person_key))
        if not raw:
            return None
        d = {text(k): v for k, v in raw.items()}
        return Block(
            person_key=person_key, pseudonym=Pseudonym(text(d["pseudonym"])),
            conversation=ConversationId(text(d["conversation"])), until=float(text(d["until"])),
            by=VolunteerId(text(d["by"])), reason=self._cipher.decrypt(as_bytes(d["reason"])).decode(),
        )  # fmt: skip

    async def lift(self, person_key: str) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(_block(person_key))
            pipe.zrem(BLOCKS, person_key)
            removed, _ = await pipe.execute()
        self._known.pop(person_key, None)
        return bool(removed)

    async def active(self, now: float | None = None) -> list[Block]:
        """Every block in force, soonest to end first (expired ones are dropped from the list)."""
        now = now or time.time()
        await self._redis.zremrangebyscore(BLOCKS, "-inf", now)
        members = cast(list[bytes], await self._redis.zrange(BLOCKS, 0, -1))
        found = [await self.of(text(key)) for key in members]
        return [b for b in found if b is not None]
