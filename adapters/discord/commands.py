"""Slash commands the bridge registers: staff commands in the staff guild(s), person commands in DMs.

They are registered as plain payloads (no discord.py CommandTree): every invocation reaches the bridge as an
interaction, is stored like a text command ("/release <note>"), and is parsed by the router like "!release".
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from adapters.discord.normalise import StaffChannels
from routing import texts
from routing.i18n import translate

log = logging.getLogger(__name__)

STRING = 3
BOT_DM = 1  # interaction context: the bot's DMs
GUILD_INSTALL = 0

CommandPayload = dict[str, Any]


def _command(name: str, description: str, *options: tuple[str, str, bool]) -> CommandPayload:
    """A chat-input command; string options in order (the router reads their values as the command's words)."""
    payload: CommandPayload = {"name": name, "description": description, "type": 1}
    if options:
        payload["options"] = [
            {"name": option_name, "description": option_description, "type": STRING, "required": required}
            for option_name, option_description, required in options
        ]
    return payload


# The staff's slash commands (Discord has no /break, /takeover, /dashboard or /rota menu entry: typed, they
# still work as "!" commands) and their options: (name, required).
_STAFF_OPTIONS: dict[str, tuple[tuple[str, bool], ...]] = {
    "next": (), "end": (), "release": (("note", False),), "transfer": (("volunteer", True),), "note": (("text", True),),
    "on": (), "off": (), "ack": (("escalation", True),), "escalate": (("tier", False),),
    "train": (("volunteer", True), ("scenario", True)), "plan": (), "share": (("name", False),),
}  # fmt: skip


def staff_commands() -> list[CommandPayload]:
    """The staff server's slash commands, described in the organisation's language."""
    return [
        _command(
            name,
            texts.staff(texts.STAFF_COMMAND_HELP[name]),
            *((option, texts.staff(texts.STAFF_OPTION_HELP[name, option]), required) for option, required in options),
        )
        for name, options in _STAFF_OPTIONS.items()
    ]


# Discord's locales for each language we have a catalogue of (Discord picks by the person's client language).
DISCORD_LOCALES = {"es": ("es-ES", "es-419"), "pt": ("pt-BR",), "fr": ("fr",)}
_PERSON_NAMES = frozenset(
    {"start", "privacy", "stop", "language", "plan", "myplan"}
)  # /forget needs "yes": typed, not a slash command
PERSON_COMMANDS: list[CommandPayload] = [
    {
        **_command(name, description),
        "description_localizations": {
            locale: translate(lang, description) for lang, locales in DISCORD_LOCALES.items() for locale in locales
        },
        "contexts": [BOT_DM],
        "integration_types": [GUILD_INSTALL],
    }
    for name, description in texts.PERSON_COMMANDS
    if name in _PERSON_NAMES
]


async def publish_commands(client: discord.Client, staff: StaffChannels | None) -> None:
    """Register the command menus. Best effort: the "!next" text fallback works without them."""
    application = client.application_id
    if application is None:
        log.warning("discord application id unknown; slash commands not registered")
        return
    try:
        await client.http.bulk_upsert_global_commands(application, PERSON_COMMANDS)
        for guild in await _staff_guilds(client, staff):
            await client.http.bulk_upsert_guild_commands(application, guild, staff_commands())
    except discord.HTTPException as exc:
        log.warning("could not register the slash commands (%s, code %s)", exc.status, exc.code)


async def _staff_guilds(client: discord.Client, staff: StaffChannels | None) -> set[int]:
    guilds: set[int] = set()
    for name, channel_id in (("volunteer", staff.volunteer), ("escalation", staff.escalation)) if staff else ():
        channel = client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await client.fetch_channel(channel_id)
            except (discord.HTTPException, discord.InvalidData):
                channel = None
        guild = getattr(channel, "guild", None)
        if guild is None:
            log.error("the %s channel is not visible to the bot: check staff.%s_chat", name, name)
            continue
        guilds.add(guild.id)
    return guilds
