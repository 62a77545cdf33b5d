"""The consumer-group worker on real Redis: per-sender order, Redis trouble inside a batch, acknowledgements."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from routing.pseudonyms import Pseudonymiser
from routing.store.cipher import TextCipher
from routing.store.streams import StreamWriter
from routing.store.worker import Fields, StreamWorker, WorkerOptions
from tests.routing_harness import command_calls

STREAM, GROUP = "test:stream", "workers"


class Recorder:
    """A handler that records what it handled, and fails once with a Redis error for one chosen entry."""

    def __init__(self, fail_once_on: bytes | None = None) -> None:
        self.handled: list[bytes] = []
        self._fail_once_on = fail_once_on

    async def __call__(self, entry_id: str, fields: Fields) -> None:
        body = fields[b"body"]
        await asyncio.sleep(0)  # lanes interleave, as they do on real round trips
        if body == self._fail_once_on:
            self._fail_once_on = None
            raise RedisConnectionError("connection reset while handling")
        self.handled.append(body)


def _worker(redis: Redis, handler: Recorder) -> StreamWorker:
    writer = StreamWriter(redis, TextCipher([bytes(32)]), Pseudonymiser(b"test-secret-0123456789abcdef"))
    return StreamWorker(redis, writer, STREAM, GROUP, "w-1", handler, WorkerOptions(block_ms=50))


async def _add(redis: Redis, entries: list[tuple[str, str]]) -> None:
    for sender, body in entries:
        await redis.xadd(STREAM, {"k": sender, "body": body})


async def test_each_senders_entries_in_order_and_all_acknowledged(redis: Redis) -> None:
    recorder = Recorder()
    worker = _worker(redis, recorder)
    await worker.ensure_group()
    await _add(redis, [(s, f"{s}{i}") for i in range(5) for s in ("a", "b", "c")])
    assert await worker.step(block_ms=0) == 15
    for sender in (b"a", b"b", b"c"):
        assert [h for h in recorder.handled if h.startswith(sender)] == [sender + str(i).encode() for i in range(5)]
    # The batch's acknowledgements travel with the next read, as one XACK.
    xacks = await command_calls(redis, "xack")
    assert await worker.step(block_ms=0) == 0
    assert (await redis.xpending(STREAM, GROUP))["pending"] == 0
    assert await command_calls(redis, "xack") - xacks == 1


async def test_a_worker_stopped_mid_batch_acknowledges_what_it_handled(redis: Redis) -> None:
    stop = asyncio.Event()

    async def handle_then_stop(entry_id: str, fields: Fields) -> None:
        stop.set()  # asked to stop while handling: there is no next read to carry the acknowledgements

    writer = StreamWriter(redis, TextCipher([bytes(32)]), Pseudonymiser(b"test-secret-0123456789abcdef"))
    worker = StreamWorker(redis, writer, STREAM, GROUP, "w-1", handle_then_stop, WorkerOptions(block_ms=50))
    await _add(redis, [("a", "a0"), ("b", "b0")])
    await asyncio.wait_for(worker.run(stop), 5)
    assert (await redis.xpending(STREAM, GROUP))["pending"] == 0


async def test_redis_trouble_in_one_lane_is_waited_out_without_stopping_the_worker(redis: Redis) -> None:
    """A Redis error inside one sender's lane of a concurrent batch must reach the worker's back-off as a
    Redis error (not wrapped in an exception group that would stop the process), and the entry is handled
    again at once."""
    recorder = Recorder(fail_once_on=b"b1")
    worker = _worker(redis, recorder)
    await _add(redis, [(s, f"{s}{i}") for i in range(3) for s in ("a", "b", "c")])
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(5):
            while len(set(recorder.handled)) < 9:
                assert not task.done(), f"the worker stopped: {task.exception()!r}"
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert [h for h in recorder.handled if h.startswith(b"b")] == [b"b0", b"b1", b"b2"]  # still in order
    assert sorted(recorder.handled) == sorted(f"{s}{i}".encode() for i in range(3) for s in "abc")  # each once
    assert (await redis.xpending(STREAM, GROUP))["pending"] == 0
