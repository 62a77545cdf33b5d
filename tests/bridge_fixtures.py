"""Runs the whole bridge (`bot.app.run`, all roles) in the test's loop against real Redis and the sandboxes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from bot import shipped
from bot.app import ProcessRole, run
from bot.embedded_redis import free_port
from bot.settings import Settings
from routing.model import ConversationId, Platform, ThreadId
from routing.store.cipher import TextCipher
from routing.store.connection import RedisOptions, connect
from routing.store.conversations import ConversationStore

ROOT = Path(__file__).parent.parent
ENCRYPTION_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # bytes 0..31, tests only
SANDBOX_BOT_TOKEN = "123456:sandbox-test-token"  # the first bot of the Telegram `sandbox` fixture


def bridge_settings(tmp_path: Path, redis_url: str, **sections: dict[str, Any]) -> Settings:
    """Settings for a test bridge; `sections` override/extend the defaults per section."""
    data: dict[str, dict[str, Any]] = {
        "redis": {"url": redis_url},
        "storage": {"dir": str(tmp_path / "data")},
        "risk": {"phrases_dir": str(shipped.RISK_PHRASES)},
        "rota": {"file": str(tmp_path / "rota.toml")},
        "web": {"host": "127.0.0.1", "port": free_port()},
        "security": {"pseudonym_secret": "test-pseudonym-secret-0123456789", "encryption_key": ENCRYPTION_KEY},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return Settings(**data)


def telegram_bridge_settings(
    tmp_path: Path, redis_url: str, sandbox: Any, staff_chat: int, escalation_chat: int, **sections: dict[str, Any]
) -> Settings:
    """Settings for a test bridge on the Telegram sandbox (`sandbox`: a TelegramSandbox), its first bot's token,
    with `staff_chat` as the volunteers' forum group and `escalation_chat` as the on-call chat."""
    staff = {"platform": "telegram", "volunteer_chat": str(staff_chat), "escalation_chat": str(escalation_chat)}
    return bridge_settings(
        tmp_path, redis_url,
        telegram={"enabled": True, "token": SANDBOX_BOT_TOKEN, "api_url": sandbox.url},
        staff=staff | sections.pop("staff", {}),
        **sections,
    )  # fmt: skip


async def bind_thread_elsewhere(settings: Settings, conv: str, platform: Platform, thread: int) -> None:
    """Bind `thread` to `conv` in Redis as another gateway process would after replacing a gone thread."""
    redis = connect(RedisOptions(url=settings.redis.url))
    try:
        store = ConversationStore(redis, TextCipher([bytes(32)]))  # binding a thread stores no text
        await store.bind_thread(ConversationId(conv), platform, ThreadId(str(thread)))
    finally:
        await redis.aclose()


@contextlib.asynccontextmanager
async def running_bridge(settings: Settings, name: str = "test-bridge") -> AsyncIterator[asyncio.Event]:
    """Start the bridge; yields its stop event; stops it cleanly and surfaces a crash as a test failure."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, ProcessRole.ALL, stop, name))
    try:
        await asyncio.sleep(0.3)
        if task.done():
            task.result()
        yield stop
    finally:
        stop.set()
        async with asyncio.timeout(15):
            await task


def relayed(texts: Iterable[str]) -> list[str]:
    """Messages as they were written, from what a topic/thread shows: a send that carried several of them (a
    thread catching up under the platform's limits, each part marked "› ") counts as each of its parts."""
    parts: list[str] = []
    for text in texts:
        if text.startswith("› "):
            parts += [part.removeprefix("› ") for part in text.split("\n› ")]
        else:
            parts.append(text)
    return parts


@contextlib.asynccontextmanager
async def one_volunteer_on_telegram(sandbox: Any, tmp_path: Path, redis_url: str) -> AsyncIterator[tuple[Any, ...]]:
    """An empty Redis and a running bridge on the Telegram sandbox (`sandbox`: a TelegramSandbox) with one
    volunteer, "Vee", in the volunteers' forum group and the on-call group: yields (volunteer, forum, on-call)."""
    client = connect(RedisOptions(url=redis_url))
    await client.flushall()
    await client.aclose()
    volunteer = sandbox.create_user("Vee")
    group = sandbox.create_forum_group("Volunteers", members=[volunteer])
    alerts = sandbox.create_group("On call", members=[volunteer])
    async with running_bridge(telegram_bridge_settings(tmp_path, redis_url, sandbox, group.id, alerts.id)):
        yield volunteer, group, alerts
