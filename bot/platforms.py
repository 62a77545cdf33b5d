"""The gateway role: platform adapters, their outbound pumps, and the web server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from adapters.discord.adapter import DiscordAdapter
from adapters.telegram.adapter import TelegramAdapter, TelegramOptions
from adapters.telegram.normalise import StaffChats
from bot.dashboard.wiring import build_dashboard
from bot.discord_wiring import discord_file_fetcher, start_discord
from bot.errors import PortInUse
from bot.services import Services
from bot.settings import Settings
from bot.web import build_web_app
from routing.delivery import DeliveryScheduler, ForeignFileFetcher, SlidingWindow
from routing.model import Attachment, ChatId, Platform
from routing.risk.screen import urgent_screen
from routing.store.conversations import ConversationStore
from routing.store.desk_messages import DeskMessages
from routing.store.outbound import OutboundPump
from routing.store.streams import StreamWriter
from routing.workspace import Workspace

log = logging.getLogger(__name__)

Task = Callable[[asyncio.Event], Awaitable[None]]
TELEGRAM_BOT_WINDOW = (30, 1.05)  # ~30 messages/s per bot, with a margin (see render.GROUP_WINDOW)


@dataclass
class Gateway:
    """Adapters that were started, and the tasks that keep them running."""

    tasks: list[tuple[str, Task]] = field(default_factory=list)
    telegram: TelegramAdapter | None = None
    discord: DiscordAdapter | None = None

    async def close(self) -> None:
        if self.telegram is not None:
            await self.telegram.close()
        if self.discord is not None:
            await self.discord.close()

    async def ready(self) -> dict[str, bool]:
        """Readiness of each enabled platform: Telegram has answered and is set up; Discord's gateway is live."""
        found: dict[str, bool] = {}
        if self.telegram is not None:
            found[Platform.TELEGRAM.value] = self.telegram.started
        if self.discord is not None:
            found[Platform.DISCORD.value] = self.discord.is_ready()
        return found


async def start_gateway(settings: Settings, services: Services, name: str, *, rate_limits: bool = True) -> Gateway:
    writer = StreamWriter(
        services.redis, services.cipher, services.pseudonyms, retention_days=settings.storage.retention_days,
        urgent_screen=urgent_screen(services.detector),
    )  # fmt: skip
    conversations = ConversationStore(
        services.redis, services.cipher, retention_days=settings.storage.retention_days,
        platform_retention_days=settings.storage.platform_days,  # a topic opened after closing is scheduled too
    )  # fmt: skip
    gateway = Gateway()
    if settings.telegram.enabled and settings.telegram.token is not None:
        desk = None
        if settings.staff.workspace == Workspace.PRIVATE:  # remembers which conversation a private message is of
            desk = DeskMessages(services.redis, services.pseudonyms, retention_days=settings.storage.retention_days)
        adapter = TelegramAdapter(_telegram_options(settings, rate_limits), writer, conversations, desk)
        # One try now: a rejected token stops the start with a clear message. Telegram unreachable: everything
        # else starts, and Telegram joins when it answers (one platform's outage must not keep the other, the
        # router, the escalations and /readyz down).
        await adapter.start(attempts=1)
        gateway.telegram = adapter
        window = SlidingWindow(*TELEGRAM_BOT_WINDOW) if rate_limits else None
        pump = OutboundPump(
            services.redis, writer, services.cipher, Platform.TELEGRAM,
            DeliveryScheduler(adapter.deliverer, window), consumer=name,
        )  # fmt: skip
        gateway.tasks.append(("telegram", _telegram_tasks(adapter, pump, polling=settings.telegram.mode == "polling")))
    if settings.discord.enabled and settings.discord.token is not None:
        try:
            gateway.discord, tasks = await start_discord(
                settings, services, writer, conversations, name, rate_limits=rate_limits,
                fetch_foreign=_fetcher_of(gateway.telegram.download) if gateway.telegram else None,
            )  # fmt: skip
        except BaseException:
            await gateway.close()  # the Telegram adapter, if it was started
            raise
        gateway.tasks += tasks
        if gateway.telegram is not None:  # files cross platforms in both directions
            gateway.telegram.deliverer.fetch_foreign = discord_file_fetcher(gateway.discord)
    secret = settings.telegram.webhook_secret.get_secret_value() if settings.telegram.webhook_secret else ""
    web_app = build_web_app(
        services.redis, gateway.telegram.gateway if gateway.telegram else None, secret, gateway.ready,
        build_dashboard(settings, services),
    )  # fmt: skip
    try:
        gateway.tasks.append(("web", await _serve(web_app, settings.web.host, settings.web.port)))
    except PortInUse:
        await gateway.close()
        raise
    return gateway


def _telegram_tasks(adapter: TelegramAdapter, pump: OutboundPump, *, polling: bool) -> Task:
    """Telegram's part of the gateway: start once it answers (if it did not at start-up), then deliver, and poll
    in polling mode; stops with everything else."""

    async def telegram(stop: asyncio.Event) -> None:
        if not adapter.started and not await adapter.start(stop):
            return
        async with asyncio.TaskGroup() as group:
            group.create_task(pump.run(stop))
            if polling:
                group.create_task(adapter.gateway.poll(stop))

    return telegram


def _telegram_options(settings: Settings, rate_limits: bool) -> TelegramOptions:
    tg = settings.telegram
    assert tg.token is not None
    return TelegramOptions(
        token=tg.token.get_secret_value(), api_url=tg.api_url,
        chats=StaffChats(ChatId(settings.staff.volunteer_chat), ChatId(settings.staff.escalation_chat)),
        mode=tg.mode, webhook_url=tg.webhook_url,
        webhook_secret=tg.webhook_secret.get_secret_value() if tg.webhook_secret else "", rate_limits=rate_limits,
    )  # fmt: skip


def _fetcher_of(download: Callable[[Attachment], Awaitable[tuple[bytes, str]]]) -> ForeignFileFetcher:
    async def fetch(attachment: Attachment, source: Platform) -> tuple[bytes, str]:
        return await download(attachment)

    return fetch


async def _serve(app: web.Application, host: str, port: int) -> Task:
    """Bind the web server now (a taken port is a clear start-up error, not a task's traceback later); the task
    serves until `stop`."""
    # Access logs would carry ids in URLs: off. Requests still open at shutdown get 2 s, not aiohttp's default
    # minute: SIGINT/SIGTERM stop the bridge within seconds with browsers on the dashboard (a webhook cut short
    # was not acknowledged, so Telegram sends it again).
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise PortInUse(f"port {port} on {host} is in use: set web.port to a free one") from exc
    log.info("web server on http://%s:%d (healthz, readyz, metrics, dashboard, webhooks)", host, port)

    async def serve(stop: asyncio.Event) -> None:
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    return serve
