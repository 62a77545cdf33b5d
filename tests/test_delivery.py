"""Delivery: rate windows, priority, retries, dead-letter, unreachable people, and never sending twice."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from redis.asyncio import Redis

from bot.embedded_redis import EmbeddedRedis
from routing.codec import encode_outbound
from routing.delivery import (
    MERGE_AFTER_SECONDS,
    DeliveryError,
    DeliveryScheduler,
    Destination,
    Merge,
    RetryPolicy,
    SlidingWindow,
    coalesce_texts,
)
from routing.model import (
    Attachment,
    AttachmentKind,
    Audience,
    Button,
    ChatId,
    ConversationId,
    OutboundKind,
    OutboundMessage,
    Platform,
    Priority,
)
from routing.store import keys
from routing.store.connection import RedisOptions, connect
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

    def __init__(
        self, parallel: int, fail: dict[str, list[DeliveryError]] | None = None, merge: Merge | None = None
    ) -> None:
        self.parallel = parallel
        self.fail = fail or {}
        self.merge = merge
        self.started: list[str] = []
        self.started_at: dict[str, float] = {}
        self.in_flight: set[str] = set()
        self.most_in_flight = 0
        self.release: dict[str, asyncio.Event] = {}

    def destination(self, message: OutboundMessage) -> Destination:
        return Destination(
            "group:staff", lane=f"topic:{message.conversation}", parallel=self.parallel, merge=self.merge
        )

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


async def test_a_group_keeps_its_limit_of_sends_in_flight_except_for_urgent_messages() -> None:
    deliverer = TopicDeliverer(parallel=2)
    scheduler = DeliveryScheduler(deliverer, None)
    done = Finished()
    for conversation in ("c-1", "c-2", "c-3", "c-4"):
        scheduler.submit(_in_topic(f"relay {conversation}", conversation), done)
    await _until(lambda: len(deliverer.started) == 2)
    scheduler.submit(_in_topic("alert c-5", "c-5", Priority.URGENT), done)  # queued after c-3 and c-4
    await _until(lambda: len(deliverer.started) == 3)
    # Two ordinary sends in flight is the limit, but a risk message's relay never waits for a free slot (the
    # slots may be held by deliveries waiting for room for a second call).
    assert deliverer.started == ["relay c-1", "relay c-2", "alert c-5"]
    await asyncio.sleep(0.05)
    assert len(deliverer.started) == 3  # relay c-3 and c-4 still wait for a slot
    deliverer.gate("relay c-1").set()
    deliverer.gate("alert c-5").set()
    await _until(lambda: len(deliverer.started) == 4)  # two ordinary sends in flight again
    for text in ("relay c-2", "relay c-3", "relay c-4"):
        deliverer.gate(text).set()
    await done.wait_for(lambda texts: len(texts) == 5)
    await scheduler.close()
    assert deliverer.most_in_flight == 3


async def test_what_waits_for_a_topic_leaves_as_one_message_in_the_order_written() -> None:
    """Telegram allows ~20 sends a minute for all topics together: a topic's backlog goes in one send."""
    deliverer = TopicDeliverer(parallel=8, merge=functools.partial(coalesce_texts, max_length=4096))
    clock = [100.0]
    scheduler = DeliveryScheduler(deliverer, None, clock=lambda: clock[0])
    done = Finished()
    scheduler.submit(_in_topic("one", "c-1"), done)
    await _until(lambda: deliverer.started == ["one"])  # in flight: what follows waits for the topic's turn
    for text in ("two", "three"):
        scheduler.submit(_in_topic(text, "c-1"), done)
    scheduler.submit(_in_topic("I have the pills", "c-1", Priority.URGENT), done)  # a risk message's relay
    photo = (Attachment(AttachmentKind.PHOTO, "file-1"),)
    scheduler.submit(dataclasses.replace(_in_topic("a photo", "c-1"), attachments=photo), done)
    scheduler.submit(_in_topic("after", "c-1"), done)
    scheduler.submit(_in_topic("elsewhere", "c-2"), done)
    merged = "› two\n› three\n› I have the pills"
    for text in ("one", merged, "a photo", "after", "elsewhere"):
        deliverer.gate(text).set()
    clock[0] += MERGE_AFTER_SECONDS  # the topic's backlog has been waiting for its turn
    await done.wait_for(lambda texts: len(texts) == 7)
    await scheduler.close()
    assert [t for t in deliverer.started if t != "elsewhere"] == ["one", merged, "a photo", "after"]
    assert done.texts.index("two") < done.texts.index("three") < done.texts.index("I have the pills")
    assert done.errors == [None] * 7  # every message the merged send carried is marked delivered


async def test_a_topic_that_keeps_up_sends_each_message_as_written() -> None:
    deliverer = TopicDeliverer(parallel=8, merge=functools.partial(coalesce_texts, max_length=4096))
    scheduler = DeliveryScheduler(deliverer, None, clock=lambda: 100.0)  # nothing ever waits a second
    done = Finished()
    for text in ("one", "two", "three"):
        deliverer.gate(text).set()
        scheduler.submit(_in_topic(text, "c-1"), done)
    await done.wait_for(lambda texts: len(texts) == 3)
    await scheduler.close()
    assert deliverer.started == ["one", "two", "three"]


class LobbyDeliverer(TopicDeliverer):
    """The staff lobby: one lane, one send at a time; a queue card's refreshes supersede each other."""

    def destination(self, message: OutboundMessage) -> Destination:
        card = f"card:{message.conversation}" if message.kind == OutboundKind.UPSERT_CARD else ""
        return Destination("group:staff", supersede=card)


