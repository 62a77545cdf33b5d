"""The Discord adapter: one real discord.py `Client`, our gateway (receive) and deliverer (send).

The bridge owns the event loop and the lifecycle: never `Client.run()`. `start()` logs in, opens the gateway
connection as a task this adapter owns, waits (bounded) for READY and registers the slash commands; the
bridge then runs `run()` (which supervises that connection until stop) and the outbound pump.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import discord
import discord.gateway
import discord.http
import yarl

from adapters.discord.commands import publish_commands
from adapters.discord.files import DISCORD_FILE_HOSTS, AttachmentCarrier, DiscordFiles
from adapters.discord.gateway import BridgeClient, DiscordGateway
from adapters.discord.normalise import StaffChannels
from adapters.discord.render import DiscordDeliverer
from routing.delivery import ForeignFileFetcher
from routing.model import Attachment
from routing.press_answers import PressAnswers
from routing.store.conversations import ConversationStore
from routing.store.streams import StreamWriter

log = logging.getLogger(__name__)

CLOSE_SECONDS = 5.0
MAX_RATELIMIT_WAIT = 30.0  # longer waits come back as RateLimited, so the scheduler retries instead of stalling


class DiscordNotReady(Exception):
    """The gateway did not become ready in time (or its connection failed while starting)."""


def use_endpoints(api_url: str, gateway_url: str) -> None:
    """Point discord.py at another REST base and gateway (it has no option for it: two class attributes).

    Process-wide; call once at start-up. A plain `Client` dials DEFAULT_GATEWAY without asking /gateway/bot.
    """
    discord.http.Route.BASE = api_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def file_hosts_for(api_url: str) -> frozenset[str]:
    """Hosts attachments may be downloaded from: Discord's CDN, and the API's own host (a local sandbox)."""
    host = yarl.URL(api_url).host
    return DISCORD_FILE_HOSTS | ({host} if host else set())


@dataclass(frozen=True, slots=True)
class DiscordOptions:
    """Plain values the adapter needs (never the whole settings object).

    `staff` is None when the staff workspace is on another platform: then only DMs are served here.
    `guild_ready_timeout`: discord.py waits this long after the last GUILD_CREATE before READY; a bridge is in
    one or two guilds, which all arrive right after READY, so its 2 s default only delays start-up.
    """

    token: str
    staff: StaffChannels | None
    file_hosts: frozenset[str] = DISCORD_FILE_HOSTS
    rate_limits: bool = True
    guild_ready_timeout: float = 0.5
    ready_timeout: float = 30.0


class DiscordAdapter:
    """Owns the discord.py client and its connection task; exposes the gateway and the deliverer."""

    def __init__(
        self,
        options: DiscordOptions,
        writer: StreamWriter,
        conversations: ConversationStore,
        fetch_foreign: ForeignFileFetcher | None = None,
    ) -> None:
        self.options = options
        self.client = BridgeClient(
            intents=_intents(),
            max_messages=None,  # no message cache: edits arrive as raw events, and text stays out of memory
            guild_ready_timeout=options.guild_ready_timeout,
            allowed_mentions=discord.AllowedMentions.none(),  # relayed text must never ping @everyone or anyone
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
            chunk_guilds_at_startup=False,
        )
        self.gateway = DiscordGateway(self.client, options.staff, writer, PressAnswers(conversations))
        self.client.receiver = self.gateway
        self._files = DiscordFiles(options.file_hosts)
        carrier = AttachmentCarrier(self._files.download, fetch_foreign)
        self.deliverer = DiscordDeliverer(
            self.client, options.staff, conversations, carrier, rate_limits=options.rate_limits
        )
        self._connection: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Log in (checks the token), connect, wait for READY (bounded), register the slash commands."""
        await self._files.open()
        await self.client.login(self.options.token)
        self._connection = asyncio.create_task(self.client.connect(), name="discord-gateway-connection")
        await self._wait_ready()
        await publish_commands(self.client, self.options.staff)
        log.info("discord adapter started")

    async def _wait_ready(self) -> None:
        assert self._connection is not None
        ready = asyncio.ensure_future(self.client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._connection}, timeout=self.options.ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready in done:
            return
        ready.cancel()
        failed = self._connection in done and not self._connection.cancelled() and self._connection.exception()
        if failed:
            raise DiscordNotReady(f"discord gateway failed: {type(failed).__name__}")
        raise DiscordNotReady(f"discord gateway not ready within {self.options.ready_timeout:.0f} s")

    async def run(self, stop: asyncio.Event) -> None:
        """Supervise the gateway connection until `stop`; its failure fails this task (and so the process).

        Closing is left to `close()`, which the bridge calls once every task (the outbound pump too) ended:
        closing here could pull the HTTP session from under a delivery still in flight.
        """
        if self._connection is None:
            raise DiscordNotReady("run() before start()")
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({stopped, self._connection}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not stop.is_set():
            self._connection.result()  # raises the connection's error
            raise DiscordNotReady("discord gateway connection ended unexpectedly")

    def is_ready(self) -> bool:
        return self.client.is_ready() and not self.client.is_closed()

    async def download(self, attachment: Attachment) -> tuple[bytes, str]:
        """A Discord attachment's bytes and file name (at most MAX_FOREIGN_FILE_BYTES), for another platform."""
        return await self._files.download(attachment)

    async def close(self) -> None:
        """Close the gateway and HTTP sessions; safe to call more than once."""
        await self.client.close()
        connection = self._connection
        if connection is not None:
            await asyncio.wait({connection}, timeout=CLOSE_SECONDS)  # connect() returns once the client is closed
            if not connection.done():
                log.warning("discord gateway connection did not end within %.0f s; cancelling it", CLOSE_SECONDS)
                connection.cancel()
            elif not connection.cancelled() and connection.exception() is not None:
                log.info("discord gateway connection had ended with %s", type(connection.exception()).__name__)
        await self._files.close()


def _intents() -> discord.Intents:
    """Guild channels and threads, guild and DM messages with their content; no privileged member list."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = True
    return intents
