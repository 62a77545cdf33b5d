"""Helpers for fault tests that run the bridge as real processes (`python -m bot run`) against real Redis.

The Telegram sandbox runs in the test's own process; the bridge subprocesses reach it over loopback.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from redis.asyncio import Redis

from bot import shipped
from bot.embedded_redis import free_port
from routing.codec import decode_inbound
from routing.store import keys
from routing.store.cipher import TextCipher, decode_key
from sandboxes.telegram import TelegramSandbox, User
from tests.bridge_fixtures import ENCRYPTION_KEY, ROOT

TOKEN = "424242:crash-test-token"
PSEUDONYM_SECRET = "crash-test-pseudonym-secret-0123"


def write_config(
    tmp: Path,
    sandbox: TelegramSandbox,
    staff: int,
    alerts: int,
    *,
    redis_url: str = "",
    sentinels: Sequence[str] = (),
    name: str = "bridge.toml",
) -> Path:
    """A config file for a bridge process talking to `sandbox`; Redis by URL or through Sentinel."""
    cfg = tmp / name
    redis = f'sentinels = {list(sentinels)!r}\nmaster_name = "peerbridge"\n' if sentinels else f'url = "{redis_url}"\n'
    cfg.write_text(
        f"[redis]\n{redis}"
        f'[storage]\ndir = "{tmp / "data"}"\n'
        f'[telegram]\nenabled = true\napi_url = "{sandbox.url}"\n'
        f'[staff]\nplatform = "telegram"\nvolunteer_chat = "{staff}"\nescalation_chat = "{alerts}"\n'
        f'[routing]\nflood_limit = 1000\n[risk]\nphrases_dir = "{shipped.RISK_PHRASES}"\n'
        f'[escalation]\nresources_dir = "{shipped.CRISIS_RESOURCES}"\n[rota]\nfile = "{tmp / "none.toml"}"\n'
        f"[web]\nport = {free_port()}\n"
    )
    return cfg


def start_bridge(cfg: Path, *, name: str = "crashy", role: str = "all") -> subprocess.Popen[bytes]:
    """`python -m bot run` as a subprocess; its log goes to `<name>.log` next to the config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERBRIDGE_")}
    env.update(
        PEERBRIDGE_TELEGRAM__TOKEN=TOKEN,
        PEERBRIDGE_SECURITY__ENCRYPTION_KEY=ENCRYPTION_KEY,
        PEERBRIDGE_SECURITY__PSEUDONYM_SECRET=PSEUDONYM_SECRET,
        PTB_TIMEDELTA="true",
    )
    with open(cfg.parent / f"{name}.log", "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(cfg), "--name", name, "--role", role],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip


def stop_bridge(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM (a clean stop), then SIGKILL if it does not stop in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def web_port(cfg: Path) -> int:
    """The bridge's web port, from the config file written by `write_config`."""
    line = next(x for x in cfg.read_text().splitlines() if x.startswith("port = "))
    return int(line.split("=")[1])


Event = tuple[float, Callable[[], object]]  # (seconds after the start, action) for `inject`


async def inject(
    box: TelegramSandbox,
    people: list[User],
    *,
    rate: float,
    duration: float,
    events: Sequence[Event] = (),
    first: int = 0,
) -> int:
    """Open loop: people write at `rate` messages/s for `duration` s; `events` fire once at their time.

    Message texts are "message number <n>" from `first` on. Returns the number of messages sent.
    """
    sent, started, pending = 0, time.monotonic(), sorted(events, key=lambda e: e[0])
    while (elapsed := time.monotonic() - started) < duration:
        due = int(elapsed * rate)
        while sent < due:
            n = first + sent
            box.send_user_message(people[n % len(people)], f"message number {n}")
            sent += 1
        while pending and elapsed >= pending[0][0]:
            result = pending.pop(0)[1]()
            if asyncio.iscoroutine(result):
                await result
        await asyncio.sleep(0.005)
    return sent


async def acks(box: TelegramSandbox, people: int, within: float = 30.0) -> Counter[int]:
    """Queue acknowledgements per person, once all arrived (they drain at the bot's ~30 messages/s)."""
    deadline = time.monotonic() + within
    while True:
        found = Counter(m.chat_id for m in box.sent() if "You are in the queue" in m.body)
        if len(found) >= people or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)


async def until_polling(box: TelegramSandbox, within: float = 20.0, calls: int = 1) -> None:
    """Wait until `calls` bridges made their last start-up call (deleteWebhook) before polling begins."""
    deadline = time.monotonic() + within
    while len(box.calls("deleteWebhook")) < calls:
        assert time.monotonic() < deadline, "the bridge did not start polling"
        await asyncio.sleep(0.05)


async def kept_messages(redis: Redis) -> int:
    """Messages kept for volunteers: the waiting people's pending messages, over all conversations."""
    kept = 0
    async for key in redis.scan_iter(match="pb:conv:c-*:pending", count=1000):
        kept += int(await redis.hlen(key))
    return kept


async def wait_for_all_kept(redis: Redis, expected: int, within: float = 40.0) -> int:
    """Wait until `expected` messages are kept (or the time is up); returns how many are."""
    deadline = time.monotonic() + within
    kept = 0
    while time.monotonic() < deadline:
        kept = await kept_messages(redis)
        if kept >= expected:
            return kept
        await asyncio.sleep(0.5)
    return kept


async def inbound_length(redis: Redis) -> int:
    """Entries in the inbound stream (ingest appends one per new update)."""
    return int(await redis.xlen(keys.INBOUND))


def distinct_free_ports(count: int) -> list[int]:
    """`count` different free loopback ports (one process may ask for several at once)."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        ports += [port] if port not in ports else []
    return ports


def read_until(process: subprocess.Popen[str], marker: str, within: float = 60.0) -> str:
    """What the process printed until `marker` appeared, it exited, or `within` seconds passed."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and marker not in "".join(lines):
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
    return "".join(lines)


async def out_of_order(redis: Redis) -> int:
    """Messages stored after a later one from the same person ("message number <n>" from `inject`): the order
    in the inbound stream is the order the router hands them to the volunteer."""
    cipher = TextCipher([decode_key(ENCRYPTION_KEY)])
    last: dict[str, int] = {}
    breaks = 0
    for _entry_id, fields in await redis.xrange(keys.INBOUND):
        message = decode_inbound(cipher.decrypt(fields[b"d"]))
        number = message.text.removeprefix("message number ")
        if not number.isdigit():
            continue
        if int(number) < last.get(message.sender, -1):
            breaks += 1
        last[message.sender] = max(int(number), last.get(message.sender, -1))
    return breaks


def port_open(port: int) -> bool:
    """Something accepts connections on this loopback port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
