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
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from routing.model import Attachment, OutboundMessage, Platform, Priority

log = logging.getLogger(__name__)

IDLE_WORKER_SECONDS = 60.0  # a destination's worker exits after this long without messages
# Background traffic (queue-card refreshes) may use only this share of a window, so a burst of arrivals can
# never take the whole budget of a staff group (~20 messages/min on Telegram) away from relays and alerts.
BACKGROUND_SHARE = 0.75


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

    def wait_time(self, now: float, share: float = 1.0) -> float:
        """Seconds until one more event fits (0 when it fits now) using at most `share` of the limit."""
        while self._events and self._events[0] <= now - self.window:
            self._events.popleft()
        limit = max(1, int(self.limit * share))
        if len(self._events) < limit:
            return 0.0
        return self._events[len(self._events) - limit] + self.window - now

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
        self._arrivals: dict[str, asyncio.Event] = {}
        self._seq = itertools.count()

    def submit(self, message: OutboundMessage, done: Done) -> None:
        """Queue a message; `done` is awaited after it was delivered or finally failed."""
        destination = self._deliverer.destination(message)
        queue = self._queues.get(destination.key)
        if queue is None:
            queue = self._queues[destination.key] = asyncio.PriorityQueue()
            self._windows[destination.key] = destination
            self._arrivals[destination.key] = asyncio.Event()
            self._workers[destination.key] = asyncio.create_task(self._drain(destination.key, queue))
        queue.put_nowait(_Job(int(message.priority), next(self._seq), message, done))
        self._arrivals[destination.key].set()

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
                    del self._queues[key], self._windows[key], self._workers[key], self._arrivals[key]
                    return
                continue
            job = await self._best_job_with_room(job, queue, destination, self._arrivals[key])
            error = await self._send_with_retries(job.message, destination)
            try:
                await job.done(job.message, error)
            except Exception:
                log.exception("delivery bookkeeping failed for %s; the entry stays pending", job.message.key)

    async def _best_job_with_room(
        self, job: _Job, queue: asyncio.PriorityQueue[_Job], destination: Destination, arrived: asyncio.Event
    ) -> _Job:
        """Wait until the most urgent queued job fits the windows, re-choosing whenever a new job arrives,
        so an urgent message never waits behind a background one that is waiting for room."""
        while True:
            wait = self._room_wait(destination, job.priority)
            if wait <= 0:
                self._record(destination)
                return job
            queue.put_nowait(job)
            arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await arrived.wait()
            job = queue.get_nowait()

    async def _send_with_retries(self, message: OutboundMessage, destination: Destination) -> DeliveryError | None:
        delay = self._retry.first_delay
        for attempt in range(1, self._retry.attempts + 1):
            if attempt > 1:
                await self._wait_for_room(destination, message.priority)
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

    def _windows_of(self, destination: Destination) -> tuple[SlidingWindow, ...]:
        return (*destination.windows, *((self._bot_window,) if self._bot_window else ()))

    def _room_wait(self, destination: Destination, priority: int) -> float:
        share = BACKGROUND_SHARE if priority >= Priority.BACKGROUND else 1.0
        now = self._clock()
        return max((w.wait_time(now, share) for w in self._windows_of(destination)), default=0.0)

    def _record(self, destination: Destination) -> None:
        now = self._clock()
        for window in self._windows_of(destination):
            window.record(now)

    async def _wait_for_room(self, destination: Destination, priority: int) -> None:
        while (wait := self._room_wait(destination, priority)) > 0:  # noqa: ASYNC110 - waiting for time
            await asyncio.sleep(wait)
        self._record(destination)


MAX_FOREIGN_FILE_BYTES = 8 * 1024 * 1024  # fits Discord's default upload limit and Telegram's bot limits

# Cross-platform attachments: the composition root gives each deliverer a way to fetch a file that lives on
# another platform (the adapters never import each other). Raises DeliveryError(retryable=False) when the
# file is larger than MAX_FOREIGN_FILE_BYTES, so the caller can send a clear note instead.
ForeignFileFetcher = Callable[[Attachment, Platform], Awaitable[tuple[bytes, str]]]  # -> (bytes, filename)
