"""Forum topics: creating, closing, reopening, editing and deleting them, by a bot or by an admin.

In Telegram a topic's `message_thread_id` is the id of the `forum_topic_created` service message that opened
it, and every change to a topic posts a service message into it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sandboxes.telegram.api_common import Handler, MethodContext
from sandboxes.telegram.errors import bad_request
from sandboxes.telegram.members import require_right
from sandboxes.telegram.model import TOPIC_ICON_COLORS, JsonObject, Message, Topic, User
from sandboxes.telegram.wire import topic_wire
from sandboxes.telegram.world import THREAD_NOT_FOUND, Room, World


def _service(world: World, room: Room, actor: User, thread_id: int, message_id: int, event: JsonObject) -> Message:
    message = Message(message_id, room.chat, world.now(), actor, thread_id=thread_id, service=event, bot_id=room.bot_id)
    return world.store(room, message)


def open_topic(world: World, room: Room, actor: User, name: str, icon_color: int | None = None) -> Message:
    """Create a topic; returns its `forum_topic_created` service message (whose id is the thread id)."""
    if not room.chat.is_forum:
        raise bad_request("the chat is not a forum")
    if not name.strip() or len(name) > 128:
        raise bad_request("TOPIC_TITLE_EMPTY" if not name.strip() else "TOPIC_TITLE_INVALID")
    color = TOPIC_ICON_COLORS[0] if icon_color is None else icon_color
    if color not in TOPIC_ICON_COLORS:
        raise bad_request("invalid icon_color specified")
    thread_id = room.allocate_id()
    room.topics[thread_id] = Topic(room.chat.id, thread_id, name, color)
    event = {"forum_topic_created": {"name": name, "icon_color": color}}
    return _service(world, room, actor, thread_id, thread_id, event)


def _topic(room: Room, thread_id: int | None) -> Topic:
    if not room.chat.is_forum:
        raise bad_request("the chat is not a forum")
    topic = room.topics.get(thread_id or 0)
    if topic is None:
        raise bad_request(THREAD_NOT_FOUND)
    return topic


def change_topic(world: World, room: Room, actor: User, thread_id: int | None, **changes: Any) -> Message:
    """Close, reopen or rename a topic; Telegram refuses a change that changes nothing."""
    topic = _topic(room, thread_id)
    new = replace(topic, **changes)
    if new == topic:
        raise bad_request("TOPIC_NOT_MODIFIED")
    room.topics[topic.thread_id] = new
    if "closed" in changes:
        event: JsonObject = {"forum_topic_closed" if new.closed else "forum_topic_reopened": {}}
    else:
        event = {"forum_topic_edited": {"name": new.name}}
    return _service(world, room, actor, topic.thread_id, room.allocate_id(), event)


def remove_topic(room: Room, thread_id: int | None) -> Topic:
    """Delete a topic and every message in it."""
    topic = _topic(room, thread_id)
    del room.topics[topic.thread_id]
    for message_id in [m.message_id for m in room.messages.values() if m.thread_id == topic.thread_id]:
        del room.messages[message_id]
    return topic


def _forum(ctx: MethodContext) -> Room:
    return ctx.world.room_for_bot(ctx.bot, ctx.params.chat_ref())


async def create_forum_topic(ctx: MethodContext) -> JsonObject:
    """createForumTopic."""
    room = _forum(ctx)
    if room.chat.is_forum:
        require_right(room, ctx.bot.id, "can_manage_topics", "not enough rights to create a topic")
    name = ctx.params.text("name") or ""
    message = open_topic(ctx.world, room, ctx.bot.user, name, ctx.params.integer("icon_color"))
    return topic_wire(room.topics[message.message_id])


async def close_forum_topic(ctx: MethodContext) -> bool:
    """closeForumTopic."""
    room = _forum(ctx)
    change_topic(ctx.world, room, ctx.bot.user, ctx.params.integer("message_thread_id"), closed=True)
    return True


async def reopen_forum_topic(ctx: MethodContext) -> bool:
    """reopenForumTopic."""
    room = _forum(ctx)
    change_topic(ctx.world, room, ctx.bot.user, ctx.params.integer("message_thread_id"), closed=False)
    return True


async def edit_forum_topic(ctx: MethodContext) -> bool:
    """editForumTopic (name only; custom emoji icons are accepted and ignored)."""
    room = _forum(ctx)
    thread_id = ctx.params.integer("message_thread_id")
    name = ctx.params.text("name")
    if name is None:
        _topic(room, thread_id)
        return True
    if not name.strip() or len(name) > 128:
        raise bad_request("TOPIC_TITLE_INVALID")
    change_topic(ctx.world, room, ctx.bot.user, thread_id, name=name)
    return True


async def delete_forum_topic(ctx: MethodContext) -> bool:
    """deleteForumTopic: the topic and all its messages. Needs the can_delete_messages right (Bot API docs)."""
    room = _forum(ctx)
    if room.chat.is_forum:
        require_right(room, ctx.bot.id, "can_delete_messages", "not enough rights to delete the topic")
    remove_topic(room, ctx.params.integer("message_thread_id"))
    return True


TOPIC_METHODS: dict[str, Handler] = {
    "createForumTopic": create_forum_topic,
    "closeForumTopic": close_forum_topic,
    "reopenForumTopic": reopen_forum_topic,
    "editForumTopic": edit_forum_topic,
    "deleteForumTopic": delete_forum_topic,
}
