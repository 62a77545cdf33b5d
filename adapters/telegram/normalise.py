"""Telegram `Update` -> shared `InboundMessage` (pure: no I/O, nothing from the SDK leaks out)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Message, Update

from routing.model import (
    Attachment,
    AttachmentKind,
    ChatId,
    InboundKind,
    InboundMessage,
    MessageId,
    Origin,
    Platform,
    ThreadId,
    UpdateId,
    UserId,
)

# Message fields we cannot carry to another platform: the person is told, never met with silence.
_UNSUPPORTED = (
    "location", "venue", "contact", "poll", "dice", "game", "video_note", "story", "invoice", "giveaway",
    "paid_media", "checklist",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class StaffChats:
    """The two staff chats this bridge serves on Telegram (ids as strings)."""

    volunteer: ChatId
    escalation: ChatId

    def origin_of(self, chat_id: int, chat_type: str) -> Origin | None:
        if chat_type == "private":
            return Origin.PRIVATE
        if str(chat_id) == self.volunteer:
            return Origin.STAFF
        if str(chat_id) == self.escalation:
            return Origin.ESCALATION
        return None  # some other group the bot was added to: ignored


def normalise(update: Update, chats: StaffChats, received_at: float) -> InboundMessage | None:
    """The shared message for `update`, or None when it is nothing the bridge acts on."""
    if update.callback_query is not None:
        return _button(update, chats, received_at)
    message = update.message or update.edited_message
    if message is None or message.from_user is None:
        return None
    origin = chats.origin_of(message.chat.id, message.chat.type)
    if origin is None:
        return None
    kind = InboundKind.EDIT if update.edited_message is not None else InboundKind.MESSAGE
    text = message.text or message.caption or ""
    attachments = attachments_of(message)
    if not text and not attachments:
        unsupported = next((name for name in _UNSUPPORTED if getattr(message, name, None)), None)
        if unsupported is None or origin != Origin.PRIVATE:
            return None  # service messages (topic created, member joined, …)
        kind, text = InboundKind.UNSUPPORTED, unsupported
    return InboundMessage(
        platform=Platform.TELEGRAM,
        update_id=UpdateId(str(update.update_id)),
        origin=origin,
        chat=ChatId(str(message.chat.id)),
        sender=UserId(str(message.from_user.id)),
        text=text,
        sent_at=message.date.timestamp(),
        received_at=received_at,
        kind=kind,
        thread=ThreadId(str(message.message_thread_id)) if message.is_topic_message else None,
        message_id=MessageId(str(message.message_id)),
        attachments=attachments,
        sender_is_bot=message.from_user.is_bot,
        language=message.from_user.language_code,
        reply_to=_reply_to(message, origin),
    )


def _button(update: Update, chats: StaffChats, received_at: float) -> InboundMessage | None:
    query = update.callback_query
    if query is None or query.data is None or not isinstance(query.message, Message):
        return None
    origin = chats.origin_of(query.message.chat.id, query.message.chat.type)
    if origin is None:
        return None
    return InboundMessage(
        platform=Platform.TELEGRAM,
        update_id=UpdateId(str(update.update_id)),
        origin=origin,
        chat=ChatId(str(query.message.chat.id)),
        sender=UserId(str(query.from_user.id)),
        text=query.data,
        sent_at=received_at,
        received_at=received_at,
        kind=InboundKind.ACTION,
        thread=ThreadId(str(query.message.message_thread_id)) if query.message.is_topic_message else None,
        sender_is_bot=query.from_user.is_bot,
        reply_to=MessageId(str(query.message.message_id)) if origin == Origin.PRIVATE else None,
    )


def _reply_to(message: Message, origin: Origin) -> MessageId | None:
    """The bot's message a private message replies to. Only in private chats: in a forum topic Telegram sets
    every message's reply to the topic's first message."""
    replied = message.reply_to_message
    if origin != Origin.PRIVATE or replied is None or replied.from_user is None or not replied.from_user.is_bot:
        return None
    return MessageId(str(replied.message_id))


def attachments_of(message: Message) -> tuple[Attachment, ...]:
    """Files in a message, by Telegram file id (the largest size of a photo)."""
    if message.photo:
        best = message.photo[-1]
        return (Attachment(AttachmentKind.PHOTO, best.file_id, mime_type="image/jpeg", size=best.file_size),)
    for kind, media in (
        (AttachmentKind.DOCUMENT, message.document),
        (AttachmentKind.VOICE, message.voice),
        (AttachmentKind.AUDIO, message.audio),
        (AttachmentKind.VIDEO, message.video),
    ):
        if media is not None:
            name = getattr(media, "file_name", None)
            return (Attachment(kind, media.file_id, filename=name, mime_type=media.mime_type, size=media.file_size),)
    if message.sticker is not None:
        return (Attachment(AttachmentKind.STICKER, message.sticker.file_id, size=message.sticker.file_size),)
    return ()
