"""A local Discord (REST v10 + gateway v10) that the real discord.py client talks to, for tests, demos and
training.

Point discord.py at it with two class attributes (discord.py has no base-URL option)::

    discord.http.Route.BASE = sandbox.api_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(sandbox.gateway_url)

The sandbox is driven from Python (the methods below) or over HTTP (`/_sandbox/...`, see `control`).
It listens on loopback only unless told otherwise: its control API has no authentication.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from types import TracebackType
from typing import Self

from aiohttp import web

from sandboxes.discord import errors
from sandboxes.discord.control import control_routes
from sandboxes.discord.core import (
    API_PREFIX,
    CORE_KEY,
    GATEWAY_PATH,
    RESUME_PATH,
    SandboxCore,
    SandboxSettings,
)
from sandboxes.discord.gateway import GatewayStats
from sandboxes.discord.interactions import InteractionStarter, OptionValue
from sandboxes.discord.limits import Fault
from sandboxes.discord.model import (
    NO_PERMISSIONS,
    PRIVILEGED_INTENTS,
    BotAccount,
    BotAction,
    CallRecord,
    Channel,
    Guild,
    Intent,
    InteractionRecord,
    JsonObject,
    Member,
    Message,
    Permission,
    Role,
    Snowflake,
    Upload,
    User,
)
from sandboxes.discord.payloads import command_payload
from sandboxes.discord.people import PeopleActions
from sandboxes.discord.rest import account_routes, rest_middleware
from sandboxes.discord.rest_channels import channel_routes
from sandboxes.discord.rest_commands import command_routes
from sandboxes.discord.rest_guilds import guild_routes
from sandboxes.discord.rest_interactions import interaction_routes
from sandboxes.discord.rest_messages import message_routes
from sandboxes.discord.state import SandboxState
from sandboxes.discord.world import WorldBuilder

_log = logging.getLogger(__name__)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class DiscordSandbox:
    """One local Discord with one or more registered bot tokens."""

    def __init__(
        self,
        tokens: Sequence[str] = ("sandbox-bot-token",),
        *,
        bot_names: Sequence[str] | None = None,
        settings: SandboxSettings | None = None,
    ) -> None:
        self._core = SandboxCore(settings or SandboxSettings())
        self._world = WorldBuilder(self._core)
        self._people = PeopleActions(self._core)
        self._interactions = InteractionStarter(self._core)
        self._runner: web.AppRunner | None = None
        names = list(bot_names or [])
        self.bots: list[BotAccount] = []
        for index, token in enumerate(tokens):
            self.add_bot(token, names[index] if index < len(names) else f"sandbox-bot-{index + 1}")

    # --- lifecycle -------------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0, *, allow_remote: bool = False) -> str:
        """Starts serving; returns the base URL (REST is at `api_url`, the gateway at `gateway_url`)."""
        if self._runner is not None:
            raise errors.SandboxError("the sandbox is already running")
        if host not in _LOOPBACK and not allow_remote:
            raise errors.SandboxError("the control API is unauthenticated: bind to loopback or pass allow_remote")
        app = web.Application(middlewares=[rest_middleware], client_max_size=25 * 1024 * 1024)
        app[CORE_KEY] = self._core
        app.add_routes(account_routes() + message_routes() + channel_routes() + guild_routes())
        app.add_routes(interaction_routes() + command_routes() + control_routes(self, self._core))
        app.add_routes([web.get(GATEWAY_PATH, self._core.hub.handle), web.get(RESUME_PATH, self._core.hub.handle)])
        # A short shutdown timeout, as the Telegram sandbox's: an open long poll (the demo page's) must not hold up
        # Ctrl-C for aiohttp's default minute.
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        self._core.base_url = f"http://{'[::1]' if host == '::1' else host}:{bound_port}"
        _log.info("discord sandbox listening on port %s", bound_port)
        return self._core.base_url

    async def stop(self) -> None:
        """Closes gateway sockets and stops serving. Close discord.py clients first, or they reconnect."""
        if self._runner is None:
            return
        await self._core.hub.close()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:PORT."""
        return self._core.base_url

    @property
    def api_url(self) -> str:
        """REST base for `discord.http.Route.BASE`."""
        return self._core.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """Websocket URL for `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`."""
        return self._core.ws_url + GATEWAY_PATH

    @property
    def state(self) -> SandboxState:
        """Read access to everything in the sandbox (mutate only through the methods)."""
        return self._core.state

    # --- world building --------------------------------------------------------------------------------------

    @property
    def bot(self) -> BotAccount:
        """The first registered bot."""
        return self.bots[0]

    def add_bot(
        self, token: str, name: str | None = None, *, privileged_intents: Intent = PRIVILEGED_INTENTS
    ) -> BotAccount:
        """Registers another bot token (e.g. an echo bot next to the bridge).

        `privileged_intents`: the privileged intents (GUILD_PRESENCES, GUILD_MEMBERS, MESSAGE_CONTENT) switched on
        in the application's developer portal page; all three by default. An IDENTIFY asking for another one
        is closed with 4014 (discord.py: `PrivilegedIntentsRequired`).
        """
        name = name or f"sandbox-bot-{len(self.bots) + 1}"
        bot = self._world.add_bot(token, name, privileged_intents=privileged_intents)
        self.bots.append(bot)
        return bot

    def set_privileged_intents(self, intents: Intent, *, bot: BotAccount | None = None) -> None:
        """Switches the privileged intents of a bot's application (default: the first bot's), as its developer
        portal page does, e.g. `Intent.GUILD_MEMBERS` alone to turn MESSAGE_CONTENT off.

        Open sessions keep theirs; the next IDENTIFY is checked, and /applications/@me reports the new flags.
        """
        self._world.set_privileged_intents(bot or self.bot, intents)

    def create_user(self, name: str, *, dms_open: bool = True, locale: str = "en-US") -> User:
        """Creates a person; `locale` is their Discord client's language, sent with each interaction."""
        return self._world.create_user(name, dms_open=dms_open, locale=locale)

    def close_dms(self, user: User) -> None:
        """The user no longer accepts DMs: the bot's sends get 403 50007."""
        self._world.set_dms_open(user, False)

    def open_dms(self, user: User) -> None:
        """The user accepts DMs again."""
        self._world.set_dms_open(user, True)

    def create_guild(self, name: str, *, owner: User | None = None) -> Guild:
        """Creates a guild that every registered bot is in."""
        return self._world.create_guild(name, owner=owner)

    def create_role(self, guild: Guild, name: str, *, permissions: Permission = NO_PERMISSIONS) -> Role:
        """Creates a role."""
        return self._world.create_role(guild, name, permissions=permissions)

    def add_member(self, guild: Guild, user: User, roles: Sequence[Role] = ()) -> Member:
        """Adds a person to a guild."""
        return self._world.add_member(guild, user, roles)

    def remove_member(self, guild: Guild, member: User | BotAccount) -> None:
        """Removes a person or a bot from a guild (a kick). A removed bot gets GUILD_DELETE, loses its managed
        role, and from then on `GET /guilds/{id}` answers it 404 10004 and the guild's roles and members 403 50001.
        """
        self._world.remove_member(guild, member)

    def create_text_channel(
        self, guild: Guild, name: str, *, visible_to: Sequence[Role | User] | None = None, topic: str | None = None
    ) -> Channel:
        """Creates a text channel; with `visible_to` only those roles/users (and the bots) see it."""
        return self._world.create_text_channel(guild, name, visible_to=visible_to, topic=topic)

    def set_overwrite(
        self,
        channel: Channel,
        target: Role | User | BotAccount,
        *,
        allow: Permission = NO_PERMISSIONS,
        deny: Permission = NO_PERMISSIONS,
    ) -> None:
        """Sets a channel permission overwrite (deny the bot SEND_MESSAGES to provoke 50013)."""
        self._world.set_overwrite(channel, target, allow=allow, deny=deny)

    # --- what people do --------------------------------------------------------------------------------------

    def send_dm(
        self, user: User, content: str = "", *, bot: BotAccount | None = None, attachments: Sequence[Upload] = ()
    ) -> Message:
        """The user DMs the bot: MESSAGE_CREATE in their DM channel."""
        return self._people.send_dm(user, content, bot=bot or self.bot, uploads=tuple(attachments))

    def send_message(
        self,
        user: User,
        channel: Channel,
        content: str = "",
        *,
        attachments: Sequence[Upload] = (),
        reply_to: Message | None = None,
    ) -> Message:
        """The user writes in a guild channel or thread."""
        return self._people.send_message(user, channel, content, uploads=tuple(attachments), reply_to=reply_to)

    def edit_message(self, message: Message, content: str) -> Message:
        """A person edits their own message: MESSAGE_UPDATE."""
        return self._people.edit_message(message, content)

    def delete_message(self, message: Message) -> None:
        """A person deletes their own message: MESSAGE_DELETE."""
        self._people.delete_message(message)

    def archive_thread(self, thread: Channel, *, locked: bool = False) -> Channel:
        """Archives a thread as Discord's auto-archive does: THREAD_UPDATE."""
        return self._people.archive_thread(thread, locked=locked)

    def join_thread(self, user: User, thread: Channel) -> None:
        """A person joins a thread."""
        self._people.join_thread(user, thread)

    def press_button(self, user: User, message: Message, custom_id: str) -> InteractionRecord:
        """A person presses a button: INTERACTION_CREATE (component_type 2)."""
        return self._interactions.press_button(user, message, custom_id)

    def select_options(self, user: User, message: Message, custom_id: str, values: Sequence[str]) -> InteractionRecord:
        """A person picks values in a select menu: INTERACTION_CREATE (component_type 3…)."""
        return self._interactions.select_options(user, message, custom_id, values)

    def invoke_slash(
        self,
        user: User,
        channel: Channel,
        command: str,
        options: Mapping[str, OptionValue] | None = None,
        *,
        bot: BotAccount | None = None,
    ) -> InteractionRecord:
        """A person runs a registered slash command ("next", or "case close" for a subcommand)."""
        return self._interactions.invoke_slash(user, channel, command, options, bot=bot)

    # --- failures --------------------------------------------------------------------------------------------

    def fail_next(
        self, route: str, *, times: int = 1, status: int = 429, retry_after: float = 0.05, is_global: bool = False
    ) -> None:
        """The next `times` calls to `route` (e.g. "POST /channels/{channel_id}/messages") fail with `status`."""
        self._core.faults.add(route, Fault(status, retry_after, is_global), times)

    async def disconnect_gateway(
        self, bot: BotAccount | None = None, *, code: int = 4000, resumable: bool = True
    ) -> int:
        """Closes the bot's gateway sockets (4000: discord.py RESUMEs); returns how many were open."""
        return await self._core.hub.disconnect((bot or self.bot).id, code=code, resumable=resumable)

    @contextlib.asynccontextmanager
    async def gateway_outage(self, bot: BotAccount | None = None, *, code: int = 4000) -> AsyncIterator[None]:
        """Disconnects the bot and keeps it from reconnecting until the block ends; events inside are replayed."""
        bot_id = (bot or self.bot).id
        self._core.hub.hold(bot_id)
        try:
            await self._core.hub.disconnect(bot_id, code=code)
            yield
        finally:
            self._core.hub.release(bot_id)

    def gateway_stats(self, bot: BotAccount | None = None) -> GatewayStats:
        """IDENTIFY/RESUME counters of a bot."""
        return self._core.hub.stats((bot or self.bot).id)

    # --- observation -----------------------------------------------------------------------------------------

    def channel(self, channel_id: Snowflake | int) -> Channel:
        """A channel or thread by id."""
        return self._core.state.channel(Snowflake(int(channel_id)))

    def dm_channel(self, user: User, bot: BotAccount | None = None) -> Channel | None:
        """The DM channel between the user and the bot, if one exists."""
        return self._core.state.find_dm((bot or self.bot).id, user.id)

    def commands(self, guild: Guild | None = None, *, bot: BotAccount | None = None) -> list[JsonObject]:
        """The application commands a bot registered, global or for one guild, as Discord would list them."""
        records = self._core.state.commands_of((bot or self.bot).application_id, guild.id if guild else None)
        return [command_payload(c) for c in records]

    def threads(self, channel: Channel) -> list[Channel]:
        """Threads under a channel, oldest first."""
        return self._core.state.threads_of(channel.id)

    def messages(self, channel: Channel) -> list[Message]:
        """Current revisions of the channel's messages, oldest first (including ephemeral ones)."""
        return self._core.state.messages_in(channel.id)

    def bot_messages(self, channel: Channel | None = None, *, bot: BotAccount | None = None) -> list[Message]:
        """Current revisions of messages bots wrote, oldest first, optionally for one channel or bot."""
        state = self._core.state
        found = [m for m in state.messages.values() if m.author_id in state.bots]
        found = [m for m in found if channel is None or m.channel_id == channel.id]
        return sorted((m for m in found if bot is None or m.author_id == bot.id), key=lambda m: m.id)

    def message(self, message_id: Snowflake | int) -> Message:
        """The current revision of a message by id (e.g. the id discord.py got back from a send)."""
        message = self._core.state.messages.get(Snowflake(int(message_id)))
        if message is None:
            raise errors.SandboxError("no such message (never sent, or deleted)")
        return message

    def revisions(self, message: Message) -> list[Message]:
        """Every revision of a message, the original first."""
        return list(self._core.state.history[message.id])

    def interaction(self, interaction_id: Snowflake | int) -> InteractionRecord:
        """An interaction and the bot's responses to it."""
        return self._core.state.interactions[Snowflake(int(interaction_id))]

    @property
    def actions(self) -> list[BotAction]:
        """Everything bots did through REST, in order."""
        return list(self._core.activity.actions)

    def calls(self, route: str | None = None) -> list[CallRecord]:
        """REST calls (optionally to one route key) with their arrival times and statuses."""
        return self._core.calls.calls(route)

    # A timeout argument (not asyncio.timeout) keeps test code short, like asyncio.wait_for's.
    async def wait_for(self, predicate: Callable[[Message], bool], timeout: float = 5.0) -> Message:  # noqa: ASYNC109
        """The first message a bot sends or edits from now on matching `predicate` (TimeoutError otherwise)."""
        return await self._core.activity.wait_for(predicate, timeout)

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Waits until `condition()` holds, re-checking after each bot action."""
        await self._core.activity.wait_until(condition, timeout)
