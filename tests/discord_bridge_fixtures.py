"""A Discord staff world for end-to-end tests: the sandbox (real discord.py talks to it), a guild with a private
volunteers' channel and an on-call channel, a person who DMs the bot, and the bridge's settings for it.

Use the fixtures by importing them by name: `from tests.discord_bridge_fixtures import box, bridge, world`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.embedded_redis import EmbeddedRedis
from bot.settings import Settings
from routing.store.connection import RedisOptions, connect
from sandboxes.discord import (
    ActionKind,
    Channel,
    DiscordSandbox,
    Message,
    Permission,
    RateLimits,
    SandboxSettings,
    User,
)
from tests.bridge_fixtures import bridge_settings, running_bridge
from tests.discord_fixtures import BRIDGE_TOKEN, running_sandbox

MESSAGES_ROUTE = "POST /channels/{channel_id}/messages"
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256))  # bytes stand in for a photo (nobody decodes them)


@dataclass
class World:
    """A staff guild with a private volunteers channel and an on-call channel, and a person who DMs the bot."""

    box: DiscordSandbox
    volunteers: Channel
    alerts: Channel
    general: Channel
    person: User
    volunteer: User
    professional: User
    settings: Settings
    colleague: User  # another volunteer (or a supervisor) who can read the volunteers' threads

    def mark(self) -> int:
        return len(self.box.actions)

    async def seen(self, predicate: Callable[[Message], bool], since: int = 0, within: float = 8.0) -> Message:
        """The first message the bot sent or edited (from action `since` on) that matches `predicate`."""

        def found() -> Message | None:
            kinds = (ActionKind.MESSAGE_CREATE, ActionKind.MESSAGE_UPDATE)
            actions = self.box.actions[since:]
            return next((a.message for a in actions if a.kind in kinds and a.message and predicate(a.message)), None)

        await self.box.wait_until(lambda: found() is not None, within)
        message = found()
        assert message is not None
        return message

    def dm(self) -> Channel:
        channel = self.box.dm_channel(self.person)
        assert channel is not None
        return channel

    def in_dm(self, text: str) -> Callable[[Message], bool]:
        return lambda m: m.channel_id == self.dm().id and text in m.content

    async def take_first_card(self) -> Channel:
        """Press Take on the waiting person's card; returns the conversation's thread once it is opened."""
        card = await self.seen(lambda m: m.channel_id == self.volunteers.id and bool(m.buttons))
        self.box.press_button(self.volunteer, card, card.buttons[0]["custom_id"])
        opened = await self.seen(lambda m: "What they sent" in m.content)
        return self.box.channel(opened.channel_id)


def make_world(box: DiscordSandbox, tmp_path: Path, redis_url: str) -> World:
    guild = box.create_guild("Staff")
    volunteer_role = box.create_role(guild, "volunteer", permissions=Permission.USE_APPLICATION_COMMANDS)
    on_call_role = box.create_role(guild, "on-call", permissions=Permission.USE_APPLICATION_COMMANDS)
    volunteer, professional = box.create_user("vol-kim"), box.create_user("dr-lee")
    box.add_member(guild, volunteer, [volunteer_role])
    box.add_member(guild, professional, [on_call_role])
    colleague = box.create_user("sup-sam")
    box.add_member(guild, colleague, [volunteer_role])
    volunteers = box.create_text_channel(guild, "volunteers", visible_to=[volunteer_role])
    alerts = box.create_text_channel(guild, "on-call", visible_to=[on_call_role])
    general = box.create_text_channel(guild, "general")
    settings = bridge_settings(
        tmp_path,
        redis_url,
        discord={"enabled": True, "token": BRIDGE_TOKEN, "api_url": box.api_url, "gateway_url": box.gateway_url},
        staff={"platform": "discord", "volunteer_chat": str(volunteers.id), "escalation_chat": str(alerts.id)},
    )
    return World(box, volunteers, alerts, general, box.create_user("ana"), volunteer, professional, settings, colleague)


async def _flush(redis_server: EmbeddedRedis) -> None:
    client = connect(RedisOptions(url=redis_server.url))
    await client.flushall()
    await client.aclose()


@pytest.fixture
async def box(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordSandbox]:
    """A sandbox with limits too high to slow tests down; discord.py's endpoints are restored afterwards."""
    async with running_sandbox(monkeypatch, SandboxSettings(rate_limits=RateLimits.relaxed())) as sandbox:
        yield sandbox


@pytest.fixture
async def world(box: DiscordSandbox, tmp_path: Path, redis_server: EmbeddedRedis) -> World:
    await _flush(redis_server)
    return make_world(box, tmp_path, redis_server.url)


async def until_ready(settings: Settings, seconds: float = 10.0) -> None:
    """The bridge's /readyz answers 200 once Redis and the Discord gateway are ready (commands registered)."""
    url = f"http://127.0.0.1:{settings.web.port}/readyz"
    async with aiohttp.ClientSession() as http, asyncio.timeout(seconds):
        while True:
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)


@pytest.fixture
async def bridge(world: World) -> AsyncIterator[World]:
    async with running_bridge(world.settings):
        await until_ready(world.settings)
        yield world
