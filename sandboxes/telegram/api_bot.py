"""Bot API methods about the bot itself: identity, updates, webhook, callbacks, files, commands, chat actions."""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from sandboxes.telegram.api_common import Handler, MethodContext
from sandboxes.telegram.errors import bad_request
from sandboxes.telegram.model import ChatAction, JsonObject
from sandboxes.telegram.wire import bot_user_wire, chat_full_info_wire, file_wire
from sandboxes.telegram.world import WebhookState

_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


async def get_me(ctx: MethodContext) -> JsonObject:
    """getMe."""
    return bot_user_wire(ctx.bot.user)


def _allowed_updates(ctx: MethodContext) -> list[str] | None:
    allowed = ctx.params.json("allowed_updates")
    if allowed is not None and not (isinstance(allowed, list) and all(isinstance(a, str) for a in allowed)):
        raise bad_request("can't parse allowed updates")
    return allowed


async def get_updates(ctx: MethodContext) -> list[JsonObject]:
    """getUpdates: long poll; answers 409 while a webhook is set or when a newer poll starts."""
    allowed = _allowed_updates(ctx)
    if allowed is not None:
        ctx.bot.updates.allowed = frozenset(allowed)
    limit = min(max(ctx.params.integer("limit") or 100, 1), 100)
    timeout = ctx.params.number("timeout", 0.0)
    queue = ctx.bot.updates
    return await queue.poll(ctx.params.integer("offset"), limit, timeout, lambda: ctx.bot.webhook is not None)


async def set_webhook(ctx: MethodContext) -> bool:
    """setWebhook; an empty url deletes the webhook. http:// URLs are allowed (the sandbox is local)."""
    url = ctx.params.text("url") or ""
    secret = ctx.params.text("secret_token")
    if secret is not None and not _SECRET.match(secret):
        raise bad_request("secret token contains unallowed characters")
    if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname):
        raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
    allowed = _allowed_updates(ctx)
    if allowed is not None:
        ctx.bot.updates.allowed = frozenset(allowed)
    if ctx.params.flag("drop_pending_updates"):
        ctx.bot.updates.clear()
    connections = ctx.params.integer("max_connections") or 40
    state = WebhookState(url, secret, connections, allowed) if url else None
    await ctx.webhooks.configure(ctx.bot, state)
    return True


async def delete_webhook(ctx: MethodContext) -> bool:
    """deleteWebhook; pending updates stay for getUpdates unless `drop_pending_updates`."""
    if ctx.params.flag("drop_pending_updates"):
        ctx.bot.updates.clear()
    await ctx.webhooks.configure(ctx.bot, None)
    return True


async def get_webhook_info(ctx: MethodContext) -> JsonObject:
    """getWebhookInfo."""
    state = ctx.bot.webhook
    info: JsonObject = {"url": "", "has_custom_certificate": False, "pending_update_count": len(ctx.bot.updates)}
    if state is not None:
        info.update(url=state.url, max_connections=state.max_connections, ip_address="127.0.0.1")
        extra = {
            "allowed_updates": state.allowed_updates,
            "last_error_date": state.last_error_date,
            "last_error_message": state.last_error_message,
        }
        info.update({key: value for key, value in extra.items() if value is not None})
    return info


async def answer_callback_query(ctx: MethodContext) -> bool:
    """answerCallbackQuery; a query can be answered once."""
    query_id = ctx.params.require_text("callback_query_id")
    query = ctx.world.callbacks.get(query_id)
    if query is None or query.answered:
        raise bad_request(QUERY_INVALID)
    text = ctx.params.text("text")
    ctx.world.callbacks[query_id] = replace(
        query, answered=True, answer_text=text, show_alert=ctx.params.flag("show_alert")
    )
    ctx.world.bot_activity.notify()
    return True


async def get_file(ctx: MethodContext) -> JsonObject:
    """getFile: the download path for `/file/bot<token>/<file_path>`."""
    return file_wire(ctx.world.files.meta(ctx.params.require_text("file_id")))


def _commands_key(ctx: MethodContext) -> str:
    scope = ctx.params.json("scope") or {"type": "default"}
    return f"{json.dumps(scope, sort_keys=True)}|{ctx.params.text('language_code') or ''}"


def _checked_commands(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list) or len(raw) > 100:
        raise bad_request("can't parse commands JSON object")
    commands = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command, description = str(item.get("command", "")), str(item.get("description", ""))
        if not _COMMAND.match(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        commands.append({"command": command, "description": description})
    return commands


async def set_my_commands(ctx: MethodContext) -> bool:
    """setMyCommands, kept per scope and language."""
    ctx.bot.commands[_commands_key(ctx)] = _checked_commands(ctx.params.json("commands"))
    return True


async def get_my_commands(ctx: MethodContext) -> list[dict[str, str]]:
    """getMyCommands."""
    return ctx.bot.commands.get(_commands_key(ctx), [])


async def delete_my_commands(ctx: MethodContext) -> bool:
    """deleteMyCommands."""
    ctx.bot.commands.pop(_commands_key(ctx), None)
    return True


async def send_chat_action(ctx: MethodContext) -> bool:
    """sendChatAction."""
    room, thread_id = ctx.target()
    action = ctx.params.text("action") or ""
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    ctx.world.chat_actions.append(ChatAction(ctx.bot.id, room.chat.id, thread_id, action, time.monotonic()))
    ctx.world.bot_activity.notify()
    return True


async def get_chat(ctx: MethodContext) -> JsonObject:
    """getChat."""
    return chat_full_info_wire(ctx.world.room_for_bot(ctx.bot, ctx.params.chat_ref()).chat)


BOT_METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "answerCallbackQuery": answer_callback_query,
    "getFile": get_file,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "sendChatAction": send_chat_action,
    "getChat": get_chat,
}
