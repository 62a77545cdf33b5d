"""End-to-end relay through the real SDKs against the local platform sandboxes, side by side with a bare SDK
echo bot, and escalation alert latency while relay traffic runs. A benchmark, not a test: prints tables and
writes bench/results/relay.json (about 4 minutes for both platforms).

    .venv/bin/python bench/bench_relay.py [--platform telegram|discord|both] [--people 200] [--duration 3]
        [--py-spy DIR --py-spy-runs 200/s]   # also profile the bridge process during those runs
        [--echo-http aiohttp]                # the Telegram echo bot on the bridge's PTB backend (like for like)

Set-up per platform: one sandbox (Telegram Bot API or Discord REST + gateway) in this process, which also
drives the load and takes the timestamps; a real redis-server (AOF everysec, as `peerbridge run` starts it);
and two OS processes against the same sandbox: the bridge (`peerbridge run`, all roles, see relay_bots.py)
and a bare echo bot (a python-telegram-bot Application with concurrent_updates=256 on PTB's default httpx
networking, or a discord.py Client: a private message in, one message out in the person's topic/thread, and
the reverse; static routing, nothing else). `--people` people write to both; every one of them is first
queued and taken by a volunteer (`/next`, capacity 20 each) so their messages relay into their own
topic/thread. The bridge's PTB uses aiohttp (adapters/telegram/http.py); `--echo-http aiohttp` puts the echo
bot on the same backend, which compares the routing work alone.

Load is open-loop: message k of a run is due at t0 + k/rate whatever happened before, and latency is measured
from that due time to the moment the sandbox receives the bot's message in the volunteer's topic/thread
(forward), or in the person's chat when a volunteer writes in the topic/thread (reverse; volunteer i % V
writes for person i). A run is "sustained" when every message arrives, p99 <= --slo-ms and the achieved
rate is at least 95 % of the offered one (a short run can hide a growing backlog otherwise); the maximum
sustained rate is searched from the fixed rates on (doubling, then bisection). Echo and bridge runs
alternate, rate by rate. For bridge runs the latency is also split at the two Redis streams a message passes
(entry ids are Redis timestamps: receive+ingest, route, deliver), and Redis commands per message are counted
(INFO commandstats, including commands run inside Lua scripts). The machine is shared: each run records the
share of time some task waited for a CPU (Linux PSI), and a fixed-rate run disturbed above --retry-wait % is
run once more (the less disturbed one is kept). This process keeps every message the sandbox saw, so before
each run it freezes what is there out of Python's garbage collector (unfrozen, a full collection paused the
sandbox for 100-200 ms mid-run, and that pause showed as latency of whichever bot was measured); each run
records this process's longest collection pause ("harness-gc").

Escalation: fresh people send a phrase the detector rates imminent ("I want to kill myself tonight") at
--risk-rate per second while the bridge relays ordinary messages at 200 msg/s, at its maximum sustained rate
("saturated"), and at 1.5x that rate (overloaded); latency runs from the risk message's due time to the
first alert for that person (matched by pseudonym) in the escalation chat.

RATE LIMITING IS OFF: the bridge runs with `rate_limits=False` (no per-chat/per-group/per-bot sliding
windows, routing/delivery.py) and the Discord sandbox with `RateLimits.relaxed()`; the Telegram sandbox
enforces no flood limits. This is for benchmark runs against the local sandboxes only. The per-person flood
limit of the router is raised (routing.flood_limit = 10000) because the load sends several messages per
person per second.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import itertools
import json
import math
import os
import platform
import re
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import aiohttp

from bot import shipped
from bot.embedded_redis import EmbeddedRedis, free_port
from routing.codec import decode_inbound, decode_outbound
from routing.model import Audience, Platform, RiskTier, UserId
from routing.pseudonyms import Pseudonymiser
from routing.risk.detector import RiskDetector
from routing.store import keys
from routing.store.cipher import TextCipher, decode_key
from routing.store.connection import RedisOptions, connect
from sandboxes.telegram import FloodLimits, TelegramSandbox
from sandboxes.telegram import User as TgUser

sys.path.insert(0, str(Path(__file__).resolve().parent))
from relay_bots import Proc, parallel_capacity, start_proc
from timing import TimedOutbox

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # discord.py imports audioop (voice support)
    from sandboxes.discord import (
        ActionKind,
        BotAccount,
        Channel,
        DiscordSandbox,
        Permission,
        RateLimits,
        SandboxSettings,
    )
    from sandboxes.discord import User as DcUser

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "relay.json"

PSEUDONYM_SECRET = "bench-pseudonym-secret-0123456789"
ENCRYPTION_KEY = base64.b64encode(bytes(range(32))).decode()  # benchmark data only
TG_BRIDGE_TOKEN, TG_ECHO_TOKEN = "123456:bench-bridge-token", "654321:bench-echo-token"
DC_BRIDGE_TOKEN, DC_ECHO_TOKEN = "bench-bridge-token", "bench-echo-token"
CAPACITY = 20  # conversations per volunteer (the roster's maximum)
FIXED_RATES = (50, 200, 500)
TAG = re.compile(r"\bqz(\d+)\b")
INTRO = re.compile(r"\bintro(\d+)\b")
RISK_TEXT = "I want to kill myself tonight"
BENIGN = (
    "hello, it has been a long week and I wanted to talk to someone",
    "thanks for listening, work was busy again today",
    "I went for a walk after dinner and it helped a bit",
    "my exams start next month and I keep thinking about them",
    "not much to say, just checking in this evening",
)


# --- measurement helpers -------------------------------------------------------------------------------------


def alert_alias(text: str) -> str:
    """The person's pseudonym in an alert ("⚠ RISK HIGH · suicide · <pseudonym> · conversation c-1"), or ""."""
    parts = text.split(" · ")
    return parts[2] if len(parts) > 2 else ""


def _ms(entry_id: bytes) -> float:
    """A stream entry id's milliseconds (Redis's clock at XADD)."""
    return float(entry_id.split(b"-")[0])


Item = TypeVar("Item")  # what a stage split follows: a relay's sequence number, an alert's pseudonym


