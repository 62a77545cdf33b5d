"""Fault test: `kill -9` of the bridge process while people write at >= 300 messages/s; nothing is lost.

Real processes: the bridge runs as `python -m bot run` (a subprocess), against its own redis-server (AOF) and
the Telegram sandbox in this process. Bounded in time; prints the numbers it measured.
"""

from __future__ import annotations

import signal
from pathlib import Path

from bot.embedded_redis import EmbeddedRedis
from routing.store import keys
from routing.store.connection import RedisOptions, connect
from sandboxes.telegram import TelegramSandbox
from tests.process_fixtures import TOKEN, acks, inject, start_bridge, until_polling, wait_for_all_kept, write_config

RATE = 300  # messages per second, open loop
DURATION = 3.0


async def test_kill_9_of_the_bridge_under_load_loses_nothing(tmp_path: Path) -> None:
    redis_server = EmbeddedRedis(data_dir=tmp_path / "redis", persistent=True)
    redis_server.start()
    box = TelegramSandbox(tokens=[TOKEN])
    await box.start()
    people = [box.create_user(f"Person {i}") for i in range(150)]
    volunteer = box.create_user("Vol")
    staff = box.create_forum_group("Volunteers", members=[volunteer])
    alerts = box.create_group("On call", members=[volunteer])
    cfg = write_config(tmp_path, box, staff.id, alerts.id, redis_url=redis_server.url)
    redis = connect(RedisOptions(url=redis_server.url))
    bridge = start_bridge(cfg)
    try:
        await until_polling(box)
        kill = (1.5, lambda: bridge.send_signal(signal.SIGKILL))
        sent = await inject(box, people, rate=RATE, duration=DURATION, events=[kill])
        assert bridge.wait(timeout=5) == -signal.SIGKILL
        bridge = start_bridge(cfg)
        kept = await wait_for_all_kept(redis, sent)
        seen = await acks(box, len(people))
        duplicates = sum(n - 1 for n in seen.values())
        inbound = await redis.xlen(keys.INBOUND)
        print(f"\ncrash test: {sent} messages at {RATE}/s, kill -9 at 1.5 s: kept {kept}, lost {sent - kept}, "
              f"inbound entries {inbound}, duplicate acks seen by people {duplicates}")  # fmt: skip
        assert kept == sent  # every message is kept for the volunteer, exactly once
        assert await redis.xlen(keys.INBOUND) == sent  # stored once each (redeliveries were deduplicated)
        assert len(seen) == len(people)  # every person was told they are in the queue…
        assert duplicates <= 1  # …at most one duplicate (a send between delivery and its mark)
    finally:
        bridge.terminate()
        bridge.wait(timeout=15)
        await redis.aclose()
        await box.stop()
        redis_server.stop()
