"""Rendering of sandbox records as Bot API JSON objects (https://core.telegram.org/bots/api#available-types)."""

from __future__ import annotations

from typing import Any

from sandboxes.telegram.model import (
    CallbackQuery,
    Chat,
    ChatType,
    Entity,
    FileMeta,
    JsonObject,
    Media,
    MediaKind,
    Message,
    Topic,
    User,
)


def _compact(obj: JsonObject) -> JsonObject:
    """Drop absent (None) fields, as Telegram omits them."""
    return {key: value for key, value in obj.items() if value is not None}


def user_wire(user: User) -> JsonObject:
    """A `User` object."""
    return _compact(
        {
            "id": user.id,
            "is_bot": user.is_bot,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "username": user.username,
            "language_code": user.language_code,
        }
    )


def bot_user_wire(user: User) -> JsonObject:
    """The `getMe` answer: a bot `User` with its capability flags."""
    return {
        **user_wire(user),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def chat_wire(chat: Chat) -> JsonObject:
    """A `Chat` object; `is_forum` appears only on forum supergroups."""
    return _compact(
        {
            "id": chat.id,
            "type": chat.type.value,
            "title": chat.title,
            "username": chat.username,
            "first_name": chat.first_name,
            "last_name": chat.last_name,
            "is_forum": True if chat.is_forum else None,
        }
    )


def chat_full_info_wire(chat: Chat) -> JsonObject:
    """A `ChatFullInfo` (the `getChat` answer)."""
    return {**chat_wire(chat), "accent_color_id": 0, "max_reaction_count": 11}


def entity_wire(entity: Entity) -> JsonObject:
    """A `MessageEntity`."""
    return _compact({"type": entity.type, "offset": entity.offset, "length": entity.length, "url": entity.url})


def file_wire(meta: FileMeta) -> JsonObject:
    """A `File` (the `getFile` answer)."""
    return {
        "file_id": meta.file_id,
        "file_unique_id": meta.file_unique_id,
        "file_size": meta.file_size,
        "file_path": meta.file_path,
    }


def _file_ids(meta: FileMeta) -> JsonObject:
    return {"file_id": meta.file_id, "file_unique_id": meta.file_unique_id, "file_size": meta.file_size}


def _thumb_size(width: int, height: int) -> tuple[int, int]:
    scale = 90 / max(width, height, 1)
    return max(1, round(width * scale)), max(1, round(height * scale))


def media_wire(media: Media) -> Any:
    """The value of the Message field named after the media kind."""
    base = _file_ids(media.file)
    if media.kind is MediaKind.PHOTO:
        full = {**base, "width": media.width, "height": media.height}
        if media.thumb is None:
            return [full]
        width, height = _thumb_size(media.width, media.height)
        return [{**_file_ids(media.thumb), "width": width, "height": height}, full]
    if media.kind is MediaKind.DOCUMENT:
        return _compact({**base, "file_name": media.file_name, "mime_type": media.mime_type})
    if media.kind is MediaKind.VOICE:
        return {**base, "duration": media.duration, "mime_type": media.mime_type or "audio/ogg"}
    return _compact(
        {
            **base,
            "type": "regular",
            "width": media.width or 512,
            "height": media.height or 512,
            "is_animated": False,
            "is_video": False,
            "emoji": media.emoji,
        }
    )


def _content_wire(message: Message) -> JsonObject:
    out: JsonObject = {}
    if message.text:
        out["text"] = message.text
        if message.entities:
            out["entities"] = [entity_wire(e) for e in message.entities]
    if message.media is not None:
        out[message.media.kind.value] = media_wire(message.media)
        if message.caption:
            out["caption"] = message.caption
        if message.caption_entities:
            out["caption_entities"] = [entity_wire(e) for e in message.caption_entities]
    return out


def message_wire(message: Message, *, nested: bool = True) -> JsonObject:
    """A `Message`; `reply_to_message` is rendered one level deep, as Telegram does."""
    out: JsonObject = {"message_id": message.message_id}
    if message.chat.type is ChatType.CHANNEL:
        out["sender_chat"] = chat_wire(message.chat)  # channel posts are sent on behalf of the channel
    elif message.sender is not None:
        out["from"] = user_wire(message.sender)
    out["date"] = message.date
    out["chat"] = chat_wire(message.chat)
    if message.thread_id is not None:
        out["message_thread_id"] = message.thread_id
        out["is_topic_message"] = True
    if message.forward_from is not None:
        origin = {"type": "user", "sender_user": user_wire(message.forward_from), "date": message.date}
        out["forward_origin"] = origin
    if nested and message.reply_to is not None:
        out["reply_to_message"] = message_wire(message.reply_to, nested=False)
    if message.edit_date is not None:
        out["edit_date"] = message.edit_date
    out.update(_content_wire(message))
    out.update(message.service)
    if message.reply_markup is not None:
        out["reply_markup"] = message.reply_markup
    return out


def topic_wire(topic: Topic) -> JsonObject:
    """A `ForumTopic` (the `createForumTopic` answer)."""
    return {"message_thread_id": topic.thread_id, "name": topic.name, "icon_color": topic.icon_color}


def callback_query_wire(query: CallbackQuery) -> JsonObject:
    """A `CallbackQuery` update payload."""
    return {
        "id": query.id,
        "from": user_wire(query.user),
        "message": message_wire(query.message),
        "chat_instance": str(abs(query.message.chat_id) * 7919 % 10**18),
        "data": query.data,
    }


def member_wire(user: User, status: str) -> JsonObject:
    """A `ChatMember` with just a status (member, kicked...)."""
    out: JsonObject = {"status": status, "user": user_wire(user)}
    if status == "kicked":
        out["until_date"] = 0
    return out


def bot_blocked_wire(chat: Chat, user: User, bot: User, date: int, blocked: bool) -> JsonObject:
    """The `my_chat_member` update a bot gets when a user blocks (or unblocks) it in private."""
    old, new = ("member", "kicked") if blocked else ("kicked", "member")
    return {
        "chat": chat_wire(chat),
        "from": user_wire(user),
        "date": date,
        "old_chat_member": member_wire(bot, old),
        "new_chat_member": member_wire(bot, new),
    }
