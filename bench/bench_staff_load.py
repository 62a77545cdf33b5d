"""Staff capacity under the platforms' real limits: a busy evening, end to end through the real SDKs.

    .venv/bin/python bench/bench_staff_load.py                       # Telegram and Discord, 10 and 30 people
    .venv/bin/python bench/bench_staff_load.py --platform telegram --people 10 --duration 60
    .venv/bin/python bench/bench_staff_load.py --platform telegram-private --people 10,30,100
    .venv/bin/python bench/bench_staff_load.py --platform telegram --burst 500   # 500 new people in a minute

`telegram` is staff in forum topics (staff.workspace = "topics"); `telegram-private` is each volunteer in their
private chat with the bot (staff.workspace = "private"), replying to a person's last message to pick them, with
the forum kept as the record (its copies are counted apart, as "record").

PLATFORM LIMITS ARE ON. The Telegram sandbox answers 429 with `retry_after` past 20 sends a minute into one group
(all topics, edits and topic creation together), one a second into a private chat and 30 a second in all; the
Discord sandbox past 5 messages per 5 s per channel (a thread is a channel) and 50 requests a second. The bridge
runs as `peerbridge run` does, with its own pacing (`rate_limits=True`) and its default settings.

Load: people arrive over the first 20 s, each writes about every 20 s (uniform 15-25 s); a volunteer takes each
new person with /next (capacity 5 each, enough volunteers for everyone); volunteers answer each person about
every 30 s (25-35 s); one person sends a risk message a third of the way in. After `--duration` the load stops
and the run waits `--drain` seconds for what is still on its way.

Measured (sandbox clock, the moment the API call landed): person -> volunteer (written -> shown in the topic or
thread), volunteer -> person, topic/thread shown after Take, the risk message in the volunteer's topic and the
alert in the on-call chat, 429s drawn, and lost, duplicated or out-of-order messages. Writes
bench/results/staff_load_<platform>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import random
import re
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bot.app import ProcessRole, run
from bot.embedded_redis import EmbeddedRedis, free_port
from bot.settings import Settings
from harness.results import RESULTS_DIR, write_results
from harness.sandboxes import start_discord, start_telegram
from harness.settings import bridge_settings, staff_rota
from harness.timing import percentile
from routing.model import Platform
from routing.store import keys
from routing.store.connection import RedisOptions, connect

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # discord.py imports audioop (voice support)
    from sandboxes.discord import ActionKind

RESULTS = RESULTS_DIR / "staff_load_{platform}.json"  # one file per --platform choice
TG_TOKEN, DC_TOKEN = "123456:bench-staff-load", "bench-staff-load-token"
CAPACITY = 5
PERSON_EVERY, VOLUNTEER_EVERY, ARRIVALS_OVER = (15.0, 25.0), (25.0, 35.0), 20.0
RISK_TEXT = "I want to kill myself tonight"
TAG = re.compile(r"\b(p|v)(\d+)x(\d+)\b")  # p<person>x<n>: a person's n-th message; v<person>x<n>: a reply
INTRO = re.compile(r"\bintro(\d+)\b")


@dataclass(frozen=True, slots=True)
class Seen:
    """A message the bridge's bot made appear: when (monotonic), its text, where ("staff" thread, "person"
    chat, "alert" chat, "lobby") and the thread/chat id."""

    at: float
    text: str
    kind: str
    place: int


class World:
    """One platform's sandbox with people, volunteers, the staff space and the on-call chat."""

    def __init__(self, people: int) -> None:
        self.n_people = people
        self.n_volunteers = math.ceil(people / CAPACITY)

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    def settings(self, redis_url: str, tmp: Path) -> Settings:
        """The bridge's settings as `peerbridge run` would have them, with this world's staff (no intake
        buttons: every message of the load is conversation)."""
        rota = staff_rota(tmp / "rota.toml", self.platform_name, self.volunteer_ids(), CAPACITY)
        return Settings(
            **bridge_settings(redis_url, tmp, rota, platform=self.platform_settings(), web_port=free_port())
        )

    platform_name = ""

    def volunteer_ids(self) -> list[str]:
        raise NotImplementedError

    def platform_settings(self) -> dict[str, Any]:
        raise NotImplementedError

    def seen(self) -> list[Seen]:
        raise NotImplementedError

    def refused(self) -> int:
        raise NotImplementedError

    def person_writes(self, person: int, text: str) -> None:
        raise NotImplementedError

    def volunteer_writes(self, volunteer: int, person: int, thread: int, text: str) -> None:
        raise NotImplementedError

    def desk_of(self, place: int) -> int | None:
        """The volunteer (index) whose private chat `place` is, when volunteers work there."""
        return None

    def person_place(self, person: int) -> int:
        """The `Seen.place` of what the bot sends to `person`."""
        raise NotImplementedError

    def volunteer_command(self, volunteer: int, text: str) -> None:
        raise NotImplementedError


