"""A consumer-group worker for one stream: read, handle, ack; reclaim stale entries; dead-letter poison.

At-least-once: an entry is acknowledged only after its handler returned: a batch's acknowledgements go to
Redis in the same round trip as the next read, which the worker sends at once. If a worker dies mid-entry, the
entry stays pending and another worker (or the same one after restart) reclaims it with XAUTOCLAIM once it
has been idle for `claim_idle_ms`. An entry whose handler keeps failing is moved to the dead-letter stream
after `max_attempts`, so one bad entry can never become a crash loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from redis.typing import KeyT, StreamIdT

from routing.codec import MalformedEntry
from routing.store import keys
from routing.store.cipher import CipherError
from routing.store.replies import text
from routing.store.streams import StreamWriter

log = logging.getLogger(__name__)

Fields = dict[bytes, bytes]
StreamReply = list[tuple[bytes, list[tuple[bytes, Fields]]]] | None
Handler = Callable[[str, Fields], Awaitable[None]]
DeadLetterHook = Callable[[str, str, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """Tuning of a stream worker."""

    batch: int = 64
    block_ms: int = 1000
    claim_idle_ms: int = 30_000
    max_attempts: int = 5
    concurrent: bool = True  # different senders' entries of a batch are handled concurrently


class StreamWorker:
    """Consumes `stream` as `consumer` in `group`, calling `handler` for each entry in order."""

    def __init__(
        self,
        redis: Redis,
        writer: StreamWriter,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        options: WorkerOptions = WorkerOptions(),
        on_dead_letter: DeadLetterHook | None = None,
    ) -> None:
        self._redis = redis
        self._writer = writer
        self.stream = stream
        self._group = group
        self._consumer = consumer
        self._handler = handler
        self._options = options
        self._on_dead_letter = on_dead_letter
        self._next_claim = 0.0
        self._unacked: list[bytes] = []  # handled, to be acknowledged with the next read

    async def ensure_group(self) -> None:
        """Create the consumer group (and the stream) if missing; reads start from the beginning."""
        try:
            await self._redis.xgroup_create(self.stream, self._group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def step(self, block_ms: int | None = None) -> int:
        """Reclaim stale entries when due, then read and handle one batch. Returns entries handled."""
        handled = 0
        if time.monotonic() >= self._next_claim:
            handled += await self._reclaim()
            self._next_claim = time.monotonic() + self._options.claim_idle_ms / 2000
        block = self._options.block_ms if block_ms is None else block_ms
        for _stream, entries in await self._ack_and_read(block) or []:
            await self._process_batch(entries)
            handled += len(entries)
        return handled

    async def _ack_and_read(self, block_ms: int) -> StreamReply:
        """Read new entries; the last batch's acknowledgements go first in the same round trip (one XACK for
        the batch: Redis runs it before the read starts to block, so nothing waits for the read)."""
        streams: dict[KeyT, StreamIdT] = {self.stream: ">"}
        block = block_ms or None
        if not self._unacked:
            reply = await self._redis.xreadgroup(self._group, self._consumer, streams, self._options.batch, block)
            return cast(StreamReply, reply)
        pipe = self._redis.pipeline(transaction=False)
        pipe.xack(self.stream, self._group, *self._unacked)
        pipe.xreadgroup(self._group, self._consumer, streams, self._options.batch, block)
        _acked, reply = await pipe.execute()
        self._unacked = []
        return cast(StreamReply, reply)

    async def _flush_acks(self) -> None:
        """Acknowledge the handled entries now, without waiting for the next read."""
        if self._unacked:
            await self._ack(self._unacked)
            self._unacked = []

    async def _process_batch(self, entries: list[tuple[bytes, Fields]]) -> None:
        """Entries of one sender (same ordering key `k`) in order; different senders concurrently, so their
        Redis round trips overlap. Entries without a key (or with `concurrent` off) run one by one. The handled
        entries are acknowledged together, with the next read."""
        lanes: dict[bytes, list[tuple[bytes, Fields]]] = {}
        for entry_id, fields in entries:
            lane_key = fields.get(b"k", b"") if self._options.concurrent else b""
            lanes.setdefault(lane_key, []).append((entry_id, fields))
        done: list[bytes] = []

        async def run_lane(lane: list[tuple[bytes, Fields]]) -> None:
            for entry_id, fields in lane:
                if await self._process(text(entry_id), fields):
                    done.append(entry_id)

        # gather, not a TaskGroup: a Redis error in one lane must reach the back-off as itself (a TaskGroup
        # would wrap it in an ExceptionGroup and stop the process), and the other lanes finish their entries.
        results = await asyncio.gather(*(run_lane(lane) for lane in lanes.values()), return_exceptions=True)
        self._unacked += done
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def resume_own_pending(self) -> int:
        """Handle entries this consumer read before a crash or restart (same consumer name) right away,
        instead of waiting for them to go stale and be reclaimed. Pages through the pending list with a cursor,
        so an entry that fails again is not re-read in a loop."""
        await self._flush_acks()  # entries handled before the trouble are done: not handled again
        handled, cursor = 0, "0"
        while True:
            reply = cast(
                StreamReply,
                await self._redis.xreadgroup(
                    self._group, self._consumer, {self.stream: cursor}, count=self._options.batch
                ),
            )
            entries = reply[0][1] if reply else []
            if not entries:
                return handled
            done = []
            for entry_id, fields in entries:
                if not fields or await self._process(text(entry_id), fields):  # no fields: trimmed meanwhile
                    done.append(entry_id)
                handled += 1
            await self._ack(done)
            cursor = text(entries[-1][0])

    async def run(self, stop: asyncio.Event) -> None:
        """Loop until `stop` is set; Redis outages are waited out with back-off, never crash the worker."""
        await self._with_backoff(stop, self.ensure_group)
        await self._with_backoff(stop, self.resume_own_pending)
        while not stop.is_set():
            if not await self._with_backoff(stop, self.step):
                # Redis dropped mid-batch: entries this consumer had read are still pending for it; handle them
                # now rather than after the reclaim idle time (a risk message must not wait 30 s).
                await self._with_backoff(stop, self.resume_own_pending)
        with contextlib.suppress(RedisError, OSError):  # else handled again after a restart (idempotent)
            await self._flush_acks()

    async def _with_backoff(self, stop: asyncio.Event, action: Callable[[], Awaitable[object]]) -> bool:
        """Run `action` until it succeeds (or `stop`); True when it succeeded at the first try."""
        delay = 0.1
        first = True
        while not stop.is_set():
            try:
                await action()
                return first
            except (RedisError, OSError) as exc:
                log.warning(
                    "stream %s: redis unavailable (%s); retrying in %.1fs", self.stream, type(exc).__name__, delay
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                delay = min(delay * 2, 2.0)
                first = False
        return first

    async def _reclaim(self) -> int:
        reply = await self._redis.xautoclaim(
            self.stream,
            self._group,
            self._consumer,
            min_idle_time=self._options.claim_idle_ms,
            count=self._options.batch,
        )
        # 6.2 answers [next, entries]; 7.x adds deleted ids as a third element: never unpack exactly.
        entries = reply[1] if reply else []
        count, done = 0, []
        for entry_id, fields in entries:
            if fields is None:  # deleted while pending (trimmed by retention)
                done.append(entry_id)
                continue
            if await self._process(text(entry_id), fields):
                done.append(entry_id)
            count += 1
        await self._ack(done)
        return count

    async def _process(self, entry_id: str, fields: Fields) -> bool:
        """Handle one entry; True when it is done and may be acknowledged (the caller acks in bulk), False
        when it stays pending for another attempt. A dead-lettered entry is acknowledged here."""
        try:
            await self._handler(entry_id, fields)
        except (MalformedEntry, CipherError) as exc:
            await self._dead_letter(entry_id, fields, f"malformed: {exc}")
            return False
        except (RedisError, OSError):
            raise  # infrastructure trouble: leave the entry pending; it is retried after back-off
        except Exception as exc:
            if await self._attempts(entry_id) < self._options.max_attempts:
                log.exception("stream %s entry %s failed (%s); will retry", self.stream, entry_id, type(exc).__name__)
                return False
            await self._dead_letter(
                entry_id, fields, f"failed {self._options.max_attempts} times: {type(exc).__name__}"
            )
            return False
        return True

    async def _ack(self, entry_ids: list[bytes]) -> None:
        if entry_ids:
            await self._redis.xack(self.stream, self._group, *entry_ids)

    async def _attempts(self, entry_id: str) -> int:
        key = keys.ATTEMPTS_PREFIX + self.stream
        count = int(await self._redis.hincrby(key, entry_id, 1))
        await self._redis.expire(key, 7 * 24 * 3600)
        return count

    async def _dead_letter(self, entry_id: str, fields: Fields, reason: str) -> None:
        log.error("stream %s entry %s dead-lettered: %s", self.stream, entry_id, reason)
        await self._writer.dead_letter(self.stream, entry_id, reason, fields.get(b"d"))
        await self._redis.xack(self.stream, self._group, entry_id)
        await self._redis.hdel(keys.ATTEMPTS_PREFIX + self.stream, entry_id)
        if self._on_dead_letter is not None:
            await self._on_dead_letter(self.stream, entry_id, reason)
