"""What people do in the sandbox: write, edit, press buttons, block the bot. Each action queues updates.

These are the control side's operations; misuse (a button that is not on the message, a user outside the
group) raises `SandboxError`, since a real client could not do it either.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sandboxes.telegram.errors import SandboxError
from sandboxes.telegram.files import MediaSpec
from sandboxes.telegram.markup import command_entities
from sandboxes.telegram.model import CallbackQuery, ChatType, MediaKind, Message, User
from sandboxes.telegram.wire import bot_blocked_wire, callback_query_wire, message_wire
from sandboxes.telegram.world import BotAccount, Room, World


@dataclass(frozen=True)
class Attachment:
    """A file a person sends; build it with `photo()`, `document()`, `voice()` or `sticker()`."""

    kind: MediaKind
    data: bytes
    spec: MediaSpec = field(default_factory=MediaSpec)

    @classmethod
    def photo(cls, data: bytes, width: int | None = None, height: int | None = None) -> Attachment:
        """A photo; the size is read from PNG/JPEG headers when not given."""
        return cls(MediaKind.PHOTO, data, MediaSpec(width=width, height=height))

    @classmethod
    def document(cls, data: bytes, file_name: str = "file.bin", mime_type: str | None = None) -> Attachment:
        """A document (any file)."""
        return cls(MediaKind.DOCUMENT, data, MediaSpec(file_name=file_name, mime_type=mime_type))

    @classmethod
    def voice(cls, data: bytes, duration: int = 1) -> Attachment:
        """A voice note (OGG/Opus in Telegram)."""
        return cls(MediaKind.VOICE, data, MediaSpec(mime_type="audio/ogg", duration=duration))

    @classmethod
    def sticker(cls, data: bytes = b"RIFF\x00\x00\x00\x00WEBP", emoji: str = "🙂") -> Attachment:
        """A sticker."""
        return cls(MediaKind.STICKER, data, MediaSpec(emoji=emoji))


def _update_kind(room: Room, edited: bool) -> str:
    base = "channel_post" if room.chat.type is ChatType.CHANNEL else "message"
    return f"edited_{base}" if edited else base


def deliver(world: World, room: Room, message: Message, *, edited: bool = False) -> None:
    """Queue the message for every bot in the room except its sender (bots never see their own messages)."""
    payload = message_wire(message)
    for bot in world.bot_members(room):
        if bot.id != message.sender_id:
            bot.updates.push(_update_kind(room, edited), payload)


def set_blocked(world: World, bot: BotAccount, user: User, blocked: bool) -> None:
    """Block or unblock the bot as `user`; the bot gets a `my_chat_member` update, as in Telegram."""
    room = world.private_room(bot.id, user, create=True)
    assert room is not None
    if room.blocked == blocked:
        return
    room.blocked = blocked
    bot.updates.push("my_chat_member", bot_blocked_wire(room.chat, user, bot.user, world.now(), blocked))


def _room_for_person(world: World, user: User, chat_id: int | None, bot: BotAccount) -> Room:
    if chat_id is None or chat_id == user.id:
        room = world.private_room(bot.id, user, create=True)
        assert room is not None
        if room.blocked:  # writing to a blocked bot restarts it, as the "Restart" button does
            set_blocked(world, bot, user, blocked=False)
        return room
    room = world.groups.get(chat_id)
    if room is None:
        raise SandboxError("no such group or channel")
    if user.id not in room.members:
        raise SandboxError("the user is not a member of that chat")
    return room


def _thread(room: Room, thread_id: int | None) -> int | None:
    if thread_id is None:
        return None
    if not room.chat.is_forum or thread_id not in room.topics:
        raise SandboxError("no such topic in that chat")
    return thread_id


@dataclass(frozen=True)
class Outgoing:
    """What a person writes: text, or an attachment with an optional caption."""

    text: str = ""
    attachment: Attachment | None = None
    caption: str = ""
    reply_to: int | None = None


def send(world: World, user: User, bot: BotAccount, where: tuple[int | None, int | None], what: Outgoing) -> Message:
    """A person's message into their private chat with `bot` or into a group (topic): `where` = (chat, thread)."""
    if not what.text and what.attachment is None:
        raise SandboxError("a message needs text or an attachment")
    room = _room_for_person(world, user, where[0], bot)
    thread_id = _thread(room, where[1])
    media = None
    if what.attachment is not None:
        media = world.files.store(what.attachment.kind, what.attachment.data, what.attachment.spec)
    reply_id = what.reply_to if what.reply_to is not None else thread_id
    message = Message(
        message_id=room.allocate_id(),
        chat=room.chat,
        date=world.now(),
        sender=user,
        thread_id=thread_id,
        text=what.text if media is None else "",
        entities=command_entities(what.text) if media is None else (),
        caption=what.caption if media is not None else "",
        caption_entities=command_entities(what.caption) if media is not None else (),
        media=media,
        reply_to=room.messages.get(reply_id) if reply_id is not None else None,
        bot_id=room.bot_id,
    )
    world.store(room, message)
    deliver(world, room, message)
    return message


def edit(world: World, message: Message, text: str) -> Message:
    """A person edits their earlier message (text, or caption for media); bots get `edited_message`."""
    room = world.room_of(message)
    current = room.messages.get(message.message_id) if room else None
    if room is None or current is None or current.sender is None or current.sender.is_bot:
        raise SandboxError("only a person's stored message can be edited this way")
    date, version = world.now(), current.version + 1
    if current.media is not None:
        entities = command_entities(text)
        new = replace(current, caption=text, caption_entities=entities, edit_date=date, version=version)
    else:
        new = replace(current, text=text, entities=command_entities(text), edit_date=date, version=version)
    world.store(room, new)
    deliver(world, room, new, edited=True)
    return new


def press(world: World, user: User, message: Message, data: str) -> CallbackQuery:
    """A person presses the inline button with `data` on a bot's message."""
    room = world.room_of(message)
    current = room.messages.get(message.message_id) if room else None
    if room is None or current is None or current.sender is None or not current.sender.is_bot:
        raise SandboxError("buttons can only be pressed on a bot's message that still exists")
    if user.id not in room.members:
        raise SandboxError("the user cannot see that message")
    # A client that has not yet received an edit still shows the version it has: a press on that version's
    # button reaches the bot (with the message as it is now), as on Telegram.
    if data not in [button_data for _, button_data in (*current.buttons, *message.buttons)]:
        raise SandboxError("that message has no button with this callback data")
    query = CallbackQuery(world.next_callback_id(), user, current, data)
    world.callbacks[query.id] = query
    world.bots[current.sender.id].updates.push("callback_query", callback_query_wire(query))
    return query
