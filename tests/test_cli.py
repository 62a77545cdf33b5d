"""The command line as a coordinator uses it: real subprocesses, real embedded redis-server."""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bot.embedded_redis import free_port
from tests.process_fixtures import distinct_free_ports, port_open, read_until

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


def test_check_config_says_what_the_unedited_example_still_needs() -> None:
    """The README's first step, followed literally: the example cannot work until it names a platform and the
    staff chats, and check-config says exactly that instead of "OK"."""
    result = _peerbridge("check-config", "--config", "config/peerbridge.example.toml")
    assert result.returncode == 2
    assert "no platform is enabled" in result.stderr
    assert "staff.volunteer_chat is empty" in result.stderr and "staff.escalation_chat is empty" in result.stderr


def test_check_config_refuses_chats_that_cannot_work_and_warns_without_a_rota(tmp_path: Path) -> None:
    cfg = tmp_path / "p.toml"
    cfg.write_text(
        '[telegram]\nenabled = true\n[staff]\nvolunteer_chat = "123456"\nescalation_chat = "123456"\n'
        f'[rota]\nfile = "{tmp_path / "missing.toml"}"\n'
    )
    env = {"PEERBRIDGE_TELEGRAM__TOKEN": "123:abc"}
    result = _peerbridge("check-config", "--config", str(cfg), env=env)
    assert result.returncode == 2
    assert "are the same chat" in result.stderr
    assert "staff.volunteer_chat is 123456, a person's id" in result.stderr
    cfg.write_text(cfg.read_text().replace('escalation_chat = "123456"', 'escalation_chat = "-1002"')
                   .replace('volunteer_chat = "123456"', 'volunteer_chat = "-1001"'))  # fmt: skip
    result = _peerbridge("check-config", "--config", str(cfg), env=env)
    assert result.returncode == 0, result.stderr
    assert "Warning: no rota file" in result.stderr and "with the warnings above" in result.stdout


def test_check_config_refuses_a_rota_nobody_on_the_staff_platform_could_be_paged_from(tmp_path: Path) -> None:
    rota = tmp_path / "rota.toml"
    rota.write_text(
        '[[staff]]\nid = "sam"\nroles = ["coordinator"]\ndiscord = "222222222222222222"\n'
        '[[staff]]\nid = "lee"\nroles = ["professional"]\ntelegram = "abc"\n'
    )
    cfg = tmp_path / "p.toml"
    cfg.write_text(
        '[telegram]\nenabled = true\n[staff]\nvolunteer_chat = "-1001"\nescalation_chat = "-1002"\n'
        f'[rota]\nfile = "{rota}"\n'
    )
    env = {"PEERBRIDGE_TELEGRAM__TOKEN": "123:abc"}
    result = _peerbridge("check-config", "--config", str(cfg), env=env)
    assert result.returncode == 2
    assert "telegram must be the account's numeric user id" in result.stderr  # "abc" would never match anyone
    rota.write_text(rota.read_text().replace('telegram = "abc"', "telegram = 333333333"))
    result = _peerbridge("check-config", "--config", str(cfg), env=env)
    assert result.returncode == 2
    assert "no coordinator with a telegram account" in result.stderr


def test_risk_check_prints_tier_category_and_phrase() -> None:
    result = _peerbridge("risk-check", "I want to kill myself")
    assert result.returncode == 0
    assert re.search(r"^tier: (high|imminent)$", result.stdout, re.M)
    assert "category: suicide" in result.stdout
    assert "matched: en." in result.stdout
    calm = _peerbridge("risk-check", "this homework is killing me lol")
    assert "tier: none" in calm.stdout


def test_run_starts_and_stops_the_embedded_redis(tmp_path: Path) -> None:
    cfg = tmp_path / "p.toml"
    unreachable = f"http://127.0.0.1:{free_port()}"  # Telegram down at start-up: everything else still starts
    cfg.write_text(
        f'[storage]\ndir = "{tmp_path / "data"}"\n[web]\nport = 0\n'
        f'[telegram]\nenabled = true\napi_url = "{unreachable}"\n'
        '[staff]\nvolunteer_chat = "-1001"\nescalation_chat = "-1002"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERBRIDGE_")}
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(cfg)], cwd=ROOT, stderr=subprocess.PIPE, text=True,
        env=env | {"PEERBRIDGE_TELEGRAM__TOKEN": "123:abc"},
    ) as process:  # fmt: skip
        log, port = _wait_until_running(process)
        assert port_open(port)
        assert "telegram unreachable at start-up" in log
        assert (tmp_path / "data" / "redis").is_dir()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    assert not port_open(port)  # the embedded redis-server went with it
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
        assert port_open(discord) and port_open(page)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    assert not port_open(discord)


def test_version_and_help_for_every_option() -> None:
    version = _peerbridge("--version")
    assert version.returncode == 0 and re.fullmatch(r"peerbridge \S+\n", version.stdout)
    from bot.cli import _parser

    undocumented = []
    parsers = [("peerbridge", _parser())]
    while parsers:
        name, parser = parsers.pop()
        for action in parser._actions:  # argparse keeps no public list of options
            if isinstance(action, argparse._SubParsersAction):
                parsers += [(f"{name} {sub}", p) for sub, p in action.choices.items()]
            elif not action.help and not isinstance(action, argparse._HelpAction):
                undocumented.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert undocumented == []


def test_a_busy_web_port_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = tmp_path / "p.toml"
        cfg.write_text(
            f'[storage]\ndir = "{tmp_path / "data"}"\n[web]\nport = {port}\n'
            f'[telegram]\nenabled = true\napi_url = "http://127.0.0.1:{free_port()}"\n'
            '[staff]\nvolunteer_chat = "-1001"\nescalation_chat = "-1002"\n'
        )
        result = _peerbridge("run", "--config", str(cfg), env={"PEERBRIDGE_TELEGRAM__TOKEN": "123:abc"})
    assert result.returncode == 2
    said = [line for line in result.stderr.splitlines() if line.startswith("peerbridge cannot start")]
    assert said == [f"peerbridge cannot start: port {port} on 127.0.0.1 is in use: set web.port to a free one"]
    assert "Traceback" not in result.stderr
