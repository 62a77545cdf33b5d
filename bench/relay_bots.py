"""The processes the benchmarks start, each as its own OS process (`harness.processes.start_proc` starts them):

    python bench/relay_bots.py bridge CONFIG.json          # the bridge (`peerbridge run`; "role" in CONFIG)
    python bench/relay_bots.py echo-telegram CONFIG.json   # a bare python-telegram-bot echo bot
    python bench/relay_bots.py echo-discord CONFIG.json    # a bare discord.py echo bot

CONFIG.json is written by the benchmark (bench_relay.py, bench_intake.py, bench_growth.py, bench_router.py). The
bridge runs with platform rate limiting switched off (`bot.app.run(..., rate_limits=False)`): for benchmark
runs against the local sandboxes only. Each process prints `ready` on stdout once it can receive, and stops
cleanly on SIGTERM.

Set BENCH_PROFILE=path.txt to run the process under pyinstrument (if installed) and write a text profile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import warnings
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def _ready() -> None:
    sys.stdout.write("ready\n")
    sys.stdout.flush()


def _experiment(name: str) -> None:
    """Bottleneck experiments (BENCH_EXPERIMENT, comma-separated), applied to this process only. They change
    the product's behaviour on purpose, to confirm a suspected cause; never use them for the real numbers.

    no-autopipeline: every command the auto-pipeline would batch (routing/store/autopipeline.py) goes to
        Redis on its own round trip, as before the auto-pipeline existed.
    (Earlier experiments, per-topic-destinations and no-ingest-lock, became the product: topic lanes in
    routing/delivery.py and per-chat ingest in routing/lanes.py.)
    """
    if "gc-log" in name:  # how long the garbage collector stops the process (pauses over 5 ms, to stderr)
        import gc
        import time as _time

        started: list[float] = []

        def timed(phase: str, info: dict[str, Any]) -> None:
            if phase == "start":
                started[:] = [_time.perf_counter()]
            elif started and (pause := _time.perf_counter() - started[0]) > 0.005:
                print(f"gc pause gen{info['generation']} {pause * 1000:.1f} ms", file=sys.stderr, flush=True)

        gc.callbacks.append(timed)
    if "count-trips" in name:  # Redis round trips by call site, printed to the log at exit (--keep-logs)
        _count_round_trips()
    if "no-autopipeline" in name:
        from redis.commands.core import AsyncScript

        from routing.store.autopipeline import AutoPipeline

        def alone_script(self: AutoPipeline, script: AsyncScript, keys: list[Any], args: list[Any]) -> Any:
            return asyncio.ensure_future(script(keys=keys, args=args))

        def alone_command(self: AutoPipeline, *args: Any) -> Any:
            return asyncio.ensure_future(self._redis.execute_command(*args))  # type: ignore[no-untyped-call]

        AutoPipeline.script = alone_script  # type: ignore[method-assign]
        AutoPipeline.command = alone_command  # type: ignore[method-assign]


def _count_round_trips() -> None:
    """Count every redis-py round trip (a pipeline or a single command) by the first calling frame outside
    redis-py and asyncio, and print the totals at exit: which call sites cost round trips per message."""
    import atexit
    import collections
    import traceback

    from redis.asyncio.client import Pipeline, Redis

    trips: collections.Counter[str] = collections.Counter()
    commands: collections.Counter[str] = collections.Counter()

    def caller() -> str:
        for frame in reversed(traceback.extract_stack(limit=12)[:-2]):
            if "/redis/" not in frame.filename and "/asyncio/" not in frame.filename:
                return f"{Path(frame.filename).name}:{frame.name}"
        return "?"

    single, piped = Redis.execute_command, Pipeline.execute

    async def execute_command(self: Redis, *args: Any, **options: Any) -> Any:
        site = f"{caller()} {args[0]}"
        trips[site] += 1
        commands[site] += 1
        return await single(self, *args, **options)

    async def execute(self: Pipeline, raise_on_error: bool = True) -> Any:
        site = f"{caller()} pipeline"
        trips[site] += 1
        commands[site] += len(self.command_stack)
        return await piped(self, raise_on_error)

    def report() -> None:
        total = sum(trips.values())
        print(f"round trips {total}", file=sys.stderr)
        for site, count in trips.most_common(25):
            print(f"  {count:8d} trips {commands[site]:8d} cmds  {site}", file=sys.stderr)

    Redis.execute_command = execute_command  # type: ignore[method-assign]
    Pipeline.execute = execute  # type: ignore[method-assign]
    atexit.register(report)


async def run_bridge(config: dict[str, Any]) -> None:
    """`peerbridge run` in this process, platform rate limits off (sandbox benchmarks only)."""
    from bot.app import ProcessRole, run
    from bot.settings import Settings

    if os.environ.get("BENCH_EXPERIMENT"):
        _experiment(os.environ["BENCH_EXPERIMENT"])

    settings = Settings(**config["settings"])
    stop = _stop_event()
    task = asyncio.create_task(
        run(settings, ProcessRole(config.get("role", "all")), stop, config["name"], rate_limits=False)
    )
    await asyncio.sleep(0.2)
    if not task.done():
        _ready()  # the driver still waits for /readyz and the first poll before it sends anything
    await task


async def run_echo_telegram(config: dict[str, Any]) -> None:
    """A minimal PTB Application: a private message is answered in the person's forum topic, and a message
    in a topic is answered in that person's private chat. Static routing, nothing else."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    api = config["api_url"].rstrip("/")
    group = int(config["group"])
    topic_of: dict[int, int] = {int(k): int(v) for k, v in config["topics"].items()}
    person_of = {topic: person for person, topic in topic_of.items()}
    builder = ApplicationBuilder().token(config["token"]).base_url(f"{api}/bot").base_file_url(f"{api}/file/bot")
    if config.get("concurrent"):
        builder = builder.concurrent_updates(int(config["concurrent"]))
    if config.get("http") == "aiohttp":  # the bridge's backend, for a like-for-like comparison (--echo-http)
        from adapters.telegram.http import AiohttpRequest

        builder = builder.request(AiohttpRequest(256, connect_timeout=5, read_timeout=10, write_timeout=10))
        builder = builder.get_updates_request(AiohttpRequest(1, connect_timeout=5, read_timeout=20))
    app = builder.build()

    async def private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text and message.chat_id in topic_of:
            await context.bot.send_message(group, message.text, message_thread_id=topic_of[message.chat_id])

    async def in_topic(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        person = person_of.get(message.message_thread_id or 0) if message is not None else None
        if message is not None and message.text and person is not None:
            await context.bot.send_message(person, message.text)

    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.TEXT, private))
    app.add_handler(MessageHandler(filters.ChatType.SUPERGROUP & filters.TEXT, in_topic))
    stop = _stop_event()
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=10)
        _ready()
        await stop.wait()
        await app.updater.stop()
        await app.stop()