class TelegramWorld(World):
    platform_name = "telegram"

    async def start(self) -> None:
        spaces = self.spaces = await start_telegram(self.n_volunteers, [TG_TOKEN])  # Telegram's flood limits
        box = self.box = spaces.box
        self.outbox, self.volunteers, self.staff, self.alerts = (
            spaces.outbox,
            spaces.volunteers,
            spaces.staff,
            spaces.alerts,
        )
        self.people = [box.create_user(f"P{i}", language_code="en") for i in range(self.n_people)]

    async def stop(self) -> None:
        await self.box.stop()

    def volunteer_ids(self) -> list[str]:
        return [str(v.id) for v in self.volunteers]

    def platform_settings(self) -> dict[str, Any]:
        return self.spaces.bridge_tables()

    def seen(self) -> list[Seen]:
        found = []
        for message, at in zip(list(self.outbox), list(self.outbox.times), strict=False):
            if message.chat_id == self.staff.id:
                kind, place = ("staff", message.thread_id) if message.thread_id else ("lobby", message.chat_id)
            elif message.chat_id == self.alerts.id:
                kind, place = "alert", message.chat_id
            else:
                kind, place = "person", message.chat_id
            found.append(Seen(at, message.body, kind, place or 0))
        return found

    def refused(self) -> int:
        return self.box.flood.refused

    def person_writes(self, person: int, text: str) -> None:
        self.box.send_user_message(self.people[person], text)

    def person_place(self, person: int) -> int:
        return int(self.people[person].id)

    def volunteer_writes(self, volunteer: int, person: int, thread: int, text: str) -> None:
        self.box.send_user_message(self.volunteers[volunteer], text, chat=self.staff, thread=thread)

    def volunteer_command(self, volunteer: int, text: str) -> None:
        self.box.send_user_message(self.volunteers[volunteer], text, chat=self.staff)


class TelegramDeskWorld(TelegramWorld):
    """Staff on Telegram, each volunteer in their private chat with the bot; the forum keeps the record."""

    platform_name = "telegram"

    async def start(self) -> None:
        await super().start()
        self.desks = {v.id: index for index, v in enumerate(self.volunteers)}
        for volunteer in self.volunteers:
            self.box.send_user_message(volunteer, "/start")  # a bot may only write to someone who started it

    def platform_settings(self) -> dict[str, Any]:
        settings = super().platform_settings()
        settings["staff"]["workspace"] = "private"
        return settings

    def seen(self) -> list[Seen]:
        found = []
        for s in super().seen():
            if s.kind == "staff":
                s = Seen(s.at, s.text, "record", s.place)  # the forum's copy: supervision, not the volunteer's
            elif s.kind == "person" and s.place in self.desks:
                s = Seen(s.at, s.text, "staff", s.place)
            found.append(s)
        return found

    def desk_of(self, place: int) -> int | None:
        return self.desks.get(place)

    def volunteer_writes(self, volunteer: int, person: int, thread: int, text: str) -> None:
        """An answer as a reply to the person's latest message in the volunteer's private chat."""
        desk, mark = self.volunteers[volunteer].id, re.compile(rf"\b(?:intro{person}|p{person}x\d+)\b")
        latest = next(m for m in reversed(list(self.outbox)) if m.chat_id == desk and mark.search(m.body))
        self.box.send_user_message(self.volunteers[volunteer], text, reply_to=latest)

    def volunteer_command(self, volunteer: int, text: str) -> None:
        self.box.send_user_message(self.volunteers[volunteer], text)


