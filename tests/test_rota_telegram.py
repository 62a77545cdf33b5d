"""Coordinator commands end to end through the real python-telegram-bot, the sandbox and real Redis."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from bot.embedded_redis import EmbeddedRedis
from routing.rota import parse_rota
from routing.store import keys
from routing.store.connection import RedisOptions, connect
from routing.store.rota_store import RotaStore
from sandboxes.telegram import Message, TelegramSandbox
from tests.bridge_fixtures import running_bridge, telegram_bridge_settings

pytest_plugins = ["tests.telegram_fixtures"]

TOKEN = "123456:sandbox-test-token"


async def _reply(sandbox: TelegramSandbox, redis: Redis, predicate: Callable[[Message], bool], since: int) -> Message:
    """The bot's reply matching `predicate`; on a timeout, says where the command got stuck (this test once
    failed only inside the full suite, so a failure must explain itself)."""
    try:
        return await sandbox.wait_for(predicate, timeout=15, since=since)
    except TimeoutError:
        inbound = await redis.xlen(keys.INBOUND)
        groups = await redis.xinfo_groups(keys.INBOUND) if inbound else []
        counts = sandbox.call_counts()
        raise AssertionError(
            f"no reply: bot calls {counts}; inbound stream length {inbound}, groups {groups}; "
            f"bot messages since the command: {len(sandbox.world.outbox) - since}"
        ) from None


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
    settings = telegram_bridge_settings(
        tmp_path, redis_server.url, sandbox, staff.id, alerts.id,
        rota={"file": str(rota_file)},
    )  # fmt: skip

    def in_staff(words: str) -> Callable[[Message], bool]:
        return lambda m: m.chat_id == staff.id and words in m.body

    try:
        async with running_bridge(settings):
            async with asyncio.timeout(20):  # start-up (getMe, commands, deleteWebhook) can be slow on a busy CI
                while not sandbox.calls("deleteWebhook"):  # noqa: ASYNC110 - polling the sandbox's call log
                    await asyncio.sleep(0.05)
            mark = sandbox.mark()
            sandbox.send_user_message(volunteer, "/shift add ana tue 18:00-22:00", chat=staff)
            await _reply(sandbox, redis, in_staff("Only coordinators"), mark)
            mark = sandbox.mark()
            sandbox.send_user_message(coordinator, "/shift add ana tue 25:00-26:00", chat=staff)
            await _reply(sandbox, redis, in_staff("25:00"), mark)
            mark = sandbox.mark()
            sandbox.send_user_message(coordinator, "/shift add ana tue 18:00-22:00", chat=staff)
            await _reply(sandbox, redis, in_staff("18:00"), mark)
            mark = sandbox.mark()
            today = datetime.now(ZoneInfo("Europe/London")).date()
            tuesday = today + timedelta(days=(1 - today.weekday()) % 7)
            sandbox.send_user_message(coordinator, f"/rota {tuesday.isoformat()}", chat=staff)
            shown = await _reply(sandbox, redis, in_staff("On shift:"), mark)
            assert "18:00-22:00 ana" in shown.body  # the coordinator sees the new shift in the rota view
        stored = await RotaStore(redis).load()
        assert stored is not None
        assert len(stored.rota.shifts) == 2  # the refused and the invalid commands changed nothing
    finally:
        await redis.aclose()
