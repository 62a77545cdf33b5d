"""Delivering outbound messages within platform limits, most important first (no Redis, no SDK).

Each destination (a person's chat, the staff group, the escalation chat) has its own priority queue and its
own worker, so a slow or rate-limited staff group never delays crisis resources to a person. Before each
send the worker waits until every sliding window that applies (per chat, per group, per bot) has room: a
sliding window log never lets more than `limit` sends into any `window` seconds, which a token bucket
with a burst does not guarantee.

Coalescing: when a conversation's thread waits for its turn (Telegram's ~20 sends a minute are shared by all
topics of a staff group), everything queued for it leaves as one message, in order, within the platform's
length limit. One send then carries many relays, so a busy group falls behind by turns, not by messages.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from routing.model import Attachment, OutboundKind, OutboundMessage, Platform, Priority

log = logging.getLogger(__name__)

IDLE_WORKER_SECONDS = 60.0  # a destination's worker exits after this long without messages
# A thread's queued messages merge into one send only once its oldest has waited this long: with room in the
# platform's limits every message goes on its own, as written; merging is for a thread that is falling behind.
MERGE_AFTER_SECONDS = 1.0
# Background traffic (queue-card refreshes) may use only this share of a window, so a burst of arrivals can
# never take the whole budget of a staff group (~20 messages/min on Telegram) away from relays and alerts.
BACKGROUND_SHARE = 0.75
# Who may use the last sends of a window, most urgent first: urgent messages all of it; the later API calls of
# a delivery already under way (a topic's creation, then its first message) all but one (LATER_CALL_SHARE);
# new ordinary sends all but two. Without this, new sends starved the later calls, and those, racing an
# urgent message for each send that freed up, held a risk message back for a minute at 30 people on Telegram.
ORDINARY_SHARE = 0.9
LATER_CALL_SHARE = 0.95


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


# Merges the texts of several queued messages into one send, or says None when they cannot go as one.
Merge = Callable[[list[OutboundMessage]], "OutboundMessage | None"]


def coalesce_texts(messages: list[OutboundMessage], max_length: int) -> OutboundMessage | None:
    """One message carrying the texts of `messages` in order, each part marked "› ", or None when any of them
    has more than text (a file, a card or a thread to close; buttons only on the last, which the merged message
    then carries) or together they exceed `max_length`."""
    if not messages:
        return None
    first, last = messages[0], messages[-1]
    for message in messages:
        if message.kind != OutboundKind.SEND or message.attachments or not message.text:
            return None
        if message.buttons and message is not last:
            return None
        if message.conversation != first.conversation or message.audience != first.audience:
            return None
    if len(messages) == 1:
        return first
    text = "\n".join(f"› {m.text}" for m in messages)
    if len(text) > max_length:
        return None
    return dataclasses.replace(first, text=text, buttons=last.buttons, priority=min(m.priority for m in messages))


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a message goes, and which windows limit it (the bot-wide window is added by the scheduler).

    `lane`: messages of one lane (a topic of a forum group, say) are sent one at a time, in queue order;
    different lanes of one destination may each have a send in flight, at most `parallel` together. The
    windows and the priority order are the destination's: a free lane never lets a background message past
    an urgent one that fits, and every send still waits for room in the shared windows.

    `supersede`: a later message with the same key replaces this one while it still waits (a queue card's
    refreshes collapse to the latest, so the lobby never shows what was true minutes ago).

    `merge`: the lane is one conversation's thread. Its messages go in the order they were queued (a lane is
    still chosen by its most urgent message), and those waiting together leave as one send (see
    `coalesce_texts`).
    """

    key: str
    windows: tuple[SlidingWindow, ...] = ()
    lane: str = ""
    parallel: int = 1
    merge: Merge | None = None
    supersede: str = ""


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
    merge: Merge | None = field(compare=False, default=None)
    queued_at: float = field(compare=False, default=0.0)
    supersede: str = field(compare=False, default="")
    replaced: list[tuple[OutboundMessage, Done]] = field(compare=False, default_factory=list)  # done when this is


