"""The sandbox's HTTP control API under `/_sandbox/`, for a browser page or another process.

Every route mirrors a `DiscordSandbox` method and takes/returns JSON with ids as strings. Misuse answers 400
`{"error": ...}`; an unknown id answers 404 with Discord's error body. Message text is never logged.

    GET    /_sandbox/state                               bots, users, guilds, channels
    POST   /_sandbox/users                               {name, dms_open?}
    POST   /_sandbox/users/{user_id}/dms                 {open}
    POST   /_sandbox/guilds                              {name, owner_id?}
    POST   /_sandbox/guilds/{guild_id}/roles             {name, permissions?}
    POST   /_sandbox/guilds/{guild_id}/members           {user_id, role_ids?}
    POST   /_sandbox/guilds/{guild_id}/channels          {name, visible_to?: [role or user ids], topic?}
    POST   /_sandbox/channels/{channel_id}/overwrites    {target_id, allow?, deny?}
    POST   /_sandbox/dms                                 {user_id, content, bot_id?, attachments?}
    POST   /_sandbox/channels/{channel_id}/messages      {user_id, content, attachments?, reply_to?}
    GET    /_sandbox/channels/{channel_id}/messages      current revisions, oldest first
    PATCH  /_sandbox/messages/{message_id}               {content}
    DELETE /_sandbox/messages/{message_id}
    GET    /_sandbox/messages/{message_id}/revisions
    POST   /_sandbox/threads/{channel_id}/archive        {locked?}
    POST   /_sandbox/interactions/button                 {user_id, message_id, custom_id}
    POST   /_sandbox/interactions/select                 {user_id, message_id, custom_id, values}
    POST   /_sandbox/interactions/slash                  {user_id, channel_id, command, options?, bot_id?}
    GET    /_sandbox/interactions/{interaction_id}
    POST   /_sandbox/faults                              {route, times?, status?, retry_after?, global?}
    POST   /_sandbox/gateway/disconnect                  {bot_id?, code?, resumable?}
    GET    /_sandbox/actions?after=N&timeout=S           bot actions after N (long poll)
    GET    /_sandbox/calls?route=...                     REST call log

Attachments are `[{filename, content_base64, content_type?}]`. A slash option that is a user, channel or
role is given as `{"user": id}`, `{"channel": id}` or `{"role": id}`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandboxes.discord import errors
from sandboxes.discord.control_port import ControlledSandbox
from sandboxes.discord.core import SandboxCore, error_response, json_response, no_content
from sandboxes.discord.interactions import OptionValue
from sandboxes.discord.model import (
    BotAccount,
    BotAction,
    CallRecord,
    Guild,
    InteractionRecord,
    JsonObject,
    Message,
    Permission,
    Role,
    Snowflake,
    Upload,
    User,
)
from sandboxes.discord.payloads import role_payload, user_payload

PREFIX = "/_sandbox"
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ControlApi:
    """HTTP handlers bound to one sandbox."""

    def __init__(self, sandbox: ControlledSandbox, core: SandboxCore) -> None:
        self._sandbox = sandbox
        self._core = core
        self._state = core.state

    # --- helpers -------------------------------------------------------------------------------------------

    def _id(self, raw: object) -> Snowflake:
        if isinstance(raw, bool) or not str(raw).isdigit():
            raise errors.SandboxError("expected a snowflake id")
        return Snowflake(int(str(raw)))

    def _user(self, raw: object) -> User:
        return self._state.user(self._id(raw))

    def _bot(self, raw: object) -> BotAccount | None:
        if raw is None:
            return None
        bot = self._state.bots.get(self._id(raw))
        if bot is None:
            raise errors.unknown_user()
        return bot

    def _role(self, guild: Guild, raw: object) -> Role:
        role = guild.roles.get(self._id(raw))
        if role is None:
            raise errors.ApiError(404, 10011, "Unknown Role")
        return role

    def _message(self, raw: object) -> Message:
        message = self._state.messages.get(self._id(raw))
        if message is None:
            raise errors.unknown_message()
        return message

    def _uploads(self, body: JsonObject) -> list[Upload]:
        uploads = []
        for item in body.get("attachments") or []:
            try:
                data = base64.b64decode(item["content_base64"], validate=True)
            except (KeyError, TypeError, binascii.Error):
                raise errors.SandboxError("an attachment needs filename and content_base64") from None
            content_type = str(item.get("content_type") or "application/octet-stream")
            uploads.append(Upload(str(item.get("filename") or "file"), data, content_type))
        return uploads

    def _message_json(self, message: Message) -> JsonObject:
        return {**self._core.payloads.message(message), "revision": message.revision}

    # --- world ---------------------------------------------------------------------------------------------

    async def get_state(self, _: JsonObject, __: web.Request) -> Any:
        state = self._state
        payloads = self._core.payloads
        return {
            "bots": [{**user_payload(b.user), "application_id": str(b.application_id)} for b in state.bots.values()],
            "users": [user_payload(u) for u in state.users.values() if not u.bot],
            "guilds": [_guild_json(g, payloads.member) for g in state.guilds.values()],
            "channels": [payloads.channel(c) for c in state.channels.values()],
        }

    async def create_user(self, body: JsonObject, _: web.Request) -> Any:
        return user_payload(self._sandbox.create_user(str(body["name"]), dms_open=bool(body.get("dms_open", True))))

    async def set_dms(self, body: JsonObject, request: web.Request) -> Any:
        user = self._user(request.match_info["user_id"])
        (self._sandbox.open_dms if body.get("open", True) else self._sandbox.close_dms)(user)
        return {"user_id": str(user.id), "dms_open": user.id not in self._state.dms_closed}

    async def create_guild(self, body: JsonObject, _: web.Request) -> Any:
        owner = self._user(body["owner_id"]) if body.get("owner_id") else None
        guild = self._sandbox.create_guild(str(body["name"]), owner=owner)
        return _guild_json(guild, self._core.payloads.member)

    async def create_role(self, body: JsonObject, request: web.Request) -> Any:
        guild = self._state.guild(self._id(request.match_info["guild_id"]))
        permissions = Permission(int(body.get("permissions") or 0))
        return role_payload(self._sandbox.create_role(guild, str(body["name"]), permissions=permissions))

    async def add_member(self, body: JsonObject, request: web.Request) -> Any:
        guild = self._state.guild(self._id(request.match_info["guild_id"]))
        roles = [self._role(guild, r) for r in body.get("role_ids") or []]
        member = self._sandbox.add_member(guild, self._user(body["user_id"]), roles)
        return self._core.payloads.member(member)

    async def create_channel(self, body: JsonObject, request: web.Request) -> Any:
        guild = self._state.guild(self._id(request.match_info["guild_id"]))
        visible = body.get("visible_to")
        targets: list[Role | User] | None = None
        if visible is not None:
            targets = [guild.roles[self._id(t)] if self._id(t) in guild.roles else self._user(t) for t in visible]
        channel = self._sandbox.create_text_channel(
            guild, str(body["name"]), visible_to=targets, topic=body.get("topic")
        )
        return self._core.payloads.channel(channel)

    async def set_overwrite(self, body: JsonObject, request: web.Request) -> Any:
        channel = self._sandbox.channel(self._id(request.match_info["channel_id"]))
        guild = self._state.guild(self._id(channel.guild_id))
        target_id = self._id(body["target_id"])
        target: Role | User = guild.roles[target_id] if target_id in guild.roles else self._user(target_id)
        allow, deny = Permission(int(body.get("allow") or 0)), Permission(int(body.get("deny") or 0))
        self._sandbox.set_overwrite(channel, target, allow=allow, deny=deny)
        return self._core.payloads.channel(channel)

    # --- people --------------------------------------------------------------------------------------------

    async def send_dm(self, body: JsonObject, _: web.Request) -> Any:
        user, bot = self._user(body["user_id"]), self._bot(body.get("bot_id"))
        message = self._sandbox.send_dm(user, str(body.get("content", "")), bot=bot, attachments=self._uploads(body))
        return self._message_json(message)

    async def send_message(self, body: JsonObject, request: web.Request) -> Any:
        channel = self._sandbox.channel(self._id(request.match_info["channel_id"]))
        reply_to = self._message(body["reply_to"]) if body.get("reply_to") else None
        message = self._sandbox.send_message(
            self._user(body["user_id"]),
            channel,
            str(body.get("content", "")),
            attachments=self._uploads(body),
            reply_to=reply_to,
        )
        return self._message_json(message)

    async def list_messages(self, _: JsonObject, request: web.Request) -> Any:
        channel = self._sandbox.channel(self._id(request.match_info["channel_id"]))
        return [self._message_json(m) for m in self._sandbox.messages(channel)]

    async def edit_message(self, body: JsonObject, request: web.Request) -> Any:
        message = self._message(request.match_info["message_id"])
        return self._message_json(self._sandbox.edit_message(message, str(body["content"])))

    async def delete_message(self, _: JsonObject, request: web.Request) -> Any:
        self._sandbox.delete_message(self._message(request.match_info["message_id"]))
        return None

    async def revisions(self, _: JsonObject, request: web.Request) -> Any:
        history = self._state.history.get(self._id(request.match_info["message_id"]))
        if history is None:
            raise errors.unknown_message()
        return [self._message_json(m) for m in history]

    async def archive_thread(self, body: JsonObject, request: web.Request) -> Any:
        thread = self._sandbox.channel(self._id(request.match_info["channel_id"]))
        self._sandbox.archive_thread(thread, locked=bool(body.get("locked", False)))
        return self._core.payloads.channel(thread)

    async def press_button(self, body: JsonObject, _: web.Request) -> Any:
        user, message = self._user(body["user_id"]), self._message(body["message_id"])
        return _interaction_json(self._sandbox.press_button(user, message, str(body["custom_id"])))

    async def select_options(self, body: JsonObject, _: web.Request) -> Any:
        user, message = self._user(body["user_id"]), self._message(body["message_id"])
        values = [str(v) for v in body.get("values") or []]
        return _interaction_json(self._sandbox.select_options(user, message, str(body["custom_id"]), values))

    async def invoke_slash(self, body: JsonObject, _: web.Request) -> Any:
        channel = self._sandbox.channel(self._id(body["channel_id"]))
        options = {name: self._option(channel.guild_id, value) for name, value in (body.get("options") or {}).items()}
        record = self._sandbox.invoke_slash(
            self._user(body["user_id"]), channel, str(body["command"]), options, bot=self._bot(body.get("bot_id"))
        )
        return _interaction_json(record)

    def _option(self, guild_id: Snowflake | None, value: object) -> OptionValue:
        if not isinstance(value, dict):
            if not isinstance(value, str | int | float | bool):
                raise errors.SandboxError("option values are strings, numbers, booleans or {user|channel|role: id}")
            return value
        if "user" in value:
            return self._user(value["user"])
        if "channel" in value:
            return self._sandbox.channel(self._id(value["channel"]))
        if "role" in value and guild_id is not None:
            return self._role(self._state.guild(guild_id), value["role"])
        raise errors.SandboxError("an object option needs a user, channel or role id")

    async def get_interaction(self, _: JsonObject, request: web.Request) -> Any:
        record = self._state.interactions.get(self._id(request.match_info["interaction_id"]))
        if record is None:
            raise errors.unknown_interaction()
        return _interaction_json(record)

    # --- failures and observation --------------------------------------------------------------------------

    async def add_fault(self, body: JsonObject, _: web.Request) -> Any:
        self._sandbox.fail_next(
            str(body["route"]),
            times=int(body.get("times", 1)),
            status=int(body.get("status", 429)),
            retry_after=float(body.get("retry_after", 0.05)),
            is_global=bool(body.get("global", False)),
        )
        return {"route": body["route"], "pending": self._core.faults.pending(str(body["route"]))}

    async def disconnect(self, body: JsonObject, _: web.Request) -> Any:
        bot = self._bot(body.get("bot_id"))
        closed = await self._sandbox.disconnect_gateway(
            bot, code=int(body.get("code", 4000)), resumable=bool(body.get("resumable", True))
        )
        return {"closed": closed}

    async def actions(self, _: JsonObject, request: web.Request) -> Any:
        after = int(request.query.get("after", "0"))
        timeout = min(float(request.query.get("timeout", "0")), 30.0)
        found = await self._core.activity.actions_after(after, timeout)
        return [self._action_json(a) for a in found]

    def _action_json(self, action: BotAction) -> JsonObject:
        return {
            "seq": action.seq,
            "kind": str(action.kind),
            "bot_id": str(action.bot_id),
            "channel_id": None if action.channel_id is None else str(action.channel_id),
            "at": action.at,
            "message": None if action.message is None else self._message_json(action.message),
            "interaction_id": None if action.interaction_id is None else str(action.interaction_id),
            "detail": action.detail,
        }

    async def calls(self, _: JsonObject, request: web.Request) -> Any:
        return [_call_json(c) for c in self._sandbox.calls(request.query.get("route"))]


def _guild_json(guild: Guild, member_payload: Callable[..., JsonObject]) -> JsonObject:
    return {
        "id": str(guild.id),
        "name": guild.name,
        "owner_id": str(guild.owner_id),
        "roles": [role_payload(r) for r in guild.roles.values()],
        "members": [member_payload(m) for m in guild.members.values()],
        "channel_ids": [str(c) for c in guild.channel_ids],
    }


def _interaction_json(record: InteractionRecord) -> JsonObject:
    return {
        "id": str(record.id),
        "kind": int(record.kind),
        "user_id": str(record.user_id),
        "channel_id": str(record.channel_id),
        "guild_id": None if record.guild_id is None else str(record.guild_id),
        "message_id": None if record.message_id is None else str(record.message_id),
        "data": record.data,
        "responses": [{"type": r.type, "data": r.data, "at": r.at} for r in record.responses],
        "original_message_id": None if record.original_message_id is None else str(record.original_message_id),
        "followup_ids": [str(m) for m in record.followup_ids],
    }


def _call_json(call: CallRecord) -> JsonObject:
    bot_id = None if call.bot_id is None else str(call.bot_id)
    return {
        "route": call.route,
        "method": call.method,
        "path": call.path,
        "status": call.status,
        "at": call.at,
        "bot_id": bot_id,
    }


def _wrap(handler: Callable[[JsonObject, web.Request], Awaitable[Any]]) -> _Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            body = json.loads(await request.read() or b"{}")
            if not isinstance(body, dict):
                raise errors.SandboxError("the body must be a JSON object")
            result = await handler(body, request)
        except errors.ApiError as error:
            return error_response(error)
        except (errors.SandboxError, KeyError, ValueError, TypeError) as error:
            return json_response({"error": f"{type(error).__name__}: {error}"}, status=400)
        return no_content() if result is None else json_response(result)

    return wrapped


def control_routes(sandbox: ControlledSandbox, core: SandboxCore) -> list[web.RouteDef]:
    """The `/_sandbox/...` routes bound to a sandbox."""
    api = ControlApi(sandbox, core)
    table: list[tuple[str, str, Callable[[JsonObject, web.Request], Awaitable[Any]]]] = [
        ("GET", "/state", api.get_state),
        ("POST", "/users", api.create_user),
        ("POST", "/users/{user_id}/dms", api.set_dms),
        ("POST", "/guilds", api.create_guild),
        ("POST", "/guilds/{guild_id}/roles", api.create_role),
        ("POST", "/guilds/{guild_id}/members", api.add_member),
        ("POST", "/guilds/{guild_id}/channels", api.create_channel),
        ("POST", "/channels/{channel_id}/overwrites", api.set_overwrite),
        ("POST", "/dms", api.send_dm),
        ("POST", "/channels/{channel_id}/messages", api.send_message),
        ("GET", "/channels/{channel_id}/messages", api.list_messages),
        ("PATCH", "/messages/{message_id}", api.edit_message),
        ("DELETE", "/messages/{message_id}", api.delete_message),
        ("GET", "/messages/{message_id}/revisions", api.revisions),
        ("POST", "/threads/{channel_id}/archive", api.archive_thread),
        ("POST", "/interactions/button", api.press_button),
        ("POST", "/interactions/select", api.select_options),
        ("POST", "/interactions/slash", api.invoke_slash),
        ("GET", "/interactions/{interaction_id}", api.get_interaction),
        ("POST", "/faults", api.add_fault),
        ("POST", "/gateway/disconnect", api.disconnect),
        ("GET", "/actions", api.actions),
        ("GET", "/calls", api.calls),
    ]
    return [web.route(method, PREFIX + path, _wrap(handler)) for method, path, handler in table]
