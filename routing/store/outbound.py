"""Reads a platform's outbound lanes and hands messages to the delivery scheduler; acks after delivery.

Delivery is at-least-once with an idempotency key: a message is marked delivered (by its key) before its
entry is acknowledged, and a redelivered entry whose key is marked is acknowledged without sending again.
So a crash between the send and the mark is the only window for one duplicate; none is ever lost.

Only redelivered entries (this consumer's own after a restart, or stale ones reclaimed from another) are
checked against the marks. An entry read as new (">") was never handed to any consumer of the group, so it
cannot have been delivered: the emit script writes each key into the stream once, and Redis persists and
replicates in order, so a restored or promoted Redis that still has a mark also still has the read that put
the entry in a pending list. Skipping the check saves a round trip per batch of new entries. (Resetting
the group by hand, XGROUP SETID, does mean "send everything again".)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
# How long a finished delivery's bookkeeping waits for others to share its round trip. Deliveries finish one
# by one, so without a wait 10,000 Discord messages took 9,125 bookkeeping round trips (bench_relay.py, 500/s).
BOOKKEEPING_GATHER = 0.002
BOOKKEEPING_RETRY_FIRST, BOOKKEEPING_RETRY_LONGEST = 0.1, 2.0  # seconds between tries while Redis is away
# A relay is an outbound message with a `source_platform` (what a person or a volunteer wrote, carried over).
_RELAY_DIRECTIONS = {Audience.SEEKER: "to_person", Audience.STAFF_THREAD: "to_staff"}


@dataclass(frozen=True, slots=True)
class _Finished:
    """A delivered entry waiting for its bookkeeping round trip."""

    stream: str
    entry_id: str
    message: OutboundMessage


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
        # Deliveries finished since the last bookkeeping round trip; written together (see _finish).
        self._finished: list[_Finished] = []
        self._bookkeeping: asyncio.Task[None] | None = None
        self._stopping = False

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
        self._stopping = True  # bookkeeping that fails now is left to the delivered-marks check after a restart
        await self.settle()

    async def settle(self) -> None:
        """Wait until every finished delivery's bookkeeping (mark, count, ack) reached Redis or failed."""
        while self._bookkeeping is not None:
            await asyncio.shield(self._bookkeeping)

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
                batch = [(stream, entry_id.decode(), fields or {}) for entry_id, fields in entries]
                await self._submit_all(batch, redelivered=True)
                count += len(entries)
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
        batch = [
            (stream.decode(), entry_id.decode(), fields)
            for stream, entries in reply or []
            for entry_id, fields in entries
        ]
        await self._submit_all(batch, redelivered=False)
        return len(batch)

    async def _reclaim(self) -> int:
        count = 0
        for stream in self._streams:
            reply = await self._redis.xautoclaim(
                stream, self._group, self._consumer, min_idle_time=self._claim_idle_ms, count=100
            )
            batch = [(stream, entry_id.decode(), fields or {}) for entry_id, fields in (reply[1] if reply else [])]
            await self._submit_all(batch, redelivered=True)
            count += len(batch)
        return count

    async def _submit_all(self, batch: list[tuple[str, str, dict[bytes, bytes]]], *, redelivered: bool) -> None:
        """Hand a batch of entries to the scheduler; for `redelivered` entries, first ask Redis once which of
        them were delivered before a crash (see the module docstring for why new entries are not asked)."""
        decoded: list[tuple[str, str, OutboundMessage]] = []
        for stream, entry_id, fields in batch:
            try:
                decoded.append((stream, entry_id, decode_outbound(self._cipher.decrypt(fields[b"d"]))))
            except (KeyError, MalformedEntry, CipherError) as exc:
                await self._writer.dead_letter(
                    stream, entry_id, f"malformed outbound: {type(exc).__name__}", fields.get(b"d")
                )
                await self._redis.xack(stream, self._group, entry_id)
        if not decoded:
            return
        delivered: list[int] = [0] * len(decoded)
        if redelivered:
            pipe = self._redis.pipeline(transaction=False)  # keys in many cluster slots: no MULTI
            for _stream, _entry_id, message in decoded:
                pipe.exists(keys.delivered(self._platform, message.key))
            delivered = await pipe.execute()
        for (stream, entry_id, message), before in zip(decoded, delivered, strict=True):
            if before:
                await self._redis.xack(stream, self._group, entry_id)  # delivered before a crash: never twice
            elif (stream, entry_id) not in self._submitted:  # else: already with the scheduler, never twice
                await self._in_flight.acquire()
                self._submitted.add((stream, entry_id))
                self._scheduler.submit(message, self._on_done(stream, entry_id))

    def _on_done(
        self, stream: str, entry_id: str
    ) -> Callable[[OutboundMessage, DeliveryError | None], Awaitable[None]]:
        async def done(message: OutboundMessage, error: DeliveryError | None) -> None:
            if error is None:
                self._finish(_Finished(stream, entry_id, message))
                return
            try:
                await self._failed(stream, entry_id, message, error)
                await self._redis.xack(stream, self._group, entry_id)
            finally:
                self._submitted.discard((stream, entry_id))
                self._in_flight.release()

        return done

    def _finish(self, finished: _Finished) -> None:
        """Queue a delivered entry's bookkeeping. Deliveries that finish within BOOKKEEPING_GATHER, or while
        a round trip is under way, share the next one: under load that is one pipeline for many messages
        instead of one each (the mark still precedes the ack for every entry, so a crash in between never
        sends twice). The message is already delivered, so the wait delays nobody."""
        self._finished.append(finished)
        if self._bookkeeping is None:
            self._bookkeeping = asyncio.create_task(self._write_bookkeeping())

    async def _write_bookkeeping(self) -> None:
        """Write the marks and acks of finished deliveries. While Redis is unreachable the batch is kept and
        tried again: its entries stay "with the scheduler" (`_submitted`), so when the pump re-reads its pending
        entries after the outage they are not sent a second time (each was sent twice before, measured in a
        10 s Redis stall). Only a pump that stops during the outage leaves them to the delivered-marks check."""
        delay = BOOKKEEPING_RETRY_FIRST
        try:
            await asyncio.sleep(BOOKKEEPING_GATHER)
            while self._finished:
                batch, self._finished = self._finished, []
                try:
                    await self._delivered(batch)
                except (RedisError, OSError) as exc:
                    log.warning("outbound %s: delivery bookkeeping failed (%s)", self._platform, type(exc).__name__)
                    if not self._stopping:
                        self._finished = batch + self._finished  # in order, with whatever finished meanwhile
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, BOOKKEEPING_RETRY_LONGEST)
                        continue
                except Exception:
                    log.exception("outbound %s: delivery bookkeeping failed; the entries stay pending", self._platform)
                for done in batch:
                    self._submitted.discard((done.stream, done.entry_id))
                    self._in_flight.release()
                delay = BOOKKEEPING_RETRY_FIRST
        finally:
            self._bookkeeping = None

    async def _delivered(self, batch: list[_Finished]) -> None:
        """Mark each key delivered, count relays (messages carried over from the other side), then ack."""
        pipe = self._redis.pipeline(transaction=False)  # keys in many cluster slots: one round trip, no MULTI
        relayed: dict[str, int] = {}
        acks: dict[str, list[str]] = {}
        for done in batch:
            pipe.set(keys.delivered(self._platform, done.message.key), 1, ex=2 * DAY)
            direction = _RELAY_DIRECTIONS.get(done.message.audience) if done.message.source_platform else None
            if direction is not None:
                relayed[direction] = relayed.get(direction, 0) + 1
            acks.setdefault(done.stream, []).append(done.entry_id)
        for direction, count in relayed.items():
            pipe.hincrby(keys.RELAYED, f"{self._platform}:{direction}", count)
        for stream, entry_ids in acks.items():
            pipe.xack(stream, self._group, *entry_ids)
        await pipe.execute()

    async def _failed(self, stream: str, entry_id: str, message: OutboundMessage, error: DeliveryError) -> None:
        if error.unreachable and message.audience == Audience.SEEKER:
            await self._report_unreachable(message)
            return
        if error.unreachable and message.audience == Audience.STAFF_DIRECT:
            await self._staff_unreachable(message)
            return
        log.error("delivery %s to %s failed for good: %s", message.key, message.audience, error)
        entries = cast(
            list[tuple[bytes, dict[bytes, bytes]]], await self._redis.xrange(stream, min=entry_id, max=entry_id)
        )
        payload = entries[0][1].get(b"d") if entries else None
        await self._writer.dead_letter(stream, entry_id, f"delivery failed: {error}", payload)
        if message.audience != Audience.STAFF_LOBBY:  # an alert about a failed alert would loop
            out = Outbox(f"delivery-failed:{message.key}")
            out.add(self._platform, Audience.STAFF_LOBBY, texts.staff(texts.STAFF_DEAD_LETTER, entry=entry_id),
                    priority=Priority.URGENT)  # fmt: skip
            for alert in out.messages:
                await self._writer.emit(alert)

    async def _staff_unreachable(self, message: OutboundMessage) -> None:
        """A staff member's private chat refused the bot (they never pressed Start, or blocked it): say so where
        it can be fixed, once an hour per chat, never as a dead letter in the volunteers' lobby. A conversation's
        copy: in its topic (the holder works there meanwhile); a private alert: in the escalation chat."""
        log.warning("a private message to a staff member was refused (%s); they need to start the bot", message.key)
        chat = hashlib.sha256(f"{self._platform}:{message.chat}".encode()).hexdigest()[:16]  # no raw id in a key
        if not await self._writer.first_notice(f"staff-unreachable:{chat}", ttl=3600):
            return
        out = Outbox(f"staff-unreachable:{message.key}")
        if message.conversation is not None:
            unreachable = texts.staff(texts.DESK_UNREACHABLE)
            out.add(self._platform, Audience.STAFF_THREAD, unreachable, conversation=message.conversation,
                    pseudonym=message.pseudonym, priority=Priority.URGENT)  # fmt: skip
        elif any(button.action.startswith("ack ") for button in message.buttons):  # a page on the chain
            out.add(self._platform, Audience.ESCALATION, texts.staff(texts.PAGE_UNREACHABLE), priority=Priority.URGENT)
        # Anything else (a /dashboard link): its sender was told, when they asked, to press Start and ask again.
        for notice in out.messages:
            await self._writer.emit(notice)

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
