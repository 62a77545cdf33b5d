"""The objects of the sandbox's small Discord world: ids, permission bits, users, guilds, channels, messages.

State only: no I/O, no asyncio. The REST and gateway layers turn these into Discord's JSON payloads.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, IntFlag, StrEnum
from typing import Any, NewType

Snowflake = NewType("Snowflake", int)
JsonObject = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
EPHEMERAL_FLAG = 1 << 6
LOADING_FLAG = 1 << 7
HAS_THREAD_FLAG = 1 << 5


class SnowflakeFactory:
    """Makes unique, time-ordered snowflakes the way Discord does (ms since 2015 << 22 | increment)."""

    def __init__(self) -> None:
        self._last_ms = 0
        self._increment = 0

    def next(self) -> Snowflake:
        """Returns a new snowflake, larger than every earlier one."""
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        if now_ms > self._last_ms:
            self._last_ms, self._increment = now_ms, 0
        else:
            self._increment += 1
            if self._increment > 0xFFF:
                self._last_ms, self._increment = self._last_ms + 1, 0
        return Snowflake((self._last_ms << 22) | self._increment)


def snowflake_time(snowflake: Snowflake) -> datetime:
    """The creation time encoded in a snowflake."""
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)


def utc_now() -> datetime:
    """The current time, timezone-aware (Discord sends ISO 8601 with an offset)."""
    return datetime.now(UTC)


class Permission(IntFlag):
    """The permission bits the sandbox checks (https://discord.com/developers/docs/topics/permissions)."""

    CREATE_INSTANT_INVITE = 1 << 0
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38


ALL_PERMISSIONS = Permission((1 << 51) - 1)
NO_PERMISSIONS = Permission(0)
EVERYONE_PERMISSIONS = (
    Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.ADD_REACTIONS
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.USE_APPLICATION_COMMANDS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.CREATE_PRIVATE_THREADS
    | Permission.SEND_MESSAGES_IN_THREADS
)
BOT_PERMISSIONS = EVERYONE_PERMISSIONS | Permission.MANAGE_THREADS | Permission.MANAGE_MESSAGES


class Intent(IntFlag):
    """Gateway intents that decide which events a session receives."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    DIRECT_MESSAGES = 1 << 12
    MESSAGE_CONTENT = 1 << 15


# The intents an application must switch on in the developer portal before a session may ask for them.
PRIVILEGED_INTENTS = Intent.GUILD_PRESENCES | Intent.GUILD_MEMBERS | Intent.MESSAGE_CONTENT


class ApplicationFlag(IntFlag):
    """Application flags the sandbox reports (https://discord.com/developers/docs/resources/application).

    An unverified application in fewer than 100 guilds has the "limited" flag of each privileged intent that
    is switched on in its portal page.
    """

    GATEWAY_PRESENCE_LIMITED = 1 << 13
    GATEWAY_GUILD_MEMBERS_LIMITED = 1 << 15
    GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19
    APPLICATION_COMMAND_BADGE = 1 << 23


_LIMITED_FLAG_OF = {
    Intent.GUILD_PRESENCES: ApplicationFlag.GATEWAY_PRESENCE_LIMITED,
    Intent.GUILD_MEMBERS: ApplicationFlag.GATEWAY_GUILD_MEMBERS_LIMITED,
    Intent.MESSAGE_CONTENT: ApplicationFlag.GATEWAY_MESSAGE_CONTENT_LIMITED,
}


class ChannelType(IntEnum):
    """Channel types the sandbox knows."""

    GUILD_TEXT = 0
    DM = 1
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12


class InteractionKind(IntEnum):
    """Interaction types a user can trigger in the sandbox."""

    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3


class ActionKind(StrEnum):
    """What a bot did, as recorded in the sandbox's activity log."""

    MESSAGE_CREATE = "message_create"
    MESSAGE_UPDATE = "message_update"
    MESSAGE_DELETE = "message_delete"
    INTERACTION_CALLBACK = "interaction_callback"
    THREAD_CREATE = "thread_create"
    CHANNEL_UPDATE = "channel_update"
    CHANNEL_DELETE = "channel_delete"
    THREAD_JOIN = "thread_join"
    THREAD_LEAVE = "thread_leave"
    TYPING = "typing"
    DM_OPEN = "dm_open"
    COMMANDS_SYNC = "commands_sync"


@dataclass(frozen=True)
class User:
    """A Discord account: a person or a bot."""

    id: Snowflake
    username: str
    bot: bool = False


@dataclass
class DeveloperPortal:
    """What the application's page in Discord's developer portal sets; it can be changed at any time."""

    privileged_intents: Intent = PRIVILEGED_INTENTS

    @property
    def flags(self) -> ApplicationFlag:
        """The "limited" application flags of the privileged intents switched on."""
        flags = ApplicationFlag(0)
        for intent, flag in _LIMITED_FLAG_OF.items():
            if self.privileged_intents & intent:
                flags |= flag
        return flags


@dataclass(frozen=True)
class BotAccount:
    """A bot token registered with the sandbox, with its user, application id and portal settings."""

    user: User
    token: str = field(repr=False)
    application_id: Snowflake
    portal: DeveloperPortal = field(default_factory=DeveloperPortal, compare=False)

    @property
    def id(self) -> Snowflake:
        """The bot user's id."""
        return self.user.id

    @property
    def privileged_intents(self) -> Intent:
        """The privileged intents switched on for the bot's application (IDENTIFY asking for others: 4014)."""
        return self.portal.privileged_intents


@dataclass(frozen=True)
class Role:
    """A guild role. The @everyone role's id equals the guild id."""

    id: Snowflake
    guild_id: Snowflake
    name: str
    permissions: Permission
    position: int = 0
    managed_by: Snowflake | None = None


@dataclass
class Member:
    """A user's membership of a guild."""

    guild_id: Snowflake
    user_id: Snowflake
    role_ids: list[Snowflake]
    joined_at: datetime


@dataclass(frozen=True)
class Overwrite:
    """A channel permission overwrite for a role or a member."""

    target_id: Snowflake
    is_member: bool
    allow: Permission = NO_PERMISSIONS
    deny: Permission = NO_PERMISSIONS


@dataclass
class Guild:
    """A server with roles, members and channels."""

    id: Snowflake
    name: str
    owner_id: Snowflake
    roles: dict[Snowflake, Role] = field(default_factory=dict)
    members: dict[Snowflake, Member] = field(default_factory=dict)
    channel_ids: list[Snowflake] = field(default_factory=list)


@dataclass
class ThreadState:
    """The thread-only part of a channel (Discord's thread_metadata plus members)."""

    owner_id: Snowflake
    created_at: datetime
    archive_timestamp: datetime
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    member_ids: set[Snowflake] = field(default_factory=set)
    message_count: int = 0


@dataclass
class Channel:
    """A text channel, a DM channel (between one bot and one user) or a thread."""

    id: Snowflake
    type: ChannelType
    name: str = ""
    guild_id: Snowflake | None = None
    parent_id: Snowflake | None = None
    topic: str | None = None
    position: int = 0
    overwrites: dict[Snowflake, Overwrite] = field(default_factory=dict)
    recipient_ids: tuple[Snowflake, ...] = ()
    thread: ThreadState | None = None
    last_message_id: Snowflake | None = None

    @property
    def is_thread(self) -> bool:
        """Whether this is a public or private thread."""
        return self.thread is not None

    @property
    def is_dm(self) -> bool:
        """Whether this is a direct-message channel."""
        return self.type is ChannelType.DM


@dataclass(frozen=True)
class Upload:
    """A file a user or a test attaches to a message."""

    filename: str
    data: bytes = field(repr=False)
    content_type: str = "application/octet-stream"
    description: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A stored attachment, served back at a sandbox URL."""

    id: Snowflake
    filename: str
    content_type: str
    data: bytes = field(repr=False)
    description: str | None = None

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)


@dataclass(frozen=True)
class Message:
    """One revision of a message. An edit stores a new revision with the same id."""

    id: Snowflake
    channel_id: Snowflake
    author_id: Snowflake
    guild_id: Snowflake | None = None
    content: str = field(default="", repr=False)
    embeds: tuple[JsonObject, ...] = field(default=(), repr=False)
    components: tuple[JsonObject, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    mention_ids: tuple[Snowflake, ...] = ()
    type: int = 0
    flags: int = 0
    edited_at: datetime | None = None
    reference_id: Snowflake | None = None
    webhook_id: Snowflake | None = None
    interaction_id: Snowflake | None = None
    thread_id: Snowflake | None = None
    revision: int = 0

    @property
    def created_at(self) -> datetime:
        """When the message was first sent."""
        return snowflake_time(self.id)

    @property
    def ephemeral(self) -> bool:
        """Whether only the interacting user sees this message."""
        return bool(self.flags & EPHEMERAL_FLAG)

    @property
    def loading(self) -> bool:
        """Whether this is a deferred ("thinking…") interaction response not yet filled in."""
        return bool(self.flags & LOADING_FLAG)

    @property
    def buttons(self) -> list[JsonObject]:
        """Every button on the message, in display order."""
        return [c for c in walk_components(self.components) if c.get("type") == 2]

    def component(self, custom_id: str) -> JsonObject | None:
        """The interactive component with this custom_id, if the message has one."""
        for item in walk_components(self.components):
            if item.get("custom_id") == custom_id:
                return item
        return None


def walk_components(components: tuple[JsonObject, ...] | list[JsonObject]) -> Iterator[JsonObject]:
    """Yields every component, descending into action rows and containers."""
    for item in components:
        yield item
        yield from walk_components(item.get("components") or [])


@dataclass(frozen=True)
class InteractionResponse:
    """A callback the bot sent for an interaction (type 4 reply, 5 defer, 6 deferred update, 7 update…)."""

    type: int
    data: JsonObject
    at: float


@dataclass
class InteractionRecord:
    """An interaction a user triggered, and everything the bot answered to it."""

    id: Snowflake
    token: str = field(repr=False)
    kind: InteractionKind
    application_id: Snowflake
    user_id: Snowflake
    channel_id: Snowflake
    guild_id: Snowflake | None
    data: JsonObject
    created_at: float
    message_id: Snowflake | None = None
    responses: list[InteractionResponse] = field(default_factory=list)
    original_message_id: Snowflake | None = None
    followup_ids: list[Snowflake] = field(default_factory=list)

    @property
    def responded(self) -> bool:
        """Whether the bot acknowledged the interaction."""
        return bool(self.responses)

    @property
    def response_type(self) -> int | None:
        """The type of the bot's initial response, if any."""
        return self.responses[0].type if self.responses else None


@dataclass(frozen=True)
class CommandRecord:
    """An application command the bot registered (globally or for one guild)."""

    id: Snowflake
    application_id: Snowflake
    guild_id: Snowflake | None
    name: str
    type: int
    description: str
    options: tuple[JsonObject, ...]
    version: Snowflake
    extra: JsonObject = field(default_factory=dict)


@dataclass(frozen=True)
class BotAction:
    """One thing a bot did through the REST API, in the order the sandbox saw it."""

    seq: int
    kind: ActionKind
    bot_id: Snowflake
    channel_id: Snowflake | None
    at: float
    message: Message | None = None
    interaction_id: Snowflake | None = None
    detail: JsonObject = field(default_factory=dict)


@dataclass(frozen=True)
class CallRecord:
    """One REST call: which route, when (event-loop clock) and how the sandbox answered."""

    route: str
    method: str
    path: str
    status: int
    at: float
    bot_id: Snowflake | None
