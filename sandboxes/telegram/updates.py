"""Per-bot update queues with Telegram's `getUpdates` semantics, and a wake-up primitive.

https://core.telegram.org/bots/api#getupdates: updates stay queued until a call with an `offset` greater than
their id confirms them; a call with no update waits up to `timeout` seconds and returns as soon as one
arrives. A newer `getUpdates` ends a waiting older one with 409 (only one poller per token).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sandboxes.telegram.errors import ApiError
from sandboxes.telegram.model import JsonObject

T = TypeVar("T")

# Update types a bot gets when it never set `allowed_updates` (the Bot API leaves out these three).
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


class Notifier:
    """Wakes every waiter when something changed; `notify` is synchronous so control calls can use it."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        """Wake all current waiters."""
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait_until(self, check: Callable[[], T | None], seconds: float) -> T | None:
        """Return the first non-None `check()` result, re-checked at each notify; None after `seconds`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            result = check()
            remaining = deadline - loop.time()
            if result is not None or remaining <= 0:
                return result
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.add(waiter)
            try:
                await asyncio.wait({waiter}, timeout=remaining)
            finally:
                self._waiters.discard(waiter)


@dataclass(frozen=True)
class QueuedUpdate:
    """An update waiting for delivery; `payload` is the Update JSON without `update_id`."""

    update_id: int
    kind: str
    payload: JsonObject

    def to_wire(self) -> JsonObject:
        """The Update object."""
        return {"update_id": self.update_id, **self.payload}


class UpdateQueue:
    """One bot's pending updates."""

    def __init__(self, first_id: int = 1) -> None:
        self._pending: deque[QueuedUpdate] = deque()
        self._next_id = first_id
        self._poll_generation = 0
        self.allowed: frozenset[str] | None = None
        self.changed = Notifier()
        self.closed = False

    def __len__(self) -> int:
        return len(self._pending)

    def push(self, kind: str, payload: JsonObject) -> QueuedUpdate | None:
        """Queue an update unless the bot's `allowed_updates` excludes its kind."""
        allowed = self.allowed if self.allowed else None
        if (allowed is not None and kind not in allowed) or (allowed is None and kind in _NOT_BY_DEFAULT):
            return None
        update = QueuedUpdate(self._next_id, kind, {kind: payload})
        self._next_id += 1
        self._pending.append(update)
        self.changed.notify()
        return update

    def confirm(self, offset: int) -> None:
        """Forget updates below `offset`; a negative offset keeps only the last `-offset` updates."""
        if offset < 0:
            while len(self._pending) > -offset:
                self._pending.popleft()
            return
        while self._pending and self._pending[0].update_id < offset:
            self._pending.popleft()

    def peek(self, limit: int = 100) -> list[QueuedUpdate]:
        """The oldest pending updates, without confirming them."""
        return [self._pending[i] for i in range(min(limit, len(self._pending)))]

    def drop_first(self, update_id: int) -> None:
        """Forget the oldest update once a webhook accepted it."""
        if self._pending and self._pending[0].update_id == update_id:
            self._pending.popleft()

    def clear(self) -> None:
        """Drop all pending updates (`drop_pending_updates`)."""
        self._pending.clear()

    def close(self) -> None:
        """End waiting polls (the server is stopping)."""
        self.closed = True
        self.changed.notify()

    def reopen(self) -> None:
        """Accept long polls again (the server started)."""
        self.closed = False

    async def poll(
        self, offset: int | None, limit: int, wait_seconds: float, blocked: Callable[[], bool]
    ) -> list[JsonObject]:
        """Answer a getUpdates call; `blocked()` is true while a webhook is set."""
        if offset is not None:
            self.confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self.changed.notify()

        def ready() -> list[QueuedUpdate] | None:
            if generation != self._poll_generation:
                raise ApiError(409, POLL_CONFLICT)
            if blocked():
                raise ApiError(409, WEBHOOK_CONFLICT)
            if self.closed:
                return []
            return self.peek(limit) or None

        found = await self.changed.wait_until(ready, max(wait_seconds, 0.0))
        return [update.to_wire() for update in found or []]
