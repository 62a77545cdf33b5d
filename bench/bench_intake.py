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
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bot.embedded_redis import EmbeddedRedis, free_port
from harness.processes import BridgeHandle, Proc, parallel_capacity, start_proc, until_counted
from harness.results import RESULTS_DIR, write_results
from harness.sandboxes import start_telegram
from harness.settings import bridge_settings, staff_rota
from harness.timing import cpu_seconds, percentile
from relay.worlds import TG_BRIDGE_TOKEN, TG_ECHO_TOKEN
from routing.store import keys
from sandboxes.telegram import FloodLimits

RESULTS = RESULTS_DIR / "intake.json"
FIRST = "hello, is anyone there? I just need to talk to someone tonight (qz{i})"
CAPACITY = 20  # conversations per volunteer (the roster's maximum)
TAG = re.compile(r"\bqz(\d+)\b")


class Intake:
    """One sandbox with both bots, the volunteers, and a fresh set of people per burst."""

    def __init__(self, volunteers: int, capacity: int) -> None:
        self.n_volunteers = volunteers
        self.capacity = capacity
        self.web_port = free_port()

    async def start(self) -> None:
        spaces = self.spaces = await start_telegram(
            self.n_volunteers, [TG_BRIDGE_TOKEN, TG_ECHO_TOKEN], FloodLimits.off()
        )
        self.box, self.outbox, self.volunteers = spaces.box, spaces.outbox, spaces.volunteers
        self.staff, self.echo_staff = spaces.staff, spaces.echo()

    def bridge_settings(self, redis_url: str, tmp: Path) -> dict[str, Any]:
        rota = staff_rota(tmp / "rota.toml", "telegram", [v.id for v in self.volunteers], self.capacity)
        routing = {"assignment": "auto", "flood_limit": 10_000, "match_wait_minutes": 0}
        tables = self.spaces.bridge_tables()
        return bridge_settings(
            redis_url, tmp, rota, platform=tables, routing=routing, web_port=self.web_port, ack_timeout=3600
        )

    async def all_on_duty(self, redis_url: str) -> None:
        """Every volunteer says `/on` in the staff group, as they would at the start of a shift."""
        for volunteer in self.volunteers:
            self.box.send_user_message(volunteer, "/on", chat=self.staff)
        await until_counted(redis_url, lambda redis: redis.scard(keys.ON_DUTY), self.n_volunteers, poll=0.05)

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
            bridge = BridgeHandle(config, tmp, env, world.web_port, procs)
            try:
                bridge_pid = await bridge.start()
            except RuntimeError:
                print((tmp / "bridge.log").read_text()[-3000:], file=sys.stderr)
                raise
            await world.all_on_duty(redis_server.url)
            capacity = [await parallel_capacity()]
            rows: dict[str, list[dict[str, Any]]] = {"bridge": [], "echo": []}
            for k in range(args.runs):  # bridge and echo alternate, so both see the same machine
                people = world.people(f"B{k}P", args.people)
                rows["bridge"].append(await world.burst("bridge", people, args.seconds, bridge_pid))
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
            await world.spaces.box.stop()
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
    write_results(out, results)


if __name__ == "__main__":
    main()
