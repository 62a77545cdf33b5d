"""Receiving from Telegram: long polling or webhook payloads, ingested durably before they are confirmed.

We poll with our own loop over `Bot.get_updates` instead of PTB's Updater: the Updater confirms updates as
soon as they are in its memory queue, so a crash would lose them; here the next offset (which confirms) is
only asked for after every update of the batch is stored in Redis. If PTB cannot parse a batch (one
malformed update), the batch is fetched raw and parsed update by update, so the bad one is dead-lettered
instead of wedging the offset forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any

from redis.exceptions import RedisError
from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from adapters.telegram.normalise import StaffChats, normalise
from routing.lanes import Lanes
from routing.model import InboundKind, InboundMessage
from routing.press_answers import PressAnswers
from routing.store.streams import IngestResult, StreamWriter

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


class IngestUnavailable(Exception):
    """Redis could not store the update: it must not be confirmed to Telegram."""


def _asks_for_chat_id(update: Update) -> bool:
    message = update.message
    # A malformed update can carry any JSON as "text" (PTB does not check types): only a string is a command.
    if message is None or not isinstance(message.text, str) or message.chat.type not in ("group", "supergroup"):
        return False
    return message.text.strip().split("@", 1)[0].lower() == "/chatid"


class TelegramGateway:
    """Turns raw updates into stored inbound entries."""

    def __init__(
        self,
        bot: Bot,
        chats: StaffChats,
        writer: StreamWriter,
        *,
        poll_timeout: int = 25,
        answers: PressAnswers | None = None,
    ) -> None:
        self._bot = bot
        self._answers = answers
        self._chats = chats
        self._writer = writer
        self._poll_timeout = poll_timeout
        self._lanes = Lanes()
        self.updates_ingested = 0

    async def ingest_raw(self, raw: dict[str, Any]) -> IngestResult | None:
        """Parse, normalise and store one raw update (webhooks; unparseable polling batches).

        Raises IngestUnavailable when Redis is down (do not confirm); a malformed update is dead-lettered.
        """
        try:
            update = Update.de_json(raw, self._bot)
        except Exception as exc:  # any parse failure of platform data: keep it aside, never crash-loop
            await self._dead_letter(raw, f"malformed telegram update: {type(exc).__name__}")
            return None
        return await self.ingest_update(update, raw)

    async def ingest_update(self, update: Update, raw: dict[str, Any] | None = None) -> IngestResult | None:
        """Normalise and store one parsed update. Returns None when there is nothing to act on."""
        if _asks_for_chat_id(update):
            await self._tell_chat_id(update)
            return None
        try:
            message = normalise(update, self._chats, time.time())
        except Exception as exc:  # a shape normalise did not expect: keep it aside, never crash-loop
            await self._dead_letter(raw or {"update_id": update.update_id}, f"unexpected update: {type(exc).__name__}")
            return None
        if message is None:
            return None
        try:
            result = await self._writer.ingest(message)
        except (RedisError, OSError) as exc:
            raise IngestUnavailable(type(exc).__name__) from exc
        self.updates_ingested += 1
        if message.kind == InboundKind.ACTION and update.callback_query is not None:
            await self._answer_button(update.callback_query.id, message)
        return result

    async def _answer_button(self, query_id: str, press: InboundMessage) -> None:
        """Stop the button's spinner, with a short notice when the press is stale (a Take on someone already
        taken); failure here is cosmetic (the press is already stored, and the router answers it too)."""
        try:
            notice = await self._answers.answer(press) if self._answers else ""
            await self._bot.answer_callback_query(query_id, text=notice or None)
        except (TelegramError, RedisError) as exc:
            log.info("answering a button press failed: %s", type(exc).__name__)

    async def _tell_chat_id(self, update: Update) -> None:
        """Setting up: `/chatid` in any group the bot is in answers with the group's id and the writer's user id,
        the two numbers the settings and the rota need (docs/go-live.md)."""
        message = update.message
        if message is None or message.from_user is None:
            return
        text = chat_id_answer(message.chat.id, message.from_user.id)
        thread = message.message_thread_id if message.is_topic_message else None
        try:
            await self._bot.send_message(message.chat.id, text, message_thread_id=thread)
        except TelegramError as exc:
            log.info("answering /chatid failed: %s", type(exc).__name__)

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
                offset = await _unless_stopped(self._poll_once(offset), stop, offset)
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

    async def _poll_once(self, offset: int | None) -> int | None:
        """One long poll; returns the next offset (only past updates that are stored)."""
        try:
            updates = await self._bot.get_updates(
                offset=offset, timeout=self._poll_timeout, allowed_updates=ALLOWED_UPDATES,
                read_timeout=self._poll_timeout + 10,
            )  # fmt: skip
        except (NetworkError, RetryAfter, InvalidToken, Conflict):
            raise
        except (TelegramError, ValueError, KeyError, TypeError) as exc:
            log.error("telegram sent a batch PTB cannot parse (%s); parsing it update by update", type(exc).__name__)
            return await self._poll_raw(offset)
        # Each chat's updates in order, different chats concurrently (a risk message need not wait behind a busy
        # stranger's batch). The offset moves past the batch only when all of it is stored; otherwise the whole
        # batch comes again and ingest's dedupe drops what was already stored.
        unstored: set[Hashable] = set()  # chats with an update that failed to store in this batch
        results = await asyncio.gather(*(self._ingest_in_order(u, unstored) for u in updates), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return updates[-1].update_id + 1 if updates else offset

    async def _ingest_in_order(self, update: Update, unstored: set[Hashable]) -> None:
        """Store one update after its chat's earlier ones. Once one of a chat's updates fails to store, its later
        ones in the batch wait for the batch to come again: stored now, they would reach the volunteer before
        the message written first (measured: up to 1.5 s out of order while Redis stalled)."""
        chat = update.effective_chat
        key: Hashable = chat.id if chat is not None else update.update_id
        async with self._lanes.hold(key):
            if key in unstored:
                raise IngestUnavailable("an earlier update of this chat is not stored yet")
            try:
                await self.ingest_update(update)
            except IngestUnavailable:
                unstored.add(key)
                raise

    async def _poll_raw(self, offset: int | None) -> int | None:
        with warnings.catch_warnings():
            # PTB suggests get_updates for this endpoint; we are here because get_updates could not parse.
            warnings.simplefilter("ignore", PTBUserWarning)
            result = await self._bot.do_api_request("getUpdates", api_kwargs={"offset": offset, "timeout": 0})
        for raw in result if isinstance(result, list) else []:
            if isinstance(raw, dict) and isinstance(raw.get("update_id"), int):
                await self.ingest_raw(raw)
                offset = raw["update_id"] + 1
        return offset

    async def _confirm(self, offset: int | None) -> None:
        """On shutdown, confirm what was stored so a restart does not ingest it again (dedupe would drop it)."""
        if offset is None:
            return
        with contextlib.suppress(TelegramError, TimeoutError):
            async with asyncio.timeout(3):
                await self._bot.get_updates(offset=offset, timeout=0, allowed_updates=ALLOWED_UPDATES, read_timeout=3)


async def _unless_stopped(poll: Coroutine[Any, Any, int | None], stop: asyncio.Event, offset: int | None) -> int | None:
    """Run one long poll, abandoning it when `stop` is set (a 25 s poll must not delay shutdown).

    Abandoning mid-batch is safe: the offset was not advanced past what is stored, so Telegram sends the
    rest again and ingest's dedupe drops what was already stored.
    """
    task = asyncio.ensure_future(poll)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return offset


def _pause(exc: Exception, delay: float) -> float:
    if isinstance(exc, RetryAfter):
        value = exc.retry_after
        return value if isinstance(value, int) else value.total_seconds()
    return delay


WebhookIngest = Callable[[dict[str, Any]], Awaitable[IngestResult | None]]


def chat_id_answer(chat_id: int, user_id: int) -> str:
    """What `/chatid` answers in a group: the two numbers the settings and the rota need."""
    return (
        f"This group's id: {chat_id} (staff.volunteer_chat or staff.escalation_chat)\n"
        f"Your Telegram user id: {user_id} (telegram = {user_id} in the rota)"
    )
