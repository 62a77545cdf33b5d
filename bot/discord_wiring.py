"""Wires the Discord adapter from settings: endpoints, options, its outbound pump and tasks, file fetching.

Cross-platform files: `discord_file_fetcher(adapter)` is the `ForeignFileFetcher` another platform's
deliverer uses to fetch a Discord attachment; `start_discord(..., fetch_foreign=...)` takes the fetcher the
Discord deliverer uses for files that live on another platform.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from adapters.discord.adapter import DiscordAdapter, DiscordOptions, file_hosts_for, use_endpoints
from adapters.discord.normalise import StaffChannels
from bot.services import Services
from bot.settings import ConfigError, Settings
from routing.delivery import DeliveryScheduler, ForeignFileFetcher, SlidingWindow
from routing.model import Attachment, Platform
from routing.store.conversations import ConversationStore
from routing.store.outbound import OutboundPump
from routing.store.streams import StreamWriter

log = logging.getLogger(__name__)

Task = Callable[[asyncio.Event], Awaitable[None]]
# Discord allows a bot 50 requests a second in all. The window counts deliveries, and a delivery can make more
# than one request (open a thread, then post in it; open a DM channel; edit a card); at 100 people a burst of
# takes drew one global 429 with the window at 50. Forty deliveries a second leave a fifth of the budget for
# those extra requests, and are still four times what 100 people chatting need.
DISCORD_BOT_WINDOW = (40, 1.05)


def discord_options(settings: Settings, rate_limits: bool) -> DiscordOptions:
    """The adapter's plain values; staff channels only when the staff workspace is on Discord."""
    dc = settings.discord
    assert dc.token is not None
    staff = None
    if settings.staff.platform == Platform.DISCORD:
        staff = StaffChannels(_channel_id(settings.staff.volunteer_chat, "volunteer_chat"),
                              _channel_id(settings.staff.escalation_chat, "escalation_chat"))  # fmt: skip
    return DiscordOptions(
        token=dc.token.get_secret_value(), staff=staff, file_hosts=file_hosts_for(dc.api_url), rate_limits=rate_limits
    )


async def start_discord(
    settings: Settings,
    services: Services,
    writer: StreamWriter,
    conversations: ConversationStore,
    name: str,
    *,
    rate_limits: bool = True,
    fetch_foreign: ForeignFileFetcher | None = None,
) -> tuple[DiscordAdapter, list[tuple[str, Task]]]:
    """Start the Discord adapter (connected and ready) and return it with the tasks that keep it running."""
    quiet_discord_loggers()
    use_endpoints(settings.discord.api_url, settings.discord.gateway_url)
    adapter = DiscordAdapter(discord_options(settings, rate_limits), writer, conversations, fetch_foreign)
    try:
        await adapter.start()
    except BaseException:
        await adapter.close()
        raise
    window = SlidingWindow(*DISCORD_BOT_WINDOW) if rate_limits else None
    pump = OutboundPump(
        services.redis, writer, services.cipher, Platform.DISCORD,
        DeliveryScheduler(adapter.deliverer, window), consumer=name,
    )  # fmt: skip
    return adapter, [("discord-outbound", pump.run), ("discord-gateway", adapter.run)]


def _channel_id(value: str, key: str) -> int:
    if not value.isdigit():
        problem = f"staff.{key} must be a Discord channel id (a positive number) when staff.platform is discord"
        raise ConfigError([problem])
    return int(value)


def discord_file_fetcher(adapter: DiscordAdapter) -> ForeignFileFetcher:
    """For another platform's deliverer: the bytes and name of a Discord attachment (MAX_FOREIGN_FILE_BYTES)."""

    async def fetch(attachment: Attachment, source: Platform) -> tuple[bytes, str]:
        return await adapter.download(attachment)

    return fetch


def quiet_discord_loggers() -> None:
    """discord.py logs request URLs (with channel ids of people's DMs) when rate limited: keep them out."""
    logging.getLogger("discord.http").setLevel(logging.ERROR)
