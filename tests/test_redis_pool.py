"""The store's Redis client under a burst: more concurrent commands than connections wait for one."""

from __future__ import annotations

import asyncio

from bot.embedded_redis import EmbeddedRedis
from routing.store.connection import RedisOptions, close, connect


async def test_a_burst_beyond_the_pool_waits_for_a_connection_instead_of_failing(redis_server: EmbeddedRedis) -> None:
    client = connect(RedisOptions(url=redis_server.url, max_connections=4, pool_timeout=2.0))
    try:
        # 20 commands that each hold a connection for 50 ms, on a pool of 4: the default pool would raise
        # MaxConnectionsError for the 5th; this one serves them all in turn.
        answers = await asyncio.gather(*(client.blpop([f"nothing:{i}"], timeout=0.05) for i in range(20)))
        assert answers == [None] * 20
        await client.set("after-the-burst", "ok")
        assert await client.get("after-the-burst") == b"ok"
    finally:
        await close(client)
