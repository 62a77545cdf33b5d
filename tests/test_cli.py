"""The command line as a coordinator uses it: real subprocesses, real embedded redis-server."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.process_fixtures import distinct_free_ports, read_until

ROOT = Path(__file__).parent.parent


def _peerbridge(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_check_config_lists_every_problem_and_exits_non_zero(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[telegram]\nenabled = true\n[staff]\nvolunteer_chat = "lobby"\n[routing]\nassignmnet = "auto"\n')
    result = _peerbridge("check-config", "--config", str(cfg))
    assert result.returncode == 2
    assert "'lobby' is not a chat id" in result.stderr
    assert "routing.assignmnet is not a known setting" in result.stderr


def test_check_config_accepts_the_example() -> None:
    result = _peerbridge("check-config", "--config", "config/peerbridge.example.toml")
    assert result.returncode == 0, result.stderr
    assert "Configuration OK" in result.stdout


def test_risk_check_prints_tier_category_and_phrase() -> None:
    result = _peerbridge("risk-check", "I want to kill myself")
    assert result.returncode == 0
    assert re.search(r"^tier: (high|imminent)$", result.stdout, re.M)
    assert "category: suicide" in result.stdout
    assert "matched: en." in result.stdout
    calm = _peerbridge("risk-check", "this homework is killing me lol")
    assert "tier: none" in calm.stdout


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def test_run_starts_and_stops_the_embedded_redis(tmp_path: Path) -> None:
    cfg = tmp_path / "p.toml"
    cfg.write_text(f'[storage]\ndir = "{tmp_path / "data"}"\n[web]\nport = 0\n')
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(cfg)], cwd=ROOT, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("PEERBRIDGE_")},
    ) as process:  # fmt: skip
        log, port = _wait_until_running(process)
        assert _port_open(port)
        assert "No messaging platform is enabled" in log
        assert (tmp_path / "data" / "redis").is_dir()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    assert not _port_open(port)  # the embedded redis-server went with it
    assert list((tmp_path / "data" / "redis").glob("appendonly*"))  # append-only persistence, fsync every second


def _wait_until_running(process: subprocess.Popen[str]) -> tuple[str, int]:
    assert process.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        if "peerbridge is running" in line:
            break
    log = "".join(lines)
    found = re.search(r"redis://127\.0\.0\.1:(\d+)", log)
    assert found, log
    return log, int(found.group(1))


def test_demo_serves_the_discord_sandbox_on_the_port_asked_for(tmp_path: Path) -> None:
    telegram, web, page, discord = distinct_free_ports(4)
    args = ["--port", str(telegram), "--web-port", str(web), "--page-port", str(page), "--discord-port", str(discord)]
    with (
        open(tmp_path / "demo.log", "w") as log,
        subprocess.Popen(
            [sys.executable, "-m", "bot", "demo", "--data", str(tmp_path / "demo"), *args], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=log, text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("PEERBRIDGE_")},
        ) as process,
    ):  # fmt: skip
        printed = read_until(process, "Ctrl-C stops everything", within=30)
        assert f"Discord sandbox (REST, gateway):    http://127.0.0.1:{discord}" in printed
        assert _port_open(discord) and _port_open(page)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    assert not _port_open(discord)
