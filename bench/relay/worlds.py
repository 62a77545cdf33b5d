"""The relay benchmark's two platform worlds: one sandbox each with people, volunteers and two bots (the bridge
and a bare echo bot, each with its own staff space), and what the load does in them and sees of them."""

from __future__ import annotations

import asyncio
import math
import re
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.embedded_redis import free_port
from harness.processes import until_counted
from harness.sandboxes import DiscordStaff, TelegramStaff, start_discord, start_telegram
from harness.settings import PSEUDONYM_SECRET, bridge_settings, staff_rota
from routing.model import Platform, UserId
from routing.pseudonyms import Pseudonymiser
from routing.store import keys
from sandboxes.telegram import FloodLimits
from sandboxes.telegram import User as TgUser

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # discord.py imports audioop (voice support)
    from sandboxes.discord import ActionKind, RateLimits, SandboxSettings
    from sandboxes.discord import User as DcUser

TG_BRIDGE_TOKEN, TG_ECHO_TOKEN = "123456:bench-bridge-token", "654321:bench-echo-token"
DC_BRIDGE_TOKEN, DC_ECHO_TOKEN = "bench-bridge-token", "bench-echo-token"
CAPACITY = 20  # conversations per volunteer (the roster's maximum)
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


@dataclass(frozen=True, slots=True)
class Seen:
    """A message a bot sent, as the sandbox received it: monotonic time, text, where, which bot."""

    at: float
    text: str
    kind: str  # "staff" (volunteer topic/thread), "person" (private chat), "alert" (escalation chat), "other"
    place: int  # topic/thread id for staff messages, else the chat/channel id
    bot: str  # "bridge" or "echo"


class World:
    """One platform's sandbox world: people, volunteers, the bridge's and the echo bot's staff spaces."""

    platform: Platform
    next_command: str
    spaces: TelegramStaff | DiscordStaff  # the sandbox, its volunteers and staff spaces (set by start)

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

    async def stop(self) -> None:
        await self.spaces.box.stop()

    def bridge_settings(self, redis_url: str, tmp: Path) -> dict[str, Any]:
        accounts = [v.id for v in self.spaces.volunteers]
        rota = staff_rota(tmp / "rota.toml", self.platform.value, accounts, CAPACITY)
        routing = {"flood_limit": 10_000, "match_wait_minutes": 0}
        tables = self.spaces.bridge_tables()
        return bridge_settings(
            redis_url, tmp, rota, platform=tables, routing=routing, web_port=self.web_port, ack_timeout=3600
        )

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
        await until_counted(redis_url, lambda redis: redis.zcard(keys.QUEUE), self.n_people, poll=0.1)
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
        tokens = [TG_BRIDGE_TOKEN, TG_ECHO_TOKEN]
        spaces = self.spaces = await start_telegram(self.n_volunteers, tokens, FloodLimits.off())
        box, self.outbox, self.volunteers = spaces.box, spaces.outbox, spaces.volunteers
        self.box, self.staff, self.alerts, self.echo_staff = box, spaces.staff, spaces.alerts, spaces.echo()
        self.bridge_bot, self.echo_bot = box.bot(TG_BRIDGE_TOKEN).id, box.bot(TG_ECHO_TOKEN).id
        self.people = [box.create_user(f"P{i}", language_code="en") for i in range(self.n_people)]
        candidates = [box.create_user(f"R{i}", language_code="en") for i in range(self.n_risk * 2)]
        chosen = self.unique_risk_aliases((str(u.id) for u in candidates), self.n_risk)
        self.risk_people: list[TgUser] = [candidates[i] for i in chosen]
        for i in range(self.n_people):
            topic = box.create_topic(self.echo_staff, f"echo {i}", by=self.volunteers[0])
            self.echo_topic[i] = topic.thread_id

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
        spaces = self.spaces = await start_discord(self.n_volunteers, [DC_BRIDGE_TOKEN, DC_ECHO_TOKEN], settings)
        box = self.box = spaces.box
        self.bridge_bot, self.echo_bot = box.bots[0], box.bots[1]
        self.volunteers, self.staff, self.alerts = spaces.volunteers, spaces.staff, spaces.alerts
        self.echo_staff = spaces.echo()
        self.people: list[DcUser] = [box.create_user(f"p{i}") for i in range(self.n_people)]
        candidates = [box.create_user(f"r{i}") for i in range(self.n_risk * 2)]
        chosen = self.unique_risk_aliases((str(u.id) for u in candidates), self.n_risk)
        self.risk_people: list[DcUser] = [candidates[i] for i in chosen]
        self._dm_channels: set[int] = set()

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
