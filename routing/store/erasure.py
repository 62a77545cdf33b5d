"""Erasing everything stored about one person (`/forget`, GDPR Art. 17).

Conversations, kept and recent messages, staff notes, queue places, topic/thread maps, escalation records,
labelled risk examples (`routing/store/risk_examples.py`), and every stream entry that carries their words or
their chat id. Audit entries stay: they hold only our own ids and times, which is what a service needs to
account for its work. So do, when the organisation keeps them, text-free safeguarding records of the person's
escalations (`routing/store/safeguarding.py`). The staff topics/threads found are returned, for the router to
delete on their platforms at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from routing.codec import MalformedEntry, decode_inbound, decode_outbound
from routing.model import ChatId, ConversationId, Platform, ThreadId, UserId
from routing.store import keys
from routing.store.cipher import CipherError, TextCipher
from routing.store.escalations import DEADLINES, UNANSWERED
from routing.store.platform_copies import PlatformCopies, StaffSpace
from routing.store.replies import text
from routing.store.risk_examples import forget_examples
from routing.store.safeguarding import SafeguardingRecords

BATCH = 500
TOMBSTONE_SECONDS = 3600  # staff who write in the topic before its deletion arrives still find it ended
Entries = list[tuple[bytes, dict[bytes, bytes]]]


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What was deleted, for the person's answer."""

    conversations: int
    stored_messages: int
    escalations: int  # erased, or (`kept_escalations`) turned into safeguarding records
    staff_spaces: tuple[StaffSpace, ...] = ()  # the topics/threads to delete on their platforms now
    kept_escalations: bool = False


class PersonEraser:
    """Deletes one person's data from Redis."""

    def __init__(self, redis: Redis, cipher: TextCipher, safeguarding_days: float | None = None) -> None:
        """`safeguarding_days`: keep a text-free record of each escalation this long; None: erase them too."""
        self._redis = redis
        self._cipher = cipher
        self._records = None if safeguarding_days is None else SafeguardingRecords(redis, safeguarding_days)
        self._copies = PlatformCopies(redis)

    async def erase(self, platform: Platform, sender: UserId, chat: ChatId, person_key: str) -> ErasureReport:
        members = await self._redis.smembers(keys.person_conversations(person_key))
        convs = {ConversationId(text(c)) for c in members}
        current = await self._redis.get(keys.person(person_key))
        if current:
            convs.add(ConversationId(text(current)))
        spaces: list[StaffSpace] = []
        for conv in sorted(convs):
            spaces += await self._erase_conversation(conv)
        await self._copies.cancel(spaces)  # deleted now, not when their retention ends
        await self._redis.delete(
            keys.person(person_key), keys.person_conversations(person_key), keys.flood(person_key),
            keys.person_language(person_key), keys.person_country(person_key), keys.person_plan(person_key),
        )  # fmt: skip
        await forget_examples(self._redis, person_key)  # labelled risk examples, kept or not any more
        messages = await self._erase_stream_entries(platform, sender, chat, convs)
        escalations = await self._erase_escalations(convs)
        return ErasureReport(
            conversations=len(convs), stored_messages=messages, escalations=escalations,
            staff_spaces=tuple(spaces), kept_escalations=self._records is not None,
        )  # fmt: skip

    async def _erase_conversation(self, conv: ConversationId) -> list[StaffSpace]:
        """Delete a conversation, leaving for TOMBSTONE_SECONDS only what its staff topic needs until deleted: the
        closed state and the topic ids (no chat id, no person key, no text)."""
        record = {text(k): text(v) for k, v in (await self._redis.hgetall(keys.conversation(conv))).items()}
        tombstone = {k: v for k, v in record.items() if k.startswith("thread:") or k == "pseudonym"}
        pipe = self._redis.pipeline(transaction=True)
        if record.get("volunteer"):
            pipe.srem(keys.volunteer_active(record["volunteer"]), conv)  # type: ignore[arg-type]
        pipe.zrem(keys.QUEUE, conv)
        pipe.delete(keys.conversation(conv), keys.pending(conv), keys.recent(conv), keys.notes(conv))
        pipe.delete(keys.case_record(conv), keys.case_staff(conv))  # the case record, and who held it
        pipe.zrem(keys.CASES, conv)
        if tombstone:
            tombstone.update(state="closed", erased="1")
            pipe.hset(keys.conversation(conv), mapping=tombstone)  # type: ignore[arg-type]
            pipe.expire(keys.conversation(conv), TOMBSTONE_SECONDS)
            for field, value in tombstone.items():
                if field.startswith("thread:"):
                    pipe.expire(keys.thread(Platform(field.removeprefix("thread:")), value), TOMBSTONE_SECONDS)
        await pipe.execute()
        return [
            (Platform(f.removeprefix("thread:")), ThreadId(v)) for f, v in tombstone.items() if f.startswith("thread:")
        ]

    async def _erase_stream_entries(
        self, platform: Platform, sender: UserId, chat: ChatId, convs: set[ConversationId]
    ) -> int:
        def inbound_match(payload: bytes) -> bool:
            message = decode_inbound(payload)
            return message.platform == platform and (message.sender == sender or message.chat == chat)

        def outbound_match(payload: bytes) -> bool:
            message = decode_outbound(payload)
            return message.conversation in convs or (message.platform == platform and message.chat == chat)

        # (The erasure's own staff note and topic close are emitted after this scan, so they survive.)

        def dead_letter_match(payload: bytes) -> bool:  # a set-aside entry of either direction
            try:
                return inbound_match(payload)
            except MalformedEntry:
                return outbound_match(payload)

        deleted = 0
        for inbound in keys.INBOUND_STREAMS:
            deleted += await self._scan(inbound, inbound_match)
        for target in Platform:
            for urgent in (False, True):
                deleted += await self._scan(keys.outbound(target, urgent), outbound_match)
        return deleted + await self._scan(keys.DEAD_LETTER, dead_letter_match)

    async def _scan(self, stream: str, match: Callable[[bytes], bool]) -> int:
        """XDEL every entry of `stream` whose decrypted payload `match`es; unreadable entries are left alone."""
        deleted, start = 0, "-"
        while True:
            entries = cast(Entries, await self._redis.xrange(stream, min=start, count=BATCH))
            doomed = [entry_id for entry_id, fields in entries if self._belongs(fields, match)]
            if doomed:
                deleted += int(await self._redis.xdel(stream, *doomed))
            if len(entries) < BATCH:
                return deleted
            start = "(" + entries[-1][0].decode()

    def _belongs(self, fields: dict[bytes, bytes], match: Callable[[bytes], bool]) -> bool:
        payload = fields.get(b"d")
        if payload is None:
            return False
        try:
            return match(self._cipher.decrypt(payload))
        except (CipherError, MalformedEntry):
            return False

    async def _erase_escalations(self, convs: set[ConversationId]) -> int:
        count = 0
        async for key in self._redis.scan_iter(match=f"{keys.PREFIX}esc:e-*", count=500):
            conv = await self._redis.hget(key, "conversation")
            if conv is not None and ConversationId(text(conv)) in convs:
                esc = text(key).rsplit(":", 1)[-1]
                if self._records is not None:
                    fields = await self._redis.hgetall(key)
                    await self._records.keep(esc, {text(k): text(v) for k, v in fields.items() if k != b"text"})
                await self._redis.delete(key)
                await self._redis.zrem(DEADLINES, esc)
                await self._redis.zrem(UNANSWERED, esc)
                count += 1
        return count
