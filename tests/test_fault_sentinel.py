"""Fault test: Redis high availability through Sentinel; the primary fails over while people write.

Real processes from the same redis-server binary: a primary, a replica and three sentinels; the bridge runs as
`python -m bot run` with `redis.sentinels` and the Telegram sandbox in this process. Bounded in time; prints
the numbers it measured, including what asynchronous replication lost at the failover (see docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel

from bot.embedded_redis import EmbeddedRedis, free_port, redis_server_binary
from routing.store import keys
from sandboxes.telegram import TelegramSandbox
from tests.process_fixtures import (
    TOKEN,
    inbound_length,
    inject,
    kept_messages,
    start_bridge,
    stop_bridge,
    until_polling,
    write_config,
)

MASTER = "peerbridge"
RATE = 100  # messages per second


@dataclass
class Sentinels:
    ports: list[int]
    processes: list[subprocess.Popen[bytes]]

    @property
    def addresses(self) -> list[str]:
        return [f"127.0.0.1:{p}" for p in self.ports]

    def client(self, index: int = 0) -> Redis:
        return Redis(host="127.0.0.1", port=self.ports[index], socket_timeout=2.0, protocol=2)


def _start_sentinel(directory: Path, primary_port: int) -> tuple[int, subprocess.Popen[bytes]]:
    directory.mkdir(parents=True)
    port = free_port()
    conf = directory / "sentinel.conf"  # Sentinel rewrites its own config: it must be a writable file
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndaemonize no\ndir {directory}\nloglevel warning\n"
        f"sentinel monitor {MASTER} 127.0.0.1 {primary_port} 2\n"
        f"sentinel down-after-milliseconds {MASTER} 1000\n"
        f"sentinel failover-timeout {MASTER} 10000\n"
        f"sentinel parallel-syncs {MASTER} 1\n"
    )
    with open(directory / "sentinel.log", "ab") as log:
        process = subprocess.Popen([redis_server_binary(), str(conf), "--sentinel"], stdout=log, stderr=log)
    return port, process


async def _until(check: Any, what: str, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while True:
        with contextlib.suppress(Exception):
            if await check():
                return
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[EmbeddedRedis, EmbeddedRedis]]:
    primary = EmbeddedRedis(data_dir=tmp_path / "primary", persistent=True)
    primary.start()
    replica = EmbeddedRedis(
        data_dir=tmp_path / "replica", persistent=True, extra_args=("--replicaof", "127.0.0.1", str(primary.port))
    )
    replica.start()
    try:
        yield primary, replica
    finally:
        replica.stop()
        primary.stop()


@pytest.fixture
async def sentinels(tmp_path: Path, servers: tuple[EmbeddedRedis, EmbeddedRedis]) -> AsyncIterator[Sentinels]:
    primary, replica = servers
    replica_client = Redis(host="127.0.0.1", port=replica.port, protocol=2)

    async def replica_in_sync() -> bool:
        info = await replica_client.info("replication")
        return bool(info.get("master_link_status") == "up")

    await _until(replica_in_sync, "the replica to sync")
    await replica_client.aclose()
    started = [_start_sentinel(tmp_path / f"sentinel-{i}", primary.port) for i in range(3)]
    group = Sentinels([p for p, _ in started], [s for _, s in started])
    clients = [group.client(i) for i in range(3)]

    async def all_know_everyone() -> bool:
        for client in clients:
            flat = cast(list[bytes], await client.execute_command("SENTINEL", "MASTER", MASTER))
            state = dict(zip(flat[::2], flat[1::2], strict=True))  # RESP2 answers a flat list of pairs
            if int(state[b"num-slaves"]) < 1 or int(state[b"num-other-sentinels"]) < 2:
                return False
        return True

    try:
        await _until(all_know_everyone, "the sentinels to find the replica and each other")
        yield group
    finally:
        for client in clients:
            await client.aclose()
        for process in group.processes:
            process.terminate()
            process.wait(timeout=10)


def _largest_gap_ms(ids: list[bytes]) -> tuple[int, int]:
    """The largest pause between consecutive inbound entries (their ids start with the time in ms), and when."""
    times = [int(i.split(b"-")[0]) for i in ids]
    gaps = [(b - a, a) for a, b in itertools.pairwise(times)]
    return max(gaps) if gaps else (0, 0)


async def test_the_bridge_continues_through_a_sentinel_failover(
    tmp_path: Path, servers: tuple[EmbeddedRedis, EmbeddedRedis], sentinels: Sentinels
) -> None:
    primary, replica = servers
    box = TelegramSandbox(tokens=[TOKEN])
    await box.start()
    people = [box.create_user(f"Person {i}") for i in range(50)]
    volunteer = box.create_user("Vol")
    staff = box.create_forum_group("Volunteers", members=[volunteer])
    alerts = box.create_group("On call", members=[volunteer])
    cfg = write_config(tmp_path, box, staff.id, alerts.id, sentinels=sentinels.addresses)
    # The test's own client through Sentinel (like the bridge's, but keeping the Sentinel so it can be closed).
    watcher = Sentinel([("127.0.0.1", p) for p in sentinels.ports], protocol=2)  # type: ignore[no-untyped-call]
    redis = cast(Redis, watcher.master_for(MASTER))
    control = sentinels.client(0)
    bridge = start_bridge(cfg)
    failed_over: list[float] = []

    def crash_primary() -> None:
        failed_over.append(time.time())
        primary.kill()

    try:
        await until_polling(box)
        sent = await inject(box, people, rate=RATE, duration=9.0, events=[(2.0, crash_primary)])
        address = await control.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER)
        assert int(address[1]) == replica.port  # the replica was promoted
        deadline = time.monotonic() + 20
        while (kept := await kept_messages(redis)) < sent and time.monotonic() < deadline:  # noqa: ASYNC110 - polling another process's state
            await asyncio.sleep(0.5)
        ids = [entry_id for entry_id, _ in await redis.xrange(keys.INBOUND)]
        gap, at = _largest_gap_ms(ids)
        stored = await inbound_length(redis)
        print(f"\nsentinel failover: {sent} messages at {RATE}/s, primary killed (-9) at 2.0 s: the replica "
              f"(port {replica.port}) took over; largest pause in storing {gap} ms, starting "
              f"{at / 1000 - failed_over[0]:+.2f} s from the failover; kept {kept}, inbound entries {stored}, "
              f"lost {sent - kept}; unconfirmed updates left {box.pending_updates()}")  # fmt: skip
        assert bridge.poll() is None  # the bridge kept running…
        late = [i for i in ids if int(i.split(b"-")[0]) / 1000 > failed_over[0] + 3]
        assert late, "nothing was stored after the failover"  # …and kept storing on the new primary
        assert gap < 10_000
        assert box.pending_updates() == 0  # nothing left unconfirmed…
        assert kept == sent  # …and nothing confirmed was lost: writes to a dead primary fail, so are redelivered
    finally:
        stop_bridge(bridge)
        await control.aclose()
        await redis.aclose()
        for client in watcher.sentinels:
            await client.aclose()
        await box.stop()
