"""Coordinator commands end to end through the real python-telegram-bot, the sandbox and real Redis."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

from adapters.telegram.sandbox import TelegramSandbox
from bot.embedded_redis import EmbeddedRedis
from routing.rota_file import parse_rota
from routing.store.connection import RedisOptions, connect
from routing.store.rota_store import RotaStore
from tests.bridge_fixtures import bridge_settings, running_bridge

pytest_plugins = ["tests.telegram_fixtures"]

TOKEN = "123456:sandbox-test-token"


async def test_a_coordinator_changes_the_rota_from_the_group_and_a_volunteer_is_refused(
    sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis
) -> None:
    coordinator, volunteer = sandbox.create_user("Cleo"), sandbox.create_user("Ana")
    staff = sandbox.create_forum_group("Volunteers", members=[coordinator, volunteer])
    alerts = sandbox.create_group("On call", members=[coordinator])
    rota_file = tmp_path / "rota.toml"
    rota_file.write_text(
        'timezone = "Europe/London"\n'
        f'[[staff]]\nid = "cleo"\nname = "Cleo"\nroles = ["coordinator"]\ntelegram = {coordinator.id}\n'
        f'[[staff]]\nid = "ana"\nname = "Ana"\ntelegram = {volunteer.id}\n'
        '[[shift]]\nvolunteer = "ana"\nday = "mon"\ntime = "09:00-17:00"\n'
    )
    redis = connect(RedisOptions(url=redis_server.url))
    await redis.flushall()
    await RotaStore(redis).save(parse_rota(tomllib.loads(rota_file.read_text())), by="test")
    settings = bridge_settings(
        tmp_path, redis_server.url,
        telegram={"enabled": True, "token": TOKEN, "api_url": sandbox.url},
        staff={"platform": "telegram", "volunteer_chat": str(staff.id), "escalation_chat": str(alerts.id)},
        rota={"file": str(rota_file)},
    )  # fmt: skip
    try:
        async with running_bridge(settings):
            async with asyncio.timeout(20):  # start-up (getMe, commands, deleteWebhook) can be slow on a busy CI
                while not sandbox.calls("deleteWebhook"):  # noqa: ASYNC110 - polling the sandbox's call log
                    await asyncio.sleep(0.05)
            sandbox.send_user_message(volunteer, "/shift add ana tue 18:00-22:00", chat=staff)
            await sandbox.wait_for(lambda m: m.chat_id == staff.id and "Only coordinators" in m.body, timeout=15)
            sandbox.send_user_message(coordinator, "/shift add ana tue 25:00-26:00", chat=staff)
            await sandbox.wait_for(lambda m: m.chat_id == staff.id and "25:00" in m.body, timeout=15)
            mark = sandbox.mark()
            sandbox.send_user_message(coordinator, "/shift add ana tue 18:00-22:00", chat=staff)
            await sandbox.wait_for(lambda m: m.chat_id == staff.id and "18:00" in m.body, timeout=15, since=mark)
        stored = await RotaStore(redis).load()
        assert stored is not None
        assert len(stored.rota.shifts) == 2  # the refused and the invalid commands changed nothing
    finally:
        await redis.aclose()
