"""The auto-pipeline: concurrent commands share a round trip, and each caller still gets its own answer."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from bot.embedded_redis import free_port
from routing.store.autopipeline import autopipeline
from routing.store.connection import RedisOptions, close, connect

COUNTER = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


async def _connections(redis: Redis) -> int:
    return len(await redis.client_list())


async def test_a_burst_of_commands_from_many_tasks_travels_on_one_connection(redis: Redis) -> None:
    """50 people's commands in the same moment: one pipeline, so Redis sees one client connection where
    50 separate calls would have opened one each."""
    await redis.set("seed", "x")
    before = await _connections(redis)
    batch = autopipeline(redis)
    replies = await asyncio.gather(*(batch.command("INCR", f"counter:{i % 5}") for i in range(50)))
    assert sorted(replies) == sorted(n for _ in range(5) for n in range(1, 11))
    assert [int(await redis.get(f"counter:{k}") or 0) for k in range(5)] == [10] * 5
    assert await _connections(redis) == before  # the one connection the test client already had


async def test_commands_run_in_the_order_they_were_queued(redis: Redis) -> None:
    batch = autopipeline(redis)
    futures = [batch.command("RPUSH", "order", str(i)) for i in range(20)]
    assert [await f for f in futures] == list(range(1, 21))
    assert await redis.lrange("order", 0, -1) == [str(i).encode() for i in range(20)]


async def test_one_failing_command_fails_only_its_own_caller(redis: Redis) -> None:
    await redis.set("a-string", "x")
    batch = autopipeline(redis)
    ok_before = batch.command("SET", "before", "1")
    wrong_type = batch.command("HGET", "a-string", "field")
    ok_after = batch.command("SET", "after", "1")
    assert await ok_before is True
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await wrong_type
    assert await ok_after is True
    assert await redis.mget("before", "after") == [b"1", b"1"]


async def test_a_script_unknown_to_redis_is_loaded_and_run_once(redis: Redis) -> None:
    """After a Redis restart (or SCRIPT FLUSH) the script cache is empty: NOSCRIPT is answered by loading
    the script, and the call still counts exactly once."""
    script = redis.register_script(COUNTER)
    batch = autopipeline(redis)
    assert await batch.script(script, ["scripted"], [2]) == 2
    await redis.script_flush()
    replies = await asyncio.gather(batch.script(script, ["scripted"], [3]), batch.script(script, ["scripted"], [4]))
    assert replies == [5, 9]
    assert int(await redis.get("scripted") or 0) == 9


async def test_when_redis_cannot_be_reached_every_queued_command_gets_the_error() -> None:
    client = connect(RedisOptions(url=f"redis://127.0.0.1:{free_port()}/0", connect_timeout=0.2, retries=0))
    try:
        batch = autopipeline(client)
        results = await asyncio.gather(*(batch.command("GET", f"k{i}") for i in range(3)), return_exceptions=True)
        assert all(isinstance(r, RedisConnectionError) for r in results), results
    finally:
        await close(client)
