"""Router core on real Redis (no SDKs): messages/s through ingest -> router -> outbound, and `next` cost
as the queue grows. A benchmark, not a test: prints a table and writes bench/results/router.json.

    .venv/bin/python bench/bench_router.py [--messages 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from bot.embedded_redis import EmbeddedRedis
from bot.wiring import build_routing
from routing.model import ChatId, ConversationId, InboundMessage, Origin, Platform, UpdateId, UserId, VolunteerId
from routing.pseudonyms import Pseudonymiser
from routing.queue_policy import queue_score
from routing.risk.detector import RiskDetector
from routing.roster import Roster
from routing.router import RouterConfig
from routing.store import keys
from routing.store.cipher import TextCipher
from routing.store.connection import RedisOptions, connect

ROOT = Path(__file__).parent.parent


def _message(i: int, sender: str) -> InboundMessage:
    now = time.time()
    return InboundMessage(
        platform=Platform.TELEGRAM, update_id=UpdateId(f"b{i}"), origin=Origin.PRIVATE, chat=ChatId(sender),
        sender=UserId(sender), text=f"hello, this is message {i} and I just need someone to talk to",
        sent_at=now, received_at=now,
    )  # fmt: skip


async def router_throughput(url: str, messages: int, people: int) -> dict[str, float]:
    redis = connect(RedisOptions(url=url))
    await redis.flushall()
    pseudonyms = Pseudonymiser(b"bench-secret-0123456789abcdef")
    detector = RiskDetector.from_directory(ROOT / "config" / "risk")
    stack = build_routing(
        redis, RouterConfig(staff_platform=Platform.TELEGRAM, flood_limit=10**6), TextCipher([bytes(32)]),
        pseudonyms, detector, Roster([], pseudonyms),
    )  # fmt: skip
    started = time.perf_counter()
    for i in range(messages):
        await stack.writer.ingest(_message(i, str(1000 + i % people)))
    ingest_s = time.perf_counter() - started
    await stack.inbound_worker.ensure_group()
    started = time.perf_counter()
    while await stack.inbound_worker.step(block_ms=0):
        pass
    route_s = time.perf_counter() - started
    await redis.aclose()
    return {"ingest_per_s": messages / ingest_s, "route_per_s": messages / route_s}


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
    from routing.store.conversations import ConversationStore

    store = ConversationStore(stack_redis, TextCipher([bytes(32)]))
    timings = []
    for s in range(samples):
        started = time.perf_counter()
        await store.assign(VolunteerId(f"v{s}"), 3)
        timings.append((time.perf_counter() - started) * 1e6)
    await redis.aclose()
    timings.sort()
    return {"p50_us": statistics.median(timings), "p99_us": timings[int(len(timings) * 0.99) - 1]}


async def main(messages: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(data_dir=Path(tmp), persistent=False)
        server.start()
        try:
            results: dict[str, object] = {
                "router": await router_throughput(server.url, messages, people=messages // 3),
                "next": {str(n): await next_cost(server.url, n) for n in (1_000, 10_000, 100_000)},
            }
        finally:
            server.stop()
    router = results["router"]
    assert isinstance(router, dict)
    print(f"router core, one process, real Redis: ingest {router['ingest_per_s']:.0f} msg/s, "
          f"route {router['route_per_s']:.0f} msg/s")  # fmt: skip
    print("next (atomic Lua assign) as the queue grows:")
    print(f"{'waiting':>10} {'p50 µs':>10} {'p99 µs':>10}")
    for n, cost in results["next"].items():  # type: ignore[attr-defined]
        print(f"{n:>10} {cost['p50_us']:>10.0f} {cost['p99_us']:>10.0f}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "router.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=3000)
    asyncio.run(main(parser.parse_args().messages))
