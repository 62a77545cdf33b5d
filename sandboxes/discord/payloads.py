"""Turns sandbox state into Discord's v10 JSON payloads (ids as strings, ISO 8601 timestamps).

Shapes follow https://discord.com/developers/docs/resources/ and what discord.py 2.7 reads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from sandboxes.discord.model import (
    ApplicationFlag,
    Attachment,
    BotAccount,
    Channel,
    ChannelType,
    CommandRecord,
    Guild,
    InteractionKind,
    InteractionRecord,
    JsonObject,
    Member,
    Message,
    Overwrite,
    Role,
    Snowflake,
    User,
)
from sandboxes.discord.state import SandboxState

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


def iso(moment: datetime | None) -> str | None:
    """Discord's timestamp format."""
    return None if moment is None else moment.isoformat()


def user_payload(user: User) -> JsonObject:
    """A user object."""
    payload: JsonObject = {
        "id": str(user.id),
        "username": user.username,
        "discriminator": "0",
        "global_name": None if user.bot else user.username,
        "avatar": None,
        "public_flags": 0,
        "flags": 0,
    }
    if user.bot:
        payload["bot"] = True
    return payload


def role_payload(role: Role) -> JsonObject:
    """A role object."""
    payload: JsonObject = {
        "id": str(role.id),
        "name": role.name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": role.position,
        "permissions": str(int(role.permissions)),
        "managed": role.managed_by is not None,
        "mentionable": False,
        "flags": 0,
    }
    if role.managed_by is not None:
        payload["tags"] = {"bot_id": str(role.managed_by)}
    return payload


def overwrite_payload(overwrite: Overwrite) -> JsonObject:
    """A permission overwrite object (type 0 role, 1 member)."""
    return {
        "id": str(overwrite.target_id),
        "type": 1 if overwrite.is_member else 0,
        "allow": str(int(overwrite.allow)),
        "deny": str(int(overwrite.deny)),
    }


def command_payload(command: CommandRecord) -> JsonObject:
    """An application command object."""
    payload: JsonObject = {
        "default_member_permissions": None,
        "nsfw": False,
        "contexts": None,
        "integration_types": [0],
        **command.extra,
        "id": str(command.id),
        "application_id": str(command.application_id),
        "version": str(command.version),
        "type": command.type,
        "name": command.name,
        "description": command.description,
        "options": list(command.options),
    }
    if command.guild_id is not None:
        payload["guild_id"] = str(command.guild_id)
    return payload


