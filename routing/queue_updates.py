"""Tells waiting people their new place in the queue, now and then.

Every `interval` seconds the most urgent `window` waiting people are checked; a person hears again only when
their position changed and at least `min_gap` seconds passed since the last update, so nobody is flooded and
platform limits (about one message per second per chat) are never approached.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from routing import texts
from routing.model import Audience, ConversationId, ConversationState, Priority
from routing.outbox import Outbox
from routing.store.connection import STORE_ERRORS
from routing.store.conversations import ConversationStore
from routing.store.streams import StreamWriter

log = logging.getLogger(__name__)

POSITION_FIELD = "notified_position"
AT_FIELD = "notified_at"


class QueuePositionNotifier:
    """Periodic position updates for people waiting."""

    def __init__(
        self,
        store: ConversationStore,
        writer: StreamWriter,
        *,
        interval: float = 30.0,
        min_gap: float = 120.0,
        window: int = 200,
    ) -> None:
        self._store = store
        self._writer = writer
        self._interval = interval
        self._min_gap = min_gap
        self._window = window

    async def notify_once(self, now: float | None = None) -> int:
        """Send the updates that are due; returns how many were sent."""
        now = now or time.time()
        sent = 0
        for position, conv in enumerate(await self._store.waiting(self._window), start=1):
            last_position = await self._store.get_field(conv, POSITION_FIELD)
            last_at = float(await self._store.get_field(conv, AT_FIELD) or 0)
            if last_position is None:  # the queued acknowledgement told them their first position
                await self._remember(conv, position, now)
                continue
            if int(last_position) == position or now - last_at < self._min_gap:
                continue
            conversation = await self._store.get(conv)
            if conversation is None or conversation.state != ConversationState.WAITING:
                continue
            out = Outbox(f"position:{conv}:{int(now)}")
            said = texts.say(conversation.language, texts.STILL_WAITING, position=position)
            out.add(conversation.platform, Audience.SEEKER, said,
                    chat=conversation.chat, conversation=conv, priority=Priority.PERSON)  # fmt: skip
            for message in out.messages:
                await self._writer.emit(message)
            await self._remember(conv, position, now)
            sent += 1
        return sent

    async def _remember(self, conv: ConversationId, position: int, now: float) -> None:
        await self._store.set_field(conv, POSITION_FIELD, str(position))
        await self._store.set_field(conv, AT_FIELD, f"{now:.0f}")

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.notify_once()
            except STORE_ERRORS as exc:
                log.warning("queue position updates: redis unavailable (%s)", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await stop.wait()
