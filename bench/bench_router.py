"""Router core on real Redis (no SDKs): messages/s through ingest -> router -> outbound, `next` cost as the
queue grows, and routing throughput per added router process (separate OS processes, `peerbridge run --role
router`, sharing the inbound stream through the consumer group). A benchmark, not a test: prints a table and
writes bench/results/router.json.

    .venv/bin/python bench/bench_router.py [--messages 3000] [--process-messages 9000] [--processes 1 2]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot import shipped
from bot.embedded_redis import EmbeddedRedis
from bot.wiring import build_routing
from routing.model import ChatId, ConversationId, InboundMessage, Origin, Platform, UpdateId, UserId, VolunteerId
from routing.pseudonyms import Pseudonymiser
from routing.queue_policy import queue_score
from routing.risk.detector import RiskDetector
from routing.roster import Roster, StaffMember
from routing.router import RouterConfig
from routing.store import keys
from routing.store.cipher import TextCipher
from routing.store.connection import RedisOptions, connect
from routing.store.conversations import ConversationStore
from routing.store.streams import StreamWriter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness.processes import Proc, parallel_capacity, start_proc
from harness.results import RESULTS_DIR, write_results
from harness.settings import ENCRYPTION_KEY, PSEUDONYM_SECRET, router_settings
from harness.timing import cpu_seconds


def _message(i: int, sender: str) -> InboundMessage:
    now = time.time()
    return InboundMessage(
        platform=Platform.TELEGRAM, update_id=UpdateId(f"b{i}"), origin=Origin.PRIVATE, chat=ChatId(sender),
        sender=UserId(sender), text=f"hello, this is message {i} and I just need someone to talk to",
        sent_at=now, received_at=now,
    )  # fmt: skip


async def router_throughput(url: str, messages: int, people: int) -> dict[str, float]:
    """Two paths: people waiting (first and later messages, kept for the volunteer), and people with a
    volunteer (every message relayed to the staff thread), the path most traffic takes."""
    redis = connect(RedisOptions(url=url))
    await redis.flushall()
    pseudonyms = Pseudonymiser(b"bench-secret-0123456789abcdef")
    detector = RiskDetector.from_directory(shipped.RISK_PHRASES)
    stack = build_routing(
        redis, RouterConfig(staff_platform=Platform.TELEGRAM, flood_limit=10**6), TextCipher([bytes(32)]),
        pseudonyms, detector, Roster([], pseudonyms),
    )  # fmt: skip
    await stack.inbound_worker.ensure_group()
    started = time.perf_counter()
    for i in range(messages):
        await stack.writer.ingest(_message(i, str(1000 + i % people)))
    ingest_s = time.perf_counter() - started
    started = time.perf_counter()
    while await stack.inbound_worker.step(block_ms=0):
        pass
    route_s = time.perf_counter() - started
    store = ConversationStore(redis, TextCipher([bytes(32)]))
    for i in range(people):
        await store.assign(VolunteerId(f"v{i}"), 3)
    for i in range(messages):
        await stack.writer.ingest(_message(messages + i, str(1000 + i % people)))
    started = time.perf_counter()
    while await stack.inbound_worker.step(block_ms=0):
        pass
    relay_s = time.perf_counter() - started
    await redis.aclose()
    return {"ingest_per_s": messages / ingest_s, "route_per_s": messages / route_s, "relay_per_s": messages / relay_s}


async def intake_with_volunteers(url: str, people: int, volunteers: int) -> float:
    """New people (first messages) routed per second with automatic assignment and `volunteers` checked in:
    each new person is pushed to the volunteer with the most room. The cost of taking someone in must not grow
    with the number of volunteers on duty."""
    redis = connect(RedisOptions(url=url))
    await redis.flushall()
    pseudonyms = Pseudonymiser(b"bench-secret-0123456789abcdef")
    team = [StaffMember(id=VolunteerId(f"v{i}"), name=f"V{i}", max_concurrent=people) for i in range(volunteers)]
    config = RouterConfig(staff_platform=Platform.TELEGRAM, flood_limit=10**6, auto_assign=True, topics=())
    stack = build_routing(
        redis, config, TextCipher([bytes(32)]), pseudonyms, RiskDetector.from_directory(shipped.RISK_PHRASES),
        Roster(team, pseudonyms),
    )  # fmt: skip
    await stack.inbound_worker.ensure_group()
    await redis.sadd(keys.ON_DUTY, *(m.id for m in team))
    for i in range(people):
        await stack.writer.ingest(_message(i, str(50_000 + i)))
    started = time.perf_counter()
    while await stack.inbound_worker.step(block_ms=0):
        pass
    elapsed = time.perf_counter() - started
    assert await redis.zcard(keys.QUEUE) == 0, "everyone should have been assigned"
    await redis.aclose()
    return people / elapsed


async def next_cost(url: str, waiting: int, samples: int = 500) -> dict[str, float]:
    """Fill the queue with `waiting` people, then time `samples` assignments (the Lua `next`)."""
    redis = connect(RedisOptions(url=url))
    await redis.flushall()
    now = time.time()
    pipe = redis.pipeline(transaction=False)
    for i in range(waiting):
        conv = f"c-{i}"
        pipe.hset(keys.conversation(ConversationId(conv)), mapping={"state": "waiting", "tier": 0})
        pipe.zadd(keys.QUEUE, {conv: queue_score(0, now + i)})  # type: ignore[arg-type]
        if i % 5000 == 4999:
            await pipe.execute()
    await pipe.execute()
    stack_redis = redis
    store = ConversationStore(stack_redis, TextCipher([bytes(32)]))
    timings = []
    for s in range(samples):
        started = time.perf_counter()
        await store.assign(VolunteerId(f"v{s}"), 3)
        timings.append((time.perf_counter() - started) * 1e6)
    await redis.aclose()
    timings.sort()
    return {"p50_us": statistics.median(timings), "p99_us": timings[int(len(timings) * 0.99) - 1]}


async def router_processes(url: str, messages: int, people: int, count: int, tmp: Path) -> dict[str, Any]:
    """Route `messages` already waiting in the inbound stream with `count` router processes started together;
    the rate is the slope between 10% and 90% done (start-up of the processes is left out)."""
    redis = connect(RedisOptions(url=url))
    await redis.flushall()
    cipher = TextCipher([base64.b64decode(ENCRYPTION_KEY)])
    writer = StreamWriter(redis, cipher, Pseudonymiser(PSEUDONYM_SECRET.encode()))
    await redis.xgroup_create(keys.INBOUND, "router", id="0", mkstream=True)
    order: dict[bytes, int] = {}
    for i in range(messages):
        result = await writer.ingest(_message(i, str(1000 + i % people)))
        order[result.entry_id.encode()] = i
    settings = router_settings(url, tmp, flood_limit=10_000)
    starts = [
        start_proc(
            f"router-{count}-{k}", "bridge", {"settings": settings, "name": f"router-{k}", "role": "router"}, tmp
        )
        for k in range(count)
    ]
    procs: list[Proc] = list(await asyncio.gather(*starts))
    pids = [p.pid for p in procs] + [int((await redis.info("server"))["process_id"])]
    cpu0 = [cpu_seconds(pid) for pid in pids]
    marks: dict[int, float] = {}
    started = time.monotonic()
    try:
        while time.monotonic() - started < 120:
            group = next(g for g in await redis.xinfo_groups(keys.INBOUND) if g["name"] in (b"router", "router"))
            last = group["last-delivered-id"]
            done = order.get(last if isinstance(last, bytes) else last.encode(), -1) + 1 - int(group["pending"])
            now = time.monotonic()
            for fraction in (10, 90, 100):
                if fraction not in marks and done >= messages * fraction // 100:
                    marks[fraction] = now
            if 100 in marks:
                break
            await asyncio.sleep(0.02)
    finally:
        cpu = [
            round(100 * (cpu_seconds(pid) - c) / (time.monotonic() - started))
            for pid, c in zip(pids, cpu0, strict=True)
        ]
        for proc in procs:
            await proc.stop()
        await redis.aclose()
    rate = messages * 0.8 / (marks[90] - marks[10])
    return {"route_per_s": rate, "cpu_percent_routers": cpu[:-1], "cpu_percent_redis": cpu[-1]}


async def main(messages: int, process_messages: int, processes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(data_dir=Path(tmp), persistent=False)
        server.start()
        try:
            results: dict[str, object] = {
                "router": await router_throughput(server.url, messages, people=messages // 3),
                "next": {str(n): await next_cost(server.url, n) for n in (1_000, 10_000, 100_000)},
                "intake_per_s": {str(v): await intake_with_volunteers(server.url, 1000, v) for v in (1, 10, 60)},
            }
            capacity_before = await parallel_capacity()
            per_process = {
                str(k): await router_processes(server.url, process_messages, process_messages // 3, k, Path(tmp))
                for k in processes
            }
            capacity = [capacity_before, await parallel_capacity()]
            results["processes"] = per_process
            results["parallel_capacity_cores"] = capacity
        finally:
            server.stop()
    router = results["router"]
    assert isinstance(router, dict)
    print(f"router core, one process, real Redis: ingest {router['ingest_per_s']:.0f} msg/s, "
          f"route (people waiting) {router['route_per_s']:.0f} msg/s, "
          f"relay (people with a volunteer) {router['relay_per_s']:.0f} msg/s")  # fmt: skip
    intake = results["intake_per_s"]
    assert isinstance(intake, dict)
    print("new people routed per second, automatic assignment, by volunteers on duty: "
          + ", ".join(f"{v}: {rate:.0f}/s" for v, rate in intake.items()))  # fmt: skip
    print("next (atomic Lua assign) as the queue grows:")
    print(f"{'waiting':>10} {'p50 µs':>10} {'p99 µs':>10}")
    for n, cost in results["next"].items():  # type: ignore[attr-defined]
        print(f"{n:>10} {cost['p50_us']:>10.0f} {cost['p99_us']:>10.0f}")
    print(
        "routing with router processes (`peerbridge run --role router`, one consumer group, real Redis); "
        f"two busy processes got {capacity[0]} / {capacity[1]} cores before / after (2.0 = two free cores):"
    )
    print(f"{'processes':>10} {'msg/s':>8} {'vs one':>7} {'router cpu%':>14} {'redis cpu%':>10}")
    first = per_process[str(processes[0])]["route_per_s"]
    for k, row in per_process.items():
        cpus = "/".join(str(c) for c in row["cpu_percent_routers"])
        gain = f"{row['route_per_s'] / first:.2f}x"
        print(f"{k:>10} {row['route_per_s']:>8.0f} {gain:>7} {cpus:>14} {row['cpu_percent_redis']:>10}")
    write_results(RESULTS_DIR / "router.json", results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--process-messages", type=int, default=9000, help="messages for the per-process runs")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="router process counts to run")
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.process_messages, args.processes))
