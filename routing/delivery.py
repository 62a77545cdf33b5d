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
import heapq
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
    """Where a message goes, and which windows limit it (the bot-wide window is added by the scheduler).

    `lane`: messages of one lane (a topic of a forum group, say) are sent one at a time, in queue order;
    different lanes of one destination may each have a send in flight, at most `parallel` together. The
    windows and the priority order are the destination's: a free lane never lets a background message past
    an urgent one that fits, and every send still waits for room in the shared windows.
    """

    key: str
    windows: tuple[SlidingWindow, ...] = ()
    lane: str = ""
    parallel: int = 1


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
    lane: str = field(compare=False, default="")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 6
    first_delay: float = 0.5
    max_delay: float = 30.0


class _Queue:
    """One destination's jobs: a priority heap per lane, and a heap of the lanes that are free to send,
    ordered by their most urgent job (entries there are checked when taken: a lane's head may have changed)."""

    def __init__(self, destination: Destination) -> None:
        self.destination = destination
        self.lanes: dict[str, list[_Job]] = {}
        self.free: list[tuple[int, int, str]] = []
        self.busy: set[str] = set()
        self.sending: set[asyncio.Task[None]] = set()
        self.changed = asyncio.Event()
        self.size = 0
        self.hold_until = 0.0  # the platform asked this destination to pause (429 retry-after)

    def put(self, job: _Job) -> None:
        lane = self.lanes.setdefault(job.lane, [])
        heapq.heappush(lane, job)
        self.size += 1
        if job.lane not in self.busy and lane[0] is job:
            heapq.heappush(self.free, (job.priority, job.seq, job.lane))
        self.changed.set()

    def peek(self) -> _Job | None:
        """The most urgent job whose lane has nothing in flight, or None."""
        while self.free:
            priority, seq, lane = self.free[0]
            jobs = self.lanes.get(lane)
            if lane not in self.busy and jobs and (jobs[0].priority, jobs[0].seq) == (priority, seq):
                return jobs[0]
            heapq.heappop(self.free)  # stale: that lane is busy, empty, or has a more urgent head now
        return None

    def take(self, job: _Job) -> None:
        heapq.heappop(self.lanes[job.lane])
        self.size -= 1
        if not self.lanes[job.lane]:
            del self.lanes[job.lane]
        self.busy.add(job.lane)

    def release(self, lane: str) -> None:
        self.busy.discard(lane)
        jobs = self.lanes.get(lane)
        if jobs:
            heapq.heappush(self.free, (jobs[0].priority, jobs[0].seq, lane))
        self.changed.set()


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
        self._queues: dict[str, _Queue] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._seq = itertools.count()

    def submit(self, message: OutboundMessage, done: Done) -> None:
        """Queue a message; `done` is awaited after it was delivered or finally failed."""
        destination = self._deliverer.destination(message)
        queue = self._queues.get(destination.key)
        if queue is None:
            queue = self._queues[destination.key] = _Queue(destination)
            self._workers[destination.key] = asyncio.create_task(self._drain(destination.key, queue))
        queue.put(_Job(int(message.priority), next(self._seq), message, done, destination.lane))

    @property
    def queued(self) -> int:
        return sum(q.size for q in self._queues.values())

    async def close(self) -> None:
        """Stop all workers (queued messages stay pending in the stream and are redelivered later)."""
        tasks = [*self._workers.values(), *(t for q in self._queues.values() for t in q.sending)]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()
        self._queues.clear()

    async def _drain(self, key: str, queue: _Queue) -> None:
        """Hand the most urgent job that fits the windows to a send, re-choosing whenever a job arrives or a
        send finishes, so an urgent message never waits behind a background one that is waiting for room."""
        destination = queue.destination
        while True:
            job = queue.peek() if len(queue.busy) < max(1, destination.parallel) else None
            wait = IDLE_WORKER_SECONDS if job is None else self._room_wait(queue, job.priority)
            if wait <= 0 and job is not None:
                self._record(destination)
                queue.take(job)
                task = asyncio.create_task(self._send(queue, job))
                queue.sending.add(task)
                task.add_done_callback(queue.sending.discard)
                continue
            queue.changed.clear()
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that races with
                # an event being set, leaving close() waiting for a worker that never stops.
                async with asyncio.timeout(wait):
                    await queue.changed.wait()
            except TimeoutError:
                if job is None and queue.size == 0 and not queue.busy:
                    # no await between this check and the removal: submit() cannot interleave
                    del self._queues[key], self._workers[key]
                    return

    async def _send(self, queue: _Queue, job: _Job) -> None:
        try:
            error = await self._send_with_retries(job.message, queue)
            try:
                await job.done(job.message, error)
            except Exception:
                log.exception("delivery bookkeeping failed for %s; the entry stays pending", job.message.key)
        finally:
            queue.release(job.lane)

    async def _send_with_retries(self, message: OutboundMessage, queue: _Queue) -> DeliveryError | None:
        delay = self._retry.first_delay
        for attempt in range(1, self._retry.attempts + 1):
            if attempt > 1:
                await self._wait_for_room(queue, message.priority)
            try:
                await self._deliverer.deliver(message)
                return None
            except DeliveryError as exc:
                if not exc.retryable or attempt == self._retry.attempts:
                    return exc
                pause = exc.retry_after if exc.retry_after is not None else delay
                if exc.retry_after is not None:  # the platform's pause is for the whole chat: hold its other lanes
                    queue.hold_until = max(queue.hold_until, self._clock() + exc.retry_after)
                log.warning("delivery %s failed (%s), retry %d in %.1fs", message.key, exc, attempt, pause)
                await asyncio.sleep(pause)
                delay = min(delay * 2, self._retry.max_delay)
        return DeliveryError("no attempts", retryable=False)  # unreachable with attempts >= 1

    def _windows_of(self, destination: Destination) -> tuple[SlidingWindow, ...]:
        return (*destination.windows, *((self._bot_window,) if self._bot_window else ()))

    def _room_wait(self, queue: _Queue, priority: int) -> float:
        share = BACKGROUND_SHARE if priority >= Priority.BACKGROUND else 1.0
        now = self._clock()
        windows = (w.wait_time(now, share) for w in self._windows_of(queue.destination))
        return max(queue.hold_until - now, *windows, 0.0)

    def _record(self, destination: Destination) -> None:
        now = self._clock()
        for window in self._windows_of(destination):
            window.record(now)

    async def _wait_for_room(self, queue: _Queue, priority: int) -> None:
        while (wait := self._room_wait(queue, priority)) > 0:  # noqa: ASYNC110 - waiting for time
            await asyncio.sleep(wait)
        self._record(queue.destination)


MAX_FOREIGN_FILE_BYTES = 8 * 1024 * 1024  # fits Discord's default upload limit and Telegram's bot limits

# Cross-platform attachments: the composition root gives each deliverer a way to fetch a file that lives on
# another platform (the adapters never import each other). Raises DeliveryError(retryable=False) when the
# file is larger than MAX_FOREIGN_FILE_BYTES, so the caller can send a clear note instead.
ForeignFileFetcher = Callable[[Attachment, Platform], Awaitable[tuple[bytes, str]]]  # -> (bytes, filename)