class DiscordWorld(World):
    platform_name = "discord"

    async def start(self) -> None:
        spaces = self.spaces = await start_discord(self.n_volunteers, [DC_TOKEN])  # Discord's limits: the default
        box = self.box = spaces.box
        self.volunteers, self.staff, self.alerts = spaces.volunteers, spaces.staff, spaces.alerts
        self.people = [box.create_user(f"p{i}") for i in range(self.n_people)]

    async def stop(self) -> None:
        await self.box.stop()

    def volunteer_ids(self) -> list[str]:
        return [str(v.id) for v in self.volunteers]

    def platform_settings(self) -> dict[str, Any]:
        return self.spaces.bridge_tables()

    def seen(self) -> list[Seen]:
        found = []
        for action in list(self.box.actions):
            message = action.message
            if action.kind != ActionKind.MESSAGE_CREATE or message is None:
                continue
            channel = self.box.channel(int(message.channel_id))
            if channel.id == self.alerts.id:
                kind = "alert"
            elif channel.is_dm:
                kind = "person"
            else:
                kind = "staff" if channel.is_thread else "lobby"
            found.append(Seen(action.at, message.content, kind, int(channel.id)))
        return found

    def refused(self) -> int:
        calls = self.box.calls()
        refused = [call for call in calls if call.status == 429]
        for call in refused:  # which bucket the pacing missed, and the calls before it on the same path
            after = call.path.partition("/channels/")[2].split("/")[0]
            channel = int(after) if after.isdigit() else 0
            kind = "lobby" if channel == self.staff.id else "alerts" if channel == self.alerts.id else "dm or thread"
            before = [round(c.at - call.at, 3) for c in calls if c.path == call.path and c.at <= call.at][-7:]
            print(f"[discord] 429 on {call.method} {call.route} ({kind}); same path at {before}", flush=True)
        return len(refused)

    def person_writes(self, person: int, text: str) -> None:
        self.box.send_dm(self.people[person], text)

    def person_place(self, person: int) -> int:
        channel = self.box.dm_channel(self.people[person])
        return int(channel.id) if channel is not None else -1

    def volunteer_writes(self, volunteer: int, person: int, thread: int, text: str) -> None:
        self.box.send_message(self.volunteers[volunteer], self.box.channel(thread), text)

    def volunteer_command(self, volunteer: int, text: str) -> None:
        self.box.send_message(self.volunteers[volunteer], self.staff, text)


@dataclass
class Load:
    """What the load sent, when (monotonic), and what it found."""

    sent: dict[str, float] = field(default_factory=dict)  # tag -> written at
    take_at: dict[int, float] = field(default_factory=dict)  # person -> /next sent at
    thread_of: dict[int, int] = field(default_factory=dict)  # person -> topic/thread id
    holder: dict[int, int] = field(default_factory=dict)  # person -> the volunteer (index) who took them
    risk_person: int | None = None
    risk_tag: str = ""


