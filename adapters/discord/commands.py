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


STAFF_COMMANDS: list[CommandPayload] = [
    _command("next", "Take the most urgent person waiting"),
    _command("end", "End this conversation (inside its thread)"),
    _command("release", "Return this person to the queue", ("note", "Handover note for the next volunteer", False)),
    _command("transfer", "Hand this conversation to another volunteer", ("volunteer", "Roster id or name", True)),
    _command("note", "Staff-only note on this conversation", ("text", "The note", True)),
    _command("on", "Available for automatic assignment"),
    _command("off", "Not available for automatic assignment"),
    _command("ack", "Acknowledge an escalation", ("escalation", "Escalation id, e.g. e-1", True)),
    _command(
        "escalate",
        "Page the on-call professional about this conversation",
        ("tier", "elevated, high (the default) or imminent, then why", False),
    ),
    _command(
        "train",
        "Coordinators: start a practice session with a scripted person",
        ("volunteer", "Roster id or name of the volunteer who practises", True),
        ("scenario", "Scenario name, e.g. loneliness", True),
    ),
]
# Discord's locales for each language we have a catalogue of (Discord picks by the person's client language).
DISCORD_LOCALES = {"es": ("es-ES", "es-419"), "pt": ("pt-BR",), "fr": ("fr",)}
_PERSON_NAMES = frozenset({"start", "privacy", "stop", "language"})  # /forget needs "yes": typed, not a slash command
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
            await client.http.bulk_upsert_guild_commands(application, guild, STAFF_COMMANDS)
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
