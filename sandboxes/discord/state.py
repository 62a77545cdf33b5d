"""The sandbox's world state: who exists, where messages are, which commands and interactions are open.

Pure data with the few rules that belong to the data (ids, membership, permissions). Lookups raise the
`ApiError` Discord would answer, so the REST layer can let them travel.
"""

from __future__ import annotations

from collections.abc import Iterable

from sandboxes.discord import errors
from sandboxes.discord.model import (
    BOT_PERMISSIONS,
    EVERYONE_PERMISSIONS,
    NO_PERMISSIONS,
    PRIVILEGED_INTENTS,
    BotAccount,
    Channel,
    ChannelType,
    CommandRecord,
    DeveloperPortal,
    Guild,
    Intent,
    InteractionRecord,
    Member,
    Message,
    Overwrite,
    Permission,
    Role,
    Snowflake,
    SnowflakeFactory,
    ThreadState,
    User,
    utc_now,
)
from sandboxes.discord.permissions import channel_permissions


class SandboxState:
    """Everything that exists in the sandbox. Mutated only through the sandbox's services."""

    def __init__(self) -> None:
        self.ids = SnowflakeFactory()
        self.users: dict[Snowflake, User] = {}
        self.bots: dict[Snowflake, BotAccount] = {}
        self.guilds: dict[Snowflake, Guild] = {}
        self.channels: dict[Snowflake, Channel] = {}
        self.messages: dict[Snowflake, Message] = {}
        self.history: dict[Snowflake, list[Message]] = {}
        self.channel_log: dict[Snowflake, list[Snowflake]] = {}
        self.interactions: dict[Snowflake, InteractionRecord] = {}
        self._interaction_tokens: dict[str, Snowflake] = {}
        self.commands: dict[Snowflake, CommandRecord] = {}
        self.dms_closed: set[Snowflake] = set()
        self.locales: dict[Snowflake, str] = {}  # each person's client language (default en-US)
        self._dm_index: dict[tuple[Snowflake, Snowflake], Snowflake] = {}
        self._tokens: dict[str, Snowflake] = {}

    # --- accounts and guilds -------------------------------------------------------------------------------

    def add_bot(self, token: str, name: str, *, privileged_intents: Intent = PRIVILEGED_INTENTS) -> BotAccount:
        """Registers a bot token; the bot joins every existing guild."""
        if token in self._tokens:
            raise errors.SandboxError("this token is already registered")
        user = self.add_user(name, bot=True)
        portal = DeveloperPortal(privileged_intents=Intent(privileged_intents & PRIVILEGED_INTENTS))
        bot = BotAccount(user=user, token=token, application_id=user.id, portal=portal)
        self.bots[user.id] = bot
        self._tokens[token] = user.id
        for guild in self.guilds.values():
            self.join_guild(guild, bot)
        return bot

    def bot_by_token(self, token: str) -> BotAccount | None:
        """The bot a token belongs to, if registered."""
        bot_id = self._tokens.get(token)
        return None if bot_id is None else self.bots[bot_id]

    def add_user(self, name: str, *, bot: bool = False) -> User:
        """Creates an account."""
        user = User(id=self.ids.next(), username=name, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, owner_id: Snowflake) -> Guild:
        """Creates a guild with an @everyone role and its owner; every registered bot joins."""
        guild = Guild(id=self.ids.next(), name=name, owner_id=owner_id)
        guild.roles[guild.id] = Role(id=guild.id, guild_id=guild.id, name="@everyone", permissions=EVERYONE_PERMISSIONS)
        self.guilds[guild.id] = guild
        self.add_member(guild, owner_id, ())
        for bot in self.bots.values():
            self.join_guild(guild, bot)
        return guild

    def join_guild(self, guild: Guild, bot: BotAccount) -> Member:
        """Adds a bot with its managed role, as an OAuth2 bot invite does."""
        role = self.add_role(guild, bot.user.username, BOT_PERMISSIONS, managed_by=bot.id)
        return self.add_member(guild, bot.id, (role.id,))

    def add_role(
        self, guild: Guild, name: str, permissions: Permission, *, managed_by: Snowflake | None = None
    ) -> Role:
        """Creates a role, positioned above the existing ones."""
        role = Role(self.ids.next(), guild.id, name, permissions, len(guild.roles), managed_by)
        guild.roles[role.id] = role
        return role

    def add_member(self, guild: Guild, user_id: Snowflake, role_ids: Iterable[Snowflake]) -> Member:
        """Adds (or re-roles) a member."""
        self.user(user_id)
        roles = [r for r in role_ids if r != guild.id]
        unknown = [r for r in roles if r not in guild.roles]
        if unknown:
            raise errors.SandboxError("role is not in this guild")
        member = Member(guild_id=guild.id, user_id=user_id, role_ids=roles, joined_at=utc_now())
        guild.members[user_id] = member
        return member

    def remove_member(self, guild: Guild, user_id: Snowflake) -> list[Role]:
        """Removes a member; a bot's managed role goes with it. Returns the roles deleted."""
        del guild.members[user_id]
        managed = [r for r in guild.roles.values() if r.managed_by == user_id]
        for role in managed:
            del guild.roles[role.id]
        return managed

    # --- channels ------------------------------------------------------------------------------------------

    def add_text_channel(
        self, guild: Guild, name: str, *, topic: str | None = None, overwrites: Iterable[Overwrite] = ()
    ) -> Channel:
        """Creates a text channel in a guild."""
        channel = Channel(
            id=self.ids.next(),
            type=ChannelType.GUILD_TEXT,
            name=name,
            guild_id=guild.id,
            topic=topic,
            position=len(guild.channel_ids),
            overwrites={o.target_id: o for o in overwrites},
        )
        guild.channel_ids.append(channel.id)
        self._register(channel)
        return channel

    def add_thread(
        self,
        parent: Channel,
        owner_id: Snowflake,
        name: str,
        *,
        private: bool,
        thread_id: Snowflake | None = None,
        auto_archive_duration: int = 1440,
    ) -> Channel:
        """Creates a thread under a text channel; its creator becomes a thread member."""
        now = utc_now()
        state = ThreadState(owner_id=owner_id, created_at=now, archive_timestamp=now)
        state.auto_archive_duration = auto_archive_duration
        state.member_ids.add(owner_id)
        kind = ChannelType.PRIVATE_THREAD if private else ChannelType.PUBLIC_THREAD
        thread = Channel(
            id=thread_id or self.ids.next(),
            type=kind,
            name=name,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            thread=state,
        )
        self._register(thread)
        return thread

    def dm_channel(self, bot_id: Snowflake, user_id: Snowflake) -> Channel:
        """The DM channel between a bot and a user, created on first use (as Discord does)."""
        key = (bot_id, user_id)
        channel_id = self._dm_index.get(key)
        if channel_id is not None:
            return self.channels[channel_id]
        channel = Channel(id=self.ids.next(), type=ChannelType.DM, recipient_ids=(bot_id, user_id))
        self._dm_index[key] = channel.id
        self._register(channel)
        return channel

    def find_dm(self, bot_id: Snowflake, user_id: Snowflake) -> Channel | None:
        """The DM channel between a bot and a user, if either ever wrote."""
        channel_id = self._dm_index.get((bot_id, user_id))
        return None if channel_id is None else self.channels[channel_id]

    def threads_of(self, parent_id: Snowflake) -> list[Channel]:
        """Threads under a channel, oldest first."""
        return [c for c in self.channels.values() if c.parent_id == parent_id]

    def remove_channel(self, channel: Channel) -> None:
        """Deletes a channel or thread with every message in it (a deleted channel's threads go with it)."""
        for thread in self.threads_of(channel.id):
            self.remove_channel(thread)
        for message_id in self.channel_log.pop(channel.id, []):
            self.messages.pop(message_id, None)
            self.history.pop(message_id, None)  # unlike one deleted message: the channel's text is gone
        del self.channels[channel.id]
        guild = self.guild_of(channel)
        if guild is not None and channel.id in guild.channel_ids:
            guild.channel_ids.remove(channel.id)

    def _register(self, channel: Channel) -> None:
        self.channels[channel.id] = channel
        self.channel_log[channel.id] = []

    # --- lookups -------------------------------------------------------------------------------------------

    def user(self, user_id: Snowflake) -> User:
        """A user by id (10013 Unknown User otherwise)."""
        try:
            return self.users[user_id]
        except KeyError:
            raise errors.unknown_user() from None

    def guild(self, guild_id: Snowflake) -> Guild:
        """A guild by id (10004 Unknown Guild otherwise)."""
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise errors.unknown_guild() from None

    def guild_of_bot(self, guild_id: Snowflake, bot_id: Snowflake) -> Guild:
        """A guild the bot is in; one it is not in is as unknown to it as one that does not exist (10004)."""
        guild = self.guilds.get(guild_id)
        if guild is None or bot_id not in guild.members:
            raise errors.unknown_guild()
        return guild

    def member(self, guild: Guild, user_id: Snowflake) -> Member:
        """A guild member (10013 Unknown User for no such account, 10007 Unknown Member for a non-member)."""
        self.user(user_id)
        member = guild.members.get(user_id)
        if member is None:
            raise errors.unknown_member()
        return member

    def channel(self, channel_id: Snowflake) -> Channel:
        """A channel or thread by id (10003 Unknown Channel otherwise)."""
        try:
            return self.channels[channel_id]
        except KeyError:
            raise errors.unknown_channel() from None

    def message(self, channel_id: Snowflake, message_id: Snowflake) -> Message:
        """The current revision of a message in a channel (10008 Unknown Message otherwise)."""
        message = self.messages.get(message_id)
        if message is None or message.channel_id != channel_id:
            raise errors.unknown_message()
        return message

    def guild_of(self, channel: Channel) -> Guild | None:
        """The guild a channel belongs to; None for DMs."""
        return None if channel.guild_id is None else self.guilds[channel.guild_id]

    def bots_in(self, guild: Guild) -> list[BotAccount]:
        """Registered bots that are members of the guild."""
        return [bot for bot_id, bot in self.bots.items() if bot_id in guild.members]

    # --- messages ------------------------------------------------------------------------------------------

    def store(self, message: Message) -> None:
        """Adds a new message at the end of its channel."""
        channel = self.channels[message.channel_id]
        self.messages[message.id] = message
        self.history[message.id] = [message]
        self.channel_log[channel.id].append(message.id)
        channel.last_message_id = message.id
        if channel.thread is not None:
            channel.thread.message_count += 1

    def revise(self, message: Message) -> None:
        """Stores a new revision of an existing message."""
        self.messages[message.id] = message
        self.history[message.id].append(message)

    def remove(self, message: Message) -> None:
        """Deletes a message from its channel; its revisions stay readable."""
        del self.messages[message.id]
        self.channel_log[message.channel_id].remove(message.id)

    def messages_in(self, channel_id: Snowflake) -> list[Message]:
        """Current revisions of a channel's messages, oldest first."""
        return [self.messages[m] for m in self.channel_log.get(channel_id, [])]  # a deleted channel: none

    # --- permissions ---------------------------------------------------------------------------------------

    def permissions(self, user_id: Snowflake, channel: Channel) -> Permission:
        """What a user may do in a guild channel or thread (nothing if not a member)."""
        guild = self.guild_of(channel)
        if guild is None:
            return NO_PERMISSIONS
        member = guild.members.get(user_id)
        if member is None:
            return NO_PERMISSIONS
        source = self.channels[channel.parent_id] if channel.parent_id is not None else channel
        granted = channel_permissions(guild, member, source.overwrites.values())
        members = channel.thread.member_ids if channel.thread is not None else set()
        private = channel.type is ChannelType.PRIVATE_THREAD
        if private and user_id not in members and not granted & Permission.MANAGE_THREADS:
            return NO_PERMISSIONS
        return granted

    def can_view(self, user_id: Snowflake, channel: Channel) -> bool:
        """Whether the user sees the channel (a DM: whether they are its recipient)."""
        if channel.is_dm:
            return user_id in channel.recipient_ids
        return bool(self.permissions(user_id, channel) & Permission.VIEW_CHANNEL)

    def add_interaction(self, record: InteractionRecord) -> None:
        """Registers an interaction so its callback and webhook routes can find it."""
        self.interactions[record.id] = record
        self._interaction_tokens[record.token] = record.id

    def interaction_by_token(self, token: str) -> InteractionRecord | None:
        """The interaction an interaction token belongs to."""
        interaction_id = self._interaction_tokens.get(token)
        return None if interaction_id is None else self.interactions[interaction_id]

    def commands_of(self, application_id: Snowflake, guild_id: Snowflake | None) -> list[CommandRecord]:
        """The application's global commands (guild_id None) or one guild's commands."""
        return [c for c in self.commands.values() if c.application_id == application_id and c.guild_id == guild_id]
