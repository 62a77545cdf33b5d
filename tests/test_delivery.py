"""Delivery: rate windows, priority, retries, dead-letter, unreachable people, and never sending twice."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable

from redis.asyncio import Redis

from routing.codec import encode_outbound
from routing.delivery import DeliveryError, DeliveryScheduler, Destination, RetryPolicy, SlidingWindow
from routing.model import Audience, ChatId, ConversationId, OutboundMessage, Platform, Priority
from routing.store import keys
from routing.store.outbound import OutboundPump
from tests.routing_harness import command_calls, make_harness


class Finished:
    """Collects `done` callbacks and lets a test wait for a number of them."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.errors: list[DeliveryError | None] = []
        self._changed = asyncio.Event()

    async def __call__(self, message: OutboundMessage, error: DeliveryError | None) -> None:
        self.texts.append(message.text)
        self.errors.append(error)
        self._changed.set()

    async def wait_for(self, predicate: Callable[[list[str]], bool]) -> None:
        async with asyncio.timeout(5):
            while not predicate(self.texts):
                self._changed.clear()
                await self._changed.wait()


class RecordingDeliverer:
    """Records what would be sent; fails as told (our own port, so a fake is fine)."""

    def __init__(self, fail: dict[str, list[DeliveryError]] | None = None, per_chat: tuple[int, float] | None = None):
        self.sent: list[tuple[float, OutboundMessage]] = []
        self.fail = fail or {}
        self.per_chat = per_chat
        self.windows: dict[str, SlidingWindow] = {}

    def destination(self, message: OutboundMessage) -> Destination:
        key = f"chat:{message.chat}"
        if self.per_chat is None:
            return Destination(key)
        return Destination(key, (self.windows.setdefault(key, SlidingWindow(*self.per_chat)),))

    async def deliver(self, message: OutboundMessage) -> None:
        errors = self.fail.get(message.text)
        if errors:
            raise errors.pop(0)
        self.sent.append((time.monotonic(), message))


def _message(
    text: str, chat: str = "1", priority: Priority = Priority.PERSON, key: str | None = None
) -> OutboundMessage:
    return OutboundMessage(
        platform=Platform.TELEGRAM, audience=Audience.SEEKER, key=key or text, text=text, chat=ChatId(chat),
        priority=priority, conversation=ConversationId("c-1"),
    )  # fmt: skip


def test_sliding_window_never_admits_more_than_its_limit() -> None:
    window = SlidingWindow(20, 60.0)
    admitted = []
    t = 0.0
    while t < 180:
        if window.wait_time(t) == 0:
            window.record(t)
            admitted.append(t)
        t += 0.5
    for start in admitted:
        assert sum(1 for a in admitted if start <= a < start + 60) <= 20
    assert len(admitted) == 60  # and it does not throttle below the limit either


async def test_urgent_messages_overtake_queued_ordinary_ones() -> None:
    deliverer = RecordingDeliverer(per_chat=(1, 0.05))
    scheduler = DeliveryScheduler(deliverer, None)
    done = Finished()
    for i in range(4):
        scheduler.submit(_message(f"ordinary {i}", priority=Priority.STAFF), done)
    scheduler.submit(_message("crisis resources", priority=Priority.URGENT), done)
    await done.wait_for(lambda texts: len(texts) == 5)
    await scheduler.close()
    finished = done.texts
    assert finished.index("crisis resources") <= 1  # only the one already in flight may go first
    assert [t for t in finished if t.startswith("ordinary")] == [f"ordinary {i}" for i in range(4)]


async def test_a_slow_destination_does_not_hold_up_another() -> None:
    deliverer = RecordingDeliverer(per_chat=(1, 0.5))
    scheduler = DeliveryScheduler(deliverer, None)
    done = Finished()
    for i in range(3):
        scheduler.submit(_message(f"group {i}", chat="group"), done)
    scheduler.submit(_message("person", chat="person"), done)
    await done.wait_for(lambda texts: "person" in texts)
    await scheduler.close()
    assert done.texts.index("person") <= 1


