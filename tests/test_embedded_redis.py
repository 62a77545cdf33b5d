"""One data directory, one redis-server: a second peerbridge process shares the running one."""

from __future__ import annotations

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