class PayloadBuilder:
    """Builds payloads that need the state (members, channels, messages) or the sandbox's own URL."""

    def __init__(self, state: SandboxState, base_url: Callable[[], str]) -> None:
        self._state = state
        self._base_url = base_url

    def application_flags(self, bot: BotAccount) -> int:
        """The application's flags: its enabled privileged intents, and the badge for global commands."""
        flags = bot.portal.flags
        if self._state.commands_of(bot.application_id, None):
            flags |= ApplicationFlag.APPLICATION_COMMAND_BADGE
        return int(flags)

    def application(self, bot: BotAccount) -> JsonObject:
        """The bot's application, as GET /oauth2/applications/@me and /applications/@me return it."""
        return {
            "id": str(bot.application_id),
            "name": bot.user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot": user_payload(bot.user),
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": user_payload(User(id=Snowflake(bot.application_id + 1), username="sandbox-owner")),
            "team": None,
            "flags": self.application_flags(bot),
            "rpc_origins": [],
            "interactions_endpoint_url": None,
            "redirect_uris": [],
        }

    def member(self, member: Member, *, with_user: bool = True) -> JsonObject:
        """A guild member object."""
        payload: JsonObject = {
            "nick": None,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in member.role_ids],
            "joined_at": iso(member.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = user_payload(self._state.users[member.user_id])
        return payload

    def channel(self, channel: Channel, *, viewer_id: Snowflake | None = None) -> JsonObject:
        """A channel object: DM, text channel or thread (with the viewer's thread membership)."""
        if channel.is_dm:
            return self._dm_channel(channel)
        if channel.thread is not None:
            return self._thread(channel, viewer_id)
        return {
            "id": str(channel.id),
            "type": int(channel.type),
            "guild_id": str(channel.guild_id),
            "name": channel.name,
            "position": channel.position,
            "permission_overwrites": [overwrite_payload(o) for o in channel.overwrites.values()],
            "parent_id": None,
            "topic": channel.topic,
            "nsfw": False,
            "last_message_id": _opt_id(channel.last_message_id),
            "rate_limit_per_user": 0,
            "default_auto_archive_duration": 1440,
            "default_thread_rate_limit_per_user": 0,
            "flags": 0,
        }

    def _dm_channel(self, channel: Channel) -> JsonObject:
        user_id = channel.recipient_ids[1]
        return {
            "id": str(channel.id),
            "type": int(ChannelType.DM),
            "last_message_id": _opt_id(channel.last_message_id),
            "recipients": [user_payload(self._state.users[user_id])],
            "flags": 0,
        }

    def _thread(self, channel: Channel, viewer_id: Snowflake | None) -> JsonObject:
        thread = channel.thread
        assert thread is not None
        payload: JsonObject = {
            "id": str(channel.id),
            "type": int(channel.type),
            "guild_id": str(channel.guild_id),
            "parent_id": str(channel.parent_id),
            "owner_id": str(thread.owner_id),
            "name": channel.name,
            "last_message_id": _opt_id(channel.last_message_id),
            "message_count": thread.message_count,
            "total_message_sent": thread.message_count,
            "member_count": min(len(thread.member_ids), 50),
            "rate_limit_per_user": 0,
            "flags": 0,
            "applied_tags": [],
            "thread_metadata": {
                "archived": thread.archived,
                "auto_archive_duration": thread.auto_archive_duration,
                "archive_timestamp": iso(thread.archive_timestamp),
                "locked": thread.locked,
                "invitable": thread.invitable,
                "create_timestamp": iso(thread.created_at),
            },
        }
        if viewer_id is not None and viewer_id in thread.member_ids:
            payload["member"] = self.thread_member(channel, viewer_id)
        return payload

    def thread_member(self, channel: Channel, user_id: Snowflake) -> JsonObject:
        """A thread member object (join time approximated by the thread's creation)."""
        assert channel.thread is not None
        return {
            "id": str(channel.id),
            "user_id": str(user_id),
            "join_timestamp": iso(channel.thread.created_at),
            "flags": 0,
        }

    def guild(self, guild: Guild, *, with_counts: bool = False) -> JsonObject:
        """The guild object GET /guilds/{guild_id} returns: roles, but no members, channels or threads."""
        payload: JsonObject = {
            **_GUILD_DEFAULTS,
            "id": str(guild.id),
            "name": guild.name,
            "owner_id": str(guild.owner_id),
            "roles": [role_payload(r) for r in guild.roles.values()],
        }
        if with_counts:
            payload["approximate_member_count"] = len(guild.members)
            payload["approximate_presence_count"] = 0
        return payload

    def guild_create(self, guild: Guild, *, bot_id: Snowflake, all_members: bool) -> JsonObject:
        """The full GUILD_CREATE payload a bot receives for a guild it is in."""
        members = [m for m in guild.members.values() if all_members or m.user_id == bot_id]
        channels = [self.channel(self._state.channels[c]) for c in guild.channel_ids]
        threads = [
            self.channel(c, viewer_id=bot_id)
            for c in self._state.channels.values()
            if c.guild_id == guild.id and c.thread is not None and not c.thread.archived
        ]
        return {
            **self.guild(guild),
            **_GATEWAY_GUILD_DEFAULTS,
            "member_count": len(guild.members),
            "members": [self.member(m) for m in members],
            "channels": channels,
            "threads": threads,
            "joined_at": iso(guild.members[bot_id].joined_at),
        }

    def attachment(self, attachment: Attachment, channel_id: Snowflake) -> JsonObject:
        """An attachment object whose url the sandbox serves."""
        url = f"{self._base_url()}/attachments/{channel_id}/{attachment.id}/{attachment.filename}"
        payload: JsonObject = {
            "id": str(attachment.id),
            "filename": attachment.filename,
            "size": attachment.size,
            "url": url,
            "proxy_url": url,
            "content_type": attachment.content_type,
        }
        if attachment.description is not None:
            payload["description"] = attachment.description
        return payload

    def message(self, message: Message) -> JsonObject:
        """A message object, with the author's member data in guilds."""
        state = self._state
        author = state.users[message.author_id]
        payload: JsonObject = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "author": user_payload(author),
            "content": message.content,
            "timestamp": iso(message.created_at),
            "edited_timestamp": iso(message.edited_at),
            "tts": False,
            "mention_everyone": False,
            "mentions": [user_payload(state.users[u]) for u in message.mention_ids if u in state.users],
            "mention_roles": [],
            "attachments": [self.attachment(a, message.channel_id) for a in message.attachments],
            "embeds": list(message.embeds),
            "components": list(message.components),
            "pinned": False,
            "type": message.type,
            "flags": message.flags,
        }
        self._add_message_context(payload, message)
        return payload

    def _add_message_context(self, payload: JsonObject, message: Message) -> None:
        if message.guild_id is not None:
            payload["guild_id"] = str(message.guild_id)
            member = self._state.guilds[message.guild_id].members.get(message.author_id)
            if member is not None and message.webhook_id is None:
                payload["member"] = self.member(member, with_user=False)
        if message.reference_id is not None:
            payload["message_reference"] = {
                "type": 0,
                "message_id": str(message.reference_id),
                "channel_id": str(message.channel_id),
            }
        if message.thread_id is not None and message.thread_id in self._state.channels:
            payload["thread"] = self.channel(self._state.channels[message.thread_id])
        if message.webhook_id is not None:
            payload["webhook_id"] = str(message.webhook_id)
            payload["application_id"] = str(message.webhook_id)
        record = self._state.interactions.get(message.interaction_id) if message.interaction_id else None
        if record is not None:
            payload["interaction_metadata"] = self._interaction_metadata(record)

    def _interaction_metadata(self, record: InteractionRecord) -> JsonObject:
        owners = {"0": str(record.guild_id)} if record.guild_id else {"1": str(record.user_id)}
        metadata: JsonObject = {
            "id": str(record.id),
            "type": int(record.kind),
            "user": user_payload(self._state.users[record.user_id]),
            "authorizing_integration_owners": owners,
        }
        if record.kind is InteractionKind.MESSAGE_COMPONENT and record.message_id is not None:
            metadata["interacted_message_id"] = str(record.message_id)
        return metadata

    def interaction(self, record: InteractionRecord) -> JsonObject:
        """The INTERACTION_CREATE payload."""
        channel = self._state.channels[record.channel_id]
        payload: JsonObject = {
            "id": str(record.id),
            "application_id": str(record.application_id),
            "type": int(record.kind),
            "data": record.data,
            "channel": self.channel(channel),
            "channel_id": str(channel.id),
            "token": record.token,
            "version": 1,
            "locale": self._state.locales.get(record.user_id, "en-US"),
            "app_permissions": str(int(self._state.permissions(record.application_id, channel))),
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "authorizing_integration_owners": {"0": str(record.guild_id)} if record.guild_id else {},
            "context": 0 if record.guild_id else 1,
        }
        self._add_invoker(payload, record, channel)
        if record.message_id is not None:
            payload["message"] = self.message(self._state.messages[record.message_id])
        return payload

    def _add_invoker(self, payload: JsonObject, record: InteractionRecord, channel: Channel) -> None:
        if record.guild_id is None:
            payload["user"] = user_payload(self._state.users[record.user_id])
            return
        guild = self._state.guilds[record.guild_id]
        member = self.member(guild.members[record.user_id])
        member["permissions"] = str(int(self._state.permissions(record.user_id, channel)))
        payload["member"] = member
        payload["guild_id"] = str(guild.id)
        payload["guild_locale"] = "en-US"
        payload["guild"] = {"id": str(guild.id), "locale": "en-US", "features": []}


