"""REST routes for guilds: the guild itself (with its roles), its role list, and one member.

What a bot outside a guild is told follows Discord: `GET /guilds/{id}` answers 404 10004 "Unknown Guild" whether
the guild does not exist or the bot is not in it; the sub-resources of an existing guild the bot is not in
answer 403 50001 "Missing Access".
"""

from __future__ import annotations

from aiohttp import web

from sandboxes.discord import errors
from sandboxes.discord.core import API_PREFIX, SandboxCore, bot_of, core_of, json_response, snowflake
from sandboxes.discord.model import Guild
from sandboxes.discord.payloads import role_payload

_GUILD = API_PREFIX + "/guilds/{guild_id}"
_TRUE = ("true", "1", "True")


def _member_guild(core: SandboxCore, request: web.Request) -> Guild:
    guild = core.state.guild(snowflake(request, "guild_id"))
    if bot_of(request).id not in guild.members:
        raise errors.missing_access()
    return guild


async def get_guild(request: web.Request) -> web.Response:
    """GET /guilds/{guild_id}[?with_counts=true]: the guild with its roles (no members or channels)."""
    core = core_of(request)
    guild = core.state.guild_of_bot(snowflake(request, "guild_id"), bot_of(request).id)
    with_counts = request.query.get("with_counts", "false") in _TRUE
    return json_response(core.payloads.guild(guild, with_counts=with_counts))


async def get_roles(request: web.Request) -> web.Response:
    """GET /guilds/{guild_id}/roles."""
    guild = _member_guild(core_of(request), request)
    return json_response([role_payload(r) for r in guild.roles.values()])


async def get_member(request: web.Request) -> web.Response:
    """GET /guilds/{guild_id}/members/{user_id}."""
    core = core_of(request)
    guild = _member_guild(core, request)
    member = core.state.member(guild, snowflake(request, "user_id"))
    return json_response(core.payloads.member(member))


def guild_routes() -> list[web.RouteDef]:
    """Routes of this module."""
    return [
        web.get(_GUILD, get_guild),
        web.get(_GUILD + "/roles", get_roles),
        web.get(_GUILD + "/members/{user_id}", get_member),
    ]
