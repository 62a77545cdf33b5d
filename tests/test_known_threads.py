"""A gateway remembers each conversation's staff thread, and asks Redis again when a thread is refused."""

from __future__ import annotations

from redis.asyncio import Redis

from routing.model import ConversationId, Platform, ThreadId
from routing.store.cipher import TextCipher
from routing.store.conversations import ConversationStore
from routing.store.known_threads import KnownThreads
from tests.routing_harness import KEY, command_calls

CONV = ConversationId("c-1")


def _store(redis: Redis) -> ConversationStore:
    return ConversationStore(redis, TextCipher([KEY]))


async def test_a_thread_is_asked_of_redis_once_then_remembered(redis: Redis) -> None:
    store = _store(redis)
    await store.bind_thread(CONV, Platform.DISCORD, ThreadId("501"))
    known = KnownThreads(store, Platform.DISCORD)
    before = await command_calls(redis, "hget")
    assert [await known.get(CONV) for _ in range(5)] == [ThreadId("501")] * 5
    assert await command_calls(redis, "hget") == before + 1


async def test_a_conversation_without_a_thread_is_asked_again_each_time(redis: Redis) -> None:
    known = KnownThreads(_store(redis), Platform.TELEGRAM)
    assert await known.get(CONV) is None
    await _store(redis).bind_thread(CONV, Platform.TELEGRAM, ThreadId("77"))  # opened by another process
    assert await known.get(CONV) == ThreadId("77")


async def test_binding_writes_redis_both_ways(redis: Redis) -> None:
    store = _store(redis)
    await KnownThreads(store, Platform.DISCORD).bind(CONV, ThreadId("502"))
    assert await store.thread_of(CONV, Platform.DISCORD) == ThreadId("502")
    assert await store.conversation_of_thread(Platform.DISCORD, ThreadId("502")) == CONV


async def test_a_refused_thread_gives_way_to_the_one_another_process_opened(redis: Redis) -> None:
    store = _store(redis)
    known = KnownThreads(store, Platform.DISCORD)
    await known.bind(CONV, ThreadId("501"))
    await store.bind_thread(CONV, Platform.DISCORD, ThreadId("601"))  # another gateway replaced it
    assert await known.get(CONV) == ThreadId("501")  # this one does not know yet
    assert await known.refresh(CONV, gone=ThreadId("501")) == ThreadId("601")
    assert await known.get(CONV) == ThreadId("601")


async def test_a_refused_thread_that_redis_still_has_means_open_a_new_one(redis: Redis) -> None:
    known = KnownThreads(_store(redis), Platform.DISCORD)
    await known.bind(CONV, ThreadId("501"))
    assert await known.refresh(CONV, gone=ThreadId("501")) is None


async def test_the_least_recently_used_are_forgotten_beyond_the_bound(redis: Redis) -> None:
    store = _store(redis)
    known = KnownThreads(store, Platform.DISCORD, size=2)
    for n in (1, 2, 3):
        await known.bind(ConversationId(f"c-{n}"), ThreadId(f"50{n}"))
    before = await command_calls(redis, "hget")
    assert await known.get(ConversationId("c-3")) == ThreadId("503")
    assert await known.get(ConversationId("c-2")) == ThreadId("502")
    assert await command_calls(redis, "hget") == before  # both remembered
    assert await known.get(ConversationId("c-1")) == ThreadId("501")  # forgotten, so Redis is asked
    assert await command_calls(redis, "hget") == before + 1


async def test_a_closed_conversation_is_forgotten(redis: Redis) -> None:
    store = _store(redis)
    known = KnownThreads(store, Platform.DISCORD)
    await known.bind(CONV, ThreadId("501"))
    known.forget(CONV)
    before = await command_calls(redis, "hget")
    assert await known.get(CONV) == ThreadId("501")
    assert await command_calls(redis, "hget") == before + 1