async def test_a_queue_card_that_waits_shows_only_its_latest_state() -> None:
    deliverer = LobbyDeliverer(parallel=1)
    scheduler = DeliveryScheduler(deliverer, None)
    done = Finished()

    def card(text: str, conversation: str) -> OutboundMessage:
        return dataclasses.replace(_in_topic(text, conversation), kind=OutboundKind.UPSERT_CARD)

    scheduler.submit(_in_topic("notice", "c-0"), done)
    await _until(lambda: deliverer.started == ["notice"])  # the lobby is busy: cards wait
    scheduler.submit(card("Robin is waiting", "c-1"), done)
    scheduler.submit(card("Sam is waiting", "c-2"), done)
    scheduler.submit(card("Robin · taken by Jo", "c-1"), done)
    for text in ("notice", "Robin · taken by Jo", "Sam is waiting"):
        deliverer.gate(text).set()
    await done.wait_for(lambda texts: len(texts) == 4)
    await scheduler.close()
    assert deliverer.started == ["notice", "Robin · taken by Jo", "Sam is waiting"]  # Robin's place, newest text
    assert sorted(done.texts) == sorted(["notice", "Robin is waiting", "Robin · taken by Jo", "Sam is waiting"])
    assert done.errors == [None] * 4  # the superseded card is settled with the one that replaced it


def test_only_plain_texts_of_one_thread_merge_within_the_length_limit() -> None:
    a, b = _in_topic("first", "c-1"), _in_topic("second", "c-1")
    merged = coalesce_texts([a, b], max_length=100)
    assert merged is not None and merged.text == "› first\n› second" and merged.key == a.key
    assert coalesce_texts([a, b], max_length=15) is None  # would not fit one platform message
    assert coalesce_texts([a, _in_topic("elsewhere", "c-2")], max_length=100) is None
    photo = dataclasses.replace(b, attachments=(Attachment(AttachmentKind.PHOTO, "file-1"),))
    assert coalesce_texts([a, photo], max_length=100) is None
    hand_off = dataclasses.replace(b, buttons=(Button("Hand off", "release"),))
    with_button = coalesce_texts([a, hand_off], max_length=100)
    assert with_button is not None and with_button.buttons == hand_off.buttons  # the last part's buttons stay
    assert coalesce_texts([hand_off, a], max_length=100) is None  # a button mid-way would lose its place
    urgent = coalesce_texts([a, _in_topic("risk", "c-1", Priority.URGENT)], max_length=100)
    assert urgent is not None and urgent.priority == Priority.URGENT


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


class FreezingDeliverer(RecordingDeliverer):
    """Sends as told, but Redis hangs (SIGSTOP) just as the first send goes out: the send succeeds, writing
    that it did cannot, until Redis answers again."""

    def __init__(self, redis_pid: int) -> None:
        super().__init__()
        self.redis_pid = redis_pid
        self.froze_at: float | None = None

    async def deliver(self, message: OutboundMessage) -> None:
        if self.froze_at is None:
            os.kill(self.redis_pid, signal.SIGSTOP)
            self.froze_at = time.monotonic()
        await super().deliver(message)


async def test_what_was_sent_while_redis_hung_is_not_sent_again_when_it_answers(tmp_path: Path) -> None:
    server = EmbeddedRedis(data_dir=tmp_path / "redis")
    server.start()
    redis = connect(RedisOptions(url=server.url, socket_timeout=0.5))
    pid = int((await redis.info("server"))["process_id"])
    stop = asyncio.Event()
    try:
        h = make_harness(redis)
        await h.person("9001", "hello")  # the person's acknowledgement and the queue card wait in the stream
        deliverer = FreezingDeliverer(pid)
        pump = OutboundPump(
            redis, h.stack.writer, h.cipher, Platform.TELEGRAM, DeliveryScheduler(deliverer, None), "gw"
        )
        pumping = asyncio.create_task(pump.run(stop))
        await _until(lambda: deliverer.froze_at is not None and len(deliverer.sent) >= 2)
        await asyncio.sleep(1.5)  # bookkeeping and reads fail against the hanging Redis, the pump backs off
        os.kill(pid, signal.SIGCONT)
        stream = keys.outbound(Platform.TELEGRAM)
        async with asyncio.timeout(15):
            while (await redis.xpending(stream, "deliver-telegram"))["pending"]:  # noqa: ASYNC110 - Redis state
                await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # room for a second send, if one were coming
        sent_keys = [m.key for _, m in deliverer.sent]
        assert len(sent_keys) == len(set(sent_keys)) >= 2  # each sent once, after the pump resumed its entries
        assert all([await redis.exists(keys.delivered(Platform.TELEGRAM, key)) for key in sent_keys])
    finally:
        os.kill(pid, signal.SIGCONT)
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(pumping, 10)
        await redis.aclose()
        server.stop()


async def test_the_last_send_of_a_window_is_kept_for_urgent_messages() -> None:
    """With one send left in the group's minute, an alert takes it and an ordinary relay waits: the later API
    calls of deliveries under way (a new topic, then its first message) need that room too."""
    window = SlidingWindow(20, 60.0)
    for t in range(19):
        window.record(float(t))
    clock = [30.0]

    class Group(RecordingDeliverer):
        def destination(self, message: OutboundMessage) -> Destination:
            return Destination("group:staff", (window,))

    deliverer = Group()
    scheduler = DeliveryScheduler(deliverer, None, clock=lambda: clock[0])
    done = Finished()
    scheduler.submit(_message("an ordinary relay", priority=Priority.PERSON), done)
    scheduler.submit(_message("an alert", priority=Priority.URGENT), done)
    await done.wait_for(lambda texts: texts == ["an alert"])
    await asyncio.sleep(0.05)
    assert [m.text for _, m in deliverer.sent] == ["an alert"]  # the relay waits for the window to move on
    await scheduler.close()
