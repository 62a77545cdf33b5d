"""Per-key order with bounded concurrency, for storing platform events (both gateways use it).

Events arrive concurrently: Discord dispatches each as its own task, a Telegram poll returns a batch. Events
with the same key (a private chat, a topic or thread) must be stored in the order the platform sent them, so a
person's quick messages reach the volunteer as written; events with different keys need not wait for each
other, so one busy person (or a slow store) never holds up a risk message from someone else. A global bound
keeps a flood from opening unbounded Redis connections.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable


class Lanes:
    """`async with lanes.hold(key):` runs after every earlier holder of `key` (FIFO), at most `limit` at once."""

    def __init__(self, limit: int = 32) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._holders: dict[Hashable, int] = {}
        self._slots = asyncio.Semaphore(limit)

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            # The key's lock first (asyncio.Lock is FIFO, and tasks reach it in dispatch order), the shared
            # bound second: the order within a key never depends on how the bound is handed out.
            async with lock, self._slots:
                yield
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:  # nobody else queued on this key: forget it (keys are unbounded)
                del self._holders[key], self._locks[key]

    @property
    def keys_held(self) -> int:
        return len(self._locks)
