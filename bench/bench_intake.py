"""New people at scale, end to end: a burst of first messages through the real python-telegram-bot and the
Telegram sandbox, into the bridge with automatic assignment and 60 volunteers on duty, side by side with a bare
python-telegram-bot echo bot on the same sandbox. A benchmark, not a test: prints a table and writes
bench/results/intake.json (intake_echo_aiohttp.json with --echo-http aiohttp).

    .venv/bin/python bench/bench_intake.py [--people 500] [--volunteers 60] [--runs 2] [--echo-http aiohttp]

What is measured, per system, for a burst of `--people` people who each send their first message at once:
- bridge: the moment each person is *taken in* (their first message shown in the volunteer's topic, after the
  automatic assignment and the hand-over) and the moment the person first hears back (their place in the
  queue); the rate is people / (last one taken in - burst sent); and the Bot API calls made per person.
- echo: a bare PTB Application that answers each private message with one send to that person's topic (made
  beforehand: static routing, no queue, no assignment); the rate is people / (last one shown - burst sent).
  On PTB's default networking (httpx) by default, or on the bridge's (aiohttp) with --echo-http aiohttp.

RATE LIMITING IS OFF (`FloodLimits.off()`, the bridge's own pacing off, as in bench_relay.py): this measures
the bridge's work per new person against the bare SDK's. With the limits on, the acknowledgements of a burst
of 500 people in a minute are measured by bench_staff_load.py --burst.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot import shipped
from bot.embedded_redis import EmbeddedRedis, free_port
from routing.store import keys
from routing.store.connection import RedisOptions, connect
from sandboxes.telegram import FloodLimits, TelegramSandbox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_relay import (
    ENCRYPTION_KEY,
    PSEUDONYM_SECRET,
    TG_BRIDGE_TOKEN,
    TG_ECHO_TOKEN,
    cpu_seconds,
    percentile,
    until_ready,
)  # fmt: skip
from relay_bots import Proc, parallel_capacity, start_proc
from timing import TimedOutbox

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "intake.json"
FIRST = "hello, is anyone there? I just need to talk to someone tonight (qz{i})"
CAPACITY = 20  # conversations per volunteer (the roster's maximum)
TAG = re.compile(r"\bqz(\d+)\b")


class Intake:
    """One sandbox with both bots, the volunteers, and a fresh set of people per burst."""

    def __init__(self, volunteers: int, capacity: int) -> None:
        self.box = TelegramSandbox(tokens=[TG_BRIDGE_TOKEN, TG_ECHO_TOKEN], flood_limits=FloodLimits.off())
        self.n_volunteers = volunteers
        self.capacity = capacity
        self.web_port = free_port()
        self.outbox = TimedOutbox()
        self.bursts = 0

    async def start(self) -> None:
        box = self.box
        await box.start()
        box.world.outbox = self.outbox
        self.bridge_bot = box.bot(TG_BRIDGE_TOKEN).id
        self.volunteers = [box.create_user(f"Vol{i}") for i in range(self.n_volunteers)]
        self.staff = box.create_forum_group("Volunteers", members=self.volunteers, bots=[TG_BRIDGE_TOKEN])
        self.echo_staff = box.create_forum_group("Echo volunteers", members=self.volunteers, bots=[TG_ECHO_TOKEN])
        self.alerts = box.create_group("On call", members=[box.create_user("OnCall")], bots=[TG_BRIDGE_TOKEN])

    def bridge_settings(self, redis_url: str, tmp: Path) -> dict[str, Any]:
        rota = tmp / "rota.toml"
        rota.write_text(
            "".join(
                f'[[staff]]\nid = "vol{i}"\nname = "Vol {i}"\ntelegram = {v.id}\nmax_concurrent = {self.capacity}\n\n'
                for i, v in enumerate(self.volunteers)
            )
        )
        return {
            "redis": {"url": redis_url},
            "storage": {"dir": str(tmp / "data")},
            "risk": {"phrases_dir": str(shipped.RISK_PHRASES)},
            "rota": {"file": str(rota)},
            "web": {"host": "127.0.0.1", "port": self.web_port},
            "security": {"pseudonym_secret": PSEUDONYM_SECRET, "encryption_key": ENCRYPTION_KEY},
            "routing": {"assignment": "auto", "flood_limit": 10_000, "topics": [], "match_wait_minutes": 0},
            "escalation": {"ack_timeout": 3600, "resources_dir": str(shipped.CRISIS_RESOURCES)},
            "telegram": {"enabled": True, "token": TG_BRIDGE_TOKEN, "api_url": self.box.url},
            "staff": {
                "platform": "telegram", "volunteer_chat": str(self.staff.id), "escalation_chat": str(self.alerts.id),
            },
        }  # fmt: skip

    async def all_on_duty(self, redis_url: str) -> None:
        """Every volunteer says `/on` in the staff group, as they would at the start of a shift."""
        for volunteer in self.volunteers:
            self.box.send_user_message(volunteer, "/on", chat=self.staff)
        redis = connect(RedisOptions(url=redis_url))
        try:
            async with asyncio.timeout(60):
                while await redis.scard(keys.ON_DUTY) < self.n_volunteers:  # noqa: ASYNC110 - state in Redis
                    await asyncio.sleep(0.05)
        finally:
            await redis.aclose()

    def people(self, prefix: str, count: int) -> list[Any]:
        return [self.box.create_user(f"{prefix}{i}", language_code="en") for i in range(count)]

    def echo_topics(self, people: list[Any]) -> dict[str, int]:
        """The echo bot's static routing: a topic per person, made before the burst (not timed)."""
        return {
            str(p.id): self.box.create_topic(self.echo_staff, f"echo {i}", by=self.volunteers[0]).thread_id
            for i, p in enumerate(people)
        }

    async def burst(self, system: str, people: list[Any], seconds: float, pid: int) -> dict[str, Any]:
        """Every person sends their first message at once; wait until each is shown to staff (and, for the
        bridge, each person has heard back)."""
        count = len(people)
        token = TG_BRIDGE_TOKEN if system == "bridge" else TG_ECHO_TOKEN
        staff_chat = self.staff.id if system == "bridge" else self.echo_staff.id
        ids = {p.id: i for i, p in enumerate(people)}
        mark = len(self.outbox)
        calls_before = self.box.call_counts(bot=token)
        cpu_before = {"bot": cpu_seconds(pid), "sandbox": cpu_seconds(os.getpid())}
        sent = time.monotonic()
        for i, person in enumerate(people):
            self.box.send_user_message(person, FIRST.format(i=i), bot=token)
        shown: dict[int, float] = {}
        answered: dict[int, float] = {}
        while time.monotonic() < sent + seconds:
            end = len(self.outbox)
            for message, at in zip(self.outbox[mark:end], self.outbox.times[mark:end], strict=True):
                if message.chat_id == staff_chat and message.thread_id and (found := TAG.search(message.body)):
                    shown.setdefault(int(found.group(1)), at)
                elif message.chat_id in ids:
                    answered.setdefault(ids[message.chat_id], at)
            mark = end
            if len(shown) == count and (system == "echo" or len(answered) == count):
                break
            await asyncio.sleep(0.02)
        busy = time.monotonic() - sent
        cpu_after = {"bot": cpu_seconds(pid), "sandbox": cpu_seconds(os.getpid())}
        cpu = {k: round(100 * (cpu_after[k] - cpu_before[k]) / busy) for k in cpu_after}
        calls = {
            method: n - calls_before.get(method, 0)
            for method, n in self.box.call_counts(bot=token).items()
            if method != "getUpdates" and n > calls_before.get(method, 0)
        }
        taken = sorted(at - sent for at in shown.values())
        heard = sorted(at - sent for at in answered.values())
        return {
            "people": count,
            "shown_to_staff": len(shown),
            "per_s": round(count / taken[-1], 1) if len(taken) == count else None,
            "shown_p50_s": round(statistics.median(taken), 2) if taken else None,
            "shown_p95_s": round(percentile(taken, 0.95), 2) if taken else None,
            "heard_back": len(answered),
            "heard_back_p95_s": round(percentile(heard, 0.95), 2) if heard else None,
            "cpu_percent": cpu,  # of one core, from the burst until everyone was shown
            "bot_api_calls_per_person": {m: round(n / count, 2) for m, n in sorted(calls.items())},
        }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp_name:
        tmp = Path(tmp_name)
        redis_server = EmbeddedRedis(data_dir=tmp / "redis", persistent=True)  # AOF everysec, as in production
        redis_server.start()
        world = Intake(args.volunteers, capacity=CAPACITY)
        procs: list[Proc] = []
        env = {"PTB_TIMEDELTA": "true"}
        try:
            await world.start()
            config = {"settings": world.bridge_settings(redis_server.url, tmp), "name": "bench-intake"}
            try:
                bridge = await start_proc("bridge", "bridge", config, tmp, env)
            except RuntimeError:
                print((tmp / "bridge.log").read_text()[-3000:], file=sys.stderr)
                raise
            procs.append(bridge)
            await until_ready(world.web_port)
            await world.all_on_duty(redis_server.url)
            capacity = [await parallel_capacity()]
            rows: dict[str, list[dict[str, Any]]] = {"bridge": [], "echo": []}
            for k in range(args.runs):  # bridge and echo alternate, so both see the same machine
                people = world.people(f"B{k}P", args.people)
                rows["bridge"].append(await world.burst("bridge", people, args.seconds, bridge.pid))
                print(f"bridge run {k + 1}: {rows['bridge'][-1]}", flush=True)
                people = world.people(f"E{k}P", args.people)
                echo_config = {
                    "token": TG_ECHO_TOKEN, "api_url": world.box.url, "group": world.echo_staff.id,
                    "topics": world.echo_topics(people), "concurrent": 256, "http": args.echo_http,
                }  # fmt: skip
                echo = await start_proc(f"echo{k}", "echo-telegram", echo_config, tmp, env)
                try:
                    rows["echo"].append(await world.burst("echo", people, args.seconds, echo.pid))
                finally:
                    await echo.stop()
                print(f"echo run {k + 1}: {rows['echo'][-1]}", flush=True)
            capacity.append(await parallel_capacity())
            return {
                "people_per_burst": args.people,
                "volunteers_on_duty": args.volunteers,
                "rate_limits": "off",
                "echo_http": args.echo_http,
                "parallel_capacity_cores": capacity,
                "runs": rows,
            }
        finally:
            for proc in reversed(procs):
                await proc.stop()
            await world.box.stop()
            redis_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=500, help="new people in each burst")
    parser.add_argument("--volunteers", type=int, default=60, help="volunteers on duty (automatic assignment)")
    parser.add_argument("--runs", type=int, default=2, help="bursts per system (alternating)")
    parser.add_argument(
        "--echo-http", choices=["httpx", "aiohttp"], default="httpx",
        help="the echo bot's PTB networking: httpx (PTB's default: the bare SDK) or aiohttp (the bridge's)",
    )  # fmt: skip
    parser.add_argument("--seconds", type=float, default=120.0, help="how long to wait for one burst")
    args = parser.parse_args()
    if args.people * args.runs > args.volunteers * CAPACITY:
        parser.error(f"{args.people} x {args.runs} people need more than {args.volunteers} volunteers x {CAPACITY}")
    results = asyncio.run(run(args))
    for system, runs in results["runs"].items():
        rates = ", ".join(f"{r['per_s']}/s" for r in runs)
        print(f"{system:>6}: {args.people} new people in a burst, taken in at {rates} "
              f"(shown p95 {', '.join(str(r['shown_p95_s']) for r in runs)} s)")  # fmt: skip
    out = RESULTS if args.echo_http == "httpx" else RESULTS.with_name(f"intake_echo_{args.echo_http}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
