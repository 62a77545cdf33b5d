"""Shared fixtures for tests that run the real discord.py client against the Discord sandbox.

Import the fixtures into a test module by name (`from tests.discord_fixtures import sandbox, staff`), and
import `discord` from here too: see the note on the guarded import below.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import yarl

with warnings.catch_warnings():
    # discord.py 2.7 imports the stdlib `audioop` (deprecated since Python 3.11) for voice support, and
    # pytest's `filterwarnings = error` turns that import-time warning into a collection error. The guard is
    # scoped to this import; test modules take `discord` from here so it is imported guarded first.
    warnings.simplefilter("ignore", DeprecationWarning)
    import discord
    import discord.gateway
    import discord.http
    from discord import app_commands

from sandboxes.discord import Channel, DiscordSandbox, Guild, Permission, Role, SandboxSettings, User

__all__ = [
    "BRIDGE_TOKEN",
    "Staff",
    "app_commands",
    "connected",
    "discord",
    "eventually",
    "make_client",
    "sandbox",
    "staff",
]

BRIDGE_TOKEN = "bridge-bot-token"


@contextlib.asynccontextmanager
async def running_sandbox(
    monkeypatch: pytest.MonkeyPatch, settings: SandboxSettings | None = None
) -> AsyncIterator[DiscordSandbox]:
    """A started sandbox with the bridge's token, with discord.py pointed at it for the test."""
    box = DiscordSandbox(tokens=[BRIDGE_TOKEN], bot_names=["peerbridge"], settings=settings)
    await box.start()
    monkeypatch.setattr(discord.http.Route, "BASE", box.api_url)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(box.gateway_url))
    try:
        yield box
    finally:
        await box.stop()


@pytest.fixture
async def sandbox(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordSandbox]:
    """A running sandbox with one bot token (Discord's own rate limits), and discord.py pointed at it."""
    async with running_sandbox(monkeypatch) as box:
        yield box


@dataclass(frozen=True)
class Staff:
    """A staff guild: a volunteers channel only the volunteer role (and the bot) can see."""

    guild: Guild
    volunteer_role: Role
    channel: Channel
    volunteer: User
    person: User


@pytest.fixture
def staff(sandbox: DiscordSandbox) -> Staff:
    """The world most tests need: a volunteer in the staff guild, and a person who will DM the bot."""
    guild = sandbox.create_guild("Staff")
    role = sandbox.create_role(guild, "volunteer", permissions=Permission.USE_APPLICATION_COMMANDS)
    volunteer = sandbox.create_user("vol-kim")
    sandbox.add_member(guild, volunteer, [role])
    channel = sandbox.create_text_channel(guild, "volunteers", visible_to=[role])
    person = sandbox.create_user("ana")
    return Staff(guild, role, channel, volunteer, person)


def make_client(*, message_content: bool = True) -> discord.Client:
    """A discord.py client with the intents the bridge uses and a short ready delay."""
    intents = discord.Intents.default()
    intents.message_content = message_content
    intents.members = True
    return discord.Client(intents=intents, guild_ready_timeout=0.05)


@contextlib.asynccontextmanager
async def connected(client: discord.Client, token: str = BRIDGE_TOKEN) -> AsyncIterator[discord.Client]:
    """Logs in and connects inside the test's loop (never `client.run()`), until ready; closes cleanly."""
    await client.login(token)
    task = asyncio.create_task(client.connect(), name="discord-client-connect")
    try:
        async with asyncio.timeout(5):
            await client.wait_until_ready()
        yield client
    finally:
        await client.close()
        await task


async def eventually(condition: Callable[[], object], seconds: float = 5.0) -> None:
    """Polls until `condition()` is true (for what only the discord.py client sees)."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"condition not met within {seconds} s")
