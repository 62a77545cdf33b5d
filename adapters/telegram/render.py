"""Shared `OutboundMessage` -> Bot API calls through the real python-telegram-bot, within Telegram's limits.

Topics: each conversation gets a forum topic in the volunteers' supergroup, created on first use and
recreated if someone deleted it (Telegram answers 400 "message thread not found"; we never crash-loop on
it). Queue cards live in the General topic and are edited in place when a person is taken.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import logging
import time

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError

from adapters.telegram.normalise import StaffChats
from routing.delivery import (
    LATER_CALL_SHARE,
    DeliveryError,
    Destination,
    ForeignFileFetcher,
    SlidingWindow,
    coalesce_texts,
)
from routing.inline_files import inline_bytes
from routing.model import (
    Attachment,
    AttachmentKind,
    Audience,
    ChatId,
    ConversationId,
    MessageId,
    OutboundKind,
    OutboundMessage,
    Platform,
    ThreadId,
)
from routing.store.conversations import ConversationStore
from routing.store.desk_messages import DeskMessages
from routing.store.known_threads import KnownThreads

log = logging.getLogger(__name__)

# Sends to one staff group in flight together (different topics). With Telegram's ~20 messages/min per group
# this rarely matters; it stops one slow request from holding up every other conversation's topic.
GROUP_SENDS_IN_FLIGHT = 8
MAX_TEXT = 4096  # Telegram's limit per message; longer texts are sent in parts
_MERGE = functools.partial(coalesce_texts, max_length=MAX_TEXT)
# Telegram allows ~20 sends a minute into a group; the window is a second longer than a minute so that sends
# paced to the edge, arriving a little closer together than they left, never draw a 429 (a pause of tens of
# seconds for the whole group).
GROUP_WINDOW = (20, 61.0)
PRIVATE_WINDOW = (1, 1.05)  # ~1 send a second into one private chat, with the same margin
CARD_FIELD = "card:telegram"
ALERT_FIELD = "alert:telegram"
_THREAD_GONE = ("message thread not found", "topic_deleted", "topic_id_invalid")


class TelegramDeliverer:
    """Sends outbound messages with a PTB `Bot`; raises DeliveryError with a retry decision."""

    def __init__(
        self,
        bot: Bot,
        chats: StaffChats,
        conversations: ConversationStore,
        *,
        rate_limits: bool = True,
        desk: DeskMessages | None = None,
    ) -> None:
        self._bot = bot
        self._desk = desk  # which conversation each message in a volunteer's private chat is about
        self._chats = chats
        self._conversations = conversations
        self._topics = KnownThreads(conversations, Platform.TELEGRAM)
        self._rate_limits = rate_limits
        self._group_windows: dict[str, SlidingWindow] = {}
        self.fetch_foreign: ForeignFileFetcher | None = None  # set by the composition root when both run

    def destination(self, message: OutboundMessage) -> Destination:
        """Private chats: ~1 message/s each. Groups: ~20 messages/min shared by all their topics, one
        priority queue per group; each conversation's topic is a lane of it (in order within the topic,
        several topics' sends in flight together), everything else in the group shares one lane."""
        chat = self._chat_of(message)
        if message.audience in (Audience.SEEKER, Audience.STAFF_DIRECT):
            windows = (SlidingWindow(*PRIVATE_WINDOW),) if self._rate_limits else ()
            if message.audience == Audience.STAFF_DIRECT and message.conversation is not None:
                # A volunteer's private desk: what waits for one person goes as one message (a reply to it
                # still names that person); one second a send is little when a Take brings a header, what
                # they wrote while waiting and a notice at once.
                return Destination(f"chat:{chat}", windows, lane=f"desk:{message.conversation}", merge=_MERGE)
            return Destination(f"chat:{chat}", windows)
        topic = message.audience == Audience.STAFF_THREAD and message.conversation is not None
        lane = f"topic:{message.conversation}" if topic else ""
        windows = (self._group_windows.setdefault(chat, SlidingWindow(*GROUP_WINDOW)),) if self._rate_limits else ()
        merge = _MERGE if topic else None  # what waits for a topic's turn goes as one message
        card = f"{_card_field(message)}:{message.conversation}" if message.kind == OutboundKind.UPSERT_CARD else ""
        return Destination(
            f"group:{chat}", windows, lane=lane, parallel=GROUP_SENDS_IN_FLIGHT, merge=merge, supersede=card
        )

    async def deliver(self, message: OutboundMessage) -> None:
        try:
            await self._deliver(message, self._calls(message))
        except RetryAfter as exc:
            raise DeliveryError(
                "telegram flood control", retryable=True, retry_after=_seconds(exc.retry_after)
            ) from None
        except Forbidden:
            unreachable = message.audience in (Audience.SEEKER, Audience.STAFF_DIRECT)  # blocked, or never started
            raise DeliveryError("telegram forbidden (403)", retryable=False, unreachable=unreachable) from None
        except InvalidToken:
            raise DeliveryError("telegram rejected the bot token", retryable=False) from None
        except BadRequest as exc:
            raise DeliveryError(f"telegram bad request: {_reason(exc)}", retryable=False) from None
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            raise DeliveryError(f"telegram network error: {type(exc).__name__}", retryable=True) from None
        except TelegramError as exc:
            raise DeliveryError(f"telegram error: {type(exc).__name__}", retryable=True) from None

    def _calls(self, message: OutboundMessage) -> Calls:
        if not self._rate_limits:
            return Calls(None)
        group = self._group_windows.get(self._chat_of(message))
        if group is None:
            return Calls(SlidingWindow(*PRIVATE_WINDOW), first_counted=False)
        return Calls(group)

    async def _deliver(self, message: OutboundMessage, calls: Calls) -> None:
        if message.kind == OutboundKind.UPSERT_CARD:
            await self._upsert_card(message, calls)
        elif message.kind == OutboundKind.CLOSE_THREAD:
            await self._close_topic(message, calls)
        elif message.kind == OutboundKind.DELETE_THREAD:
            await self._delete_topic(message, calls)
        elif message.audience == Audience.STAFF_THREAD:
            await self._send_in_topic(message, calls)
        elif message.audience == Audience.ESCALATION and message.conversation is not None:
            await self._send(await self._with_topic_link(message), self._chats.escalation, None, calls)
        else:
            chat = ChatId(self._chat_of(message))
            sent = await self._send(message, chat, None, calls)
            if message.audience == Audience.STAFF_DIRECT and message.conversation is not None:
                await self._remember_desk(chat, sent, message.conversation)

    async def _remember_desk(self, chat: ChatId, sent: list[Message], conv: ConversationId) -> None:
        """A reply to any of these messages (or a button on them) is then about `conv`."""
        if self._desk is not None:
            ids = [MessageId(str(each.message_id)) for each in sent]
            await self._desk.remember(Platform.TELEGRAM, chat, ids, conv)

    def _chat_of(self, message: OutboundMessage) -> str:
        if message.audience in (Audience.SEEKER, Audience.STAFF_DIRECT):  # a private chat id is the user id
            if message.chat is None:
                raise DeliveryError("private message without a chat", retryable=False)
            return message.chat
        if message.audience == Audience.ESCALATION:
            return self._chats.escalation
        return self._chats.volunteer

    async def _with_topic_link(self, message: OutboundMessage) -> OutboundMessage:
        """Alerts link to the conversation's topic, so a professional is one tap away from it."""
        thread = await self._topics.get(_conversation(message))
        internal = self._chats.volunteer.removeprefix("-100")
        if thread is None or internal == self._chats.volunteer:
            return message
        return dataclasses.replace(message, text=f"{message.text}\nOpen: https://t.me/c/{internal}/{thread}")

    async def _send_in_topic(self, message: OutboundMessage, calls: Calls) -> None:
        conv = _conversation(message)
        thread = await self._topics.get(conv)
        if thread is None:
            thread = await self._create_topic(message, calls)
        try:
            await self._send(message, self._chats.volunteer, thread, calls)
        except BadRequest as exc:
            if not any(marker in _reason(exc).lower() for marker in _THREAD_GONE):
                raise
            current = await self._topics.refresh(conv, thread)  # another process may have recreated it already
            if current is None:
                log.warning("topic of conversation %s was deleted; recreating it", conv)
                current = await self._create_topic(message, calls)
            await self._send(message, self._chats.volunteer, current, calls)

    async def _create_topic(self, message: OutboundMessage, calls: Calls) -> ThreadId:
        conv = _conversation(message)
        name = f"{message.pseudonym or conv} · {conv}"[:128]
        await calls.next()  # Telegram posts the topic's creation message: it counts against the group's limit
        topic = await self._bot.create_forum_topic(chat_id=self._chats.volunteer, name=name)
        thread = ThreadId(str(topic.message_thread_id))
        await self._topics.bind(conv, thread)
        log.info("topic %s opened for conversation %s", thread, conv)
        return thread

    async def _close_topic(self, message: OutboundMessage, calls: Calls) -> None:
        conv = _conversation(message)
        thread = await self._topics.get(conv)
        if thread is None:
            return
        self._topics.forget(conv)
        try:
            await calls.next()
            await self._bot.close_forum_topic(chat_id=self._chats.volunteer, message_thread_id=int(thread))
        except BadRequest as exc:
            log.info("closing a topic failed (%s); it was probably deleted or closed already", _reason(exc))

    async def _delete_topic(self, message: OutboundMessage, calls: Calls) -> None:
        """Delete a staff topic with every message in it (retention ended, or /forget). One already gone (an
        admin deleted it, or an earlier attempt did before a crash) is what was wanted: no error, no retry."""
        if message.thread is None:
            raise DeliveryError("topic deletion without a topic", retryable=False)
        if message.conversation is not None:
            self._topics.forget(message.conversation)
        try:
            await calls.next()
            await self._bot.delete_forum_topic(chat_id=self._chats.volunteer, message_thread_id=int(message.thread))
        except BadRequest as exc:
            if not any(marker in _reason(exc).lower() for marker in _THREAD_GONE):
                raise
            log.info("a staff topic was deleted already (conversation %s)", message.conversation or "-")
        else:
            log.info("a staff topic was deleted (retention or /forget; conversation %s)", message.conversation or "-")

    async def _upsert_card(self, message: OutboundMessage, calls: Calls) -> None:
        """A queue card in the lobby, or an episode's first alert in the escalation chat, edited in place."""
        conv = _conversation(message)
        markup = _markup(message)
        field = _card_field(message)
        chat = self._chat_of(message)
        if message.audience == Audience.ESCALATION:
            message = await self._with_topic_link(message)
        card = await self._conversations.get_field(conv, field)
        if card is None and not message.buttons:
            # Taken, gone or closed before the card was ever shown: nobody saw them waiting, so there is nothing
            # to update, and a send of the group's ~20 a minute is kept for relays.
            return
        if card is not None:
            try:
                await calls.next()
                await self._bot.edit_message_text(
                    text=message.text, chat_id=chat, message_id=int(card), reply_markup=markup
                )
                return
            except BadRequest as exc:
                if "not modified" in _reason(exc).lower():
                    return
                log.info("queue card of %s could not be edited (%s); posting a new one", conv, _reason(exc))
        await calls.next()
        sent = await self._bot.send_message(chat_id=chat, text=message.text, reply_markup=markup)
        await self._conversations.set_field(conv, field, str(sent.message_id))

    async def _send(self, message: OutboundMessage, chat: str, thread: ThreadId | None, calls: Calls) -> list[Message]:
        """Send the message's files and text parts; returns what Telegram created."""
        sent: list[Message] = []
        thread_id = int(thread) if thread is not None else None
        markup = _markup(message)
        text = message.text
        for attachment in message.attachments:
            source = message.source_platform
            ref: str | InputFile = attachment.ref
            made = inline_bytes(attachment)  # a file the service wrote (a safety plan): upload its bytes
            if made is not None:
                ref = InputFile(made, filename=attachment.filename or "file.txt")
            elif source not in (None, Platform.TELEGRAM):
                foreign = await self._fetch(attachment, source)
                if foreign is None:
                    text = f"{text}\n[{attachment.kind} sent on {source}: too large to carry over (limit 8 MB)]".strip()
                    continue
                ref = foreign
            caption, text = text[:1024] or None, text[1024:]
            await calls.next()
            sent.append(await self._send_file(chat, thread_id, attachment.kind, ref, caption))
        chunks = [text[i : i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)]
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await calls.next()
            sent.append(await self._bot.send_message(
                chat_id=chat, text=chunk, message_thread_id=thread_id, reply_markup=markup if last else None
            ))  # fmt: skip
        return sent

    async def _fetch(self, attachment: Attachment, source: Platform) -> InputFile | None:
        """A file from another platform, or None when it is too large (the caller adds a clear note)."""
        if self.fetch_foreign is None:
            return None
        try:
            data, name = await self.fetch_foreign(attachment, source)
        except DeliveryError as exc:
            if exc.retryable:
                raise
            return None
        return InputFile(data, filename=name)

    async def _send_file(
        self, chat: str, thread_id: int | None, kind: AttachmentKind, ref: str | InputFile, caption: str | None
    ) -> Message:
        if kind == AttachmentKind.PHOTO:
            return await self._bot.send_photo(chat, ref, caption=caption, message_thread_id=thread_id)
        if kind == AttachmentKind.VOICE:
            return await self._bot.send_voice(chat, ref, caption=caption, message_thread_id=thread_id)
        if kind == AttachmentKind.STICKER:
            return await self._bot.send_sticker(chat, ref, message_thread_id=thread_id)
        return await self._bot.send_document(chat, ref, caption=caption, message_thread_id=thread_id)


