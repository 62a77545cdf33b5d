"""What every Bot API method handler shares: its context, and posting a message as the bot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sandboxes.telegram.errors import bad_request
from sandboxes.telegram.markup import apply_parse_mode
from sandboxes.telegram.model import Entity, JsonObject, Message
from sandboxes.telegram.params import Params, check_length, reply_markup
from sandboxes.telegram.webhook import WebhookDispatcher
from sandboxes.telegram.world import BotAccount, Room, World


@dataclass
class MethodContext:
    """One Bot API call: the world, the calling bot and its parameters."""

    world: World
    bot: BotAccount
    params: Params
    webhooks: WebhookDispatcher

    def target(self) -> tuple[Room, int | None]:
        """The room and topic a send goes to (`chat_id`, `message_thread_id`), with Telegram's errors."""
        room = self.world.writable_room(self.bot, self.params.chat_ref())
        return room, self.world.thread_in(room, self.params.integer("message_thread_id"))

    def own_message(self, what: str) -> tuple[Room, Message]:
        """The bot's message named by `chat_id` + `message_id`, for edits."""
        if self.params.has("inline_message_id"):
            raise bad_request("inline messages are not supported by the sandbox")
        room = self.world.writable_room(self.bot, self.params.chat_ref())
        message = self.world.message_in(room, self.params.integer("message_id"), f"message to {what} not found")
        if message.sender_id != self.bot.id:
            raise bad_request("message can't be edited")
        return room, message


Handler = Callable[[MethodContext], Awaitable[Any]]


def formatted(params: Params, name: str, limit: int, what: str) -> tuple[str, tuple[Entity, ...]]:
    """A text or caption parameter after its parse mode, within Telegram's length limit."""
    raw = params.text(name) or ""
    text, entities = apply_parse_mode(raw, params.text("parse_mode"))
    explicit = params.json("entities" if name == "text" else "caption_entities")
    if isinstance(explicit, list):
        try:
            entities = tuple(Entity(e["type"], int(e["offset"]), int(e["length"]), e.get("url")) for e in explicit)
        except (KeyError, TypeError, ValueError):
            raise bad_request("can't parse entities JSON object") from None
    check_length(text, limit, what)
    return text, entities


def split_markup(params: Params) -> tuple[JsonObject | None, JsonObject | None]:
    """(inline keyboard, other reply markup): only inline keyboards are part of the sent Message."""
    markup = reply_markup(params)
    if markup is None or "inline_keyboard" in markup:
        return markup, None
    return None, markup


def reply_target(ctx: MethodContext, room: Room, thread_id: int | None) -> Message | None:
    """The message this one replies to (`reply_parameters` or the older `reply_to_message_id`).

    In a forum topic a message without an explicit reply points to the topic's creation message, as in Telegram.
    """
    raw = ctx.params.json("reply_parameters")
    wanted: dict[str, Any] = raw if isinstance(raw, dict) else {}
    message_id = wanted.get("message_id")
    message_id = message_id or ctx.params.integer("reply_to_message_id")
    if message_id is None:
        return room.messages.get(thread_id) if thread_id is not None else None
    found = room.messages.get(int(message_id))
    lenient = ctx.params.flag("allow_sending_without_reply") or bool(wanted.get("allow_sending_without_reply"))
    if found is None and not lenient:
        raise bad_request("message to be replied not found")
    return found


def post_as_bot(ctx: MethodContext, room: Room, thread_id: int | None, **content: Any) -> Message:
    """Store a new message from the bot with the request's reply markup and reply target."""
    inline, keyboard = split_markup(ctx.params)
    message = Message(
        message_id=room.allocate_id(),
        chat=room.chat,
        date=ctx.world.now(),
        sender=ctx.bot.user,
        thread_id=thread_id,
        reply_markup=inline,
        reply_keyboard=keyboard,
        reply_to=reply_target(ctx, room, thread_id),
        bot_id=room.bot_id,
        **content,
    )
    return ctx.world.store(room, message)
