"""Receiving from Telegram: long polling or webhook payloads, ingested durably before they are confirmed.

We poll with our own loop over the raw `getUpdates` result instead of PTB's Updater: the Updater confirms
updates as soon as they are in its memory queue, so a crash would lose them; here the next offset (which
confirms) is only asked for after every update of the batch is stored in Redis. Each update is parsed on
its own, so one malformed update is dead-lettered instead of wedging the offset forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import RedisError
from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from adapters.telegram.normalise import StaffChats, normalise
from routing.model import InboundKind
from routing.store.streams import IngestResult, StreamWriter

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


class IngestUnavailable(Exception):
    """Redis could not store the update: it must not be confirmed to Telegram."""


class TelegramGateway:
    """Turns raw updates into stored inbound entries."""

    def __init__(self, bot: Bot, chats: StaffChats, writer: StreamWriter, *, poll_timeout: int = 25) -> None:
        self._bot = bot
        self._chats = chats
        self._writer = writer
        self._poll_timeout = poll_timeout
        self.updates_ingested = 0

    async def ingest_raw(self, raw: dict[str, Any]) -> IngestResult | None:
        """Parse, normalise and store one raw update. Returns None when there is nothing to act on.

        Raises IngestUnavailable when Redis is down (do not confirm); a malformed update is dead-lettered.
        """
        try:
            update = Update.de_json(raw, self._bot)
            message = normalise(update, self._chats, time.time())
        except Exception as exc:  # any parse failure of platform data: keep it aside, never crash-loop
            await self._dead_letter(raw, f"malformed telegram update: {type(exc).__name__}")
            return None
        if message is None:
            return None
        try:
            result = await self._writer.ingest(message)
        except (RedisError, OSError) as exc:
            raise IngestUnavailable(type(exc).__name__) from exc
        self.updates_ingested += 1
        if message.kind == InboundKind.ACTION and update.callback_query is not None:
            await self._answer_button(update.callback_query.id)
        return result

    async def _answer_button(self, query_id: str) -> None:
        """Stop the button's spinner; failure here is cosmetic (the press is already stored)."""
        try:
            await self._bot.answer_callback_query(query_id)
        except TelegramError as exc:
            log.info("answering a button press failed: %s", type(exc).__name__)

    async def _dead_letter(self, raw: dict[str, Any], reason: str) -> None:
        update_id = str(raw.get("update_id", "?")) if isinstance(raw, dict) else "?"
        log.error("telegram update %s set aside: %s", update_id, reason)
        try:
            await self._writer.dead_letter("telegram-updates", update_id, reason, None)
        except (RedisError, OSError) as exc:
            raise IngestUnavailable(type(exc).__name__) from exc

    async def poll(self, stop: asyncio.Event) -> None:
        """Long-poll until `stop`; back off on network and Redis trouble without confirming anything."""
        offset: int | None = None
        delay = 0.5
        while not stop.is_set():
            try:
                batch = await self._get_updates(offset)
                for raw in batch:
                    await self.ingest_raw(raw)
                    offset = int(raw["update_id"]) + 1
                delay = 0.5
            except (IngestUnavailable, NetworkError, Conflict, RetryAfter) as exc:
                pause = _pause(exc, delay)
                log.warning("telegram polling paused %.1fs (%s)", pause, type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=pause)
                delay = min(delay * 2, 30.0)
            except InvalidToken:
                log.error("telegram rejected the bot token; polling stopped")
                raise
        await self._confirm(offset)

    async def _get_updates(self, offset: int | None) -> list[dict[str, Any]]:
        result = await self._bot.do_api_request(
            "getUpdates",
            api_kwargs={
                "offset": offset,
                "timeout": self._poll_timeout,
                "allowed_updates": json.dumps(ALLOWED_UPDATES),
            },
            read_timeout=self._poll_timeout + 10,
        )
        return [item for item in result if isinstance(item, dict)] if isinstance(result, list) else []

    async def _confirm(self, offset: int | None) -> None:
        """On shutdown, confirm what was stored so a restart does not ingest it again (dedupe would drop it)."""
        if offset is None:
            return
        with contextlib.suppress(TelegramError):
            await self._bot.do_api_request("getUpdates", api_kwargs={"offset": offset, "timeout": 0})


def _pause(exc: Exception, delay: float) -> float:
    if isinstance(exc, RetryAfter):
        value = exc.retry_after
        return value if isinstance(value, int) else value.total_seconds()
    return delay


WebhookIngest = Callable[[dict[str, Any]], Awaitable[IngestResult | None]]
