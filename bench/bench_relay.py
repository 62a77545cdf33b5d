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
import contextlib
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bot import shipped
from bot.embedded_redis import EmbeddedRedis
from harness.processes import BridgeHandle, Proc, parallel_capacity, redis_pid, start_proc
from harness.results import RESULTS_DIR, this_machine, write_results
from relay.driver import Bench
from relay.report import report
from relay.worlds import BENIGN, RISK_TEXT, TAG, DiscordWorld, TelegramWorld, World
from routing.model import RiskTier
from routing.risk.detector import RiskDetector

ROOT = Path(__file__).resolve().parent.parent
RESULTS = RESULTS_DIR / "relay.json"
FIXED_RATES = (50, 200, 500)


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
            redis_process = await redis_pid(redis_server.url)
            print(
                f"[{world.platform}] set-up: {world.n_people} people assigned to {world.n_volunteers} volunteers; "
                + ", ".join(f"{k} at {v:.1f} s" for k, v in steps.items()),
                flush=True,
            )
            pids = {"sandbox": os.getpid(), "bridge": bridge_pid, "echo": echo.pid, "redis": redis_process}
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
    write_results(
        out,
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
            **this_machine(),
            "wall_s": round(time.monotonic() - started, 1),
            "platforms": results,
            "report": lines,
        },
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
