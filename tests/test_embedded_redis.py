"""One data directory, one redis-server: a second peerbridge process shares the running one."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest

from bot.embedded_redis import AlreadyRunning, EmbeddedRedis


def test_a_second_start_on_the_same_data_shares_the_running_server(tmp_path: Path) -> None:
    first = EmbeddedRedis(data_dir=tmp_path / "redis")
    first.start()
    try:
        with pytest.raises(AlreadyRunning) as running:
            EmbeddedRedis(data_dir=tmp_path / "redis").start()
        assert running.value.url == first.url
    finally:
        first.stop()
    second = EmbeddedRedis(data_dir=tmp_path / "redis")
    second.start()  # once the first is gone, the directory is free again
    assert second.running
    second.stop()
    assert not second.running


def _redis_servers_on(data: Path) -> int:
    """How many redis-server processes have `data` as their working directory (redis-server chdirs to --dir and
    rewrites its command line, so the directory is where to look)."""
    found = 0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                is_redis = b"redis-server" in (proc / "cmdline").read_bytes()
                found += is_redis and (proc / "cwd").resolve() == data.resolve()
    return found


def test_after_its_owner_is_killed_the_server_is_taken_over_never_started_twice(tmp_path: Path) -> None:
    data = tmp_path / "redis"
    owner = subprocess.Popen([sys.executable, "-c", OWNER_SCRIPT, str(data)], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        url = owner.stdout.readline().strip()  # the owner's server answers
        owner.kill()  # kill -9: no clean stop, the redis-server is left running
        owner.wait(timeout=5)
        second = EmbeddedRedis(data_dir=data)
        with pytest.raises(AlreadyRunning) as running:
            second.start()
        assert running.value.url == url and running.value.orphaned  # noticed, and the same server
        assert _redis_servers_on(data) == 1  # never a second one on the same append-only file
        adopted = EmbeddedRedis.adopt(data, url)
        adopted.stop()  # the new owner stops it cleanly
        assert _redis_servers_on(data) == 0
        fresh = EmbeddedRedis(data_dir=data)
        fresh.start()  # and the next start is an ordinary one
        fresh.stop()
    finally:
        owner.kill()
        owner.wait(timeout=5)
        if owner.stdout is not None:
            owner.stdout.close()  # the pipe, or a ResourceWarning fails whichever test runs next


OWNER_SCRIPT = """
import sys, time
from pathlib import Path
from bot.embedded_redis import EmbeddedRedis
server = EmbeddedRedis(data_dir=Path(sys.argv[1]))
server.start()
print(server.url, flush=True)
time.sleep(60)
"""
