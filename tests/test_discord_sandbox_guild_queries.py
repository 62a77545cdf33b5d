"""The Discord sandbox answers the queries a set-up check makes (guild, roles, member, channel overwrites,
application flags, privileged intents) as Discord does, seen through the real discord.py client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from sandboxes.discord import DiscordSandbox, Intent, Permission
from tests.discord_fixtures import (  # the fixtures are imported so pytest finds them here
    BRIDGE_TOKEN,
    Staff,
    app_commands,
    connected,
    discord,
    eventually,
    make_client,
    sandbox,
    staff,
)

__all__ = ["sandbox", "staff"]  # fixtures used by name, not by reference
pytestmark = pytest.mark.timeout(15)

QUIET_TOKEN = "quiet-bot-token"


@contextlib.asynccontextmanager
async def logged_in(token: str = BRIDGE_TOKEN) -> AsyncIterator[discord.Client]:
    """A client that logged in over REST only (no gateway), as a quick set-up check would."""
    client = make_client()
    await client.login(token)
    try:
        yield client
    finally:
        await client.close()


async def test_fetch_guild_returns_the_roles_with_their_permissions(sandbox: DiscordSandbox, staff: Staff) -> None:
    async with logged_in() as client:
        guild = await client.fetch_guild(staff.guild.id)
        fetched_roles = await guild.fetch_roles()
    assert guild.id == staff.guild.id and guild.name == "Staff"
    assert guild.owner_id == staff.guild.owner_id
    assert guild.approximate_member_count == 3  # the owner, the bot and the volunteer
    roles = {role.name: role for role in guild.roles}
    assert set(roles) == {"@everyone", "peerbridge", "volunteer"}
    assert roles["volunteer"].id == staff.volunteer_role.id
    assert roles["volunteer"].permissions == discord.Permissions(use_application_commands=True)
    assert roles["@everyone"].is_default() and roles["@everyone"].permissions.send_messages
    assert not roles["@everyone"].permissions.manage_threads
    bot_role = roles["peerbridge"]
    assert bot_role.is_bot_managed() and bot_role.tags is not None and bot_role.tags.bot_id == sandbox.bot.id
    assert bot_role.permissions.manage_threads and bot_role.permissions.send_messages_in_threads
    assert roles["volunteer"].position > bot_role.position > roles["@everyone"].position == 0
    assert {(r.id, r.permissions.value) for r in fetched_roles} == {(r.id, r.permissions.value) for r in guild.roles}


async def test_fetch_guild_of_an_unknown_guild_is_not_found(sandbox: DiscordSandbox, staff: Staff) -> None:
    async with logged_in() as client:
        with pytest.raises(discord.NotFound) as unknown:
            await client.fetch_guild(staff.guild.id + 1)
    assert unknown.value.status == 404 and unknown.value.code == 10004 and unknown.value.text == "Unknown Guild"


async def test_a_bot_removed_from_a_guild_can_no_longer_query_it(sandbox: DiscordSandbox, staff: Staff) -> None:
    async with connected(make_client()) as client:
        guild = await client.fetch_guild(staff.guild.id)
        sandbox.remove_member(staff.guild, sandbox.bot)
        await eventually(lambda: client.get_guild(staff.guild.id) is None)
        with pytest.raises(discord.NotFound) as not_in_it:
            await client.fetch_guild(staff.guild.id)
        with pytest.raises(discord.Forbidden) as roles:
            await guild.fetch_roles()
        with pytest.raises(discord.Forbidden) as member:
            await guild.fetch_member(staff.volunteer.id)
    assert not_in_it.value.code == 10004  # the same answer as for a guild that does not exist
    assert roles.value.code == member.value.code == 50001 and roles.value.text == "Missing Access"
    assert "peerbridge" not in {r.name for r in staff.guild.roles.values()}


async def test_fetch_member_returns_their_roles(sandbox: DiscordSandbox, staff: Staff) -> None:
    async with logged_in() as client:
        guild = await client.fetch_guild(staff.guild.id)
        volunteer = await guild.fetch_member(staff.volunteer.id)
        me = await guild.fetch_member(sandbox.bot.id)
    assert volunteer.id == staff.volunteer.id and volunteer.name == "vol-kim" and not volunteer.bot
    assert [r.id for r in volunteer.roles] == [guild.id, staff.volunteer_role.id]  # @everyone first
    assert volunteer.joined_at is not None and volunteer.nick is None
    assert me.bot and [r.name for r in me.roles] == ["@everyone", "peerbridge"]
    assert me.guild_permissions.send_messages and not me.guild_permissions.administrator


async def test_fetch_member_of_a_non_member_is_unknown_member(sandbox: DiscordSandbox, staff: Staff) -> None:
    async with logged_in() as client:
        guild = await client.fetch_guild(staff.guild.id)
        with pytest.raises(discord.NotFound) as not_member:
            await guild.fetch_member(staff.person.id)  # a real account, never added to the guild
        with pytest.raises(discord.NotFound) as no_account:
            await guild.fetch_member(staff.person.id + 1)
    assert not_member.value.status == 404 and not_member.value.code == 10007
    assert not_member.value.text == "Unknown Member"
    assert no_account.value.code == 10013  # no such user at all


async def test_a_person_removed_from_the_guild_is_no_longer_a_member(sandbox: DiscordSandbox, staff: Staff) -> None:
    async with connected(make_client()) as client:
        cached = client.get_guild(staff.guild.id)
        assert cached is not None and cached.get_member(staff.volunteer.id) is not None
        sandbox.remove_member(staff.guild, staff.volunteer)
        await eventually(lambda: cached.get_member(staff.volunteer.id) is None)
        with pytest.raises(discord.NotFound) as gone:
            await cached.fetch_member(staff.volunteer.id)
    assert gone.value.code == 10007


async def test_fetch_channel_gives_overwrites_readable_with_overwrites_for(
    sandbox: DiscordSandbox, staff: Staff
) -> None:
    read_only = Permission.VIEW_CHANNEL
    sandbox.set_overwrite(staff.channel, sandbox.bot, allow=read_only, deny=Permission.SEND_MESSAGES)
    async with logged_in() as client:
        channel = await client.fetch_channel(staff.channel.id)
    assert isinstance(channel, discord.TextChannel) and channel.name == "volunteers"
    everyone = channel.overwrites_for(discord.Object(id=staff.guild.id))
    assert everyone.view_channel is False and everyone.send_messages is None
    volunteers = channel.overwrites_for(discord.Object(id=staff.volunteer_role.id))
    assert volunteers.view_channel is True and volunteers.send_messages is None
    bot = channel.overwrites_for(discord.Object(id=sandbox.bot.id))
    assert bot.view_channel is True and bot.send_messages is False
    assert channel.overwrites_for(discord.Object(id=staff.person.id)).is_empty()
    # Outside the gateway's cache discord.py keys the overwrites by type-aware Objects: 0 role, 1 member.
    kinds = {target.id: target.type for target in channel.overwrites if isinstance(target, discord.Object)}
    assert kinds == {
        staff.guild.id: discord.Role,
        staff.volunteer_role.id: discord.Role,
        sandbox.bot.id: discord.abc.User,
    }


async def test_application_flags_report_the_enabled_privileged_intents(sandbox: DiscordSandbox) -> None:
    quiet = sandbox.add_bot(QUIET_TOKEN, "quiet", privileged_intents=Intent.GUILD_MEMBERS)
    async with logged_in() as client:
        bridge = (await client.application_info()).flags
    async with logged_in(QUIET_TOKEN) as client:
        info = await client.application_info()
    assert bridge.gateway_message_content_limited and bridge.gateway_guild_members_limited
    assert bridge.gateway_presence_limited and not bridge.app_commands_badge
    assert not bridge.gateway_message_content and not bridge.gateway_guild_members  # "limited": < 100 guilds
    assert info.id == quiet.application_id
    assert info.flags.gateway_guild_members_limited
    assert not info.flags.gateway_message_content_limited and not info.flags.gateway_presence_limited


async def test_switching_an_intent_off_changes_the_flags_the_bot_reads(sandbox: DiscordSandbox) -> None:
    sandbox.set_privileged_intents(Intent.GUILD_MEMBERS | Intent.GUILD_PRESENCES)
    assert sandbox.bot.privileged_intents == Intent.GUILD_MEMBERS | Intent.GUILD_PRESENCES
    async with connected(make_client(message_content=False)) as client:
        flags = (await client.application_info()).flags
        from_ready = client.application_flags
    assert not flags.gateway_message_content_limited and flags.gateway_guild_members_limited
    assert not from_ready.gateway_message_content_limited and from_ready.gateway_presence_limited


async def test_global_commands_give_the_command_badge(sandbox: DiscordSandbox) -> None:
    client = make_client()
    tree = app_commands.CommandTree(client)

    @tree.command(name="next", description="Take the next person waiting")
    async def next_person(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("taken", ephemeral=True)

    async with connected(client):
        await tree.sync()
        flags = (await client.application_info()).flags
    assert flags.app_commands_badge and flags.gateway_message_content_limited


async def test_asking_for_a_disabled_privileged_intent_is_refused(sandbox: DiscordSandbox) -> None:
    quiet = sandbox.add_bot(QUIET_TOKEN, "quiet", privileged_intents=Intent.GUILD_MEMBERS)
    client = make_client(message_content=True)
    await client.login(QUIET_TOKEN)
    try:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(client.connect(reconnect=True), 5)
    finally:
        await client.close()
    assert sandbox.gateway_stats(quiet).identifies == 0
    async with connected(make_client(message_content=False), QUIET_TOKEN) as without_content:
        assert without_content.user is not None and without_content.user.id == quiet.id


async def test_switching_message_content_off_refuses_the_next_identify(sandbox: DiscordSandbox) -> None:
    async with connected(make_client()):
        sandbox.set_privileged_intents(Intent.GUILD_MEMBERS)  # open sessions keep their intents
    client = make_client()
    await client.login(BRIDGE_TOKEN)
    try:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(client.connect(), 5)
    finally:
        await client.close()
    assert sandbox.gateway_stats().identifies == 1