def _opt_id(value: Snowflake | None) -> str | None:
    return None if value is None else str(value)


# Guild fields the sandbox does not model, with the values of a plain new community-less guild.
_GUILD_DEFAULTS: Final[JsonObject] = {
    "icon": None,
    "splash": None,
    "discovery_splash": None,
    "banner": None,
    "description": None,
    "afk_channel_id": None,
    "afk_timeout": 300,
    "verification_level": 0,
    "default_message_notifications": 0,
    "explicit_content_filter": 0,
    "mfa_level": 0,
    "nsfw_level": 0,
    "premium_tier": 0,
    "premium_subscription_count": 0,
    "premium_progress_bar_enabled": False,
    "preferred_locale": "en-US",
    "system_channel_id": None,
    "system_channel_flags": 0,
    "rules_channel_id": None,
    "public_updates_channel_id": None,
    "safety_alerts_channel_id": None,
    "vanity_url_code": None,
    "application_id": None,
    "max_members": 500000,
    "max_presences": None,
    "max_video_channel_users": 25,
    "max_stage_video_channel_users": 50,
    "widget_enabled": False,
    "widget_channel_id": None,
    "incidents_data": None,
    "features": [],
    "emojis": [],
    "stickers": [],
}

# Fields only the gateway's GUILD_CREATE carries.
_GATEWAY_GUILD_DEFAULTS: Final[JsonObject] = {
    "presences": [],
    "voice_states": [],
    "stage_instances": [],
    "guild_scheduled_events": [],
    "soundboard_sounds": [],
    "large": False,
    "unavailable": False,
    "lazy": True,
}