class Calls:
    """The Bot API calls of one delivery. The scheduler waited for room for the first; each later one (a topic's
    creation, a file, a further part, a card posted anew) counts like a send too, so it waits for room in the
    same window and is recorded there. Without this, a new topic's first message drew 429s that stop the whole
    group for up to a minute."""

    def __init__(self, window: SlidingWindow | None, *, first_counted: bool = True) -> None:
        self._window = window
        self._made = 0
        self._first_counted = first_counted  # the window is the scheduler's, which recorded the first call

    async def next(self) -> None:
        """Call before each API call that puts something into the chat."""
        self._made += 1
        if self._window is None:
            return
        if self._made == 1:
            if not self._first_counted:
                self._window.record(time.monotonic())
            return
        # Ahead of new ordinary sends, behind urgent ones (see LATER_CALL_SHARE).
        while (wait := self._window.wait_time(time.monotonic(), LATER_CALL_SHARE)) > 0:  # noqa: ASYNC110 - time
            await asyncio.sleep(wait)
        self._window.record(time.monotonic())


def _card_field(message: OutboundMessage) -> str:
    """Where a card's message id is kept on the conversation: its queue card, or its episode's alert."""
    return ALERT_FIELD if message.audience == Audience.ESCALATION else CARD_FIELD


def _markup(message: OutboundMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.action) for b in message.buttons]])


def _conversation(message: OutboundMessage) -> ConversationId:
    if message.conversation is None:
        raise DeliveryError(f"{message.audience} message without a conversation", retryable=False)
    return message.conversation


def _seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _reason(exc: TelegramError) -> str:
    """Telegram's error description: a fixed phrase from the API, never message content."""
    return exc.message