class TopicDeliverer:
    """One forum group whose topics are lanes; each send waits until the test releases it (our own port)."""

    def __init__(self, parallel: int, fail: dict[str, list[DeliveryError]] | None = None) -> None:
        self.parallel = parallel
        self.fail = fail or {}
        self.started: list[str] = []
        self.started_at: dict[str, float] = {}
        self.in_flight: set[str] = set()
        self.most_in_flight = 0
        self.release: dict[str, asyncio.Event] = {}

    def destination(self, message: OutboundMessage) -> Destination:
        return Destination("group:staff", lane=f"topic:{message.conversation}", parallel=self.parallel)

    def gate(self, text: str) -> asyncio.Event:
        return self.release.setdefault(text, asyncio.Event())

    async def deliver(self, message: OutboundMessage) -> None:
        self.started.append(message.text)
        self.started_at[message.text] = time.monotonic()
        self.in_flight.add(message.text)
        self.most_in_flight = max(self.most_in_flight, len(self.in_flight))
        try:
            errors = self.fail.get(message.text)
            if errors:
                raise errors.pop(0)
            await self.gate(message.text).wait()
        finally:
            self.in_flight.discard(message.text)


def _in_topic(text: str, conversation: str, priority: Priority = Priority.STAFF) -> OutboundMessage:
    return OutboundMessage(
        platform=Platform.TELEGRAM, audience=Audience.STAFF_THREAD, key=text, text=text, chat=ChatId("staff"),
        priority=priority, conversation=ConversationId(conversation),
    )  # fmt: skip


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - polling the test's own fake, which has no event to wait on
            await asyncio.sleep(0.005)


async def test_topics_of_one_group_send_together_and_each_topic_stays_in_order() -> None:
    """A slow send in one person's topic does not hold up the others; within a topic, strictly in order."""
    deliverer = TopicDeliverer(parallel=8)
    scheduler = DeliveryScheduler(deliverer, None)
    done = Finished()
    for i in range(3):
        for conversation in ("c-1", "c-2", "c-3"):
            scheduler.submit(_in_topic(f"{conversation} #{i}", conversation), done)
    await _until(lambda: len(deliverer.in_flight) == 3)
    assert sorted(deliverer.in_flight) == ["c-1 #0", "c-2 #0", "c-3 #0"]  # one per topic, never two
    for i in range(3):  # c-1 finishes everything while c-2 and c-3 still hang on their first message
        deliverer.gate(f"c-1 #{i}").set()
    await done.wait_for(lambda texts: texts[-1:] == ["c-1 #2"])
    assert [t for t in done.texts if t.startswith("c-1")] == ["c-1 #0", "c-1 #1", "c-1 #2"]
    for text in [f"{c} #{i}" for c in ("c-2", "c-3") for i in range(3)]:
        deliverer.gate(text).set()
    await done.wait_for(lambda texts: len(texts) == 9)
    await scheduler.close()
    for conversation in ("c-2", "c-3"):
        assert [t for t in done.texts if t.startswith(conversation)] == [f"{conversation} #{i}" for i in range(3)]
    assert deliverer.most_in_flight == 3


async def test_a_group_keeps_its_priority_order_and_its_limit_of_sends_in_flight() -> None:
    deliverer = TopicDeliverer(parallel=2)
    scheduler = DeliveryScheduler(deliverer, None)
    done = Finished()
    for conversation in ("c-1", "c-2", "c-3", "c-4"):
        scheduler.submit(_in_topic(f"relay {conversation}", conversation), done)
    await _until(lambda: len(deliverer.started) == 2)
    scheduler.submit(_in_topic("alert c-5", "c-5", Priority.URGENT), done)  # queued after c-3 and c-4
    await asyncio.sleep(0.05)
    assert deliverer.started == ["relay c-1", "relay c-2"]  # two in flight is the limit
    deliverer.gate("relay c-1").set()
    await _until(lambda: len(deliverer.started) == 3)
    assert deliverer.started[2] == "alert c-5"  # the first free slot goes to the most urgent message
    for text in ("relay c-2", "alert c-5", "relay c-3", "relay c-4"):
        deliverer.gate(text).set()
    await done.wait_for(lambda texts: len(texts) == 5)
    await scheduler.close()
    assert deliverer.most_in_flight == 2


