"""Fault test: `kill -9` of the bridge process while people write at >= 300 messages/s; nothing is lost.

Real processes: the bridge runs as `python -m bot run` (a subprocess), against its own redis-server (AOF) and
the Telegram sandbox in this process. Bounded in time; prints the numbers it measured.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from redis.asyncio import Redis

from adapters.telegram.sandbox import TelegramSandbox
from adapters.telegram.sandbox_model import User
from bot.embedded_redis import EmbeddedRedis, free_port
from routing.store import keys
from routing.store.connection import RedisOptions, connect
from tests.bridge_fixtures import ENCRYPTION_KEY, ROOT

TOKEN = "424242:crash-test-token"
RATE = 300  # messages per second, open loop
DURATION = 3.0


def _config(tmp: Path, redis_url: str, sandbox: TelegramSandbox, staff: int, alerts: int) -> Path:
    cfg = tmp / "bridge.toml"
    cfg.write_text(
        f'[redis]\nurl = "{redis_url}"\n[storage]\ndir = "{tmp / "data"}"\n'
        f'[telegram]\nenabled = true\napi_url = "{sandbox.url}"\n'
        f'[staff]\nplatform = "telegram"\nvolunteer_chat = "{staff}"\nescalation_chat = "{alerts}"\n'
        f'[routing]\nflood_limit = 1000\n[risk]\nphrases_dir = "{ROOT / "config" / "risk"}"\n'
        f'[escalation]\nresources_dir = "{ROOT / "config" / "resources"}"\n[rota]\nfile = "{tmp / "none.toml"}"\n'
        f"[web]\nport = {free_port()}\n"
    )
    return cfg


def _start_bridge(cfg: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERBRIDGE_")}
    env.update(
        PEERBRIDGE_TELEGRAM__TOKEN=TOKEN,
        PEERBRIDGE_SECURITY__ENCRYPTION_KEY=ENCRYPTION_KEY,
        PEERBRIDGE_SECURITY__PSEUDONYM_SECRET="crash-test-pseudonym-secret-0123",
        PTB_TIMEDELTA="true",
    )
    with open(cfg.parent / "bridge.log", "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(cfg), "--name", "crashy"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip


async def _inject(box: TelegramSandbox, people: list[User], kill_at: float, bridge: subprocess.Popen[bytes]) -> int:
    """Open loop at RATE msg/s for DURATION s; SIGKILL the bridge at `kill_at` s. Returns messages sent."""
    sent, started, killed = 0, time.monotonic(), False
    while (elapsed := time.monotonic() - started) < DURATION:
        due = int(elapsed * RATE)
        while sent < due:
            box.send_user_message(people[sent % len(people)], f"message number {sent}")
            sent += 1
        if not killed and elapsed >= kill_at:
            bridge.send_signal(signal.SIGKILL)
            killed = True
        await asyncio.sleep(0.005)
    return sent


async def test_kill_9_of_the_bridge_under_load_loses_nothing(tmp_path: Path) -> None:
    redis_server = EmbeddedRedis(data_dir=tmp_path / "redis", persistent=True)
    redis_server.start()
    box = TelegramSandbox(tokens=[TOKEN])
    await box.start()
    people = [box.create_user(f"Person {i}") for i in range(150)]
    volunteer = box.create_user("Vol")
    staff = box.create_forum_group("Volunteers", members=[volunteer])
    alerts = box.create_group("On call", members=[volunteer])
    cfg = _config(tmp_path, redis_server.url, box, staff.id, alerts.id)
    redis = connect(RedisOptions(url=redis_server.url))
    bridge = _start_bridge(cfg)
    try:
        await _until_polling(box)
        sent = await _inject(box, people, kill_at=1.5, bridge=bridge)
        assert bridge.wait(timeout=5) == -signal.SIGKILL
        bridge = _start_bridge(cfg)
        kept = await _wait_for_all_kept(redis, sent)
        acks = await _acks(box, len(people))
        duplicates = sum(n - 1 for n in acks.values())
        inbound = await redis.xlen(keys.INBOUND)
        print(f"\ncrash test: {sent} messages at {RATE}/s, kill -9 at 1.5 s: kept {kept}, lost {sent - kept}, "
              f"inbound entries {inbound}, duplicate acks seen by people {duplicates}")  # fmt: skip
        assert kept == sent  # every message is kept for the volunteer, exactly once
        assert await redis.xlen(keys.INBOUND) == sent  # stored once each (redeliveries were deduplicated)
        assert len(acks) == len(people)  # every person was told they are in the queue…
        assert duplicates <= 1  # …at most one duplicate (a send between delivery and its mark)
    finally:
        bridge.terminate()
        bridge.wait(timeout=15)
        await redis.aclose()
        await box.stop()
        redis_server.stop()


async def _acks(box: TelegramSandbox, people: int, within: float = 30.0) -> Counter[int]:
    """Queue acknowledgements per person, once all arrived (they drain at the bot's ~30 messages/s)."""
    deadline = time.monotonic() + within
    while True:
        acks = Counter(m.chat_id for m in box.sent() if "You are in the queue" in m.body)
        if len(acks) >= people or time.monotonic() > deadline:
            return acks
        await asyncio.sleep(0.2)


async def _until_polling(box: TelegramSandbox, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not box.calls("deleteWebhook"):  # the last start-up call before polling begins
        assert time.monotonic() < deadline, "the bridge did not start polling"
        await asyncio.sleep(0.05)


async def _wait_for_all_kept(redis: Redis, expected: int, within: float = 40.0) -> int:
    deadline = time.monotonic() + within
    kept = 0
    while time.monotonic() < deadline:
        kept = 0
        async for key in redis.scan_iter(match="pb:conv:c-*:pending", count=1000):
            kept += int(await redis.hlen(key))
        if kept >= expected:
            return kept
        await asyncio.sleep(0.5)
    return kept