async def run_echo_discord(config: dict[str, Any]) -> None:
    """A minimal discord.py Client: a DM is answered in the person's thread (opened at start-up), and a
    message in such a thread is answered in that person's DM channel. Static routing, nothing else."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # discord.py imports audioop (voice)
        import discord
        import discord.gateway
        import discord.http
        import yarl

    discord.http.Route.BASE = config["api_url"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config["gateway_url"])
    people: list[int] = [int(p) for p in config["people"]]
    thread_of: dict[int, int] = {}
    person_of: dict[int, int] = {}
    dm_of: dict[int, int] = {}
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = True
    client = discord.Client(intents=intents, guild_ready_timeout=0.1)
    opened = asyncio.Event()

    @client.event
    async def on_ready() -> None:
        if thread_of:
            return
        for index, person in enumerate(people):
            created = await client.http.start_thread_without_message(
                int(config["channel"]),
                name=f"echo-{index}",
                auto_archive_duration=1440,
                type=discord.ChannelType.public_thread.value,
            )
            thread_of[person] = int(created["id"])
            person_of[int(created["id"])] = person
        opened.set()

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.author.bot:
            return  # our own messages come back on the gateway
        if message.guild is None:
            dm_of[message.author.id] = message.channel.id
            thread = thread_of.get(message.author.id)
            if thread is not None:
                await client.get_partial_messageable(thread).send(message.content)
            return
        person = person_of.get(message.channel.id)
        if person is not None and person in dm_of:
            await client.get_partial_messageable(dm_of[person]).send(message.content)

    stop = _stop_event()
    await client.login(config["token"])
    connection = asyncio.create_task(client.connect())
    await opened.wait()
    _ready()
    await stop.wait()
    await client.close()
    await connection


ENTRIES: dict[str, Callable[[dict[str, Any]], Coroutine[Any, Any, None]]] = {
    "bridge": run_bridge,
    "echo-telegram": run_echo_telegram,
    "echo-discord": run_echo_discord,
}


def main() -> None:
    kind, path = sys.argv[1], Path(sys.argv[2])
    config = json.loads(path.read_text())
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    profile = os.environ.get("BENCH_PROFILE")
    if not profile:
        asyncio.run(ENTRIES[kind](config))
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001, async_mode="disabled")
    profiler.start()
    try:
        asyncio.run(ENTRIES[kind](config))
    finally:
        profiler.stop()
        Path(profile).write_text(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