async def test_a_flood_pause_from_the_platform_holds_every_topic_of_the_group() -> None:
    flood = DeliveryError("flood", retryable=True, retry_after=0.3)
    deliverer = TopicDeliverer(parallel=8, fail={"c-1 first": [flood]})
    scheduler = DeliveryScheduler(deliverer, None, RetryPolicy(attempts=3, first_delay=0.01))
    done = Finished()
    for text in ("c-1 first", "c-2 later", "c-3 later"):
        deliverer.gate(text).set()
    scheduler.submit(_in_topic("c-1 first", "c-1"), done)
    await _until(lambda: deliverer.started == ["c-1 first"])
    paused_at = time.monotonic()
    scheduler.submit(_in_topic("c-2 later", "c-2"), done)
    scheduler.submit(_in_topic("c-3 later", "c-3"), done)
    await done.wait_for(lambda texts: len(texts) == 3)
    await scheduler.close()
    assert done.errors == [None, None, None]
    for text in ("c-2 later", "c-3 later"):  # nobody sent into the group during Telegram's pause
        assert deliverer.started_at[text] - paused_at >= 0.25
    assert deliverer.started.count("c-1 first") == 2


async def test_retry_after_is_honoured_then_delivered() -> None:
    flood = DeliveryError("flood", retryable=True, retry_after=0.2)
    deliverer = RecordingDeliverer(fail={"hello": [flood]})
    scheduler = DeliveryScheduler(deliverer, None, RetryPolicy(attempts=3, first_delay=0.01))
    done = Finished()
    started = time.monotonic()
    scheduler.submit(_message("hello"), done)
    await done.wait_for(lambda texts: len(texts) == 1)
    await scheduler.close()
    assert done.errors == [None]
    assert deliverer.sent[0][0] - started >= 0.2


async def _pump_until_quiet(pump: OutboundPump, deliverer: RecordingDeliverer, rounds: int = 30) -> None:
    await pump.ensure_groups()
    for _ in range(rounds):
        await pump.step(block_ms=0)
        await asyncio.sleep(0.02)


async def test_pump_delivers_once_and_acks(redis: Redis) -> None:
    h = make_harness(redis)
    await h.person("9001", "hello")
    deliverer = RecordingDeliverer()
    pump = OutboundPump(redis, h.stack.writer, h.cipher, Platform.TELEGRAM, DeliveryScheduler(deliverer, None), "gw")
    await _pump_until_quiet(pump, deliverer)
    texts = [m.text for _, m in deliverer.sent]
    assert any("number 1" in t for t in texts)
    assert any("is waiting" in t for t in texts)  # the queue card
    assert (await redis.xpending(keys.outbound(Platform.TELEGRAM), "deliver-telegram"))["pending"] == 0

    # A crash after the delivered marks were written but before the acks: the entries are pending again
    # (here for a restarted pump "gw2"), which acknowledges them without sending any of them twice.
    stream = keys.outbound(Platform.TELEGRAM)
    ids = [entry_id for entry_id, _fields in await redis.xrange(stream)]
    await redis.xclaim(stream, "deliver-telegram", "gw2", 0, ids, force=True)
    again = OutboundPump(redis, h.stack.writer, h.cipher, Platform.TELEGRAM, DeliveryScheduler(deliverer, None), "gw2")
    count = len(deliverer.sent)
    assert await again.resume_own_pending() == len(ids)
    await _pump_until_quiet(again, deliverer, rounds=5)
    assert len(deliverer.sent) == count
    assert (await redis.xpending(stream, "deliver-telegram"))["pending"] == 0