async def drive(world: World, redis: Redis, duration: float, rng: random.Random) -> Load:
    """Arrivals, takes, person messages and replies, for `duration` seconds."""
    load = Load()
    start = time.monotonic()
    counters: dict[str, itertools.count[int]] = {}
    next_person = {i: rng.uniform(0, ARRIVALS_OVER) for i in range(world.n_people)}
    next_reply: dict[int, float] = {}
    takes: list[float] = []  # when the next /next presses are due
    pressed = 0
    risk_at = duration / 3
    command = "/next" if world.platform_name == "telegram" else "!next"

    def tag(kind: str, person: int) -> str:
        n = next(counters.setdefault(f"{kind}{person}", itertools.count()))
        label = f"{kind}{person}x{n}"
        load.sent[label] = time.monotonic()
        return label

    while (now := time.monotonic() - start) < duration:
        for person, due in list(next_person.items()):
            if now < due:
                continue
            first = person not in load.take_at
            label = tag("p", person)
            text = f"intro{person} {label} hello" if first else f"{label} still here"
            if load.risk_person is None and not first and now >= risk_at and person in load.holder:
                load.risk_person, load.risk_tag, text = person, label, f"{label} {RISK_TEXT}"
            world.person_writes(person, text)
            next_person[person] = now + rng.uniform(*PERSON_EVERY)
            if first:
                load.take_at[person] = 0.0
                takes.append(now + 1.0)  # a volunteer with room presses /next a second later
        while takes and takes[0] <= now:
            takes.pop(0)
            world.volunteer_command(pressed // CAPACITY, command)
            pressed += 1
            waiting = [p for p, at in load.take_at.items() if at == 0.0]
            if waiting:
                load.take_at[waiting[0]] = time.monotonic()  # /next takes the longest waiting
        await _map_threads(world, redis, load)
        for person, thread in list(load.thread_of.items()):
            if person not in load.holder:
                continue
            due = next_reply.setdefault(person, now + rng.uniform(*VOLUNTEER_EVERY))
            if now >= due:
                world.volunteer_writes(load.holder[person], person, thread, f"{tag('v', person)} I hear you")
                next_reply[person] = now + rng.uniform(*VOLUNTEER_EVERY)
        await asyncio.sleep(0.05)
    return load


async def _map_threads(world: World, redis: Redis, load: Load) -> None:
    """Which topic/thread each person's intro reached, and (from Redis) which volunteer holds them."""
    for seen in world.seen():
        match = INTRO.search(seen.text) if seen.kind == "staff" else None
        if match:
            load.thread_of.setdefault(int(match.group(1)), seen.place)
    for person, thread in load.thread_of.items():
        if person in load.holder:
            continue
        desk = world.desk_of(thread)
        if desk is not None:  # the volunteer's own private chat: they hold this person
            load.holder[person] = desk
            continue
        conv = await redis.get(keys.thread(Platform(world.platform_name), str(thread)))
        volunteer = await redis.hget(keys.conversation(conv.decode()), "volunteer") if conv else None
        if volunteer:
            load.holder[person] = int(volunteer.decode().removeprefix("vol"))


def measure(world: World, load: Load, stopped_at: float) -> dict[str, Any]:
    """Latencies and integrity from what the sandbox saw."""
    seen = world.seen()
    first_seen: dict[str, float] = {}
    copies: dict[str, int] = {}
    order_breaks = 0
    last_n: dict[tuple[str, int], int] = {}
    for s in seen:
        if s.kind not in ("staff", "person"):
            continue
        for kind, person, n in TAG.findall(s.text):
            label = f"{kind}{person}x{n}"
            if (kind == "p") != (s.kind == "staff"):
                continue
            copies[label] = copies.get(label, 0) + 1
            first_seen.setdefault(label, s.at)
            key = (kind, int(person))
            if int(n) < last_n.get(key, -1):
                order_breaks += 1
            last_n[key] = max(last_n.get(key, -1), int(n))
    to_staff = [first_seen[t] - at for t, at in load.sent.items() if t.startswith("p") and t in first_seen]
    to_person = [first_seen[t] - at for t, at in load.sent.items() if t.startswith("v") and t in first_seen]
    intro_first: dict[int, float] = {}  # person -> when their first words reached the volunteer
    record_first: dict[str, float] = {}  # tag -> when the forum's copy appeared (private workspace only)
    for s in seen:
        if s.kind == "staff" and (match := INTRO.search(s.text)):
            intro_first.setdefault(int(match.group(1)), s.at)
        if s.kind == "record":
            for kind, person, n in TAG.findall(s.text):
                record_first.setdefault(f"{kind}{person}x{n}", s.at)
    shown_after_take = [
        intro_first[person] - at for person, at in load.take_at.items() if person in intro_first and at > 0.0
    ]
    record = [record_first[t] - at for t, at in load.sent.items() if t.startswith("p") and t in record_first]
    alert = next((s.at for s in seen if s.kind == "alert"), None)
    risk_sent = load.sent.get(load.risk_tag)
    sent_p = sum(1 for t in load.sent if t.startswith("p"))
    sent_v = sum(1 for t in load.sent if t.startswith("v"))

    ms = _ms
    return {
        "people": world.n_people,
        "volunteers": world.n_volunteers,
        "taken": len(load.thread_of),
        "person_to_volunteer_ms": {"p50": ms(to_staff, 0.5), "p95": ms(to_staff, 0.95), "n": len(to_staff)},
        "volunteer_to_person_ms": {"p50": ms(to_person, 0.5), "p95": ms(to_person, 0.95), "n": len(to_person)},
        "thread_after_take_ms": {"p50": ms(shown_after_take, 0.5), "max": ms(shown_after_take, 1.0)},
        "record_ms": {"p50": ms(record, 0.5), "p95": ms(record, 0.95), "n": len(record)},
        "risk_in_thread_ms": None
        if risk_sent is None or load.risk_tag not in first_seen
        else round((first_seen[load.risk_tag] - risk_sent) * 1000, 1),
        "alert_ms": None if risk_sent is None or alert is None else round((alert - risk_sent) * 1000, 1),
        "sent": {"person": sent_p, "volunteer": sent_v},
        "undelivered": {
            "person": sum(1 for t in load.sent if t.startswith("p") and t not in first_seen),
            "volunteer": sum(1 for t in load.sent if t.startswith("v") and t not in first_seen),
        },
        "undelivered_at_stop": sum(1 for t in load.sent if t not in first_seen or first_seen[t] > stopped_at),
        "never_seen": sorted(t for t in load.sent if t not in first_seen)[:20],  # for a look at what went missing
        "duplicates": sum(c - 1 for c in copies.values()),
        "order_breaks": order_breaks,
        "sends_by_bot": {
            k: sum(1 for s in seen if s.kind == k) for k in ("staff", "record", "lobby", "person", "alert")
        },
        "http_429": world.refused(),
    }


WORLDS: dict[str, type[World]] = {
    "telegram": TelegramWorld, "telegram-private": TelegramDeskWorld, "discord": DiscordWorld,
}  # fmt: skip


@contextlib.asynccontextmanager
async def bridge_in(world: World) -> AsyncIterator[str]:
    """The world's sandbox started, a fresh embedded Redis and the whole bridge running on it; yields the Redis
    URL once the gateway is polling, and stops everything afterwards."""
    await world.start()
    with tempfile.TemporaryDirectory(prefix="bench-staff-") as tmp:
        redis = EmbeddedRedis(data_dir=Path(tmp) / "redis")
        redis.start()
        stop = asyncio.Event()
        bridge = asyncio.create_task(run(world.settings(redis.url, Path(tmp)), ProcessRole.ALL, stop, "bench"))
        try:
            await asyncio.sleep(2.0)  # the gateway connects and starts polling
            yield redis.url
        finally:
            stop.set()
            await asyncio.wait_for(bridge, 60)
            redis.stop()
            await world.stop()


async def one_run(platform: str, people: int, duration: float, drain: float, seed: int) -> dict[str, Any]:
    world = WORLDS[platform](people)
    async with bridge_in(world) as url:
        client = connect(RedisOptions(url=url))
        try:
            load = await drive(world, client, duration, random.Random(seed))
        finally:
            await client.aclose()
        stopped_at = time.monotonic()
        deadline = stopped_at + drain
        while time.monotonic() < deadline and not _all_seen(world, load):  # noqa: ASYNC110 - polls the sandbox
            await asyncio.sleep(0.5)
        result = measure(world, load, stopped_at)
    result.update(platform=platform, duration_s=duration, drain_s=drain)
    return result


async def burst_run(platform: str, people: int, over: float, drain: float, seed: int) -> dict[str, Any]:
    """`people` new people arrive over `over` seconds, each writing once; nobody takes them. Measured: written ->
    the person's acknowledgement (their queue place), 429s drawn, and people never acknowledged."""
    world = WORLDS[platform](people)
    rng = random.Random(seed)
    written: dict[int, float] = {}
    async with bridge_in(world):
        start = time.monotonic()
        for person, at in sorted(enumerate(rng.uniform(0, over) for _ in range(people)), key=lambda p: p[1]):
            await asyncio.sleep(max(0.0, start + at - time.monotonic()))
            world.person_writes(person, f"intro{person} hello")
            written[person] = time.monotonic()
        deadline = time.monotonic() + drain
        while time.monotonic() < deadline and len(_acknowledged(world)) < people:  # noqa: ASYNC110
            await asyncio.sleep(0.5)
        acked = _acknowledged(world)
        refused = world.refused()
    waits = [acked[world.person_place(p)] - at for p, at in written.items() if world.person_place(p) in acked]
    return {
        "platform": platform, "burst": people, "over_s": over, "drain_s": drain,
        "ack_ms": {"p50": _ms(waits, 0.5), "p95": _ms(waits, 0.95), "max": _ms(waits, 1.0)},
        "never_acknowledged": people - len(waits), "http_429": refused,
    }  # fmt: skip


def _acknowledged(world: World) -> dict[int, float]:
    """Person chat/user id -> when their queue place reached them."""
    found: dict[int, float] = {}
    for s in world.seen():
        if s.kind == "person" and "in the queue" in s.text:
            found.setdefault(s.place, s.at)
    return found


def _ms(values: list[float], q: float) -> float | None:
    return round(percentile(values, q) * 1000, 1) if values else None


def _all_seen(world: World, load: Load) -> bool:
    texts = " ".join(s.text for s in world.seen() if s.kind in ("staff", "person"))
    return all(t in texts for t in load.sent)


def ceiling(platform: str, people: int) -> str:
    """What the platform's limit allows this design, in theory."""
    if platform == "telegram-private":
        volunteers = math.ceil(people / CAPACITY)
        per_desk = CAPACITY * (60 / 20 + 1)  # each person's messages and a notice or so a minute, per volunteer
        return (
            f"a private chat per volunteer, ~1 send/s each: {volunteers} volunteers holding {CAPACITY} people get "
            f"~{per_desk:.0f} sends/min each of 60 (and {people * 3 / 60:.1f}/s of the bot's 30/s); the forum's "
            f"record copy merges per topic, 20 sends/min"
        )
    if platform == "telegram":
        cycle = people / 20 * 60  # every active topic needs one send per turn; 20 sends a minute per group
        return (
            f"one group, 20 sends/min: with every waiting relay of a topic merged into one send, each of {people} "
            f"topics gets a turn every ~{cycle:.0f} s, so person -> volunteer waits up to ~{cycle:.0f} s "
            f"(~{people * 3} relays/min offered)"
        )
    return f"a thread per person, 5 sends/5 s each, 50 requests/s per bot: {people * 3} relays/min is far below"


def report(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| staff on | people / volunteers | person -> volunteer p50 / p95 | volunteer -> person p50 / p95 | "
        "first words shown after Take p50 / max | risk to volunteer | alert | undelivered at stop / after drain | "
        "dup | order | 429s | forum record p50 / p95 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def s(value: float | None) -> str:
        if value is None:
            return "—"
        return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.1f} s"

    for r in results:
        und = r["undelivered"]
        lines.append(
            f"| {r['platform']} | {r['people']} / {r['volunteers']} | "
            f"{s(r['person_to_volunteer_ms']['p50'])} / {s(r['person_to_volunteer_ms']['p95'])} | "
            f"{s(r['volunteer_to_person_ms']['p50'])} / {s(r['volunteer_to_person_ms']['p95'])} | "
            f"{s(r['thread_after_take_ms']['p50'])} / {s(r['thread_after_take_ms']['max'])} | "
            f"{s(r['risk_in_thread_ms'])} | {s(r['alert_ms'])} | "
            f"{r['undelivered_at_stop']} / {und['person'] + und['volunteer']} of "
            f"{r['sent']['person'] + r['sent']['volunteer']} | {r['duplicates']} | {r['order_breaks']} | "
            f"{r['http_429']} | {s(r['record_ms']['p50'])} / {s(r['record_ms']['p95'])} |"
        )
    lines.append("")
    lines += [f"- ceiling, {r['platform']} at {r['people']}: {ceiling(r['platform'], r['people'])}" for r in results]
    return lines


async def main(args: argparse.Namespace) -> None:
    platforms = ["telegram", "telegram-private", "discord"] if args.platform == "both" else [args.platform]
    if args.burst:
        for platform in platforms:
            print(f"[{platform}] a burst of {args.burst} new people over {args.over:.0f} s, limits on", flush=True)
            print(json.dumps(await burst_run(platform, args.burst, args.over, args.drain, args.seed)), flush=True)
        return
    results = []
    for platform, people in itertools.product(platforms, args.people):
        print(f"[{platform}] {people} people, {args.duration:.0f} s, limits on", flush=True)
        results.append(await one_run(platform, people, args.duration, args.drain, args.seed))
        print(json.dumps(results[-1]), flush=True)
    print("\n".join(report(results)))
    _save(Path(str(RESULTS).format(platform=args.platform)), results)


def _save(path: Path, results: list[dict[str, Any]]) -> None:
    write_results(path, {"limits": "on (platform sandboxes and the bridge's pacing)", "runs": results})


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", choices=["telegram", "telegram-private", "discord", "both"], default="both")
    parser.add_argument("--people", type=lambda v: [int(x) for x in v.split(",")], default=[10, 30])
    parser.add_argument("--duration", type=float, default=180.0)
    parser.add_argument("--drain", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--burst", type=int, default=0, help="instead: this many new people arrive, nobody taken")
    parser.add_argument("--over", type=float, default=60.0, help="seconds the burst's arrivals spread over")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
