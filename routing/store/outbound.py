"""Reads a platform's outbound lanes and hands messages to the delivery scheduler; acks after delivery.

Delivery is at-least-once with an idempotency key: a message is marked delivered (by its key) before its
entry is acknowledged, and a redelivered entry whose key is marked is acknowledged without sending again.
So a crash between the send and the mark is the only window for one duplicate; none is ever lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from routing import texts
from routing.codec import MalformedEntry, decode_outbound
from routing.delivery import DeliveryError, DeliveryScheduler
from routing.model import (
    Audience,
    ChatId,
    InboundKind,
    InboundMessage,
    Origin,
    OutboundMessage,
    Platform,
    Priority,
    UpdateId,
    UserId,
)
from routing.outbox import Outbox
from routing.store import keys
from routing.store.cipher import CipherError, TextCipher
from routing.store.streams import DAY, StreamWriter

log = logging.getLogger(__name__)

StreamReply = list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]] | None
# A relay is an outbound message with a `source_platform` (what a person or a volunteer wrote, carried over).
_RELAY_DIRECTIONS = {Audience.SEEKER: "to_person", Audience.STAFF_THREAD: "to_staff"}


class OutboundPump:
    """Feeds one platform's outbound streams (urgent lane first) into a DeliveryScheduler."""

    def __init__(
        self,
        redis: Redis,
        writer: StreamWriter,
        cipher: TextCipher,
        platform: Platform,
        scheduler: DeliveryScheduler,
        consumer: str,
        *,
        max_in_flight: int = 2000,
        claim_idle_ms: int = 60_000,
    ) -> None:
        self._redis = redis
        self._writer = writer
        self._cipher = cipher
        self._platform = platform
        self._scheduler = scheduler
        self._consumer = consumer
        self._group = f"deliver-{platform}"
        self._streams = [keys.outbound(platform, urgent=True), keys.outbound(platform)]
        self._in_flight = asyncio.Semaphore(max_in_flight)
        # (stream, entry id) handed to the scheduler and not yet finished. Ids are per stream: the urgent and the
        # ordinary lane can both hold "1700000000000-0", and an id alone once made the second look "already sent".
        self._submitted: set[tuple[str, str]] = set()
        self._claim_idle_ms = claim_idle_ms
        self._next_claim = 0.0

    async def ensure_groups(self) -> None:
        for stream in self._streams:
            try:
                await self._redis.xgroup_create(stream, self._group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def run(self, stop: asyncio.Event) -> None:
        """Pump until `stop`; Redis outages are waited out with back-off."""
        delay = 0.1
        resume = True
        while not stop.is_set():
            try:
                if resume:  # at start, and after Redis dropped: this consumer's unfinished entries first
                    await self.ensure_groups()
                    await self.resume_own_pending()
                    resume = False
                await self.step()
                delay = 0.1
            except (RedisError, OSError) as exc:
                log.warning(
                    "outbound %s: redis unavailable (%s); retrying in %.1fs", self._platform, type(exc).__name__, delay
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                delay = min(delay * 2, 2.0)
                resume = True
        await self._scheduler.close()

    async def step(self, block_ms: int | None = 1000) -> int:
        """Reclaim stale entries when due, then read one batch. Returns entries submitted."""
        count = 0
        if time.monotonic() >= self._next_claim:
            count += await self._reclaim()
            self._next_claim = time.monotonic() + self._claim_idle_ms / 2000
        return count + await self._read(">", block_ms)

    async def resume_own_pending(self) -> int:
        """Submit every entry this consumer had read but not acknowledged before a crash or restart."""
        count = 0
        for stream in self._streams:
            cursor = "0"
            while True:
                reply = cast(
                    StreamReply,
                    await self._redis.xreadgroup(self._group, self._consumer, {stream: cursor}, count=100),
                )
                entries = reply[0][1] if reply else []
                if not entries:
                    break
                for entry_id, fields in entries:
                    await self._submit(stream, entry_id.decode(), fields or {})
                    count += 1
                cursor = entries[-1][0].decode()
        return count

    async def _read(self, start: str, block_ms: int | None) -> int:
        # The urgent lane is listed first, and Redis answers streams in the order asked.
        reply = cast(
            StreamReply,
            await self._redis.xreadgroup(
                self._group, self._consumer, dict.fromkeys(self._streams, start), count=100, block=block_ms or None
            ),
        )
        count = 0
        for stream, entries in reply or []:
            for entry_id, fields in entries:
                await self._submit(stream.decode(), entry_id.decode(), fields)
                count += 1
        return count

    async def _reclaim(self) -> int:
        count = 0
        for stream in self._streams:
            reply = await self._redis.xautoclaim(
                stream, self._group, self._consumer, min_idle_time=self._claim_idle_ms, count=100
            )
            for entry_id, fields in reply[1] if reply else []:
                await self._submit(stream, entry_id.decode(), fields or {})
                count += 1
        return count

    async def _submit(self, stream: str, entry_id: str, fields: dict[bytes, bytes]) -> None:
        try:
            message = decode_outbound(self._cipher.decrypt(fields[b"d"]))
        except (KeyError, MalformedEntry, CipherError) as exc:
            await self._writer.dead_letter(
                stream, entry_id, f"malformed outbound: {type(exc).__name__}", fields.get(b"d")
            )
            await self._redis.xack(stream, self._group, entry_id)
            return
        if await self._redis.exists(keys.delivered(self._platform, message.key)):
            await self._redis.xack(stream, self._group, entry_id)  # delivered before a crash: never twice
            return
        if (stream, entry_id) in self._submitted:
            return  # already with the scheduler (re-read after a Redis drop): never twice
        await self._in_flight.acquire()
        self._submitted.add((stream, entry_id))
        self._scheduler.submit(message, self._on_done(stream, entry_id))

    def _on_done(
        self, stream: str, entry_id: str
    ) -> Callable[[OutboundMessage, DeliveryError | None], Awaitable[None]]:
        async def done(message: OutboundMessage, error: DeliveryError | None) -> None:
            try:
                if error is None:
                    await self._delivered(message)
                else:
                    await self._failed(stream, entry_id, message, error)
                await self._redis.xack(stream, self._group, entry_id)
            finally:
                self._submitted.discard((stream, entry_id))
                self._in_flight.release()

        return done

    async def _delivered(self, message: OutboundMessage) -> None:
        """Mark the key delivered and, for a relay (a message carried over from the other side), count it."""
        pipe = self._redis.pipeline(transaction=False)  # two keys, two cluster slots: one round trip, no MULTI
        pipe.set(keys.delivered(self._platform, message.key), 1, ex=2 * DAY)
        direction = _RELAY_DIRECTIONS.get(message.audience) if message.source_platform is not None else None
        if direction is not None:
            pipe.hincrby(keys.RELAYED, f"{self._platform}:{direction}", 1)
        await pipe.execute()

    async def _failed(self, stream: str, entry_id: str, message: OutboundMessage, error: DeliveryError) -> None:
        if error.unreachable and message.audience == Audience.SEEKER:
            await self._report_unreachable(message)
            return
        log.error("delivery %s to %s failed for good: %s", message.key, message.audience, error)
        entries = cast(
            list[tuple[bytes, dict[bytes, bytes]]], await self._redis.xrange(stream, min=entry_id, max=entry_id)
        )
        payload = entries[0][1].get(b"d") if entries else None
        await self._writer.dead_letter(stream, entry_id, f"delivery failed: {error}", payload)
        if message.audience != Audience.STAFF_LOBBY:  # an alert about a failed alert would loop
            out = Outbox(f"delivery-failed:{message.key}")
            out.add(self._platform, Audience.STAFF_LOBBY, texts.STAFF_DEAD_LETTER.format(entry=entry_id),
                    priority=Priority.URGENT)  # fmt: skip
            for alert in out.messages:
                await self._writer.emit(alert)

    async def _report_unreachable(self, message: OutboundMessage) -> None:
        """Tell the router (through the inbound stream, like any event) that this person cannot be reached."""
        if message.conversation is None or message.chat is None:
            return
        now = time.time()
        await self._writer.ingest(
            InboundMessage(
                platform=self._platform, update_id=UpdateId(f"undeliverable:{message.conversation}"),
                origin=Origin.PRIVATE, chat=ChatId(message.chat), sender=UserId(message.chat),
                text=message.conversation, sent_at=now, received_at=now, kind=InboundKind.UNDELIVERABLE,
            )
        )  # fmt: skip
