"""Fault test: one gateway and two router processes on one Redis; one router is killed (-9) mid-load.

Real processes: `python -m bot run --role gateway` and two `--role router` (distinct `--name`), one
redis-server, the Telegram sandbox in this process. Checks in Redis that nobody was assigned twice, no
volunteer went over capacity, nothing was relayed twice, and the dead router's entries were reclaimed.
The reclaim waits for `WorkerOptions.claim_idle_ms` (30 s by default), which dominates this test's time.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any, cast

from redis.asyncio import Redis

from bot.embedded_redis import EmbeddedRedis
from routing.codec import decode_outbound
from routing.model import Audience, Platform
from routing.roster import DEFAULT_MAX_CONCURRENT
from routing.store import keys
from routing.store.cipher import TextCipher, decode_key
from routing.store.connection import RedisOptions, connect
from sandboxes.telegram import TelegramSandbox
from tests.bridge_fixtures import ENCRYPTION_KEY
from tests.process_fixtures import (
    TOKEN,
    inject,
    kept_messages,
    start_bridge,
    stop_bridge,
    until_polling,
    wait_for_all_kept,
    write_config,
)

ROUTER_GROUP = "router"  # bot.wiring.ROUTER_GROUP
NEXT_PER_VOLUNTEER = DEFAULT_MAX_CONCURRENT + 1  # one more than capacity: must be refused


async def _consumers(redis: Redis) -> dict[str, int]:
    """Consumer name -> pending entries, in the routers' group of the inbound stream."""
    try:
        rows = cast(list[dict[str, Any]], await redis.xinfo_consumers(keys.INBOUND, ROUTER_GROUP))
    except Exception:
        return {}
    return {(r["name"].decode() if isinstance(r["name"], bytes) else r["name"]): int(r["pending"]) for r in rows}


async def _active_sets(redis: Redis) -> dict[str, set[str]]:
    """Volunteer -> the conversations assigned to them."""
    found: dict[str, set[str]] = {}
    async for key in redis.scan_iter(match=keys.PREFIX + "vol:*:active"):
        found[key.decode()] = {m.decode() for m in await redis.smembers(key)}
    return found


async def _states(redis: Redis) -> Counter[str]:
    states: Counter[str] = Counter()
    async for key in redis.scan_iter(match=keys.CONVERSATION_PREFIX + "c-*"):
        if b":" not in key.removeprefix(keys.CONVERSATION_PREFIX.encode()):
            states[(await redis.hget(key, "state") or b"?").decode()] += 1
    return states


async def _relays(redis: Redis, cipher: TextCipher) -> Counter[int]:
    """How often each "message number N" was emitted to a staff thread, over both outbound lanes."""
    relayed: Counter[int] = Counter()
    for urgent in (False, True):
        for _id, fields in await redis.xrange(keys.outbound(Platform.TELEGRAM, urgent)):
            message = decode_outbound(cipher.decrypt(fields[b"d"]))
            found = re.search(r"message number (\d+)", message.text or "")
            if message.audience == Audience.STAFF_THREAD and found:
                relayed[int(found.group(1))] += 1
    return relayed


async def test_two_routers_share_the_work_and_a_killed_one_is_reclaimed(tmp_path: Path) -> None:
    server = EmbeddedRedis(data_dir=tmp_path / "redis", persistent=False)
    server.start()
    box = TelegramSandbox(tokens=[TOKEN])
    await box.start()
    people = [box.create_user(f"Person {i}") for i in range(60)]
    volunteers = [box.create_user(f"Vol {i}") for i in range(3)]
    staff = box.create_forum_group("Volunteers", members=volunteers)
    alerts = box.create_group("On call", members=volunteers)
    cfg = write_config(tmp_path, box, staff.id, alerts.id, redis_url=server.url)
    redis = connect(RedisOptions(url=server.url))
    cipher = TextCipher([decode_key(ENCRYPTION_KEY)])
    gateway = start_bridge(cfg, name="gateway-1", role="gateway")
    routers = {n: start_bridge(cfg, name=n, role="router") for n in ("router-a", "router-b")}
    try:
        await until_polling(box)
        deadline = time.monotonic() + 20  # each router loads its detector first: wait until both read the stream
        while set(await _consumers(redis)) != {"router-a", "router-b"}:
            assert time.monotonic() < deadline, "both routers should have joined the group"
            await asyncio.sleep(0.05)
        sent = await inject(box, people, rate=200, duration=len(people) / 200)  # everyone says something first
        await wait_for_all_kept(redis, sent, within=15)
        assert set(await _consumers(redis)) == {"router-a", "router-b"}  # both routers are reading

        for _ in range(NEXT_PER_VOLUNTEER):  # every volunteer asks for more people than they may have, at once
            for volunteer in volunteers:
                box.send_user_message(volunteer, "/next", chat=staff)
        deadline = time.monotonic() + 15
        while (await _states(redis))["active"] < len(volunteers) * DEFAULT_MAX_CONCURRENT:
            assert time.monotonic() < deadline, "the /next commands were not all handled"
            await asyncio.sleep(0.1)
        active = await _active_sets(redis)
        taken = [c for convs in active.values() for c in convs]

        kill_b = (1.5, lambda: routers["router-b"].send_signal(signal.SIGKILL))
        during = await inject(box, people, rate=200, duration=3.0, events=[kill_b], first=sent)
        assert routers["router-b"].wait(timeout=5) == -signal.SIGKILL
        left_by_b = (await _consumers(redis)).get("router-b", 0)
        killed_at = time.monotonic()
        deadline = killed_at + 50  # claim_idle_ms (30 s) plus one reclaim period (15 s) plus slack
        while sum((await _consumers(redis)).values()) and time.monotonic() < deadline:  # noqa: ASYNC110 - polling another process's state
            await asyncio.sleep(0.2)
        reclaimed_after = time.monotonic() - killed_at
        pending_now = sum((await _consumers(redis)).values())
        relayed = await _relays(redis, cipher)
        kept = await kept_messages(redis)
        print(f"\nprocesses: gateway + 2 routers; {len(volunteers)} volunteers sent {NEXT_PER_VOLUNTEER} /next each: "
              f"{len(taken)} people assigned ({len(set(taken))} distinct, capacity {DEFAULT_MAX_CONCURRENT}); "
              f"{during} messages at 200/s, router-b killed at 1.5 s with {left_by_b} entries pending; all "
              f"reclaimed by router-a after {reclaimed_after:.1f} s (pending now {pending_now}); relayed "
              f"{sum(relayed.values())} (max {max(relayed.values(), default=0)} per message) + kept {kept} of "
              f"{sent + during}")  # fmt: skip
        assert len(taken) == len(set(taken)) == len(volunteers) * DEFAULT_MAX_CONCURRENT  # nobody twice
        assert all(len(convs) <= DEFAULT_MAX_CONCURRENT for convs in active.values())  # nobody over capacity
        assert pending_now == 0  # the dead router's entries were reclaimed and handled
        assert max(relayed.values(), default=0) == 1  # nothing relayed twice
        assert sum(relayed.values()) + kept == sent + during  # every message relayed or kept, none lost
    finally:
        for process in (gateway, *routers.values()):
            stop_bridge(process)
        await redis.aclose()
        await box.stop()
        server.stop()
