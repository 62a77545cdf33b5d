"""A practice session end to end: the real python-telegram-bot, the Telegram sandbox, real Redis, the whole bridge."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot import shipped
from bot.embedded_redis import EmbeddedRedis
from routing.store import keys
from routing.store.connection import RedisOptions, connect
from sandboxes.telegram import Message, TelegramSandbox
from tests.bridge_fixtures import running_bridge, telegram_bridge_settings

pytest_plugins = ["tests.telegram_fixtures"]

TOKEN = "123456:sandbox-test-token"
ROOT = Path(__file__).parent.parent
ASKED = "That sounds so lonely. Are you having thoughts of suicide?"


async def test_a_coordinator_trains_a_volunteer_in_a_training_topic(
    sandbox: TelegramSandbox, tmp_path: Path, redis_server: EmbeddedRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    redis = connect(RedisOptions(url=redis_server.url))
    await redis.flushall()
    volunteer, coordinator = sandbox.create_user("Vee"), sandbox.create_user("Cora")
    staff = sandbox.create_forum_group("Volunteers", members=[volunteer, coordinator])
    alerts = sandbox.create_group("On call", members=[coordinator])
    (tmp_path / "rota.toml").write_text(
        f'[[staff]]\nid = "vee"\nname = "Vee"\ntelegram = {volunteer.id}\n\n'
        f'[[staff]]\nid = "cora"\nname = "Cora"\ntelegram = {coordinator.id}\nroles = ["coordinator"]\n'
    )
    settings = telegram_bridge_settings(
        tmp_path, redis_server.url, sandbox, staff.id, alerts.id,
        training={"scenarios_dir": str(shipped.TRAINING_SCENARIOS)},
    )  # fmt: skip

    async def bot_says(text: str, *, thread: int | None = None, since: int = 0) -> Message:
        def match(m: Message) -> bool:
            return m.chat_id == staff.id and text in m.body and (thread is None or m.thread_id == thread)

        return await sandbox.wait_for(match, timeout=15, since=since)

    try:
        async with running_bridge(settings):
            sandbox.send_user_message(coordinator, "/train vee loneliness", chat=staff)
            started = await bot_says("Practice session t-1 started for Vee")
            assert started.thread_id is None  # the coordinator's answer, in the General topic
            first = await bot_says("not sure this is the right place")
            assert first.thread_id is not None
            topic = next(t for t in sandbox.topics(staff) if t.thread_id == first.thread_id)
            assert topic.name == "TRAINING · loneliness · Vee · t-1"
            await bot_says("TRAINING · practice only", thread=topic.thread_id)

            mark = sandbox.mark()
            sandbox.send_user_message(volunteer, "Hi, I'm glad you wrote. What's going on?", chat=staff, thread=topic)
            await bot_says("I moved here for work", thread=topic.thread_id, since=mark)
            sandbox.send_user_message(volunteer, ASKED, chat=staff, thread=topic)
            await bot_says("no. not like that", thread=topic.thread_id, since=mark)  # the direct question's branch
            assert not [m for m in sandbox.sent(since=mark) if "what the point of any of it is" in m.body]

            sandbox.send_user_message(volunteer, "/end", chat=staff, thread=topic)
            debrief = await bot_says("TRAINING DEBRIEF", thread=topic.thread_id, since=mark)
            assert "How it ended: ended with /end by Vee" in debrief.body
            assert "Response times: first reply" in debrief.body
            assert "✓ Asked directly about suicide" in debrief.body
            for_coordinator = await bot_says("For Cora, who started this practice session", since=mark)
            assert for_coordinator.thread_id is None and "✓ Asked directly about suicide" in for_coordinator.body
            async with asyncio.timeout(10):
                while not next(t for t in sandbox.topics(staff) if t.thread_id == topic.thread_id).closed:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)  # polling the sandbox's topic state; the bridge closes it on delivery

        # Nothing of it reached the on-call chat, the queue, the audit stream (metrics) or an escalation.
        assert not [m for m in sandbox.sent() if m.chat_id == alerts.id]
        assert not await redis.exists(keys.AUDIT, keys.QUEUE)
        assert await redis.xlen(keys.ESCALATIONS) == 0
        assert not [k async for k in redis.scan_iter(match=keys.PREFIX + "stats:*")]  # counters behind /metrics
    finally:
        await redis.aclose()

    logged = "\n".join(r.getMessage() + " " + str(r.exc_info or "") for r in caplog.records)
    assert (
        "practice session t-1 (loneliness) started" in logged
    )  # the bridge did log it (so the check below means something)
    words = ("thoughts of suicide", "glad you wrote", "not sure this is the right place")
    for secret in (*words, "Vee", "Cora", str(volunteer.id), str(coordinator.id), TOKEN):
        assert secret not in logged
