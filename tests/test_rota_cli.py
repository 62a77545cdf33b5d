"""`peerbridge rota import|export|show|check` as a coordinator runs them: real subprocesses, real Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_sync

from bot.embedded_redis import EmbeddedRedis
from routing.rota import parse_rota
from routing.store.rota_store import ROTA_DATA, ROTA_VERSION

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "config" / "rota.example.toml"


def _peerbridge(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERBRIDGE_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "rota", *args, "--config", str(config)], cwd=ROOT, capture_output=True,
        text=True, timeout=60, env=env,
    )  # fmt: skip


@pytest.fixture
def external(redis_server: EmbeddedRedis, tmp_path: Path) -> Iterator[tuple[Path, redis_sync.Redis]]:
    """A config pointing at the test session's redis-server (emptied), and a client to look inside."""
    client = redis_sync.Redis.from_url(redis_server.url)
    client.flushall()
    config = tmp_path / "p.toml"
    config.write_text(
        f'[redis]\nurl = "{redis_server.url}"\n[storage]\ndir = "{tmp_path / "data"}"\n'
        f'[rota]\nfile = "{tmp_path / "rota.toml"}"\n'
    )
    yield config, client
    client.close()


def test_import_show_export_round_trip(external: tuple[Path, redis_sync.Redis], tmp_path: Path) -> None:
    config, client = external
    imported = _peerbridge("import", str(EXAMPLE), config=config)
    assert imported.returncode == 0, imported.stderr
    assert "Imported the rota as version 1: 5 staff, 11 weekly shifts" in imported.stdout
    assert client.get(ROTA_VERSION) == b"1"

    shown = _peerbridge("show", "--day", "2025-03-30", config=config)
    assert shown.returncode == 0, shown.stderr
    assert "Live rota, version 1" in shown.stdout
    assert "Sun 30 Mar 2025\n  Clocks go forward today: the day has 23 hours." in shown.stdout
    assert "GAP 02:00-24:00: no volunteer on shift" in shown.stdout
    assert "00:00-24:00 dr-kim, backup dr-lee" in shown.stdout

    out = tmp_path / "exported.toml"
    exported = _peerbridge("export", str(out), config=config)
    assert exported.returncode == 0, exported.stderr
    with open(EXAMPLE, "rb") as f:
        assert parse_rota(tomllib.loads(out.read_text())) == parse_rota(tomllib.load(f))
    printed = _peerbridge("export", config=config)
    assert printed.stdout == out.read_text()  # without FILE it prints the same file


def test_a_bad_file_is_refused_with_every_problem_and_the_live_rota_stays(
    external: tuple[Path, redis_sync.Redis], tmp_path: Path
) -> None:
    config, client = external
    assert _peerbridge("import", str(EXAMPLE), config=config).returncode == 0
    before = client.get(ROTA_DATA)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        EXAMPLE.read_text()
        + '\n[[shift]]\nvolunteer = "ana"\nday = "mon"\ntime = "14:00-25:00"\n'
        + '\n[[shift]]\nvolunteer = "anna"\nday = "tue"\ntime = "09:00-10:00"\n'
        + '\n[[shift]]\nvolunteer = "ben"\nday = "mon"\ntime = "18:00-20:00"\n'
    )
    result = _peerbridge("import", str(bad), config=config)
    assert result.returncode == 2
    assert "[[shift]] #5: '25:00' is not a time: hours go from 00 to 23" in result.stderr
    assert "shift anna tue 09:00-10:00: there is no 'anna' on the roster" in result.stderr
    assert "shift ben mon 18:00-20:00 overlaps ben's shift mon 15:00-19:00" in result.stderr
    assert "the rota was not changed" in result.stderr
    assert client.get(ROTA_DATA) == before and client.get(ROTA_VERSION) == b"1"

    broken = tmp_path / "broken.toml"
    broken.write_text("timezone = ")
    result = _peerbridge("import", str(broken), config=config)
    assert result.returncode == 2 and "is not valid TOML" in result.stderr
    assert client.get(ROTA_VERSION) == b"1"


def test_import_defaults_to_the_configured_rota_file_and_check_touches_nothing(
    external: tuple[Path, redis_sync.Redis], tmp_path: Path
) -> None:
    config, client = external
    (tmp_path / "rota.toml").write_text(EXAMPLE.read_text())
    checked = _peerbridge("check", config=config)
    assert checked.returncode == 0 and "Rota OK: 5 staff" in checked.stdout
    assert client.get(ROTA_VERSION) is None
    assert _peerbridge("import", config=config).returncode == 0
    assert client.get(ROTA_VERSION) == b"1"


def test_show_and_export_before_any_import_say_what_to_do(external: tuple[Path, redis_sync.Redis]) -> None:
    config, _client = external
    for command in ("show", "export"):
        result = _peerbridge(command, config=config)
        assert result.returncode == 2
        assert "there is no live rota yet; load one with `peerbridge rota import FILE`" in result.stderr
    bad_day = _peerbridge("show", "--day", "2025-02-30", config=config)
    assert bad_day.returncode == 2 and "--day: '2025-02-30' is not a date" in bad_day.stderr


def test_without_a_redis_url_the_embedded_redis_keeps_the_rota_between_commands(tmp_path: Path) -> None:
    config = tmp_path / "p.toml"
    config.write_text(f'[storage]\ndir = "{tmp_path / "data"}"\n[rota]\nfile = "{tmp_path / "rota.toml"}"\n')
    imported = _peerbridge("import", str(EXAMPLE), config=config)
    assert imported.returncode == 0, imported.stderr
    assert "embedded redis-server started" in imported.stderr
    assert list((tmp_path / "data" / "redis").glob("appendonly*"))
    shown = _peerbridge("show", config=config)
    assert shown.returncode == 0, shown.stderr
    assert "Live rota, version 1" in shown.stdout and "(Today)" in shown.stdout and "(Tomorrow)" in shown.stdout
