"""A Redis client that fails fast: redis-py's defaults hang ~60 s against an unreachable server."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

# What a Redis outage looks like to callers outside the store (they may not import redis themselves).
STORE_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)


@dataclass(frozen=True, slots=True)
class RedisOptions:
    """How to reach Redis. Timeouts are seconds; `socket_timeout` must exceed the longest stream BLOCK."""

    url: str
    sentinels: tuple[tuple[str, int], ...] = ()
    master_name: str = "peerbridge"
    socket_timeout: float = 3.0
    connect_timeout: float = 1.0
    retries: int = 2
    # A burst beyond `max_connections` concurrent commands waits up to `pool_timeout` for a free connection
    # instead of failing at once (redis-py's default pool raises MaxConnectionsError at 100, which lost a
    # message under overload in the relay benchmark). Waiting + socket timeout stays under 5 s.
    max_connections: int = 200
    pool_timeout: float = 1.0


def _retry(retries: int) -> Retry:
    # Only connection errors are retried: a read timeout means Redis hangs, and retrying it would multiply the
    # socket timeout (3 attempts x 3 s measured) past the 5 s every call must fail within.
    return Retry(ExponentialBackoff(cap=0.5, base=0.05), retries, supported_errors=(RedisConnectionError,))


_SENTINELS: weakref.WeakKeyDictionary[Redis, Sentinel] = weakref.WeakKeyDictionary()


async def close(client: Redis) -> None:
    """Close a client from `connect`, including its connections to the sentinels when it has them."""
    await client.aclose()
    sentinel = _SENTINELS.pop(client, None)
    if sentinel is not None:
        for connection in sentinel.sentinels:
            await connection.aclose()


def connect(options: RedisOptions) -> Redis:
    """Build a client (no I/O yet). RESP2 is pinned so reply shapes do not change under us."""
    common: dict[str, Any] = {
        "socket_timeout": options.socket_timeout,
        "socket_connect_timeout": options.connect_timeout,
        "retry": _retry(options.retries),
        "retry_on_error": [RedisConnectionError],
        "health_check_interval": 15,
        "protocol": 2,
    }
    if options.sentinels:
        sentinel = Sentinel(
            list(options.sentinels),
            sentinel_kwargs={"socket_timeout": 1.0},
            max_connections=options.max_connections,
            **common,
        )
        client = cast(Redis, sentinel.master_for(options.master_name))
        _SENTINELS[client] = sentinel
        return client
    pool = BlockingConnectionPool.from_url(
        options.url, max_connections=options.max_connections, timeout=options.pool_timeout, **common
    )
    return Redis.from_pool(pool)
