"""The web server: Telegram webhooks, health and readiness, Prometheus metrics and the staff dashboard."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.telegram.gateway import IngestUnavailable, TelegramGateway
from bot.dashboard.app import Dashboard, add_dashboard
from bot.dashboard.metrics import BridgeMetrics, metrics_handler
from routing.store.views import DashboardViews

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
RETRY_AFTER_SECONDS = "5"
READY_PING_SECONDS = 0.8  # /readyz answers within a health probe's usual 1 s timeout, Redis hanging or not

ReadyCheck = Callable[[], Awaitable[dict[str, bool]]]  # each enabled platform: ready or not


def telegram_webhook(gateway: TelegramGateway, secret: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Answer 200 only once the update is stored; 403 for a wrong secret; 503 + Retry-After if Redis is down.

    A bad update is dead-lettered and still answered 200: an error answer would make Telegram retry it and
    hold back that chat's later updates for up to a day.
    """
    expected = secret.encode()

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not expected or not hmac.compare_digest(given, expected):
            return web.Response(status=403, text="forbidden")
        try:
            raw: Any = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly deep nesting
            raw = None
        if not isinstance(raw, dict):
            log.error("telegram webhook: body is not a JSON object; ignored")
            return web.Response(status=200, text="ignored")
        try:
            await gateway.ingest_raw(raw)
        except IngestUnavailable:
            return web.Response(status=503, text="storage unavailable", headers={"Retry-After": RETRY_AFTER_SECONDS})
        return web.Response(status=200, text="ok")

    return handle


def build_web_app(
    redis: Redis,
    telegram: TelegramGateway | None,
    webhook_secret: str,
    ready: ReadyCheck,
    dashboard: Dashboard | None = None,
) -> web.Application:
    """Webhooks, /healthz, /readyz and /metrics; the dashboard under /dashboard when `dashboard` is given."""
    app = web.Application(client_max_size=1024 * 1024)
    views = DashboardViews(redis)
    metrics = BridgeMetrics(redis, views)
    app.router.add_get("/metrics", metrics_handler(metrics))
    if dashboard is not None:
        add_dashboard(app, dashboard, views)

    async def start_metrics(_app: web.Application) -> None:
        try:
            await metrics.start()
        except (RedisError, OSError):
            log.warning("metrics: redis unavailable at start-up; counting starts at the first scrape")

    app.on_startup.append(start_metrics)
    if telegram is not None and webhook_secret:
        app.router.add_post(TELEGRAM_WEBHOOK_PATH, telegram_webhook(telegram, webhook_secret))

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(_request: web.Request) -> web.Response:
        try:
            # A hanging Redis must read as "not ready" to a probe with a 1 s timeout, not as a probe timeout
            # after the 3 s socket timeout (a cancelled command's connection is dropped, not reused).
            async with asyncio.timeout(READY_PING_SECONDS):
                redis_ok = bool(await redis.ping())
        except (RedisError, OSError, TimeoutError):
            redis_ok = False
        platforms = await ready()
        adapters_ok = all(platforms.values())
        status = 200 if redis_ok and adapters_ok else 503
        body = {"redis": redis_ok, "adapters": adapters_ok, "platforms": platforms}  # which one is down
        return web.json_response(body, status=status)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