@dataclass(frozen=True, slots=True)
class _Send:
    """What one send carries: the message that goes out, and the queued jobs it stands for."""

    message: OutboundMessage
    jobs: tuple[_Job, ...]
    lane: str


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
        self.waiting_by_key: dict[str, _Job] = {}  # queued jobs that a later one may supersede

    def put(self, job: _Job) -> None:
        if job.supersede:
            older = self.waiting_by_key.get(job.supersede)
            if older is not None:  # it has not left yet: send the newer text in its place
                older.replaced.append((older.message, older.done))
                older.message, older.done = job.message, job.done
                return
            self.waiting_by_key[job.supersede] = job
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

    def take(self, job: _Job, now: float) -> _Send:
        """Take `job` (the head of a free lane) for sending; in a merging lane, take instead its oldest jobs,
        and when the oldest has waited `MERGE_AFTER_SECONDS`, as many as go out as one message."""
        lane = self.lanes[job.lane]
        if job.merge is None or len(lane) == 1:
            heapq.heappop(lane)
            send = _Send(job.message, (job,), job.lane)
        else:
            in_order = sorted(lane, key=lambda j: j.seq)
            behind = now - in_order[0].queued_at >= MERGE_AFTER_SECONDS
            send = _merged(in_order, job.merge if behind else None)
            taken = {id(j) for j in send.jobs}
            lane[:] = [j for j in lane if id(j) not in taken]
            heapq.heapify(lane)
        self.size -= len(send.jobs)
        for sent in send.jobs:
            if sent.supersede and self.waiting_by_key.get(sent.supersede) is sent:
                del self.waiting_by_key[sent.supersede]
        if not lane:
            del self.lanes[job.lane]
        self.busy.add(job.lane)
        return send

    def release(self, lane: str) -> None:
        self.busy.discard(lane)
        jobs = self.lanes.get(lane)
        if jobs:
            heapq.heappush(self.free, (jobs[0].priority, jobs[0].seq, lane))
        self.changed.set()


def _merged(jobs: list[_Job], merge: Merge | None) -> _Send:
    """The longest run of the oldest jobs that merge into one message (at least the oldest, alone)."""
    message, count = jobs[0].message, 1
    while merge is not None and count < len(jobs):
        merged = merge([j.message for j in jobs[: count + 1]])
        if merged is None:
            break
        message, count = merged, count + 1
    return _Send(message, tuple(jobs[:count]), jobs[0].lane)


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
        queue.put(
            _Job(
                int(message.priority), next(self._seq), message, done, destination.lane, destination.merge,
                self._clock(), destination.supersede,
            )
        )  # fmt: skip

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
            job = queue.peek()
            if job is not None and len(queue.busy) >= max(1, destination.parallel) and job.priority > Priority.URGENT:
                # The slots are full (sends in flight, some waiting for room for a second call): only urgent
                # messages (alerts, crisis resources, a risk message's relay) may start one more.
                job = None
            wait = IDLE_WORKER_SECONDS if job is None else self._room_wait(queue, job.priority)
            if wait <= 0 and job is not None:
                self._record(destination)
                task = asyncio.create_task(self._send(queue, queue.take(job, self._clock())))
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

    async def _send(self, queue: _Queue, send: _Send) -> None:
        try:
            error = await self._send_with_retries(send.message, queue)
            # A merged send delivered (or failed) every message it carried; a superseded message is settled
            # with the one that replaced it.
            finished = [pair for job in send.jobs for pair in (*job.replaced, (job.message, job.done))]
            for message, done in finished:
                try:
                    await done(message, error)
                except Exception:
                    log.exception("delivery bookkeeping failed for %s; the entry stays pending", message.key)
        finally:
            queue.release(send.lane)

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
        if priority >= Priority.BACKGROUND:
            share = BACKGROUND_SHARE
        else:
            share = 1.0 if priority == Priority.URGENT else ORDINARY_SHARE
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
