"""discord.py messages and interactions -> shared `InboundMessage` (pure: no I/O, nothing from the SDK leaks out).

Where something was written decides who wrote it: a DM is a person; the volunteer channel and its threads are
staff (Discord's channel permissions guard who can see and post there); the escalation channel is on-call
professionals. Anything else the bot can see is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import discord

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

# Messages people write; everything else (thread created, pins, joins, command replies) is a system message.
_PERSON_MESSAGE_TYPES = (discord.MessageType.default, discord.MessageType.reply)
_SUBCOMMAND_TYPES = (1, 2)  # SUB_COMMAND, SUB_COMMAND_GROUP: their options are nested one level deeper


@dataclass(frozen=True, slots=True)
class ChannelPlace:
    """Where a message or interaction happened: the channel (or thread) and, for a thread, its parent."""

    channel_id: int
    parent_id: int | None = None
    is_dm: bool = False


@dataclass(frozen=True, slots=True)
class Where:
    """The shared model's view of a place: origin, chat (the DM or staff channel) and thread."""

    origin: Origin
    chat: ChatId
    thread: ThreadId | None = None


@dataclass(frozen=True, slots=True)
class StaffChannels:
    """The two staff channels this bridge serves on Discord (snowflakes)."""

    volunteer: int
    escalation: int

    def locate(self, place: ChannelPlace) -> Where | None:
        """Staff origin of a guild channel or thread, or None for a channel the bridge does not serve."""
        for channel, origin in ((self.volunteer, Origin.STAFF), (self.escalation, Origin.ESCALATION)):
            if place.channel_id == channel:
                return Where(origin, ChatId(str(channel)))
            if place.parent_id == channel:
                return Where(origin, ChatId(str(channel)), ThreadId(str(place.channel_id)))
        return None


def locate(place: ChannelPlace, staff: StaffChannels | None) -> Where | None:
    """Where a place is for the router: a person's DM, a staff channel or thread, or nothing (None)."""
    if place.is_dm:
        return Where(Origin.PRIVATE, ChatId(str(place.channel_id)))
    return staff.locate(place) if staff is not None else None


def place_of(channel: object) -> ChannelPlace | None:
    """The place of a discord.py channel object; None when discord.py only knows the id (resolve it first)."""
    if isinstance(channel, discord.DMChannel):
        return ChannelPlace(channel.id, is_dm=True)
    if isinstance(channel, discord.Thread):
        return ChannelPlace(channel.id, channel.parent_id)
    if isinstance(channel, discord.abc.GuildChannel):
        return ChannelPlace(channel.id)
    if isinstance(channel, discord.PartialMessageable) and channel.guild_id is None:
        return ChannelPlace(channel.id, is_dm=True)
    return None


def normalise_message(
    message: discord.Message, place: ChannelPlace, staff: StaffChannels | None, received_at: float, *, edited: bool
) -> InboundMessage | None:
    """The shared message for a new or edited Discord message, or None when the bridge does not act on it."""
    where = locate(place, staff)
    if where is None or message.type not in _PERSON_MESSAGE_TYPES:
        return None
    kind = InboundKind.EDIT if edited else InboundKind.MESSAGE
    text = message.content
    attachments = attachments_of(message)
    if not text and not attachments:
        unsupported = unsupported_kind(message)
        if unsupported is None or where.origin != Origin.PRIVATE or edited:
            return None
        kind, text = InboundKind.UNSUPPORTED, unsupported
    return InboundMessage(
        platform=Platform.DISCORD,
        update_id=_update_id(message, edited),
        origin=where.origin,
        chat=where.chat,
        sender=UserId(str(message.author.id)),
        text=text,
        sent_at=message.created_at.timestamp(),
        received_at=received_at,
        kind=kind,
        thread=where.thread,
        message_id=MessageId(str(message.id)),
        attachments=attachments,
        sender_is_bot=message.author.bot or message.webhook_id is not None,
    )


def _update_id(message: discord.Message, edited: bool) -> UpdateId:
    """Message ids dedupe redelivered creates; each edit is its own update (keyed by its edit time)."""
    if not edited or message.edited_at is None:
        return UpdateId(str(message.id))
    return UpdateId(f"edit:{message.id}:{int(message.edited_at.timestamp() * 1000)}")


def normalise_interaction(
    interaction: discord.Interaction, place: ChannelPlace, staff: StaffChannels | None, received_at: float
) -> InboundMessage | None:
    """A button press (ACTION with its custom_id) or a slash command ("/release note text"), or None."""
    where = locate(place, staff)
    data = cast(Mapping[str, Any], interaction.data or {})
    if where is None:
        return None
    if interaction.type == discord.InteractionType.component and isinstance(data.get("custom_id"), str):
        kind, text = InboundKind.ACTION, str(data["custom_id"])
    elif interaction.type == discord.InteractionType.application_command and isinstance(data.get("name"), str):
        kind, text = InboundKind.MESSAGE, command_text(data)
    else:
        return None
    return InboundMessage(
        platform=Platform.DISCORD,
        update_id=UpdateId(str(interaction.id)),
        origin=where.origin,
        chat=where.chat,
        sender=UserId(str(interaction.user.id)),
        text=text,
        sent_at=interaction.created_at.timestamp(),
        received_at=received_at,
        kind=kind,
        thread=where.thread,
        sender_is_bot=interaction.user.bot,
        language=str(interaction.locale).split("-")[0] if where.origin == Origin.PRIVATE else None,
    )


def command_text(data: Mapping[str, Any]) -> str:
    """A slash command as the text command the router parses: "/transfer ana", "/note prefers short replies"."""
    words = [str(data["name"]), *_option_words(data.get("options") or [])]
    return "/" + " ".join(w for w in words if w)


def _option_words(options: Sequence[Mapping[str, Any]]) -> list[str]:
    words: list[str] = []
    for option in options:
        if option.get("type") in _SUBCOMMAND_TYPES:
            words += [str(option.get("name", "")), *_option_words(option.get("options") or [])]
        elif option.get("value") is not None:
            words.append(str(option["value"]))
    return words


def attachments_of(message: discord.Message) -> tuple[Attachment, ...]:
    """Files in a message, by their attachment URL (fetched only when relayed)."""
    return tuple(
        Attachment(
            _attachment_kind(a),
            a.url,
            filename=a.filename,
            mime_type=a.content_type,
            size=a.size,
        )
        for a in message.attachments
    )


def _attachment_kind(attachment: discord.Attachment) -> AttachmentKind:
    if attachment.is_voice_message():
        return AttachmentKind.VOICE
    mime = (attachment.content_type or "").split(";")[0]
    for prefix, kind in (("image/", AttachmentKind.PHOTO), ("audio/", AttachmentKind.AUDIO)):
        if mime.startswith(prefix):
            return kind
    return AttachmentKind.VIDEO if mime.startswith("video/") else AttachmentKind.DOCUMENT


def unsupported_kind(message: discord.Message) -> str | None:
    """The name of content the bridge cannot carry (the person is told), or None for an empty message."""
    if message.stickers:
        return "sticker"
    if message.poll is not None:
        return "poll"
    if message.message_snapshots:
        return "forwarded message"
    if message.embeds:
        return "embed"
    return None
