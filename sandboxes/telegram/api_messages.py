"""Bot API methods that send, copy, edit and delete messages."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sandboxes.telegram.api_common import Handler, MethodContext, formatted, post_as_bot, split_markup
from sandboxes.telegram.errors import bad_request
from sandboxes.telegram.files import MediaSpec
from sandboxes.telegram.model import JsonObject, Media, MediaKind, Message
from sandboxes.telegram.params import Upload
from sandboxes.telegram.wire import message_wire
from sandboxes.telegram.world import Room

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a current "
    "content and reply markup of the message"
)


async def send_message(ctx: MethodContext) -> JsonObject:
    """sendMessage."""
    room, thread_id = ctx.target()
    text, entities = formatted(ctx.params, "text", 4096, "message")
    if not text.strip():
        raise bad_request("message text is empty")
    return message_wire(post_as_bot(ctx, room, thread_id, text=text, entities=entities))


def _media_from(ctx: MethodContext, kind: MediaKind) -> Media:
    source = ctx.params.file(kind.value)
    if source is None:
        raise bad_request(f"there is no {kind.value} in the request")
    if isinstance(source, Upload):
        spec = MediaSpec(
            file_name=source.filename if kind is MediaKind.DOCUMENT else None,
            mime_type=source.content_type if kind in (MediaKind.DOCUMENT, MediaKind.VOICE) else None,
            duration=ctx.params.integer("duration") or 0,
            emoji=ctx.params.text("emoji"),
        )
        return ctx.world.files.store(kind, source.data, spec)
    # The sandbox never fetches URLs (it only talks to 127.0.0.1), so only known file_ids are accepted.
    return ctx.world.files.media_for(source, kind)


def media_sender(kind: MediaKind) -> Handler:
    """sendPhoto / sendDocument / sendVoice / sendSticker."""

    async def send_media(ctx: MethodContext) -> JsonObject:
        room, thread_id = ctx.target()
        media = _media_from(ctx, kind)
        caption, entities = formatted(ctx.params, "caption", 1024, "message caption")
        if kind is MediaKind.STICKER:
            caption, entities = "", ()
        message = post_as_bot(ctx, room, thread_id, media=media, caption=caption, caption_entities=entities)
        return message_wire(message)

    return send_media


def _source_message(ctx: MethodContext, what: str) -> Message:
    room = ctx.world.room_for_bot(ctx.bot, ctx.params.chat_ref("from_chat_id"))
    message = ctx.world.message_in(room, ctx.params.integer("message_id"), f"message to {what} not found")
    if message.service:
        raise bad_request(f"message can't be {'copied' if what == 'copy' else 'forwarded'}")
    return message


def _copied_content(ctx: MethodContext, source: Message) -> dict[str, Any]:
    content: dict[str, Any] = {"text": source.text, "entities": source.entities, "media": source.media}
    if source.media is not None:
        caption, entities = source.caption, source.caption_entities
        if ctx.params.has("caption"):
            caption, entities = formatted(ctx.params, "caption", 1024, "message caption")
        content.update(caption=caption, caption_entities=entities)
    return content


async def copy_message(ctx: MethodContext) -> JsonObject:
    """copyMessage: a new message with the same content, no link to the original."""
    source = _source_message(ctx, "copy")
    room, thread_id = ctx.target()
    message = post_as_bot(ctx, room, thread_id, **_copied_content(ctx, source))
    return {"message_id": message.message_id}


async def forward_message(ctx: MethodContext) -> JsonObject:
    """forwardMessage: like a copy, with `forward_origin` naming the original sender."""
    source = _source_message(ctx, "forward")
    room, thread_id = ctx.target()
    content = {"text": source.text, "entities": source.entities, "media": source.media}
    content.update(caption=source.caption, caption_entities=source.caption_entities)
    message = post_as_bot(ctx, room, thread_id, forward_from=source.sender, **content)
    return message_wire(message)


def _edited(ctx: MethodContext, room: Room, old: Message, **changes: Any) -> JsonObject:
    new = replace(old, **changes, edit_date=ctx.world.now(), version=old.version + 1)
    if all(getattr(new, key) == getattr(old, key) for key in changes):
        raise bad_request(NOT_MODIFIED)
    return message_wire(ctx.world.store(room, new))


async def edit_message_text(ctx: MethodContext) -> JsonObject:
    """editMessageText; without `reply_markup` the inline keyboard is removed, as in Telegram."""
    room, old = ctx.own_message("edit")
    if old.media is not None or old.service:
        raise bad_request("there is no text in the message to edit")
    text, entities = formatted(ctx.params, "text", 4096, "message")
    if not text.strip():
        raise bad_request("message text is empty")
    inline, _ = split_markup(ctx.params)
    return _edited(ctx, room, old, text=text, entities=entities, reply_markup=inline)


async def edit_message_caption(ctx: MethodContext) -> JsonObject:
    """editMessageCaption."""
    room, old = ctx.own_message("edit")
    if old.media is None:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = formatted(ctx.params, "caption", 1024, "message caption")
    inline, _ = split_markup(ctx.params)
    return _edited(ctx, room, old, caption=caption, caption_entities=entities, reply_markup=inline)


async def edit_message_reply_markup(ctx: MethodContext) -> JsonObject:
    """editMessageReplyMarkup; no `reply_markup` removes the keyboard."""
    room, old = ctx.own_message("edit")
    inline, _ = split_markup(ctx.params)
    return _edited(ctx, room, old, reply_markup=inline)


async def delete_message(ctx: MethodContext) -> bool:
    """deleteMessage (the bot is taken to be an admin in groups, so it may delete any message there)."""
    room = ctx.world.room_for_bot(ctx.bot, ctx.params.chat_ref())
    message = ctx.world.message_in(room, ctx.params.integer("message_id"), "message to delete not found")
    del room.messages[message.message_id]
    return True


MESSAGE_METHODS: dict[str, Handler] = {
    "sendMessage": send_message,
    "sendPhoto": media_sender(MediaKind.PHOTO),
    "sendDocument": media_sender(MediaKind.DOCUMENT),
    "sendVoice": media_sender(MediaKind.VOICE),
    "sendSticker": media_sender(MediaKind.STICKER),
    "copyMessage": copy_message,
    "forwardMessage": forward_message,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
}
