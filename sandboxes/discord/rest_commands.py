"""REST routes for application commands, global and per guild (what `CommandTree.sync()` calls).

Ids stay stable when a bulk overwrite keeps a command of the same name and type, as on Discord.
"""

from __future__ import annotations

import json
import re

from aiohttp import web

from sandboxes.discord import errors
from sandboxes.discord.core import API_PREFIX, SandboxCore, bot_of, core_of, json_response, no_content, snowflake
from sandboxes.discord.drafts import read_json
from sandboxes.discord.model import ActionKind, BotAccount, CommandRecord, JsonObject, Snowflake
from sandboxes.discord.payloads import command_payload

_NAME = re.compile(r"^[-_\w]{1,32}$")
_CORE_FIELDS = ("id", "application_id", "version", "guild_id", "name", "type", "description", "options")
CHAT_INPUT = 1


def _scope(core: SandboxCore, request: web.Request) -> tuple[BotAccount, Snowflake | None]:
    bot = bot_of(request)
    if snowflake(request, "application_id") != bot.application_id:
        raise errors.ApiError(403, 20012, "You are not authorized to perform this action on this application")
    if "guild_id" not in request.match_info:
        return bot, None
    guild = core.state.guild(snowflake(request, "guild_id"))
    if bot.id not in guild.members:
        raise errors.missing_access()
    return bot, guild.id


def _command_from(
    core: SandboxCore, body: object, bot: BotAccount, guild_id: Snowflake | None, existing: CommandRecord | None
) -> CommandRecord:
    if not isinstance(body, dict):
        raise errors.invalid_form("_root", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    name, kind = str(body.get("name", "")), int(body.get("type") or CHAT_INPUT)
    description = str(body.get("description") or "")
    if not _NAME.match(name) or (kind == CHAT_INPUT and name != name.lower()):
        raise errors.invalid_form("name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    if kind == CHAT_INPUT and not 1 <= len(description) <= 100:
        raise errors.invalid_form("description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    localized = body.get("description_localizations") or {}
    if not isinstance(localized, dict) or not all(
        isinstance(v, str) and 1 <= len(v) <= 100 for v in localized.values()
    ):
        raise errors.invalid_form(
            "description_localizations", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    options = body.get("options") or []
    if not isinstance(options, list):
        raise errors.invalid_form("options", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType.")
    return CommandRecord(
        id=existing.id if existing is not None else core.state.ids.next(),
        application_id=bot.application_id,
        guild_id=guild_id,
        name=name,
        type=kind,
        description=description,
        options=tuple(json.loads(json.dumps(options))),
        version=core.state.ids.next(),
        extra={k: v for k, v in body.items() if k not in _CORE_FIELDS},
    )


def _find(core: SandboxCore, bot: BotAccount, guild_id: Snowflake | None, name: str, kind: int) -> CommandRecord | None:
    for command in core.state.commands_of(bot.application_id, guild_id):
        if command.name == name and command.type == kind:
            return command
    return None


def _scoped_command(core: SandboxCore, request: web.Request) -> tuple[BotAccount, CommandRecord]:
    bot, guild_id = _scope(core, request)
    command = core.state.commands.get(snowflake(request, "command_id"))
    if command is None or command.application_id != bot.application_id or command.guild_id != guild_id:
        raise errors.unknown_command()
    return bot, command


async def list_commands(request: web.Request) -> web.Response:
    """GET .../commands."""
    core = core_of(request)
    bot, guild_id = _scope(core, request)
    return json_response([command_payload(c) for c in core.state.commands_of(bot.application_id, guild_id)])


async def overwrite_commands(request: web.Request) -> web.Response:
    """PUT .../commands: replaces the whole set."""
    core = core_of(request)
    bot, guild_id = _scope(core, request)
    body = await read_json(request)
    if not isinstance(body, list):
        raise errors.invalid_form("_root", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType.")
    old = {(c.name, c.type): c for c in core.state.commands_of(bot.application_id, guild_id)}
    fresh: list[CommandRecord] = []
    for item in body:
        key = (str(item.get("name")), int(item.get("type") or CHAT_INPUT)) if isinstance(item, dict) else ("", 0)
        fresh.append(_command_from(core, item, bot, guild_id, old.get(key)))
    for command in old.values():
        del core.state.commands[command.id]
    core.state.commands.update({c.id: c for c in fresh})
    core.activity.record(ActionKind.COMMANDS_SYNC, bot.id, None, detail={"guild_id": guild_id, "count": len(fresh)})
    return json_response([command_payload(c) for c in fresh])


async def upsert_command(request: web.Request) -> web.Response:
    """POST .../commands: creates, or replaces the command of the same name and type (then 200, not 201)."""
    core = core_of(request)
    bot, guild_id = _scope(core, request)
    body = await read_json(request)
    kind = int(body.get("type") or CHAT_INPUT) if isinstance(body, dict) else CHAT_INPUT
    existing = _find(core, bot, guild_id, str(body.get("name", "")) if isinstance(body, dict) else "", kind)
    command = _command_from(core, body, bot, guild_id, existing)
    core.state.commands[command.id] = command
    return json_response(command_payload(command), status=200 if existing else 201)


async def get_command(request: web.Request) -> web.Response:
    """GET .../commands/{command_id}."""
    _, command = _scoped_command(core_of(request), request)
    return json_response(command_payload(command))


async def edit_command(request: web.Request) -> web.Response:
    """PATCH .../commands/{command_id}."""
    core = core_of(request)
    bot, command = _scoped_command(core, request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise errors.invalid_form("_root", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    merged: JsonObject = {**command_payload(command), **body}
    revised = _command_from(core, merged, bot, command.guild_id, command)
    core.state.commands[revised.id] = revised
    return json_response(command_payload(revised))


async def delete_command(request: web.Request) -> web.Response:
    """DELETE .../commands/{command_id}."""
    core = core_of(request)
    _, command = _scoped_command(core, request)
    del core.state.commands[command.id]
    return no_content()


def command_routes() -> list[web.RouteDef]:
    """Routes of this module, for global and guild commands."""
    routes: list[web.RouteDef] = []
    app = API_PREFIX + "/applications/{application_id}"
    for base in (app + "/commands", app + "/guilds/{guild_id}/commands"):
        routes += [
            web.get(base, list_commands),
            web.put(base, overwrite_commands),
            web.post(base, upsert_command),
            web.get(base + "/{command_id}", get_command),
            web.patch(base + "/{command_id}", edit_command),
            web.delete(base + "/{command_id}", delete_command),
        ]
    return routes
