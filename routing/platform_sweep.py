"""The platforms forget too: a closed conversation's staff topic/thread is deleted when its platform retention
ends (`storage.platform_retention_days`, by default the Redis retention; docs/privacy.md).

Closing schedules the deletion (`routing/store/platform_copies.py`); this watcher, run by the router role, emits
each due deletion through the platform's outbound stream, where the gateway's adapter deletes the topic (Telegram
`deleteForumTopic`) or thread (Discord `DELETE /channels/{id}`) with every message in it.
"""

from __future__ import annotations

import asyncio
import time

from routing.model import Audience, OutboundKind, Platform, Priority, ThreadId
from routing.outbox import Outbox
from routing.periodic import every
from routing.store.platform_copies import PlatformCopies
from routing.store.streams import StreamWriter


def delete_thread(out: Outbox, platform: Platform, thread: ThreadId) -> None:
    """Add the deletion of one staff topic/thread (named by its id: the conversation may be gone already)."""
    out.add(platform, Audience.STAFF_THREAD, kind=OutboundKind.DELETE_THREAD, thread=thread,
            priority=Priority.BACKGROUND)  # fmt: skip


class PlatformSweep:
    """Deletes the staff topics/threads whose platform retention has ended."""

    def __init__(self, copies: PlatformCopies, writer: StreamWriter) -> None:
        self._copies = copies
        self._writer = writer

    async def check(self, now: float | None = None) -> int:
        """Emit the deletion of every topic/thread due by `now`; returns how many."""
        due = await self._copies.due(now or time.time())
        for platform, thread in due:
            # One idempotency key per thread: a sweep repeated after a crash emits no second deletion.
            out = Outbox(f"platform-retention:{platform}:{thread}")
            delete_thread(out, platform, thread)
            await self._writer.emit_all(out.messages)
        await self._copies.cancel(due)
        return len(due)

    async def run(self, stop: asyncio.Event, interval: float = 600.0) -> None:
        await every(interval, stop, self.check, "platform retention")
