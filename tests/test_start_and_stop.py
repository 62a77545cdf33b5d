"""Starting and stopping like a service: one platform's outage at start-up keeps nothing else down, and the
bridge stops promptly in that state. The real bridge (`bot.app.run`), real Redis, the Telegram sandbox."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from bot.app import ProcessRole, run
from bot.embedded_redis import EmbeddedRedis, free_port
from sandboxes.telegram import TelegramSandbox
from tests.bridge_fixtures import SANDBOX_BOT_TOKEN, bridge_settings

pytest_plugins = ["tests.telegram_fixtures"]


async def _ready(port: int) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/readyz") as answer:
        return answer.status, await answer.json()


async def _until(check: object, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if await check():  # type: ignore[operator]
                return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("not within the time allowed")


async def test_telegram_down_at_start_up_keeps_nothing_else_down_and_joins_when_it_answers(
    tmp_path: Path, redis_server: EmbeddedRedis
) -> None:
    api_port = free_port()  # nothing listens there yet: Telegram is unreachable
    settings = bridge_settings(
        tmp_path, redis_server.url,
        telegram={"enabled": True, "token": SANDBOX_BOT_TOKEN, "api_url": f"http://127.0.0.1:{api_port}"},
        staff={"platform": "telegram", "volunteer_chat": "-1001000000001", "escalation_chat": "-1001000000002"},
    )  # fmt: skip
    web = settings.web.port
    stop = asyncio.Event()
    bridge = asyncio.create_task(run(settings, ProcessRole.ALL, stop, "start-stop"))

    async def says_telegram_is_down() -> bool:
        status, body = await _ready(web)
        return status == 503 and body == {"redis": True, "adapters": False, "platforms": {"telegram": False}}

    await _until(says_telegram_is_down, within=15)  # the web server, /readyz and routing run without Telegram

    box = TelegramSandbox(tokens=[SANDBOX_BOT_TOKEN])
    await box.start(port=api_port)  # Telegram answers again
    try:

        async def ready() -> bool:
            return (await _ready(web))[0] == 200

        await _until(ready, within=40)  # the adapter's back-off, at most 30 s between tries
        person = box.create_user("Alex", language_code="en")
        box.send_user_message(person, "hello")
        await box.wait_for(lambda m: m.chat_id == person.id and "queue" in m.body, timeout=15)
    finally:
        stop.set()
        async with asyncio.timeout(15):
            await bridge
        await box.stop()


async def test_the_bridge_stops_promptly_while_telegram_is_still_unreachable(
    tmp_path: Path, redis_server: EmbeddedRedis
) -> None:
    settings = bridge_settings(
        tmp_path, redis_server.url,
        telegram={"enabled": True, "token": SANDBOX_BOT_TOKEN, "api_url": f"http://127.0.0.1:{free_port()}"},
        staff={"platform": "telegram", "volunteer_chat": "-1001000000001", "escalation_chat": "-1001000000002"},
    )  # fmt: skip
    stop = asyncio.Event()
    bridge = asyncio.create_task(run(settings, ProcessRole.ALL, stop, "start-stop"))

    async def up() -> bool:
        return (await _ready(settings.web.port))[0] == 503

    await _until(up, within=15)
    asked = time.monotonic()
    stop.set()  # what SIGINT / SIGTERM do
    async with asyncio.timeout(10):
        await bridge
    assert time.monotonic() - asked < 10
