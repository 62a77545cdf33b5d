"""Which bot session receives which gateway event, and with which payload.

Discord's delivery rules the sandbox keeps: intents gate event groups; a bot only hears about channels it can
view; guild message content is empty for a bot without the MESSAGE_CONTENT intent unless the bot wrote or is
mentioned in the message (DMs are exempt); the bot's own messages are echoed back to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sandboxes.discord.gateway import GatewayHub, GatewaySession
from sandboxes.discord.model import (
    BotAccount,
    Channel,
    Guild,
    Intent,
    InteractionRecord,
    JsonObject,
    Member,
    Message,
    Role,
    Snowflake,
)
from sandboxes.discord.payloads import PayloadBuilder, role_payload, user_payload
from sandboxes.discord.state import SandboxState

_CONTENT_FIELDS: JsonObject = {"content": "", "embeds": [], "attachments": [], "components": []}


class EventFanout:
    """Builds gateway events from state changes and hands them to the right sessions."""

    def __init__(
        self,
        state: SandboxState,
        payloads: PayloadBuilder,
        resume_url: Callable[[], str],
        *,
        heartbeat_interval_ms: int = 41_250,
    ) -> None:
        self._state = state
        self._payloads = payloads
        self._resume_url = resume_url
        self.hub = GatewayHub(self, heartbeat_interval_ms=heartbeat_interval_ms)

    # --- hooks for the gateway transport ---------------------------------------------------------------

    def authenticate(self, token: str) -> Snowflake | None:
        """The bot id for a token."""
        bot = self._state.bot_by_token(token)
        return None if bot is None else bot.id

    def enabled_intents(self, bot_id: Snowflake) -> Intent:
        """The privileged intents the bot's application has switched on in its portal page."""
        return self._state.bots[bot_id].privileged_intents

    def greet(self, session: GatewaySession) -> None:
        """READY with every guild unavailable, then one GUILD_CREATE per guild."""
        bot = self._state.bots[session.bot_id]
        guilds = [g for g in self._state.guilds.values() if bot.id in g.members]
        session.send_event("READY", self._ready(bot, session, guilds))
        for guild in guilds:
            all_members = bool(session.intents & Intent.GUILD_MEMBERS)
            session.send_event(
                "GUILD_CREATE", self._payloads.guild_create(guild, bot_id=bot.id, all_members=all_members)
            )

    def _ready(self, bot: BotAccount, session: GatewaySession, guilds: list[Guild]) -> JsonObject:
        return {
            "v": 10,
            "user": {**user_payload(bot.user), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self._resume_url(),
            "shard": [0, 1],
            "application": {"id": str(bot.application_id), "flags": self._payloads.application_flags(bot)},
            "private_channels": [],
            "relationships": [],
            "user_settings": {},
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "_trace": ["sandbox"],
        }

    def members_chunk(self, session: GatewaySession, request: JsonObject) -> None:
        """Answers op 8 with every member in one chunk."""
        guild_ids = request.get("guild_id")
        for raw_id in guild_ids if isinstance(guild_ids, list) else [guild_ids]:
            guild = self._state.guilds.get(Snowflake(int(str(raw_id)))) if str(raw_id).isdigit() else None
            if guild is None or session.bot_id not in guild.members:
                continue
            chunk: JsonObject = {
                "guild_id": str(guild.id),
                "members": [self._payloads.member(m) for m in guild.members.values()],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if "nonce" in request:
                chunk["nonce"] = request["nonce"]
            session.send_event("GUILD_MEMBERS_CHUNK", chunk)

    # --- guild structure ---------------------------------------------------------------------------------

    def guild_created(self, guild: Guild) -> None:
        """GUILD_CREATE to every bot in the new guild."""
        for bot in self._state.bots_in(guild):
            for session in self._hub_sessions(bot.id, Intent.GUILDS):
                all_members = bool(session.intents & Intent.GUILD_MEMBERS)
                payload = self._payloads.guild_create(guild, bot_id=bot.id, all_members=all_members)
                session.send_event("GUILD_CREATE", payload)

    def role_created(self, guild: Guild, role: Role) -> None:
        """GUILD_ROLE_CREATE."""
        payload = {"guild_id": str(guild.id), "role": role_payload(role)}
        self._deliver(self._bot_ids(guild), "GUILD_ROLE_CREATE", payload, Intent.GUILDS)

    def member_added(self, guild: Guild, member: Member) -> None:
        """GUILD_MEMBER_ADD (privileged GUILD_MEMBERS intent)."""
        payload = {**self._payloads.member(member), "guild_id": str(guild.id)}
        self._deliver(self._bot_ids(guild), "GUILD_MEMBER_ADD", payload, Intent.GUILD_MEMBERS)

    def member_removed(self, guild: Guild, user_id: Snowflake, deleted_roles: Iterable[Role]) -> None:
        """After a member left: GUILD_DELETE to a bot that left, GUILD_MEMBER_REMOVE and GUILD_ROLE_DELETE to the
        bots still in the guild."""
        if user_id in self._state.bots:
            self._deliver([user_id], "GUILD_DELETE", {"id": str(guild.id)}, Intent.GUILDS)
        payload = {"guild_id": str(guild.id), "user": user_payload(self._state.users[user_id])}
        self._deliver(self._bot_ids(guild), "GUILD_MEMBER_REMOVE", payload, Intent.GUILD_MEMBERS)
        for role in deleted_roles:
            deleted = {"guild_id": str(guild.id), "role_id": str(role.id)}
            self._deliver(self._bot_ids(guild), "GUILD_ROLE_DELETE", deleted, Intent.GUILDS)

    def channel_created(self, channel: Channel) -> None:
        """CHANNEL_CREATE to bots that can view the channel."""
        self._deliver(self._viewers(channel), "CHANNEL_CREATE", self._payloads.channel(channel), Intent.GUILDS)

    def channel_updated(self, channel: Channel) -> None:
        """CHANNEL_UPDATE (e.g. after an overwrite changed)."""
        self._deliver(
            self._bot_ids_of_channel(channel), "CHANNEL_UPDATE", self._payloads.channel(channel), Intent.GUILDS
        )

    def channel_deleted(self, channel: Channel, viewers: list[Snowflake]) -> None:
        """CHANNEL_DELETE, or THREAD_DELETE (id, guild, parent and type only), to the bots that could see it
        (`viewers`, found before it was deleted)."""
        if channel.thread is None:
            self._deliver(viewers, "CHANNEL_DELETE", self._payloads.channel(channel), Intent.GUILDS)
            return
        payload = {"id": str(channel.id), "guild_id": str(channel.guild_id), "parent_id": str(channel.parent_id),
                   "type": int(channel.type)}  # fmt: skip
        self._deliver(viewers, "THREAD_DELETE", payload, Intent.GUILDS)

    def viewers(self, channel: Channel) -> list[Snowflake]:
        """The bots that see a channel (for an event about it sent after it is gone)."""
        return self._viewers(channel)

    # --- threads -----------------------------------------------------------------------------------------

    def thread_created(self, thread: Channel) -> None:
        """THREAD_CREATE with newly_created, to bots that can view the thread."""
        for bot_id in self._viewers(thread):
            payload = {**self._payloads.channel(thread, viewer_id=bot_id), "newly_created": True}
            self._deliver([bot_id], "THREAD_CREATE", payload, Intent.GUILDS)

    def thread_updated(self, thread: Channel) -> None:
        """THREAD_UPDATE (archive, lock, rename)."""
        for bot_id in self._viewers(thread):
            self._deliver([bot_id], "THREAD_UPDATE", self._payloads.channel(thread, viewer_id=bot_id), Intent.GUILDS)

    def thread_members_updated(
        self, thread: Channel, *, added: Iterable[Snowflake] = (), removed: Iterable[Snowflake] = ()
    ) -> None:
        """THREAD_MEMBERS_UPDATE."""
        assert thread.thread is not None
        payload = {
            "id": str(thread.id),
            "guild_id": str(thread.guild_id),
            "member_count": len(thread.thread.member_ids),
            "added_members": [self._payloads.thread_member(thread, u) for u in added],
            "removed_member_ids": [str(u) for u in removed],
        }
        self._deliver(self._viewers(thread), "THREAD_MEMBERS_UPDATE", payload, Intent.GUILDS)

    # --- messages and interactions -------------------------------------------------------------------------

    def message_created(self, message: Message) -> None:
        """MESSAGE_CREATE, including the echo of a bot's own message."""
        self._message_event("MESSAGE_CREATE", message)

    def message_updated(self, message: Message) -> None:
        """MESSAGE_UPDATE with the full new revision."""
        self._message_event("MESSAGE_UPDATE", message)

    def message_deleted(self, message: Message) -> None:
        """MESSAGE_DELETE."""
        payload: JsonObject = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id is not None:
            payload["guild_id"] = str(message.guild_id)
        channel = self._state.channels[message.channel_id]
        self._deliver(self._viewers(channel), "MESSAGE_DELETE", payload, _message_intent(channel))

    def interaction_created(self, record: InteractionRecord) -> None:
        """INTERACTION_CREATE to the application's bot (no intent needed)."""
        self._deliver([record.application_id], "INTERACTION_CREATE", self._payloads.interaction(record), Intent(0))

    def _message_event(self, name: str, message: Message) -> None:
        if message.ephemeral:
            return  # ephemeral interaction replies are never dispatched
        channel = self._state.channels[message.channel_id]
        payload = self._payloads.message(message)
        intent = _message_intent(channel)
        for bot_id in self._viewers(channel):
            gated = not channel.is_dm and bot_id != message.author_id and bot_id not in message.mention_ids
            for session in self._hub_sessions(bot_id, intent):
                hide = gated and not session.intents & Intent.MESSAGE_CONTENT
                session.send_event(name, {**payload, **_CONTENT_FIELDS} if hide else payload)

    # --- recipients ----------------------------------------------------------------------------------------

    def _viewers(self, channel: Channel) -> list[Snowflake]:
        if channel.is_dm:
            return [channel.recipient_ids[0]]
        return [b for b in self._bot_ids_of_channel(channel) if self._state.can_view(b, channel)]

    def _bot_ids_of_channel(self, channel: Channel) -> list[Snowflake]:
        guild = self._state.guild_of(channel)
        return [] if guild is None else self._bot_ids(guild)

    def _bot_ids(self, guild: Guild) -> list[Snowflake]:
        return [b.id for b in self._state.bots_in(guild)]

    def _hub_sessions(self, bot_id: Snowflake, intent: Intent) -> list[GatewaySession]:
        return [s for s in self.hub.sessions_of(bot_id) if s.intents & intent == intent]

    def _deliver(self, bot_ids: Iterable[Snowflake], name: str, payload: JsonObject, intent: Intent) -> None:
        for bot_id in bot_ids:
            for session in self._hub_sessions(bot_id, intent):
                session.send_event(name, payload)


def _message_intent(channel: Channel) -> Intent:
    return Intent.DIRECT_MESSAGES if channel.is_dm else Intent.GUILD_MESSAGES
