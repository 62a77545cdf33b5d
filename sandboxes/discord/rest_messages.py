"""REST routes for messages: create (JSON or multipart), read, edit, delete, typing; and attachment download."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from sandboxes.discord import errors
from sandboxes.discord.core import (
    API_PREFIX,
    SandboxCore,
    bot_of,
    core_of,
    json_response,
    no_content,
    snowflake,
)
from sandboxes.discord.drafts import parse_draft, read_message_body
from sandboxes.discord.model import ActionKind, Channel, Message, Permission, Snowflake
from sandboxes.discord.traffic import require_post_permission, require_view

_CHANNEL = API_PREFIX + "/channels/{channel_id}"


def _channel_for(core: SandboxCore, request: web.Request) -> Channel:
    channel = core.state.channel(snowflake(request, "channel_id"))
    require_view(core.state, bot_of(request).id, channel)
    return channel


def _message_for(core: SandboxCore, request: web.Request) -> Message:
    channel = _channel_for(core, request)
    return core.state.message(channel.id, snowflake(request, "message_id"))


async def create_message(request: web.Request) -> web.Response:
    """POST /channels/{channel_id}/messages."""
    core, bot = core_of(request), bot_of(request)
    channel = core.state.channel(snowflake(request, "channel_id"))
    payload, uploads = await read_message_body(request)
    draft = parse_draft(payload, uploads)
    require_post_permission(core.state, bot.id, channel, with_files=bool(uploads))
    message = core.traffic.post(channel, bot.id, draft)
    return json_response(core.payloads.message(message))


async def list_messages(request: web.Request) -> web.Response:
    """GET /channels/{channel_id}/messages: newest first, with limit/before/after/around."""
    core = core_of(request)
    channel = _channel_for(core, request)
    if not channel.is_dm and not core.state.permissions(bot_of(request).id, channel) & Permission.READ_MESSAGE_HISTORY:
        return json_response([])
    messages = _page(core.state.messages_in(channel.id), request.query)
    return json_response([core.payloads.message(m) for m in messages])


def _page(messages: list[Message], query: Mapping[str, str]) -> list[Message]:
    limit = min(max(_number(query, "limit", 50), 1), 100)
    if "before" in query:
        before = _number(query, "before", 0)
        return [m for m in messages if m.id < before][-limit:][::-1]
    if "after" in query:
        after = _number(query, "after", 0)
        return [m for m in messages if m.id > after][:limit][::-1]
    if "around" in query:
        around = _number(query, "around", 0)
        older = [m for m in messages if m.id <= around][-((limit + 1) // 2) :]
        newer = [m for m in messages if m.id > around][: limit // 2]
        return (older + newer)[::-1]
    return messages[-limit:][::-1]


def _number(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise errors.invalid_form(name, "NUMBER_TYPE_COERCE", "Value is not int.")
    return int(raw)


async def get_message(request: web.Request) -> web.Response:
    """GET /channels/{channel_id}/messages/{message_id}."""
    core = core_of(request)
    return json_response(core.payloads.message(_message_for(core, request)))


async def edit_message(request: web.Request) -> web.Response:
    """PATCH /channels/{channel_id}/messages/{message_id}: only the bot's own messages."""
    core, bot = core_of(request), bot_of(request)
    message = _message_for(core, request)
    if message.author_id != bot.id:
        raise errors.not_author()
    payload, uploads = await read_message_body(request)
    revised = core.traffic.edit(message, parse_draft(payload, uploads), editor_id=bot.id)
    return json_response(core.payloads.message(revised))


async def delete_message(request: web.Request) -> web.Response:
    """DELETE /channels/{channel_id}/messages/{message_id}: own messages, or any with MANAGE_MESSAGES."""
    core, bot = core_of(request), bot_of(request)
    message = _message_for(core, request)
    channel = core.state.channels[message.channel_id]
    may_manage = bool(core.state.permissions(bot.id, channel) & Permission.MANAGE_MESSAGES)
    if message.author_id != bot.id and not may_manage:
        raise errors.missing_permissions()
    core.traffic.delete(message, actor_id=bot.id)
    return no_content()


async def trigger_typing(request: web.Request) -> web.Response:
    """POST /channels/{channel_id}/typing."""
    core, bot = core_of(request), bot_of(request)
    channel = core.state.channel(snowflake(request, "channel_id"))
    require_post_permission(core.state, bot.id, channel, with_files=False)
    core.activity.record(ActionKind.TYPING, bot.id, channel.id)
    return no_content()


async def download_attachment(request: web.Request) -> web.Response:
    """GET /attachments/{channel_id}/{attachment_id}/{filename}: the sandbox's CDN (no auth, like Discord's)."""
    core = core_of(request)
    channel_id = Snowflake(int(request.match_info["channel_id"]))
    attachment_id = Snowflake(int(request.match_info["attachment_id"]))
    for revisions in core.state.history.values():
        if revisions[0].channel_id != channel_id:
            continue
        for attachment in (a for revision in revisions for a in revision.attachments):
            if attachment.id == attachment_id:
                return web.Response(body=attachment.data, headers={"Content-Type": attachment.content_type})
    raise web.HTTPNotFound()


def message_routes() -> list[web.RouteDef]:
    """Routes of this module."""
    return [
        web.post(_CHANNEL + "/messages", create_message),
        web.get(_CHANNEL + "/messages", list_messages),
        web.get(_CHANNEL + "/messages/{message_id}", get_message),
        web.patch(_CHANNEL + "/messages/{message_id}", edit_message),
        web.delete(_CHANNEL + "/messages/{message_id}", delete_message),
        web.post(_CHANNEL + "/typing", trigger_typing),
        web.get("/attachments/{channel_id:\\d+}/{attachment_id:\\d+}/{filename}", download_attachment),
    ]