def split_stages(
    due: Mapping[Item, float],
    arrived: Mapping[Item, float],
    inbound: Mapping[Item, float],
    outbound: Mapping[Item, float],
    wall_offset: float,
) -> dict[str, dict[str, float]]:
    """p50/p99 of each stage: due (monotonic s) -> inbound entry -> outbound entry (entry ids: ms of Redis's
    clock) -> arrived at the sandbox (monotonic s); `wall_offset` turns monotonic into wall-clock seconds."""
    parts: dict[str, list[float]] = {"receive+ingest": [], "route": [], "deliver": []}
    for item, at in arrived.items():
        if item in inbound and item in outbound:
            parts["receive+ingest"].append(inbound[item] - (due[item] + wall_offset) * 1000)
            parts["route"].append(outbound[item] - inbound[item])
            parts["deliver"].append((at + wall_offset) * 1000 - outbound[item])
    return {
        name: {"p50": round(percentile(v, 0.5), 1), "p99": round(percentile(v, 0.99), 1)} for name, v in parts.items()
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def cpu_pressure_us() -> int:
    """Total microseconds in which some runnable task on this machine waited for a CPU (Linux PSI), or 0."""
    try:
        first = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return 0
    return int(first.rsplit("total=", 1)[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc (Linux), in seconds; 0 when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Seen:
    """A message a bot sent, as the sandbox received it: monotonic time, text, where, which bot."""

    at: float
    text: str
    kind: str  # "staff" (volunteer topic/thread), "person" (private chat), "alert" (escalation chat), "other"
    place: int  # topic/thread id for staff messages, else the chat/channel id
    bot: str  # "bridge" or "echo"


# --- processes ---------------------------------------------------------------------------------------------


async def until_ready(port: int, seconds: float = 30.0) -> None:
    """The bridge's /readyz answers 200 once Redis (and Discord's gateway) are ready."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(seconds):
        while True:
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)


# --- the two platforms ---------------------------------------------------------------------------------------


class World:
    """One platform's sandbox world: people, volunteers, the bridge's and the echo bot's staff spaces."""

    platform: Platform
    next_command: str

    def __init__(self, people: int, risk_people: int) -> None:
        self.n_people = people
        self.n_volunteers = math.ceil(people / CAPACITY)
        self.n_risk = risk_people
        self.bridge_topic: dict[int, int] = {}  # person index -> topic/thread id (bridge)
        self.echo_topic: dict[int, int] = {}  # person index -> topic/thread id (echo)
        self.pseudonyms = Pseudonymiser(PSEUDONYM_SECRET.encode())
        self.echo_http = "httpx"  # the Telegram echo bot's PTB networking backend (--echo-http)
        self.risk_alias: list[str] = []
        self.web_port = free_port()

    # platform hooks
    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    def staff_ids(self) -> list[str]:
        raise NotImplementedError

    def platform_settings(self) -> dict[str, Any]:
        raise NotImplementedError

    def echo_kind_and_config(self) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def mark(self) -> int:
        raise NotImplementedError

    def seen_since(self, mark: int) -> tuple[list[Seen], int]:
        raise NotImplementedError

    def send_person(self, system: str, index: int, text: str) -> None:
        raise NotImplementedError

    def send_volunteer(self, system: str, index: int, text: str) -> None:
        raise NotImplementedError

    def send_staff_command(self, volunteer: int, text: str) -> None:
        raise NotImplementedError

    def send_risk(self, index: int, text: str) -> None:
        raise NotImplementedError

    async def echo_ready(self) -> None:
        raise NotImplementedError

    async def bridge_polling(self) -> None:
        raise NotImplementedError

    def bridge_settings(self, redis_url: str, tmp: Path) -> dict[str, Any]:
        rota = tmp / "rota.toml"
        staff = "".join(
            f'[[staff]]\nid = "vol{i}"\nname = "Vol {i}"\n{self.platform.value} = {json.dumps(ident)}\n'
            f"max_concurrent = {CAPACITY}\n\n"
            for i, ident in enumerate(self.staff_ids())
        )
        rota.write_text(staff)
        return {
            "redis": {"url": redis_url},
            "storage": {"dir": str(tmp / "data")},
            "risk": {"phrases_dir": str(shipped.RISK_PHRASES)},
            "rota": {"file": str(rota)},
            "web": {"host": "127.0.0.1", "port": self.web_port},
            "security": {"pseudonym_secret": PSEUDONYM_SECRET, "encryption_key": ENCRYPTION_KEY},
            "routing": {"flood_limit": 10_000, "topics": [], "match_wait_minutes": 0},
            "escalation": {"ack_timeout": 3600, "resources_dir": str(shipped.CRISIS_RESOURCES)},
            **self.platform_settings(),
        }

    def unique_risk_aliases(self, ids: Iterator[str], wanted: int) -> list[int]:
        """Indexes (into the ids consumed) of risk people whose pseudonyms are unique, so alerts can be matched."""
        chosen: list[int] = []
        seen: set[str] = set()
        for index, ident in enumerate(ids):
            alias = self.pseudonyms.alias(self.platform, UserId(ident))
            if alias not in seen:
                seen.add(alias)
                chosen.append(index)
                self.risk_alias.append(alias)
            if len(chosen) == wanted:
                break
        return chosen

    async def wait_seen(self, mark: int, done: Callable[[list[Seen]], bool], seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not done(self.seen_since(mark)[0]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.platform}: {what} did not happen within {seconds:.0f} s")
            await asyncio.sleep(0.1)

    async def assign_everyone(self, redis_url: str) -> None:
        """Every person writes once (queued), then volunteers take them all with /next (capacity 20 each)."""
        mark = self.mark()
        for i in range(self.n_people):
            self.send_person("bridge", i, f"intro{i} {BENIGN[i % len(BENIGN)]}")
        redis = connect(RedisOptions(url=redis_url))
        try:
            async with asyncio.timeout(60):
                while await redis.zcard(keys.QUEUE) < self.n_people:  # noqa: ASYNC110 - state in Redis
                    await asyncio.sleep(0.1)
        finally:
            await redis.aclose()
        print(f"[{self.platform}] {self.n_people} people queued", flush=True)
        for i in range(self.n_people):
            self.send_staff_command(i // CAPACITY, self.next_command)
            if i % 20 == 19:
                await asyncio.sleep(0.05)

        def mapped(seen: list[Seen]) -> bool:
            for s in seen:
                match = INTRO.search(s.text)
                if match and s.kind == "staff" and s.bot == "bridge":
                    self.bridge_topic[int(match.group(1))] = s.place
            return len(self.bridge_topic) == self.n_people

        await self.wait_seen(mark, mapped, 120, "assigning every person to a volunteer")


class TelegramWorld(World):
    platform = Platform.TELEGRAM
    next_command = "/next"

    async def start(self) -> None:
        # Limits off: this benchmark measures the bridge against the bare SDK, not Telegram's quotas
        # (bench_staff_load.py runs with them on).
        box = self.box = TelegramSandbox(tokens=[TG_BRIDGE_TOKEN, TG_ECHO_TOKEN], flood_limits=FloodLimits.off())
        await box.start()
        self.outbox = TimedOutbox()
        box.world.outbox = self.outbox
        self.bridge_bot, self.echo_bot = box.bot(TG_BRIDGE_TOKEN).id, box.bot(TG_ECHO_TOKEN).id
        self.volunteers = [box.create_user(f"Vol{i}") for i in range(self.n_volunteers)]
        self.staff = box.create_forum_group("Volunteers", members=self.volunteers, bots=[TG_BRIDGE_TOKEN])
        self.echo_staff = box.create_forum_group("Echo volunteers", members=self.volunteers, bots=[TG_ECHO_TOKEN])
        self.alerts = box.create_group("On call", members=[box.create_user("OnCall")], bots=[TG_BRIDGE_TOKEN])
        self.people = [box.create_user(f"P{i}", language_code="en") for i in range(self.n_people)]
        candidates = [box.create_user(f"R{i}", language_code="en") for i in range(self.n_risk * 2)]
        chosen = self.unique_risk_aliases((str(u.id) for u in candidates), self.n_risk)
        self.risk_people: list[TgUser] = [candidates[i] for i in chosen]
        for i in range(self.n_people):
            topic = box.create_topic(self.echo_staff, f"echo {i}", by=self.volunteers[0])
            self.echo_topic[i] = topic.thread_id

    async def stop(self) -> None:
        await self.box.stop()

    def staff_ids(self) -> list[str]:
        return [str(v.id) for v in self.volunteers]

    def platform_settings(self) -> dict[str, Any]:
        return {
            "telegram": {"enabled": True, "token": TG_BRIDGE_TOKEN, "api_url": self.box.url},
            "staff": {
                "platform": "telegram",
                "volunteer_chat": str(self.staff.id),
                "escalation_chat": str(self.alerts.id),
            },
        }

    def echo_kind_and_config(self) -> tuple[str, dict[str, Any]]:
        topics = {str(self.people[i].id): t for i, t in self.echo_topic.items()}
        config = {
            "token": TG_ECHO_TOKEN,
            "api_url": self.box.url,
            "group": self.echo_staff.id,
            "topics": topics,
            "concurrent": 256,
            "http": self.echo_http,
        }
        return "echo-telegram", config

    def mark(self) -> int:
        return len(self.outbox)

    def seen_since(self, mark: int) -> tuple[list[Seen], int]:
        """Bot messages from position `mark` on, and the position after them."""
        end = len(self.outbox)
        found = []
        for message, at in zip(self.outbox[mark:end], self.outbox.times[mark:end], strict=True):
            bot = "bridge" if message.sender_id == self.bridge_bot else "echo"
            if message.chat_id in (self.staff.id, self.echo_staff.id):
                kind, place = ("staff", message.thread_id or 0) if message.thread_id else ("other", message.chat_id)
            elif message.chat_id == self.alerts.id:
                kind, place = "alert", message.chat_id
            elif message.chat_id > 0:
                kind, place = "person", message.chat_id
            else:
                kind, place = "other", message.chat_id
            found.append(Seen(at, message.body, kind, place, bot))
        return found, end

    def send_person(self, system: str, index: int, text: str) -> None:
        self.box.send_user_message(
            self.people[index], text, bot=TG_BRIDGE_TOKEN if system == "bridge" else TG_ECHO_TOKEN
        )

    def send_volunteer(self, system: str, index: int, text: str) -> None:
        volunteer = self.volunteers[index % self.n_volunteers]
        if system == "bridge":
            self.box.send_user_message(volunteer, text, chat=self.staff, thread=self.bridge_topic[index])
        else:
            self.box.send_user_message(volunteer, text, chat=self.echo_staff, thread=self.echo_topic[index])

    def send_staff_command(self, volunteer: int, text: str) -> None:
        self.box.send_user_message(self.volunteers[volunteer], text, chat=self.staff)

    def send_risk(self, index: int, text: str) -> None:
        self.box.send_user_message(self.risk_people[index], text, bot=TG_BRIDGE_TOKEN)

    async def echo_ready(self) -> None:
        return None  # topics were created here; the echo bot polls before it says "ready"

    async def bridge_polling(self) -> None:
        return None  # updates wait in the sandbox's queue until the bridge's first long poll takes them


class DiscordWorld(World):
    platform = Platform.DISCORD
    next_command = "!next"

    async def start(self) -> None:
        settings = SandboxSettings(rate_limits=RateLimits.relaxed())
        box = self.box = DiscordSandbox(
            tokens=[DC_BRIDGE_TOKEN, DC_ECHO_TOKEN], bot_names=["peerbridge", "echo"], settings=settings
        )
        await box.start()
        self.bridge_bot, self.echo_bot = box.bots[0], box.bots[1]
        guild = box.create_guild("Staff")
        volunteer_role = box.create_role(guild, "volunteer", permissions=Permission.USE_APPLICATION_COMMANDS)
        on_call_role = box.create_role(guild, "on-call", permissions=Permission.USE_APPLICATION_COMMANDS)
        self.volunteers = [box.create_user(f"vol{i}") for i in range(self.n_volunteers)]
        for volunteer in self.volunteers:
            box.add_member(guild, volunteer, [volunteer_role])
        box.add_member(guild, box.create_user("oncall"), [on_call_role])
        self.staff = self._channel_for(guild, "volunteers", volunteer_role, self.echo_bot)
        self.echo_staff = self._channel_for(guild, "echo-volunteers", volunteer_role, self.bridge_bot)
        self.alerts = self._channel_for(guild, "on-call", on_call_role, self.echo_bot)
        self.people: list[DcUser] = [box.create_user(f"p{i}") for i in range(self.n_people)]
        candidates = [box.create_user(f"r{i}") for i in range(self.n_risk * 2)]
        chosen = self.unique_risk_aliases((str(u.id) for u in candidates), self.n_risk)
        self.risk_people: list[DcUser] = [candidates[i] for i in chosen]
        self._dm_channels: set[int] = set()

    def _channel_for(self, guild: Any, name: str, role: Any, hidden_from: BotAccount) -> Channel:
        channel = self.box.create_text_channel(guild, name, visible_to=[role])
        self.box.set_overwrite(channel, hidden_from, deny=Permission.VIEW_CHANNEL)  # one bot per staff space
        return channel

    async def stop(self) -> None:
        await self.box.stop()

    def staff_ids(self) -> list[str]:
        return [str(v.id) for v in self.volunteers]

    def platform_settings(self) -> dict[str, Any]:
        return {
            "discord": {
                "enabled": True,
                "token": DC_BRIDGE_TOKEN,
                "api_url": self.box.api_url,
                "gateway_url": self.box.gateway_url,
            },
            "staff": {
                "platform": "discord",
                "volunteer_chat": str(self.staff.id),
                "escalation_chat": str(self.alerts.id),
            },
        }

    def echo_kind_and_config(self) -> tuple[str, dict[str, Any]]:
        config = {
            "token": DC_ECHO_TOKEN,
            "api_url": self.box.api_url,
            "gateway_url": self.box.gateway_url,
            "channel": self.echo_staff.id,
            "people": [p.id for p in self.people],
        }
        return "echo-discord", config

    def mark(self) -> int:
        return len(self.box.actions)

    def seen_since(self, mark: int) -> tuple[list[Seen], int]:
        """Messages bots created from action `mark` on, and the position after them."""
        actions = self.box.actions
        found = []
        for action in actions[mark:]:
            message = action.message
            if action.kind != ActionKind.MESSAGE_CREATE or message is None:
                continue
            bot = "bridge" if action.bot_id == self.bridge_bot.id else "echo"
            channel_id = int(message.channel_id)
            if channel_id == self.alerts.id:
                kind = "alert"
            elif channel_id in self._dm_channels:
                kind = "person"
            else:
                channel = self.box.channel(channel_id)
                if channel.is_dm:
                    self._dm_channels.add(channel_id)
                    kind = "person"
                else:
                    kind = "staff" if channel.is_thread else "other"
            found.append(Seen(action.at, message.content, kind, channel_id, bot))
        return found, len(actions)

    def send_person(self, system: str, index: int, text: str) -> None:
        self.box.send_dm(self.people[index], text, bot=self.bridge_bot if system == "bridge" else self.echo_bot)

    def send_volunteer(self, system: str, index: int, text: str) -> None:
        topic = self.bridge_topic[index] if system == "bridge" else self.echo_topic[index]
        self.box.send_message(self.volunteers[index % self.n_volunteers], self.box.channel(topic), text)

    def send_staff_command(self, volunteer: int, text: str) -> None:
        self.box.send_message(self.volunteers[volunteer], self.staff, text)

    def send_risk(self, index: int, text: str) -> None:
        self.box.send_dm(self.risk_people[index], text, bot=self.bridge_bot)

    async def echo_ready(self) -> None:
        """Map the echo bot's threads (named echo-<index>) and let each person DM it once (it learns the DM)."""
        names = {c.name: c.id for c in self.box.threads(self.echo_staff)}
        for i in range(self.n_people):
            self.echo_topic[i] = int(names[f"echo-{i}"])
        mark = self.mark()
        for i in range(self.n_people):
            self.send_person("echo", i, f"intro{i} {BENIGN[i % len(BENIGN)]}")
        wanted = self.n_people
        await self.wait_seen(
            mark,
            lambda seen: sum(1 for s in seen if s.bot == "echo" and INTRO.search(s.text)) >= wanted,
            60,
            "echo bot set-up",
        )

    async def bridge_polling(self) -> None:
        return None  # /readyz already waits for the gateway


# --- runs ----------------------------------------------------------------------------------------------------


SUSTAINED_SHARE = 0.95  # a sustained run delivers at least this share of the offered rate


class HarnessPauses:
    """Garbage-collection pauses of this process (the sandbox and the load generator): a pause here delays
    messages for whichever bot is being measured, so each run records its longest one."""

    def __init__(self) -> None:
        self.longest_ms = 0.0  # since the last reset()
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def reset(self) -> None:
        self.longest_ms = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.longest_ms = max(self.longest_ms, (time.perf_counter() - self._start) * 1000)


@dataclass
class Run:
    """One open-loop run's outcome."""

    label: str
    system: str
    direction: str
    rate: float
    sent: int
    latencies_ms: list[float] = field(default_factory=list)
    alert_ms: list[float] = field(default_factory=list)
    risk_sent: int = 0
    achieved_per_s: float = 0.0
    arrival_rate: float = 0.0  # messages/s between the first and the last arrival: the rate the bot kept up
    lag_p99_ms: float = 0.0
    stages: dict[str, dict[str, float]] = field(default_factory=dict)  # bridge only: where the time went
    alert_stages: dict[str, dict[str, float]] = field(default_factory=dict)  # the same for escalation alerts
    timeline_ms: list[float] = field(default_factory=list)  # median latency per half second of the run
    max_gap_ms: float = 0.0  # longest pause between two arrivals while the run was on: a stall shows here
    redis_calls: dict[str, float] = field(default_factory=dict)  # Redis commands per message (bridge runs)
    bridge_exited: str = ""  # the bridge process ended during the run: its last error (it was restarted)
    aof_delayed_fsync: int = 0  # Redis blocked writes waiting for a slow fsync (INFO persistence) this often
    harness_gc_ms: float = 0.0  # longest garbage-collection pause of the sandbox + load generator process
    cpu: dict[str, float] = field(default_factory=dict)

    def summary(self, slo_ms: float) -> dict[str, Any]:
        lat = self.latencies_ms
        out: dict[str, Any] = {
            "label": self.label,
            "system": self.system,
            "direction": self.direction,
            "rate": self.rate,
            "sent": self.sent,
            "delivered": len(lat),
            "lost": self.sent - len(lat),
            "p50_ms": round(percentile(lat, 0.50), 1),
            "p99_ms": round(percentile(lat, 0.99), 1),
            "max_ms": round(max(lat), 1) if lat else None,
            "achieved_per_s": round(self.achieved_per_s, 1),
            "generator_lag_p99_ms": round(self.lag_p99_ms, 1),
            "max_gap_ms": round(self.max_gap_ms, 1),
            "timeline_p50_ms_per_half_second": self.timeline_ms,
            "stages_ms": self.stages,
            "alert_stages_ms": self.alert_stages,
            "redis_commands_per_message": self.redis_calls,
            "bridge_exited": self.bridge_exited,
            "aof_delayed_fsync": self.aof_delayed_fsync,
            "harness_gc_max_ms": round(self.harness_gc_ms, 1),
            "cpu_percent": self.cpu,
            "sustained": self.sustained(slo_ms),
        }
        if self.risk_sent:
            out.update(
                {
                    "risk_sent": self.risk_sent,
                    "alerts": len(self.alert_ms),
                    "alert_p50_ms": round(percentile(self.alert_ms, 0.50), 1),
                    "alert_p99_ms": round(percentile(self.alert_ms, 0.99), 1),
                    "alert_max_ms": round(max(self.alert_ms), 1) if self.alert_ms else None,
                }
            )
        return out

    def sustained(self, slo_ms: float) -> bool:
        """Everything arrived, p99 within the SLO, and at (nearly) the offered rate: a short run can end with a
        backlog that drains inside the SLO while the bot is in fact 15 % too slow for the rate."""
        return (
            len(self.latencies_ms) == self.sent
            and percentile(self.latencies_ms, 0.99) <= slo_ms
            and self.arrival_rate >= SUSTAINED_SHARE * self.rate
        )


class Bench:
    """Drives one platform's world: runs, searches, escalation."""

    def __init__(
        self,
        world: World,
        args: argparse.Namespace,
        pids: dict[str, int],
        redis_url: str,
        bridge: BridgeHandle,
    ) -> None:
        self.bridge = bridge
        self.redis = connect(RedisOptions(url=redis_url))
        self.world = world
        self.args = args
        self.pids = pids  # "sandbox", "bridge", "echo", "redis"
        self.seq = itertools.count(1)
        self.next_risk = 0
        self.runs: list[Run] = []
        self.profiles: list[str] = []
        self.disturbed: list[dict[str, Any]] = []
        self.pauses = HarnessPauses()

    async def _alert_stages(
        self, due: dict[str, float], arrived: dict[str, float], since_ms: float, wall_offset: float
    ) -> dict[str, dict[str, float]]:
        """Split each alert's latency like a relay's: sandbox -> urgent inbound lane (receive + ingest), ->
        the alert's entry in the urgent outbound lane (router, escalation desk), -> escalation chat (deliver).
        People are matched by pseudonym (the risk people's are unique)."""
        cipher = TextCipher([decode_key(ENCRYPTION_KEY)])
        world = self.world
        since = f"{int(since_ms) - 50}-0"
        Entries = list[tuple[bytes, dict[bytes, bytes]]]
        ingested: dict[str, float] = {}
        for entry_id, fields in cast(Entries, await self.redis.xrange(keys.INBOUND_URGENT, min=since, max="+")):
            if b"d" in fields:
                message = decode_inbound(cipher.decrypt(fields[b"d"]))
                ingested.setdefault(world.pseudonyms.alias(world.platform, message.sender), _ms(entry_id))
        emitted: dict[str, float] = {}
        urgent_out = keys.outbound(world.platform, True)
        for entry_id, fields in cast(Entries, await self.redis.xrange(urgent_out, min=since, max="+")):
            if b"d" in fields:
                alert = decode_outbound(cipher.decrypt(fields[b"d"]))
                if alert.audience == Audience.ESCALATION:
                    emitted.setdefault(alert_alias(alert.text), _ms(entry_id))
        return split_stages(due, arrived, ingested, emitted, wall_offset)

    async def _stages(
        self, due: dict[int, float], arrived: dict[int, float], since_ms: float, wall_offset: float
    ) -> dict[str, dict[str, float]]:
        """Split each relayed message's latency at the two Redis streams it passed, using the entry ids (ms
        timestamps from Redis's clock): sandbox -> inbound stream (receive + ingest), inbound -> outbound
        stream (router), outbound stream -> sandbox (pump, scheduler, platform call). 1 ms resolution."""
        cipher = TextCipher([decode_key(ENCRYPTION_KEY)])

        async def tagged(stream: str, outbound: bool) -> dict[int, float]:
            found: dict[int, float] = {}
            entries = cast(
                list[tuple[bytes, dict[bytes, bytes]]],
                await self.redis.xrange(stream, min=f"{int(since_ms) - 50}-0", max="+"),
            )
            for entry_id, fields in entries:
                if b"d" not in fields:
                    continue
                raw = cipher.decrypt(fields[b"d"])
                text = decode_outbound(raw).text if outbound else decode_inbound(raw).text
                match = TAG.search(text)
                if match and int(match.group(1)) in due:
                    found.setdefault(int(match.group(1)), int(entry_id.split(b"-")[0]))
            return found

        inbound = await tagged(keys.INBOUND, False)
        outbound = await tagged(keys.outbound(self.world.platform), True)
        return split_stages(due, arrived, inbound, outbound, wall_offset)

    async def _command_calls(self) -> dict[str, int]:
        info = await self.redis.info("commandstats")
        return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in info.items() if isinstance(v, dict)}

    async def _delayed_fsyncs(self) -> int:
        info = await self.redis.info("persistence")
        return int(info.get("aof_delayed_fsync", 0))

    def _cpu(self) -> dict[str, float]:
        """CPU seconds per process; "bridge" is all of the bridge's processes, "bridge_router" its router
        process when the bridge is split."""
        cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        if self.bridge.router is not None:
            cpu["bridge_router"] = cpu_seconds(self.bridge.router.pid)
            cpu["bridge"] += cpu["bridge_router"]
        return cpu

    async def run(
        self, system: str, direction: str, rate: float, duration: float, label: str = "", risk_rate: float = 0.0
    ) -> Run:
        world = self.world
        n = max(1, round(rate * duration))
        mark = world.mark()
        due: dict[int, float] = {}
        lags: list[float] = []
        risk_due: dict[str, float] = {}
        n_risk = min(round(risk_rate * duration), world.n_risk - self.next_risk) if risk_rate else 0
        # Everything earlier runs left in this process (the sandbox keeps every message) is frozen out of the
        # collector: unfrozen, a full collection here paused the sandbox for 100-200 ms in the middle of a run.
        gc.collect()
        gc.freeze()
        self.pauses.reset()
        spy = await self._spy_start(system, direction, label or f"{rate:g}/s")
        wall_offset = time.time() - time.monotonic()
        delayed0, calls0 = await self._delayed_fsyncs(), await self._command_calls()
        cpu0, wall0, pressure0 = self._cpu(), time.monotonic(), cpu_pressure_us()
        t0 = time.monotonic() + 0.02
        plan = sorted(
            [(t0 + k / rate, 0, k) for k in range(n)] + [(t0 + (k + 0.5) / risk_rate, 1, k) for k in range(n_risk)]
        )
        for at, is_risk, k in plan:
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            lags.append(time.monotonic() - at)
            if is_risk:
                index = self.next_risk
                self.next_risk += 1
                risk_due[world.risk_alias[index]] = at
                world.send_risk(index, RISK_TEXT)
                continue
            seq = next(self.seq)
            due[seq] = at
            text = f"qz{seq} {BENIGN[seq % len(BENIGN)]}"
            if direction == "forward":
                world.send_person(system, k % world.n_people, text)
            else:
                world.send_volunteer(system, k % world.n_people, text)
        last_sent = time.monotonic()
        kind = "staff" if direction == "forward" else "person"
        arrived: dict[int, float] = {}
        alerts: dict[str, float] = {}
        cursor = mark
        last_new = time.monotonic()
        while True:
            seen, cursor = world.seen_since(cursor)
            for s in seen:
                if s.kind == "alert" and s.bot == "bridge" and "RISK" in s.text:
                    alias = alert_alias(s.text)
                    if alias in risk_due and alias not in alerts:
                        alerts[alias] = s.at
                        last_new = time.monotonic()
                    continue
                if s.kind != kind or s.bot != system:
                    continue
                for match in TAG.finditer(s.text):  # a thread catching up sends several as one (each counts)
                    seq = int(match.group(1))
                    if seq in due and seq not in arrived:
                        arrived[seq] = s.at
                        last_new = time.monotonic()
            now = time.monotonic()
            if len(arrived) == n and len(alerts) == n_risk:
                break
            if now - last_new > 3.0 or now - last_sent > 60.0:
                break  # lost, or a backlog that does not clear
            await asyncio.sleep(0.02)
        cpu1, wall1, pressure1 = self._cpu(), time.monotonic(), cpu_pressure_us()
        await self._spy_stop(spy)
        result = Run(label or f"{rate:g}/s", system, direction, rate, n)
        result.latencies_ms = [(arrived[q] - due[q]) * 1000 for q in arrived]
        buckets: dict[int, list[float]] = {}
        for q in arrived:
            buckets.setdefault(int((due[q] - t0) * 2), []).append((arrived[q] - due[q]) * 1000)
        result.timeline_ms = [
            round(percentile(buckets.get(b, []), 0.5), 1) for b in range(max(buckets, default=-1) + 1)
        ]
        result.alert_ms = [(alerts[a] - risk_due[a]) * 1000 for a in alerts]
        result.risk_sent = n_risk
        if arrived:
            result.achieved_per_s = len(arrived) / max(max(arrived.values()) - t0, 1e-9)
            times = sorted(arrived.values())
            result.arrival_rate = (len(times) - 1) / max(times[-1] - times[0], 1e-9) if len(times) > 1 else rate
            result.max_gap_ms = max((b - a for a, b in itertools.pairwise(times)), default=0.0) * 1000
        result.aof_delayed_fsync = await self._delayed_fsyncs() - delayed0
        result.harness_gc_ms = self.pauses.longest_ms
        if system == "bridge":
            calls1 = await self._command_calls()
            per = {k: (calls1[k] - calls0.get(k, 0)) / n for k in calls1 if calls1[k] > calls0.get(k, 0)}
            top = sorted(per.items(), key=lambda kv: -kv[1])
            result.redis_calls = {"total": round(sum(per.values()), 1), **{k: round(v, 2) for k, v in top[:8]}}
        if system == "bridge":
            result.stages = await self._stages(due, arrived, (t0 + wall_offset) * 1000, wall_offset)
            if alerts:
                result.alert_stages = await self._alert_stages(risk_due, alerts, (t0 + wall_offset) * 1000, wall_offset)
        result.lag_p99_ms = percentile(lags, 0.99) * 1000
        result.cpu = {k: max(0, round(100 * (cpu1[k] - cpu0[k]) / (wall1 - wall0))) for k in cpu0}
        result.cpu["waiting_for_cpu"] = round((pressure1 - pressure0) / 1e4 / (wall1 - wall0))
        self.runs.append(result)
        if self.bridge.exited():
            result.bridge_exited = self.bridge.last_error()
            print(f"  !! the bridge process exited during this run ({result.bridge_exited}); restarting it", flush=True)
            self.pids["bridge"] = await self.bridge.restart()
        await self.settle()
        return result

    async def _spy_start(
        self, system: str, direction: str, label: str
    ) -> tuple[asyncio.subprocess.Process, Path] | None:
        """py-spy (sampling, outside the process) on the bridge during the runs named by --py-spy-runs."""
        if not self.args.py_spy or system != "bridge" or label not in self.args.py_spy_runs:
            return None
        out = Path(self.args.py_spy) / f"{self.world.platform}-{direction}-{label.replace('/', 'per')}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--pid",
            str(self.pids["bridge"]),
            "--rate",
            "250",
            "--format",
            "raw",
            "--nolineno",
            "--nonblocking",
            "--output",
            str(out),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await asyncio.sleep(0.3)  # attached before the load starts
        return process, out

    async def _spy_stop(self, spy: tuple[asyncio.subprocess.Process, Path] | None) -> None:
        if spy is None:
            return
        process, out = spy
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(20):
            await process.wait()
        self.profiles.append(str(out))
        print("\n".join(summarise_profile(out)), flush=True)

    async def settle(self, quiet: float = 0.5) -> None:
        """Wait until the bots have been quiet for `quiet` seconds (a backlog of one run must not leak into
        the next); give up after 60 s."""
        deadline = time.monotonic() + 60
        count = self.world.mark()
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            now_count = self.world.mark()
            if now_count != count:
                count, quiet_since = now_count, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return

    def log(self, run: Run) -> None:
        s = run.summary(self.args.slo_ms)
        flag = "ok " if s["sustained"] else "NOT"
        if self.args.timeline:
            print(f"    timeline p50 ms per 0.5 s: {run.timeline_ms}")
        extra = f" alerts p50 {s['alert_p50_ms']} p99 {s['alert_p99_ms']} ms" if run.risk_sent else ""
        if run.redis_calls:
            extra += f" | redis cmds/msg {run.redis_calls['total']}"
        if run.stages:
            extra += " | stages p50/p99 " + ", ".join(f"{k} {v['p50']}/{v['p99']}" for k, v in run.stages.items())
        if run.alert_stages:
            extra += " | alert stages " + ", ".join(f"{k} {v['p50']}/{v['p99']}" for k, v in run.alert_stages.items())
        print(
            f"  [{self.world.platform}] {run.direction:<7} {run.system:<6} {run.label:>14}: "
            f"{s['delivered']}/{s['sent']} p50 {s['p50_ms']} p99 {s['p99_ms']} max {s['max_ms']} ms, "
            f"{s['achieved_per_s']} msg/s {flag} gap {s['max_gap_ms']} ms harness-gc {s['harness_gc_max_ms']} ms"
            f" cpu {s['cpu_percent']}"
            f"{' aof-delayed ' + str(run.aof_delayed_fsync) if run.aof_delayed_fsync else ''}{extra}",
            flush=True,
        )

    async def fixed_and_max(self, direction: str, rates: tuple[int, ...], search: bool) -> dict[str, float | None]:
        """Fixed rates (echo and bridge alternating), then each system's maximum sustained rate."""
        outcome: dict[str, dict[float, bool]] = {"echo": {}, "bridge": {}}
        for rate in rates:
            for system in ("echo", "bridge"):
                result = await self.measured(system, direction, rate, self.args.duration)
                outcome[system][rate] = result.sustained(self.args.slo_ms)
        best: dict[str, float | None] = {}
        for system in ("echo", "bridge"):
            best[system] = await self.search(system, direction, outcome[system]) if search else None
        return best

    async def search(self, system: str, direction: str, known: dict[float, bool]) -> float | None:
        for _step in range(self.args.search_steps):
            passed = [r for r, ok in known.items() if ok]
            failed = [r for r, ok in known.items() if not ok]
            low, high = (
                (max(passed) if passed else None),
                (
                    min(f for f in failed if f > max(passed, default=0))
                    if any(f > max(passed, default=0) for f in failed)
                    else None
                ),
            )
            if low is None:
                rate = min(failed) * 0.6
            elif high is None:
                rate = low * 2
            elif high / low <= 1.15:
                break
            else:
                rate = math.sqrt(low * high)
            rate = float(max(10, round(rate / 10) * 10))
            if rate in known:
                break
            label = f"search {rate:g}/s"
            result = await self.measured(system, direction, rate, self.args.search_duration, label, retry=False)
            known[rate] = result.sustained(self.args.slo_ms)
        passed = [r for r, ok in known.items() if ok]
        return max(passed) if passed else None

    async def escalation(self, saturated_rate: float | None) -> None:
        rates = [("relay 200/s", 200.0)]
        if saturated_rate:
            rates += [("saturated", saturated_rate), ("overloaded", round(saturated_rate * 1.5))]
        for label, rate in rates:
            duration, risk_rate = self.args.escalation_duration, self.args.risk_rate
            await self.measured("bridge", "forward", rate, duration, label=label, risk_rate=risk_rate)

    async def measured(
        self,
        system: str,
        direction: str,
        rate: float,
        duration: float,
        label: str = "",
        risk_rate: float = 0.0,
        *,
        retry: bool = True,
    ) -> Run:
        """A run, repeated once when other load on the machine disturbed it (CPU wait above --retry-wait %);
        the less disturbed of the two is kept, the other is listed under "disturbed" in the JSON."""
        result = await self.run(system, direction, rate, duration, label, risk_rate)
        self.log(result)
        if not retry or result.cpu.get("waiting_for_cpu", 0) <= self.args.retry_wait:
            return result
        print(f"    (disturbed: {result.cpu['waiting_for_cpu']}% CPU wait; running it again)", flush=True)
        again = await self.run(system, direction, rate, duration, label, risk_rate)
        self.log(again)
        keep, drop = (
            (again, result) if again.cpu["waiting_for_cpu"] <= result.cpu["waiting_for_cpu"] else (result, again)
        )
        self.runs.remove(drop)
        self.disturbed.append(drop.summary(self.args.slo_ms))
        return keep


@dataclass
class BridgeHandle:
    """The bridge process, restartable (all its state is in Redis): a crash under overload is a finding, and
    the runs after it still need a bridge."""

    config: dict[str, Any]
    tmp: Path
    env: dict[str, str]
    port: int
    procs: list[Proc]
    split: bool = False  # two processes: `--role gateway` (adapters, web) and `--role router`
    proc: Proc | None = None
    router: Proc | None = None
    starts: int = 0

    async def start(self) -> int:
        """Start the bridge (both processes when split); returns the gateway's (or the only) pid."""
        self.starts += 1
        suffix = "" if self.starts == 1 else f"-restart{self.starts - 1}"
        if self.split:
            router_config = {**self.config, "role": "router", "name": f"{self.config['name']}-router"}
            self.router = await start_proc(f"bridge-router{suffix}", "bridge", router_config, self.tmp, self.env)
            self.procs.append(self.router)
        config = {**self.config, "role": "gateway"} if self.split else self.config
        self.proc = await start_proc(f"bridge{suffix}", "bridge", config, self.tmp, self.env)
        self.procs.append(self.proc)
        await until_ready(self.port)
        return self.proc.pid

    def pids(self) -> list[int]:
        return [p.pid for p in (self.proc, self.router) if p is not None]

    def exited(self) -> bool:
        return any(p is not None and p.process.returncode is not None for p in (self.proc, self.router))

    def last_error(self) -> str:
        """The task that failed and the exception's type and message (redis-py's, never message text)."""
        proc = next((p for p in (self.router, self.proc) if p is not None and p.process.returncode is not None), None)
        proc = proc or self.proc
        assert proc is not None
        lines = proc.log.read_text(errors="replace").splitlines()
        failed = next((ln.split(" ERROR ", 1)[1] for ln in reversed(lines) if "failed; stopping" in ln), "")
        error = next(
            (ln.strip(" |") for ln in reversed(lines) if re.match(r"^[\s|]*[a-z_.]+\.[A-Za-z]+Error:", ln)), ""
        )
        return f"{failed}: {error}" if failed else error or f"exit code {proc.process.returncode}"

    async def restart(self) -> int:
        for proc in (self.proc, self.router):
            if proc is not None:
                await proc.stop()
        return await self.start()


async def bench_platform(world: World, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-relay-{world.platform}-") as tmp_name:
        tmp = Path(tmp_name)
        # AOF everysec, as `peerbridge run` starts it, unless --no-aof
        redis_server = EmbeddedRedis(data_dir=tmp / "redis", persistent=not args.no_aof)
        redis_server.start()
        procs: list[Proc] = []
        try:
            await world.start()
            started = time.monotonic()
            env = {"PTB_TIMEDELTA": "true"}
            bridge_env = {**env, "BENCH_PROFILE": args.profile_bridge} if args.profile_bridge else env
            if args.experiment:
                bridge_env = {**bridge_env, "BENCH_EXPERIMENT": args.experiment}
            config = {"settings": world.bridge_settings(redis_server.url, tmp), "name": "bench-bridge"}
            bridge = BridgeHandle(config, tmp, bridge_env, world.web_port, procs, split=args.bridge_processes == 2)
            bridge_pid = await bridge.start()
            await world.bridge_polling()
            steps = {"bridge started": time.monotonic() - started}
            capacity = [await parallel_capacity()]
            await world.assign_everyone(redis_server.url)
            steps["people queued and assigned"] = time.monotonic() - started
            kind, echo_config = world.echo_kind_and_config()
            echo = await start_proc("echo", kind, echo_config, tmp, env)
            procs.append(echo)
            await world.echo_ready()
            steps["echo bot ready"] = time.monotonic() - started
            redis_pid = await _redis_pid(redis_server.url)
            print(
                f"[{world.platform}] set-up: {world.n_people} people assigned to {world.n_volunteers} volunteers; "
                + ", ".join(f"{k} at {v:.1f} s" for k, v in steps.items()),
                flush=True,
            )
            pids = {"sandbox": os.getpid(), "bridge": bridge_pid, "echo": echo.pid, "redis": redis_pid}
            bench = Bench(world, args, pids, redis_server.url, bridge)
            forward = await bench.fixed_and_max("forward", tuple(args.rates), search=True)
            reverse = await bench.fixed_and_max("reverse", tuple(args.rates), search=args.reverse_search)
            await bench.escalation(forward["bridge"])
            await bench.redis.aclose()
            capacity.append(await parallel_capacity())
            duplicates = duplicate_deliveries(world)
            print(f"[{world.platform}] duplicate deliveries over the whole run: {duplicates}", flush=True)
            return {
                "people": world.n_people,
                "volunteers": world.n_volunteers,
                "set_up_s": steps,
                "profiles": bench.profiles,
                "max_sustained": {"forward": forward, "reverse": reverse},
                "bridge_restarts": bridge.starts - 1,
                "duplicate_deliveries": duplicates,
                "parallel_capacity_cores": capacity,
                "runs": [r.summary(args.slo_ms) for r in bench.runs],
                "disturbed_runs_repeated": bench.disturbed,
            }
        finally:
            for proc in reversed(procs):
                await proc.stop()
            with contextlib.suppress(Exception):
                await world.stop()
            redis_server.stop()
            if args.keep_logs:
                for proc in procs:
                    target = RESULTS.parent / f"relay-{world.platform}-{proc.name}.log"
                    target.write_bytes(proc.log.read_bytes())


def duplicate_deliveries(world: World) -> dict[str, int]:
    """Tagged messages a bot delivered more than once, over the whole run (a redelivery after a failed
    acknowledgement shows up here, even when it came after the run that sent the message)."""
    counts: dict[tuple[str, str, int], int] = {}
    for s in world.seen_since(0)[0]:
        if s.kind not in ("staff", "person"):
            continue
        for match in TAG.finditer(s.text):
            key = (s.bot, s.kind, int(match.group(1)))
            counts[key] = counts.get(key, 0) + 1
    result = {"bridge": 0, "echo": 0}
    for (bot, _kind, _seq), count in counts.items():
        result[bot] += count - 1
    return result


async def _redis_pid(url: str) -> int:
    redis = connect(RedisOptions(url=url))
    try:
        info = await redis.info("server")
        return int(info["process_id"])
    finally:
        await redis.aclose()


def _package(frame: str) -> str:
    """The package a py-spy frame ("func (pkg/module.py)") belongs to, grouped for the summary."""
    path = frame.rpartition("(")[2].rstrip(")")
    head = path.split("/", 1)[0] if "/" in path else path.removesuffix(".py")
    groups = {
        "telegram": "python-telegram-bot", "httpx": "httpx/httpcore/h11/anyio", "httpcore": "httpx/httpcore/h11/anyio",
        "h11": "httpx/httpcore/h11/anyio", "anyio": "httpx/httpcore/h11/anyio", "discord": "discord.py",
        "aiohttp": "aiohttp/yarl/multidict", "yarl": "aiohttp/yarl/multidict", "multidict": "aiohttp/yarl/multidict",
        "redis": "redis-py", "asyncio": "asyncio (event loop, tasks)", "selectors": "asyncio (event loop, tasks)",
        "routing": "peerbridge routing/", "adapters": "peerbridge adapters/", "bot": "peerbridge bot/",
        "cryptography": "cryptography (AES-GCM)", "json": "json", "pydantic": "pydantic",
    }  # fmt: skip
    return groups.get(head, "other (stdlib, typing, ...)")


def summarise_profile(path: Path, top: int = 12) -> list[str]:
    """Self time by package and by function, and inclusive time of our own frames, from a py-spy raw file."""
    own: dict[str, int] = {}
    by_package: dict[str, int] = {}
    ours: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = [f.strip() for f in stack.split(";") if f.strip()]
        if not frames or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        by_package[_package(frames[-1])] = by_package.get(_package(frames[-1]), 0) + count
        for frame in {f for f in frames if _package(f).startswith("peerbridge")}:
            ours[frame] = ours.get(frame, 0) + count
    lines = [f"  py-spy {path.name}: {total} busy samples at 250 Hz (idle excluded); % of busy samples"]
    for title, table, limit in (
        ("self time by package", by_package, 20),
        ("self time by function", own, top),
        ("inclusive time of peerbridge functions", ours, top),
    ):
        lines.append(f"    {title}:")
        for frame, count in sorted(table.items(), key=lambda kv: -kv[1])[:limit]:
            lines.append(f"      {100 * count / max(total, 1):5.1f}%  {frame[:100]}")
    return lines


# --- report --------------------------------------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


def _cells(r: dict[str, Any] | None, process: str) -> str:
    if r is None:
        return f"{'-':>8} {'-':>7} {'-':>7} {'-':>6} {'-':>4}"
    mark = ("" if r["sustained"] else "*") + ("!" if r.get("bridge_exited") else "")
    rate = f"{round(r['achieved_per_s'])}{mark}"
    return f"{r['p50_ms']:>8} {r['p99_ms']:>7} {r['max_ms']!s:>7} {rate:>6} {r['cpu_percent'].get(process, 0):>4}"


def cpu_ms_per_message(r: dict[str, Any], process: str) -> float:
    """CPU milliseconds `process` spent per delivered message in run `r` (its cpu% is of one core)."""
    return float(r["cpu_percent"].get(process, 0)) * 10 / r["achieved_per_s"]


def _cpu_ms(r: dict[str, Any] | None, process: str) -> str:
    if r is None or not r["achieved_per_s"]:
        return "-"
    return f"{cpu_ms_per_message(r, process):.2f}"


def where_time_goes(name: str, runs: list[dict[str, Any]]) -> list[str]:
    """Per fixed-rate bridge run: latency split at the Redis streams, Redis commands and CPU per message."""
    lines = [
        f"\n{name}: where the bridge's time goes (ms p50/p99 per stage: sandbox -> inbound stream -> outbound "
        "stream -> sandbox), Redis commands and CPU ms per message (bridge vs echo process)"
    ]
    header = (
        f"{'run':<15} {'direction':<9} {'receive+ingest':>15} {'route':>11} {'deliver':>13} {'redis cmd':>9} "
        f"{'cpu ms bridge':>13} {'echo':>5}"
    )
    lines += [header, "─" * len(header)]
    for r in runs:
        if r["system"] != "bridge" or r.get("risk_sent") or r["label"].startswith("search") or not r["stages_ms"]:
            continue
        echo = next(
            (
                e
                for e in runs
                if e["system"] == "echo" and e["label"] == r["label"] and e["direction"] == r["direction"]
            ),
            None,
        )
        st = r["stages_ms"]
        cells = [f"{st[k]['p50']}/{st[k]['p99']}" for k in ("receive+ingest", "route", "deliver")]
        commands = r["redis_commands_per_message"].get("total", 0)
        lines.append(
            f"{r['label']:<15} {r['direction']:<9} {cells[0]:>15} {cells[1]:>11} {cells[2]:>13} "
            f"{commands:>9} {_cpu_ms(r, 'bridge'):>13} {_cpu_ms(echo, 'echo'):>5}"
        )
    return lines


def report(results: dict[str, Any], slo_ms: float) -> list[str]:
    lines: list[str] = []
    verdicts: list[str] = []
    for name, data in results.items():
        runs = [r for r in data["runs"] if not r.get("risk_sent")]
        for direction, title in (
            ("forward", "person -> volunteer topic/thread"),
            ("reverse", "volunteer topic/thread -> person"),
        ):
            lines.append(f"\n{name}: relay {title}, latency ms, open loop, {data['people']} people")
            header = (
                f"{'run':<15} │ {'echo p50':>8} {'p99':>7} {'max':>7} {'msg/s':>6} {'cpu%':>4} │ {'bridge p50':>8} "
                f"{'p99':>7} {'max':>7} {'msg/s':>6} {'cpu%':>4} {'lost':>5} │ {'p99 x':>6} {'wait%':>5}"
            )
            lines += [header, "─" * len(header)]
            for label in dict.fromkeys(r["label"] for r in runs if r["direction"] == direction):
                pair = {r["system"]: r for r in runs if r["direction"] == direction and r["label"] == label}
                echo, bridge = pair.get("echo"), pair.get("bridge")
                ratio = f"{bridge['p99_ms'] / echo['p99_ms']:.1f}" if bridge and echo and echo["p99_ms"] else "-"
                wait = max(r["cpu_percent"].get("waiting_for_cpu", 0) for r in pair.values())
                lost = bridge["lost"] if bridge else "-"
                both = f"{_cells(echo, 'echo')} │ {_cells(bridge, 'bridge')}"
                lines.append(f"{label:<15} │ {both} {lost!s:>5} │ {ratio:>6} {wait:>5}")
            best = data["max_sustained"][direction]
            if best.get("echo") is not None or best.get("bridge") is not None:
                lines.append(
                    f"max sustained (all delivered, p99 <= {slo_ms:g} ms, >= 95% of the rate): "
                    f"echo {best.get('echo')} msg/s, "
                    f"bridge {best.get('bridge')} msg/s -> bridge/echo {_ratio(best.get('bridge'), best.get('echo'))}"
                )
        lines += where_time_goes(name, data["runs"])
        escalations = [r for r in data["runs"] if r.get("risk_sent")]
        if escalations:
            lines.append(f"\n{name}: escalation alert latency (risk message -> alert in the escalation chat), ms")
            header = (
                f"{'relay load':<22} {'alerts':>7} {'p50':>7} {'p99':>7} {'max':>7} │ {'relay p50':>9} {'p99':>7} "
                f"{'msg/s':>6} {'cpu%':>4} {'wait%':>5}"
            )
            lines += [header, "─" * len(header)]
            for r in escalations:
                load = f"{r['label']} ({round(r['rate'])}/s)"
                alerts = f"{r['alerts']}/{r['risk_sent']}"
                rate = f"{round(r['achieved_per_s'])}{'' if r['sustained'] else '*'}{'!' if r['bridge_exited'] else ''}"
                lines.append(
                    f"{load:<22} {alerts:>7} {r['alert_p50_ms']:>7} {r['alert_p99_ms']:>7} {r['alert_max_ms']!s:>7} "
                    f"│ {r['p50_ms']:>9} {r['p99_ms']:>7} {rate:>6} {r['cpu_percent'].get('bridge', 0):>4} "
                    f"{r['cpu_percent'].get('waiting_for_cpu', 0):>5}"
                )
        lines.append(
            f"\n{name}: two busy processes got {' / '.join(str(c) for c in data['parallel_capacity_cores'])} cores "
            f"(start / end; 2.0 = two free cores); duplicate deliveries: {data['duplicate_deliveries']}"
        )
        for r in data["runs"]:
            if r.get("bridge_exited"):
                lines.append(f"! {name}: the bridge process exited during '{r['direction']} {r['label']}' and was "
                             f"restarted: {r['bridge_exited']}")  # fmt: skip
        verdicts += targets(name, data)
    lines.append("\nissue-9 targets (platform rate limiting OFF, sandbox only):")
    lines += [f"  {v}" for v in verdicts]
    lines.append(
        "  * = not sustained (lost messages, p99 above the SLO, or under 95% of the rate); "
        "! = the bridge process died in the run; "
        "cpu% = that process, % of one core; wait% = share of time some task on the machine waited for a CPU"
    )
    return lines


def targets(name: str, data: dict[str, Any]) -> list[str]:
    out = []
    best = data["max_sustained"]["forward"]
    ratio = (best["bridge"] / best["echo"]) if best.get("bridge") and best.get("echo") else None
    out.append(
        f"{name}: throughput bridge/echo >= 1.0x: "
        f"{'n/a' if ratio is None else f'{ratio:.2f}x'} -> {'MET' if ratio and ratio >= 1.0 else 'MISSED'}"
    )
    out += cpu_budget(name, data)
    for direction in ("forward", "reverse"):
        pair = {
            r["system"]: r
            for r in data["runs"]
            if r["direction"] == direction and r["label"] == "200/s" and not r.get("risk_sent")
        }
        if "echo" in pair and "bridge" in pair:
            p99 = pair["bridge"]["p99_ms"] / pair["echo"]["p99_ms"]
            out.append(
                f"{name}: {direction} relay p99 at 200/s <= 2x echo: {pair['bridge']['p99_ms']} vs "
                f"{pair['echo']['p99_ms']} ms = {p99:.2f}x -> {'MET' if p99 <= 2 else 'MISSED'}"
            )
    for r in data["runs"]:
        if r.get("risk_sent") and r["label"] in ("relay 200/s", "saturated"):
            limit = 50 if r["label"] == "relay 200/s" else 250
            ok = r["alerts"] == r["risk_sent"] and r["alert_p99_ms"] <= limit
            out.append(
                f"{name}: alert p99 at {r['label']} <= {limit} ms: {r['alert_p99_ms']} ms "
                f"({r['alerts']}/{r['risk_sent']} alerts) -> {'MET' if ok else 'MISSED'}"
            )
    return out


def cpu_budget(name: str, data: dict[str, Any]) -> list[str]:
    """Whether this machine has the CPU for the bridge to run at the echo bot's maximum: the sandbox and the
    load generator need the same CPU per message for either bot, so what is left of the machine at the echo's
    rate, per message, is what the bridge and Redis together could spend."""

    def at_max(system: str) -> dict[str, Any] | None:
        rate = data["max_sustained"]["forward"].get(system)
        matching = [r for r in data["runs"] if r["system"] == system and r["direction"] == "forward"]
        return next((r for r in matching if r["rate"] == rate and r["sustained"] and not r.get("risk_sent")), None)

    echo, bridge = at_max("echo"), at_max("bridge")
    if echo is None or bridge is None:
        return []
    cores = os.cpu_count() or 1
    rate = echo["achieved_per_s"]
    sandbox, echo_ms = cpu_ms_per_message(echo, "sandbox"), cpu_ms_per_message(echo, "echo")
    bridge_ms, redis_ms = cpu_ms_per_message(bridge, "bridge"), cpu_ms_per_message(bridge, "redis")
    left = cores * 1000 / rate - sandbox  # ms per message the machine has beyond the sandbox's
    return [
        f"{name}: CPU at the echo's maximum ({rate:.0f} msg/s): the {cores} cores leave {left:.2f} ms per message "
        f"after the sandbox and load ({sandbox:.2f} ms); the echo bot uses {echo_ms:.2f} ms, the bridge "
        f"{bridge_ms:.2f} ms + Redis {redis_ms:.2f} ms (at its own maximum) -> it would need "
        f"{(bridge_ms + redis_ms + sandbox) * rate / 1000:.1f} cores at that rate"
    ]


async def main(args: argparse.Namespace) -> None:
    detector = RiskDetector.from_directory(shipped.RISK_PHRASES)
    assert all(detector.assess(f"qz1 {text}", []).tier == RiskTier.NONE for text in BENIGN), "benign text flagged"
    assert detector.assess(RISK_TEXT, []).tier >= RiskTier.HIGH, "the risk phrase is no longer flagged"
    escalation_runs = 3 * 2  # each may be repeated once
    risk_people = math.ceil(args.risk_rate * args.escalation_duration) * escalation_runs + 5
    platforms = ["telegram", "discord"] if args.platform == "both" else [args.platform]
    results: dict[str, Any] = {}
    started = time.monotonic()
    for name in platforms:
        world: World = (TelegramWorld if name == "telegram" else DiscordWorld)(args.people, risk_people)
        world.echo_http = args.echo_http
        results[name] = await bench_platform(world, args)
    lines = report(results, args.slo_ms)
    if args.bridge_processes == 2:
        lines.insert(0, "THE BRIDGE RAN AS TWO PROCESSES (--role gateway + --role router); bridge cpu% is their sum")
    if args.echo_http != "httpx":
        lines.insert(0, f"THE TELEGRAM ECHO BOT USED THE BRIDGE'S PTB BACKEND ({args.echo_http}), NOT httpx")
    if args.experiment:
        lines.insert(0, f"EXPERIMENT {args.experiment}: the bridge's behaviour was changed on purpose (relay_bots.py)")
    print("\n".join(lines))
    out = Path(args.out) if args.out else RESULTS
    if args.bridge_processes == 2 and not args.out:
        out = RESULTS.with_name("relay-two-processes.json")
    if args.echo_http != "httpx" and not args.out:
        out = RESULTS.with_name(f"relay-echo-{args.echo_http}.json")
    if args.experiment and not args.out:
        out = RESULTS.with_name(f"relay-experiment-{args.experiment}.json")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "experiment": args.experiment,
                "rate_limiting": "off: bridge run(rate_limits=False), Discord sandbox RateLimits.relaxed(); "
                "the Telegram sandbox enforces none. Sandbox benchmark runs only.",
                "config": {
                    "people": args.people,
                    "duration_s": args.duration,
                    "search_duration_s": args.search_duration,
                    "escalation_duration_s": args.escalation_duration,
                    "risk_rate": args.risk_rate,
                    "slo_ms": args.slo_ms,
                    "rates": args.rates,
                    "echo_telegram": f"PTB Application, concurrent_updates=256, networking {args.echo_http}",
                    "echo_discord": "discord.py Client (events run concurrently)",
                    "redis": "embedded, AOF everysec",
                    "bridge_processes": args.bridge_processes,
                },
                "python": platform.python_version(),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "wall_s": round(time.monotonic() - started, 1),
                "platforms": results,
                "report": lines,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {out} in {time.monotonic() - started:.0f} s")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", choices=["telegram", "discord", "both"], default="both")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--rates", type=int, nargs="+", default=list(FIXED_RATES))
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per fixed-rate run")
    parser.add_argument("--search-duration", type=float, default=2.5, help="seconds per max-rate search run")
    parser.add_argument("--search-steps", type=int, default=4)
    parser.add_argument("--reverse-search", action="store_true", help="also search the reverse direction's max")
    parser.add_argument("--escalation-duration", type=float, default=4.0)
    parser.add_argument("--risk-rate", type=float, default=10.0, help="risk messages per second during escalation")
    parser.add_argument("--slo-ms", type=float, default=500.0, help="p99 bound for a run to count as sustained")
    parser.add_argument("--profile-bridge", default="", help="write a pyinstrument profile of the bridge here")
    parser.add_argument("--py-spy", default="", help="directory: record the bridge with py-spy during some runs")
    parser.add_argument("--py-spy-runs", nargs="+", default=["200/s"], help="run labels to record (with --py-spy)")
    parser.add_argument(
        "--retry-wait", type=float, default=25.0, help="repeat a run once when CPU wait (PSI) was above this %%"
    )
    parser.add_argument(
        "--bridge-processes",
        type=int,
        choices=[1, 2],
        default=1,
        help="1: `peerbridge run` with all roles; 2: a gateway process and a router process (the pipelined deployment)",
    )
    parser.add_argument(
        "--echo-http",
        choices=["httpx", "aiohttp"],
        default="httpx",
        help="the Telegram echo bot's PTB networking: httpx (PTB's default: the bare SDK) or aiohttp (the bridge's)",
    )
    parser.add_argument("--no-aof", action="store_true", help="Redis without AOF (default: AOF everysec)")
    parser.add_argument("--timeline", action="store_true", help="print each run's latency timeline")
    parser.add_argument(
        "--experiment",
        default="",
        help="bottleneck experiment in the bridge process (see relay_bots.py); not for results",
    )
    parser.add_argument("--out", default="", help=f"JSON results file (default {RESULTS.relative_to(ROOT)})")
    parser.add_argument("--keep-logs", action="store_true", help="copy the bot processes' logs to bench/results")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
