"""One thread per conversation under the volunteers' channel: opened on first use, replaced when gone, closed.

A thread archived by Discord's auto-archive is fine to write to (sending unarchives it). An archived *and*
locked thread refuses messages (50083), and a deleted one is an unknown channel (10003, 404): then a new
thread is opened and bound to the conversation, so a relay is never lost to housekeeping in the workspace.

Discord allows 1,000 active threads per guild: closed conversations' threads are archived (which frees a
place), and idle ones auto-archive after a day. At the limit, opening a thread fails with 160006; that is
retried after a pause and, if it persists, dead-lettered with a staff alert by the outbound pump.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import discord

from adapters.discord.files import Upload
from adapters.discord.sending import send_parts
from routing.delivery import DeliveryError
from routing.model import Button, ConversationId, OutboundMessage, Platform, ThreadId
from routing.store.conversations import ConversationStore
from routing.store.known_threads import KnownThreads

log = logging.getLogger(__name__)

THREAD_ARCHIVED = 50083  # "Thread is archived" (also when it is locked)
UNKNOWN_CHANNEL = 10003
MAX_ACTIVE_THREADS = 160006
AUTO_ARCHIVE_MINUTES: Literal[1440] = 1440  # a day: a conversation may rest overnight
LIMIT_PAUSE = 60.0
MAX_THREAD_NAME = 100


class ConversationThreads:
    """Finds, opens, writes to and closes the thread of a conversation in the volunteers' channel."""

    def __init__(self, client: discord.Client, parent: int, conversations: ConversationStore) -> None:
        self._client = client
        self._parent = parent
        self._known = KnownThreads(conversations, Platform.DISCORD)

    async def send(self, message: OutboundMessage, text: str, uploads: Sequence[Upload]) -> None:
        """Post into the conversation's thread, opening (or replacing) the thread as needed."""
        conv = conversation_of(message)
        thread = await self._known.get(conv)
        if thread is None:
            thread = await self._open(message)
        try:
            await self._post(thread, text, uploads, message.buttons)
        except discord.HTTPException as exc:
            if not _thread_gone(exc):
                raise
            current = await self._known.refresh(conv, thread)  # another process may have replaced it already
            if current is None:
                log.warning("thread of conversation %s is gone or locked (code %s); opening a new one", conv, exc.code)
                current = await self._open(message)
            await self._post(current, text, uploads, message.buttons)

    async def thread_of(self, conv: ConversationId) -> ThreadId | None:
        """The conversation's thread if it has one (for links to it); never opens one."""
        return await self._known.get(conv)

    async def _post(self, thread: ThreadId, text: str, uploads: Sequence[Upload], buttons: Sequence[Button]) -> None:
        target = self._client.get_partial_messageable(int(thread), type=discord.ChannelType.public_thread)
        await send_parts(target, text, uploads, buttons)

    async def _open(self, message: OutboundMessage) -> ThreadId:
        conv = conversation_of(message)
        name = f"{message.pseudonym or conv} · {conv}"[:MAX_THREAD_NAME]
        try:
            created = await self._client.http.start_thread_without_message(
                self._parent,
                name=name,
                auto_archive_duration=AUTO_ARCHIVE_MINUTES,
                type=discord.ChannelType.public_thread.value,  # visible to everyone who sees the private channel
            )
        except discord.HTTPException as exc:
            if exc.code == MAX_ACTIVE_THREADS:
                reason = "discord's limit of active threads is reached"
                raise DeliveryError(reason, retryable=True, retry_after=LIMIT_PAUSE) from None
            raise
        thread = ThreadId(str(created["id"]))
        await self._known.bind(conv, thread)
        log.info("thread opened for conversation %s", conv)
        return thread

    async def close(self, message: OutboundMessage) -> None:
        """Archive and lock the thread: volunteers can read it, nobody can write to it any more."""
        conv = conversation_of(message)
        thread = await self._known.get(conv)
        if thread is None:
            return
        self._known.forget(conv)
        http = self._client.http
        try:
            await http.edit_channel(int(thread), archived=True, locked=True)
        except discord.NotFound:
            log.info("thread of conversation %s was deleted before it was closed", conv)
        except discord.HTTPException as exc:
            if exc.code != THREAD_ARCHIVED:
                raise
            # Already auto-archived: Discord changes an archived thread only together with unarchiving it.
            await http.edit_channel(int(thread), archived=False, locked=True)
            await http.edit_channel(int(thread), archived=True)

    async def delete(self, message: OutboundMessage) -> None:
        """Delete a staff thread with every message in it (retention ended, or /forget). One already gone is
        what was wanted: no error, no retry."""
        if message.thread is None:
            raise DeliveryError("thread deletion without a thread", retryable=False)
        if message.conversation is not None:
            self._known.forget(message.conversation)
        try:
            await self._client.http.delete_channel(int(message.thread), reason="retention ended or /forget")
        except discord.NotFound:
            log.info("a staff thread was deleted already (conversation %s)", message.conversation or "-")
        else:
            log.info("a staff thread was deleted (retention or /forget; conversation %s)", message.conversation or "-")


def _thread_gone(exc: discord.HTTPException) -> bool:
    return isinstance(exc, discord.NotFound) or exc.code in (THREAD_ARCHIVED, UNKNOWN_CHANNEL)


def conversation_of(message: OutboundMessage) -> ConversationId:
    """The conversation a thread or card message belongs to (a message without one cannot be delivered)."""
    if message.conversation is None:
        raise DeliveryError(f"{message.audience} message without a conversation", retryable=False)
    return message.conversation
