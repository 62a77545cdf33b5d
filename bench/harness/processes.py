"""The bot processes the benchmarks start (`bench/relay_bots.py`, one OS process each: the bridge or a bare echo
bot), and what they need around them: waiting for the bridge to be ready, restarting it, and how many cores two
busy processes really get on this shared machine."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

from routing.store.connection import RedisOptions, connect

BENCH = Path(__file__).resolve().parent.parent
BOTS = BENCH / "relay_bots.py"  # what each process runs: `relay_bots.py KIND CONFIG.json`


@dataclass
class Proc:
    """A process started from relay_bots.py."""

    name: str
    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    async def stop(self) -> None:
        if self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(20):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


async def start_proc(
    name: str, kind: str, config: dict[str, Any], tmp: Path, env: dict[str, str] | None = None
) -> Proc:
    """Start `relay_bots.py KIND` with CONFIG (written to tmp), its stderr to tmp/NAME.log; wait for `ready`."""
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(config))
    log = tmp / f"{name}.log"
    with log.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(BOTS), kind, str(path), stdout=asyncio.subprocess.PIPE, stderr=err,
            env={**os.environ, **(env or {})}, cwd=str(BENCH.parent),
        )  # fmt: skip
    proc = Proc(name, process, log)
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            while (line := await process.stdout.readline()) != b"ready\n":
                if not line:
                    raise RuntimeError(f"{name} exited before it was ready; see {log}")
    except BaseException:
        await proc.stop()
        raise
    return proc


async def until_ready(port: int, seconds: float = 30.0) -> None:
    """The bridge's /readyz answers 200 once Redis (and Discord's gateway) are ready."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(seconds):
        while True:
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)


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


async def until_counted(redis_url: str, count: Callable[[Redis], Awaitable[int]], wanted: int, poll: float) -> None:
    """Wait (60 s at most) until `count`, a read of the state the bridge keeps in Redis, reaches `wanted`."""
    redis = connect(RedisOptions(url=redis_url))
    try:
        async with asyncio.timeout(60):
            while await count(redis) < wanted:  # noqa: ASYNC110 - state in Redis
                await asyncio.sleep(poll)
    finally:
        await redis.aclose()


async def redis_pid(url: str) -> int:
    """The redis-server's process id (for its CPU time)."""
    redis = connect(RedisOptions(url=url))
    try:
        info = await redis.info("server")
        return int(info["process_id"])
    finally:
        await redis.aclose()


_SPIN = "import time\nend = time.perf_counter() + {s}\nn = 0\nwhile time.perf_counter() < end:\n    n += 1\nprint(n)"


async def parallel_capacity(seconds: float = 1.0) -> float:
    """How many cores two busy processes really get together, relative to one alone (2.0 on two idle cores).

    The machine is shared: when other work runs, two of our processes do not get two cores, and a second
    router process (or the sandbox beside the bridge) gains correspondingly less."""

    async def spin(count: int) -> list[int]:
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-c", _SPIN.format(s=seconds), stdout=asyncio.subprocess.PIPE
            )
            for _ in range(count)
        ]
        return [int((await p.communicate())[0]) for p in procs]

    alone = (await spin(1))[0]
    together = await spin(2)
    return round(sum(together) / max(alone, 1), 2)