async def test_permanent_failure_is_dead_lettered_and_staff_alerted(redis: Redis) -> None:
    h = make_harness(redis)
    await h.person("9001", "hello")
    card_text = next(m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_QUEUE)
    deliverer = RecordingDeliverer(fail={card_text: [DeliveryError("bad request", retryable=False)]})
    pump = OutboundPump(redis, h.stack.writer, h.cipher, Platform.TELEGRAM, DeliveryScheduler(deliverer, None), "gw")
    await _pump_until_quiet(pump, deliverer)
    assert await redis.xlen(keys.DEAD_LETTER) == 1
    assert any("set aside for review" in m.text for _, m in deliverer.sent)


async def test_a_person_who_cannot_be_reached_is_reported_to_the_router(redis: Redis) -> None:
    h = make_harness(redis)
    await h.person("9001", "hello")
    queued = next(m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.SEEKER)
    blocked = DeliveryError("forbidden", retryable=False, unreachable=True)
    deliverer = RecordingDeliverer(fail={queued: [blocked]})
    pump = OutboundPump(redis, h.stack.writer, h.cipher, Platform.TELEGRAM, DeliveryScheduler(deliverer, None), "gw")
    await _pump_until_quiet(pump, deliverer)
    await h.pump()
    conv = await h.stack.conversations.get(ConversationId("c-1"))
    assert conv is not None
    assert conv.state == "closed"
    assert any("can no longer be reached" in m.text for m in await h.outbound(Platform.TELEGRAM))


async def test_the_same_entry_id_in_the_urgent_and_the_ordinary_lane_are_both_delivered(redis: Redis) -> None:
    """Stream ids are per stream; two writers can produce the same one in the same millisecond. Both must go
    out at once (an id-only in-flight set once skipped the second until the 30 s reclaim)."""
    h = make_harness(redis)
    slow = RecordingDeliverer()
    for urgent, text in ((True, "crisis resources"), (False, "an ordinary relay")):
        payload = h.cipher.encrypt(encode_outbound(_message(text, chat="7", key=text)))
        await redis.xadd(keys.outbound(Platform.TELEGRAM, urgent), {"d": payload}, id="5-1")
    pump = OutboundPump(redis, h.stack.writer, h.cipher, Platform.TELEGRAM, DeliveryScheduler(slow, None), "gw")
    await _pump_until_quiet(pump, slow, rounds=10)
    assert sorted(m.text for _, m in slow.sent) == ["an ordinary relay", "crisis resources"]
    for urgent in (True, False):
        assert (await redis.xpending(keys.outbound(Platform.TELEGRAM, urgent), "deliver-telegram"))["pending"] == 0


async def test_deliveries_that_finish_together_share_one_bookkeeping_round_trip(redis: Redis) -> None:
    """Marked delivered, counted and acknowledged, every one of them; under load that is written in one
    pipeline (one XACK for the batch), not two round trips per message."""
    h = make_harness(redis)
    deliverer = TopicDeliverer(parallel=32)
    for i in range(20):
        relay = dataclasses.replace(_in_topic(f"relay {i}", f"c-{i}"), source_platform=Platform.TELEGRAM)
        await redis.xadd(keys.outbound(Platform.TELEGRAM), {"d": h.cipher.encrypt(encode_outbound(relay))})
    pump = OutboundPump(redis, h.stack.writer, h.cipher, Platform.TELEGRAM, DeliveryScheduler(deliverer, None), "gw")
    await pump.ensure_groups()
    exists_before = await command_calls(redis, "exists")
    await pump.step(block_ms=0)
    await _until(lambda: len(deliverer.in_flight) == 20)
    acks_before = await command_calls(redis, "xack")
    assert await command_calls(redis, "exists") == exists_before  # new entries were never handed out: nothing to check
    for i in range(20):
        deliverer.gate(f"relay {i}").set()
    await _until(lambda: not deliverer.in_flight)
    await pump.settle()
    assert (await redis.xpending(keys.outbound(Platform.TELEGRAM), "deliver-telegram"))["pending"] == 0
    assert await redis.hget(keys.RELAYED, "telegram:to_staff") == b"20"
    assert all([await redis.exists(keys.delivered(Platform.TELEGRAM, f"relay {i}")) for i in range(20)])
    assert await command_calls(redis, "xack") - acks_before == 1
