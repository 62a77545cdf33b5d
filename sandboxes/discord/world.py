"""Building the world a test or demo needs: users, guilds, roles, members, channels, who sees what."""

from __future__ import annotations

from collections.abc import Iterable

from sandboxes.discord import errors
from sandboxes.discord.core import SandboxCore
from sandboxes.discord.model import (
    NO_PERMISSIONS,
    PRIVILEGED_INTENTS,
    BotAccount,
    Channel,
    Guild,
    Intent,
    Member,
    Overwrite,
    Permission,
    Role,
    User,
)


class WorldBuilder:
    """Creates accounts and guild structure, announcing each change on the gateway as Discord would."""

    def __init__(self, core: SandboxCore) -> None:
        self._core = core

    def add_bot(self, token: str, name: str, *, privileged_intents: Intent = PRIVILEGED_INTENTS) -> BotAccount:
        """Registers a bot token; the bot is a member of every guild (as if invited with the bot scope)."""
        return self._core.state.add_bot(token, name, privileged_intents=privileged_intents)

    def set_privileged_intents(self, bot: BotAccount, intents: Intent) -> None:
        """Switches the application's privileged intents, as its developer portal page does."""
        bot.portal.privileged_intents = Intent(intents & PRIVILEGED_INTENTS)

    def create_user(self, name: str, *, dms_open: bool = True, locale: str = "en-US") -> User:
        """Creates a person's account; `locale`: their Discord client's language (sent with interactions)."""
        user = self._core.state.add_user(name)
        self._core.state.locales[user.id] = locale
        self.set_dms_open(user, dms_open)
        return user

    def set_dms_open(self, user: User, is_open: bool) -> None:
        """Opens or closes the user's DMs (closed: a bot's DM gets 403 50007)."""
        if is_open:
            self._core.state.dms_closed.discard(user.id)
        else:
            self._core.state.dms_closed.add(user.id)

    def create_guild(self, name: str, *, owner: User | None = None) -> Guild:
        """Creates a guild; every registered bot joins and connected bots get GUILD_CREATE."""
        state = self._core.state
        owner = owner or state.add_user(f"{name}-owner")
        guild = state.add_guild(name, owner.id)
        self._core.fanout.guild_created(guild)
        return guild

    def create_role(self, guild: Guild, name: str, *, permissions: Permission = NO_PERMISSIONS) -> Role:
        """Creates a role (its permissions add to @everyone's)."""
        role = self._core.state.add_role(guild, name, permissions)
        self._core.fanout.role_created(guild, role)
        return role

    def add_member(self, guild: Guild, user: User, roles: Iterable[Role] = ()) -> Member:
        """Adds a user to a guild with roles."""
        member = self._core.state.add_member(guild, user.id, [r.id for r in roles])
        self._core.fanout.member_added(guild, member)
        return member

    def remove_member(self, guild: Guild, who: User | BotAccount) -> None:
        """Removes a person or a bot from a guild, as a kick does (a bot loses its managed role)."""
        if who.id == guild.owner_id:
            raise errors.SandboxError("the owner cannot leave their own guild")
        if who.id not in guild.members:
            raise errors.SandboxError("not a member of this guild")
        deleted = self._core.state.remove_member(guild, who.id)
        self._core.fanout.member_removed(guild, who.id, deleted)

    def create_text_channel(
        self,
        guild: Guild,
        name: str,
        *,
        visible_to: Iterable[Role | User] | None = None,
        include_bots: bool = True,
        topic: str | None = None,
    ) -> Channel:
        """Creates a text channel; with `visible_to`, only those roles/users (and the bots) can see it."""
        overwrites: list[Overwrite] = []
        if visible_to is not None:
            overwrites.append(Overwrite(guild.id, is_member=False, deny=Permission.VIEW_CHANNEL))
            for target in visible_to:
                overwrites.append(Overwrite(target.id, isinstance(target, User), allow=Permission.VIEW_CHANNEL))
            if include_bots:
                for bot in self._core.state.bots_in(guild):
                    overwrites.append(Overwrite(bot.id, is_member=True, allow=Permission.VIEW_CHANNEL))
        channel = self._core.state.add_text_channel(guild, name, topic=topic, overwrites=overwrites)
        self._core.fanout.channel_created(channel)
        return channel

    def set_overwrite(
        self,
        channel: Channel,
        target: Role | User | BotAccount,
        *,
        allow: Permission = NO_PERMISSIONS,
        deny: Permission = NO_PERMISSIONS,
    ) -> None:
        """Sets (replaces) the channel's overwrite for a role, user or bot, e.g. deny SEND_MESSAGES → 50013."""
        if channel.guild_id is None or channel.is_thread:
            raise errors.SandboxError("overwrites exist on guild text channels only")
        target_id = target.id
        is_member = not isinstance(target, Role)
        channel.overwrites[target_id] = Overwrite(target_id, is_member, allow=allow, deny=deny)
        self._core.fanout.channel_updated(channel)
