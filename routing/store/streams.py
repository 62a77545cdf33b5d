"""Writing to the streams: durable ingest, idempotent emit, audit and dead-letter."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from routing.codec import encode_inbound, encode_outbound
from routing.model import InboundMessage, OutboundMessage, Priority
from routing.pseudonyms import Pseudonymiser
from routing.store import keys, scripts
from routing.store.autopipeline import autopipeline
from routing.store.cipher import TextCipher
from routing.store.replies import text

log = logging.getLogger(__name__)

DAY = 24 * 3600


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What ingest did: `duplicate` when this update was already stored (a platform redelivery)."""

    entry_id: str
    duplicate: bool
    flood_count: int
    urgent: bool = False  # stored in the urgent inbound lane


# Decides at ingest whether a message goes to the urgent inbound lane (see keys.INBOUND_URGENT).
UrgentScreen = Callable[[InboundMessage], bool]
# Turns what a handler emits into what is written: one message may become several (routing.workspace).
FanOut = Callable[[list[OutboundMessage]], Awaitable[list[OutboundMessage]]]


def retention_min_id(retention_days: float, now: float | None = None) -> str:
    """Stream id below which entries are older than the retention limit."""
    cutoff_ms = int(((now or time.time()) - retention_days * DAY) * 1000)
    return f"{max(cutoff_ms, 0)}-0"


class StreamWriter:
    """Appends encrypted entries to the streams with the right atomicity."""

    def __init__(
        self,
        redis: Redis,
        cipher: TextCipher,
        pseudonyms: Pseudonymiser,
        *,
        retention_days: float = 30,
        flood_window: int = 10,
        dedupe_ttl: int = 2 * DAY,
        urgent_screen: UrgentScreen | None = None,
    ) -> None:
        self._redis = redis
        self._urgent_screen = urgent_screen
        self._cipher = cipher
        self._pseudonyms = pseudonyms
        self._retention_days = retention_days
        self._flood_window = flood_window
        self._dedupe_ttl = dedupe_ttl
        self._ingest = redis.register_script(scripts.INGEST)
        self._emit = redis.register_script(scripts.EMIT)
        self._batch = autopipeline(redis)
        self._fan_out: FanOut | None = None

    def fan_out_with(self, fan_out: FanOut) -> None:
        """Pass every emitted message through `fan_out` first (e.g. a copy for a volunteer's private chat)."""
        self._fan_out = fan_out

    async def ingest(self, message: InboundMessage) -> IngestResult:
        """Store an inbound message durably (dedupe + flood count + XADD in one script).

        Acknowledge the platform only after this returns: a crash before it means the platform redelivers.
        A message the urgent screen flags goes to the urgent lane, ahead of any backlog (the router still
        assesses it with the person's context; the screen only decides which lane it waits in).
        """
        payload = self._cipher.encrypt(encode_inbound(message))
        person = self._pseudonyms.key(message.platform, message.sender)
        urgent = self._is_urgent(message)
        status, entry_id, count = await self._batch.script(
            self._ingest,
            alone=urgent,
            keys=[
                keys.dedupe(message.platform, message.update_id),
                keys.flood(person),
                keys.INBOUND_URGENT if urgent else keys.INBOUND,
            ],
            args=[self._dedupe_ttl, self._flood_window, payload, retention_min_id(self._retention_days), person],
        )
        return IngestResult(
            entry_id=text(entry_id), duplicate=text(status) == "dup", flood_count=int(count), urgent=urgent
        )

    def _is_urgent(self, message: InboundMessage) -> bool:
        if self._urgent_screen is None:
            return False
        try:
            return self._urgent_screen(message)
        except Exception as exc:  # the ordinary lane is always safe: a screening bug must not lose a message
            log.error("urgent screen failed (%s); the message takes the ordinary lane", type(exc).__name__)
            return False

    async def emit(self, message: OutboundMessage) -> None:
        """Append to the platform's outbound stream once per idempotency key."""
        await self.emit_all([message])

    async def emit_all(self, messages: list[OutboundMessage]) -> None:
        """Emit several messages together (each still once per idempotency key, in order), sharing a round
        trip with whatever else is being written at the same moment."""
        if self._fan_out is not None:
            messages = await self._fan_out(messages)
        min_id = retention_min_id(self._retention_days)
        for future in [self._queue_emit(message, min_id) for message in messages]:
            await future

    def _queue_emit(self, message: OutboundMessage, min_id: str) -> asyncio.Future[Any]:
        urgent = message.priority == Priority.URGENT
        payload = self._cipher.encrypt(encode_outbound(message))
        return self._batch.script(
            self._emit,
            keys=[keys.emitted(message.key), keys.outbound(message.platform, urgent)],
            args=[2 * DAY, payload, min_id],
            alone=urgent,
        )

    async def first_notice(self, name: str, ttl: int) -> bool:
        """True the first time `name` is asked for within `ttl` seconds (one notice per window)."""
        return bool(await self._redis.set(keys.notice(name), 1, nx=True, ex=ttl))

    async def audit(self, event: str, **fields: str) -> None:
        """Append a content-free event (ids and pseudonyms only) to the audit stream."""
        entry: dict[str, str] = {"event": event, "at": f"{time.time():.3f}", **fields}
        await self._redis.xadd(keys.AUDIT, entry, maxlen=100_000, approximate=True)  # type: ignore[arg-type]

    async def dead_letter(self, stream: str, entry_id: str, reason: str, payload: bytes | None) -> None:
        """Keep an entry that could not be processed, with why; the original payload stays encrypted. Dead
        letters are kept no longer than messages are (the retention): older ones go as a new one arrives."""
        entry: dict[str, str | bytes] = {"stream": stream, "entry": entry_id, "reason": reason}
        if payload is not None:
            entry["d"] = payload
        pipe = self._redis.pipeline(transaction=True)
        pipe.xadd(keys.DEAD_LETTER, entry, maxlen=100_000, approximate=True)  # type: ignore[arg-type]
        pipe.xtrim(keys.DEAD_LETTER, minid=retention_min_id(self._retention_days), approximate=False)
        await pipe.execute()
