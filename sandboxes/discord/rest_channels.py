"""REST routes for channels and threads: read, modify (archive/lock), delete, create threads, thread membership."""

from __future__ import annotations

import dataclasses

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
from sandboxes.discord.drafts import read_json
from sandboxes.discord.model import (
    HAS_THREAD_FLAG,
    ActionKind,
    BotAccount,
    Channel,
    ChannelType,
    JsonObject,
    Permission,
    Snowflake,
    utc_now,
)
from sandboxes.discord.traffic import require_view

_CHANNEL = API_PREFIX + "/channels/{channel_id}"
_ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)


def _visible_channel(core: SandboxCore, request: web.Request) -> Channel:
    channel = core.state.channel(snowflake(request, "channel_id"))
    require_view(core.state, bot_of(request).id, channel)
    return channel


def _require(core: SandboxCore, bot: BotAccount, channel: Channel, needed: Permission) -> None:
    if core.state.permissions(bot.id, channel) & needed != needed:
        raise errors.missing_permissions()


async def _body(request: web.Request) -> JsonObject:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise errors.invalid_form("_root", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    return body


async def get_channel(request: web.Request) -> web.Response:
    """GET /channels/{channel_id}."""
    core = core_of(request)
    channel = _visible_channel(core, request)
    return json_response(core.payloads.channel(channel, viewer_id=bot_of(request).id))


async def modify_channel(request: web.Request) -> web.Response:
    """PATCH /channels/{channel_id}: a thread's archived/locked/name, or a text channel's name/topic."""
    core, bot = core_of(request), bot_of(request)
    channel = _visible_channel(core, request)
    body = await _body(request)
    if channel.is_dm:
        raise errors.ApiError(400, 50024, "Cannot execute action on this channel type")
    if channel.thread is not None:
        _modify_thread(core, bot, channel, body)
        core.fanout.thread_updated(channel)
    else:
        _require(core, bot, channel, Permission.MANAGE_CHANNELS)
        channel.name = str(body.get("name", channel.name))
        channel.topic = body.get("topic", channel.topic)
        core.fanout.channel_updated(channel)
    core.activity.record(ActionKind.CHANNEL_UPDATE, bot.id, channel.id, detail=body)
    return json_response(core.payloads.channel(channel, viewer_id=bot.id))


async def delete_channel(request: web.Request) -> web.Response:
    """DELETE /channels/{channel_id}: a thread (MANAGE_THREADS) or guild channel (MANAGE_CHANNELS) is deleted
    with every message in it and the deleted channel is returned; a DM is only closed, as on Discord."""
    core, bot = core_of(request), bot_of(request)
    channel = _visible_channel(core, request)
    payload = core.payloads.channel(channel, viewer_id=bot.id)
    if channel.is_dm:
        return json_response(payload)
    _require(
        core, bot, channel, Permission.MANAGE_THREADS if channel.thread is not None else Permission.MANAGE_CHANNELS
    )
    viewers = core.fanout.viewers(channel)
    core.state.remove_channel(channel)
    core.fanout.channel_deleted(channel, viewers)
    core.activity.record(ActionKind.CHANNEL_DELETE, bot.id, channel.id)
    return json_response(payload)


def _modify_thread(core: SandboxCore, bot: BotAccount, channel: Channel, body: JsonObject) -> None:
    thread = channel.thread
    assert thread is not None
    manages = bool(core.state.permissions(bot.id, channel) & Permission.MANAGE_THREADS)
    if thread.archived and body.get("archived") is not False:
        raise errors.thread_archived()
    if ("locked" in body or (thread.locked and "archived" in body)) and not manages:
        raise errors.missing_permissions()
    if thread.owner_id != bot.id and not manages:
        raise errors.missing_permissions()
    if "archived" in body and bool(body["archived"]) != thread.archived:
        thread.archived = bool(body["archived"])
        thread.archive_timestamp = utc_now()
    thread.locked = bool(body.get("locked", thread.locked))
    thread.invitable = bool(body.get("invitable", thread.invitable))
    channel.name = str(body.get("name", channel.name))
    duration = body.get("auto_archive_duration", thread.auto_archive_duration)
    if duration not in _ARCHIVE_DURATIONS:
        raise errors.invalid_form(
            "auto_archive_duration", "BASE_TYPE_CHOICES", "Value must be one of (60, 1440, 4320, 10080)."
        )
    thread.auto_archive_duration = duration


async def create_thread(request: web.Request) -> web.Response:
    """POST /channels/{channel_id}/threads: a thread without a starter message (private by default)."""
    core, bot = core_of(request), bot_of(request)
    parent = _visible_channel(core, request)
    body = await _body(request)
    kind = body.get("type", int(ChannelType.PRIVATE_THREAD))
    if kind not in (ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD):
        raise errors.invalid_form("type", "BASE_TYPE_CHOICES", "Value must be one of (10, 11, 12).")
    private = kind == ChannelType.PRIVATE_THREAD
    needed = Permission.CREATE_PRIVATE_THREADS if private else Permission.CREATE_PUBLIC_THREADS
    thread = _start_thread(core, bot, parent, body, needed, private=private, thread_id=None)
    thread_state = thread.thread
    assert thread_state is not None
    thread_state.invitable = bool(body.get("invitable", True))
    return json_response(core.payloads.channel(thread, viewer_id=bot.id), status=201)


async def create_thread_from_message(request: web.Request) -> web.Response:
    """POST /channels/{channel_id}/messages/{message_id}/threads: a public thread whose id is the message's."""
    core, bot = core_of(request), bot_of(request)
    parent = _visible_channel(core, request)
    message = core.state.message(parent.id, snowflake(request, "message_id"))
    if message.thread_id is not None:
        raise errors.ApiError(400, 160004, "A thread has already been created for this message")
    body = await _body(request)
    needed = Permission.CREATE_PUBLIC_THREADS | Permission.READ_MESSAGE_HISTORY
    thread = _start_thread(core, bot, parent, body, needed, private=False, thread_id=message.id)
    starter = dataclasses.replace(message, thread_id=thread.id, flags=message.flags | HAS_THREAD_FLAG)
    core.state.revise(starter)
    core.fanout.message_updated(starter)
    return json_response(core.payloads.channel(thread, viewer_id=bot.id), status=201)


def _start_thread(
    core: SandboxCore,
    bot: BotAccount,
    parent: Channel,
    body: JsonObject,
    needed: Permission,
    *,
    private: bool,
    thread_id: Snowflake | None,
) -> Channel:
    if parent.type is not ChannelType.GUILD_TEXT:
        raise errors.ApiError(400, 50024, "Cannot execute action on this channel type")
    _require(core, bot, parent, needed)
    name = str(body.get("name") or "")
    if not 1 <= len(name) <= 100:
        raise errors.invalid_form("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    duration = body.get("auto_archive_duration") or 1440
    if duration not in _ARCHIVE_DURATIONS:
        raise errors.invalid_form(
            "auto_archive_duration", "BASE_TYPE_CHOICES", "Value must be one of (60, 1440, 4320, 10080)."
        )
    thread = core.state.add_thread(
        parent, bot.id, name, private=private, thread_id=thread_id, auto_archive_duration=duration
    )
    core.fanout.thread_created(thread)
    core.activity.record(ActionKind.THREAD_CREATE, bot.id, thread.id, detail={"parent_id": str(parent.id)})
    return thread


async def join_thread(request: web.Request) -> web.Response:
    """PUT /channels/{channel_id}/thread-members/@me or /{user_id}."""
    return _change_membership(request, join=True)


async def leave_thread(request: web.Request) -> web.Response:
    """DELETE /channels/{channel_id}/thread-members/@me or /{user_id}."""
    return _change_membership(request, join=False)


def _change_membership(request: web.Request, *, join: bool) -> web.Response:
    core, bot = core_of(request), bot_of(request)
    channel = _visible_channel(core, request)
    thread = channel.thread
    if thread is None:
        raise errors.ApiError(400, 50024, "Cannot execute action on this channel type")
    if thread.archived:
        raise errors.thread_archived()
    user_id = bot.id if "user_id" not in request.match_info else snowflake(request, "user_id")
    if user_id != bot.id:
        core.state.user(user_id)
        if not (thread.invitable and join) and not core.state.permissions(bot.id, channel) & Permission.MANAGE_THREADS:
            raise errors.missing_permissions()
    if join and user_id not in thread.member_ids:
        thread.member_ids.add(user_id)
        core.fanout.thread_members_updated(channel, added=[user_id])
    elif not join and user_id in thread.member_ids:
        thread.member_ids.discard(user_id)
        core.fanout.thread_members_updated(channel, removed=[user_id])
    kind = ActionKind.THREAD_JOIN if join else ActionKind.THREAD_LEAVE
    core.activity.record(kind, bot.id, channel.id, detail={"user_id": str(user_id)})
    return no_content()


async def active_threads(request: web.Request) -> web.Response:
    """GET /guilds/{guild_id}/threads/active."""
    core, bot = core_of(request), bot_of(request)
    guild = core.state.guild(snowflake(request, "guild_id"))
    threads = [
        c
        for c in core.state.channels.values()
        if c.guild_id == guild.id and c.thread and not c.thread.archived and core.state.can_view(bot.id, c)
    ]
    return json_response(_thread_list(core, bot, threads))


async def archived_threads(request: web.Request) -> web.Response:
    """GET /channels/{channel_id}/threads/archived/public|private."""
    core, bot = core_of(request), bot_of(request)
    parent = _visible_channel(core, request)
    kind = ChannelType.PUBLIC_THREAD if request.match_info["scope"] == "public" else ChannelType.PRIVATE_THREAD
    threads = [
        t
        for t in core.state.threads_of(parent.id)
        if t.type is kind and t.thread and t.thread.archived and core.state.can_view(bot.id, t)
    ]
    return json_response({**_thread_list(core, bot, threads), "has_more": False})


def _thread_list(core: SandboxCore, bot: BotAccount, threads: list[Channel]) -> JsonObject:
    return {
        "threads": [core.payloads.channel(t, viewer_id=bot.id) for t in threads],
        "members": [
            core.payloads.thread_member(t, bot.id) for t in threads if t.thread and bot.id in t.thread.member_ids
        ],
    }


def channel_routes() -> list[web.RouteDef]:
    """Routes of this module."""
    return [
        web.get(_CHANNEL, get_channel),
        web.patch(_CHANNEL, modify_channel),
        web.delete(_CHANNEL, delete_channel),
        web.post(_CHANNEL + "/threads", create_thread),
        web.post(_CHANNEL + "/messages/{message_id}/threads", create_thread_from_message),
        web.get(_CHANNEL + "/threads/archived/{scope:public|private}", archived_threads),
        web.put(_CHANNEL + "/thread-members/@me", join_thread),
        web.delete(_CHANNEL + "/thread-members/@me", leave_thread),
        web.put(_CHANNEL + "/thread-members/{user_id}", join_thread),
        web.delete(_CHANNEL + "/thread-members/{user_id}", leave_thread),
        web.get(API_PREFIX + "/guilds/{guild_id}/threads/active", active_threads),
    ]
