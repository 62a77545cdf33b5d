"""Delivering outbound messages within platform limits, most important first (no Redis, no SDK).

Each destination (a person's chat, the staff group, the escalation chat) has its own priority queue and its
own worker, so a slow or rate-limited staff group never delays crisis resources to a person. Before each
send the worker waits until every sliding window that applies (per chat, per group, per bot) has room: a
sliding window log never lets more than `limit` sends into any `window` seconds, which a token bucket
with a burst does not guarantee.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from routing.model import Attachment, OutboundMessage, Platform

log = logging.getLogger(__name__)

IDLE_WORKER_SECONDS = 60.0  # a destination's worker exits after this long without messages


class DeliveryError(Exception):
    """A platform refused or failed a delivery. Never carries message text or raw platform ids.

    `retryable`: worth trying again (5xx, 429, network). `retry_after`: the platform's requested pause.
    `unreachable`: the person can no longer be reached (blocked the bot, DMs closed).
    """

    def __init__(
        self, reason: str, *, retryable: bool, retry_after: float | None = None, unreachable: bool = False
    ) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after = retry_after
        self.unreachable = unreachable


class SlidingWindow:
    """At most `limit` events in any `window` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: collections.deque[float] = collections.deque()

    def wait_time(self, now: float) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        while self._events and self._events[0] <= now - self.window:
            self._events.popleft()
        if len(self._events) < self.limit:
            return 0.0
        return self._events[0] + self.window - now

    def record(self, now: float) -> None:
        self._events.append(now)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a message goes, and which windows limit it (the bot-wide window is added by the scheduler)."""

    key: str
    windows: tuple[SlidingWindow, ...] = ()


class Deliverer(Protocol):
    """The platform side: where a message goes and how it is sent."""

    def destination(self, message: OutboundMessage) -> Destination: ...

    async def deliver(self, message: OutboundMessage) -> None:
        """Send it; raise DeliveryError on failure."""


Done = Callable[[OutboundMessage, DeliveryError | None], Awaitable[None]]


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    message: OutboundMessage = field(compare=False)
    done: Done = field(compare=False)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 6
    first_delay: float = 0.5
    max_delay: float = 30.0


class DeliveryScheduler:
    """Per-destination priority queues, each drained by its own worker within the rate limits."""

    def __init__(
        self,
        deliverer: Deliverer,
        bot_window: SlidingWindow | None,
        retry: RetryPolicy = RetryPolicy(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._deliverer = deliverer
        self._bot_window = bot_window
        self._retry = retry
        self._clock = clock
        self._queues: dict[str, asyncio.PriorityQueue[_Job]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._windows: dict[str, Destination] = {}
        self._seq = itertools.count()

    def submit(self, message: OutboundMessage, done: Done) -> None:
        """Queue a message; `done` is awaited after it was delivered or finally failed."""
        destination = self._deliverer.destination(message)
        queue = self._queues.get(destination.key)
        if queue is None:
            queue = self._queues[destination.key] = asyncio.PriorityQueue()
            self._windows[destination.key] = destination
            self._workers[destination.key] = asyncio.create_task(self._drain(destination.key, queue))
        queue.put_nowait(_Job(int(message.priority), next(self._seq), message, done))

    @property
    def queued(self) -> int:
        return sum(q.qsize() for q in self._queues.values())

    async def close(self) -> None:
        """Stop all workers (queued messages stay pending in the stream and are redelivered later)."""
        for task in self._workers.values():
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._workers.clear()
        self._queues.clear()

    async def _drain(self, key: str, queue: asyncio.PriorityQueue[_Job]) -> None:
        destination = self._windows[key]
        while True:
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that races with
                # the queue handing out an item, leaving close() waiting for a worker that never stops.
                async with asyncio.timeout(IDLE_WORKER_SECONDS):
                    job = await queue.get()
            except TimeoutError:
                if queue.empty():  # no await between this check and the removal: submit() cannot interleave
                    del self._queues[key], self._windows[key], self._workers[key]
                    return
                continue
            error = await self._send_with_retries(job.message, destination)
            try:
                await job.done(job.message, error)
            except Exception:
                log.exception("delivery bookkeeping failed for %s; the entry stays pending", job.message.key)

    async def _send_with_retries(self, message: OutboundMessage, destination: Destination) -> DeliveryError | None:
        delay = self._retry.first_delay
        for attempt in range(1, self._retry.attempts + 1):
            await self._wait_for_room(destination)
            try:
                await self._deliverer.deliver(message)
                return None
            except DeliveryError as exc:
                if not exc.retryable or attempt == self._retry.attempts:
                    return exc
                pause = exc.retry_after if exc.retry_after is not None else delay
                log.warning("delivery %s failed (%s), retry %d in %.1fs", message.key, exc, attempt, pause)
                await asyncio.sleep(pause)
                delay = min(delay * 2, self._retry.max_delay)
        return DeliveryError("no attempts", retryable=False)  # unreachable with attempts >= 1

    async def _wait_for_room(self, destination: Destination) -> None:
        windows = (*destination.windows, *((self._bot_window,) if self._bot_window else ()))
        while True:
            now = self._clock()
            wait = max((w.wait_time(now) for w in windows), default=0.0)
            if wait <= 0:
                for w in windows:
                    w.record(now)
                return
            await asyncio.sleep(wait)


MAX_FOREIGN_FILE_BYTES = 8 * 1024 * 1024  # fits Discord's default upload limit and Telegram's bot limits

# Cross-platform attachments: the composition root gives each deliverer a way to fetch a file that lives on
# another platform (the adapters never import each other). Raises DeliveryError(retryable=False) when the
# file is larger than MAX_FOREIGN_FILE_BYTES, so the caller can send a clear note instead.
ForeignFileFetcher = Callable[[Attachment, Platform], Awaitable[tuple[bytes, str]]]  # -> (bytes, filename)
