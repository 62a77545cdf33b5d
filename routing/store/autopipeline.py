"""Commands that concurrent tasks issue in the same event-loop turn go to Redis as one pipeline.

A round trip through redis-py costs ~85-105 µs of CPU (connection checkout, a readiness check, a write and
a wake-up), a command inside a pipeline ~13 µs (bench/bench_router.py, this machine). The bridge handles
different people's messages concurrently, so their ingest, routing and delivery commands arrive in bursts:
sent together they cost one round trip. Used only for short commands on hot paths, never for a BLOCK.

Order: commands go to Redis in the order they were queued, each is still atomic on its own (no MULTI), and
a task that awaits each command sees exactly the order it would see without batching. A connection error
fails every command of its batch, as it would have failed each of them.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

# Pipelines in flight at once. One would batch the most, but then every command waits for the batch ahead of
# it (a risk message's too); with a few, a quiet moment sends a command at once and a busy one still batches.
SENDERS = 4


class AutoPipeline:
    """Queues commands and sends what is queued in one pipeline, up to SENDERS pipelines in flight."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._queued: list[tuple[tuple[Any, ...], AsyncScript | None, asyncio.Future[Any]]] = []
        self._senders: set[asyncio.Task[None]] = set()
        self._starting = False  # a sender was started and has not taken the queue yet

    def command(self, *args: Any) -> asyncio.Future[Any]:
        """Queue one command (e.g. "HGET", key, field); the future gets its parsed reply or its error."""
        return self._queue(args, None)

    def script(
        self, script: AsyncScript, keys: list[Any], args: list[Any], *, alone: bool = False
    ) -> asyncio.Future[Any]:
        """Queue a registered Lua script (EVALSHA, loaded on NOSCRIPT). `alone`: send it now on its own round
        trip instead (a risk message's writes never wait for a batch of ordinary ones)."""
        if alone:
            return asyncio.ensure_future(script(keys=keys, args=args))
        return self._queue(("EVALSHA", script.sha, len(keys), *keys, *args), script)

    def _queue(self, args: tuple[Any, ...], script: AsyncScript | None) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queued.append((args, script, future))
        if not self._starting and len(self._senders) < SENDERS:
            self._starting = True  # commands queued before it runs join its pipeline
            self._senders.add(asyncio.create_task(self._send_all()))
        return future

    async def _send_all(self) -> None:
        """Send everything queued as one pipeline (never split: what a task queued together, such as one
        message's outbound entries, stays together and in order), then whatever was queued meanwhile, until
        the queue is empty. Several senders may run; each takes the whole queue when it is free."""
        me = asyncio.current_task()
        took = False
        try:
            while self._queued:
                batch, self._queued = self._queued, []
                if not took:
                    took, self._starting = True, False
                await self._send(batch)
        except asyncio.CancelledError:
            for _args, _script, future in self._queued:
                future.cancel()
            self._queued = []
            raise
        finally:
            if not took:
                self._starting = False
            self._senders.discard(me)  # at once, not in a done-callback: the count is exact

    async def _send(self, batch: list[tuple[tuple[Any, ...], AsyncScript | None, asyncio.Future[Any]]]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for args, _script, _future in batch:
            pipe.execute_command(*args)
        try:
            replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # the whole batch failed (connection lost): so did each of its commands
            for _args, _script, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:  # cancelled (shutting down): so are the callers' commands
            for _args, _script, future in batch:
                future.cancel()
            raise
        for (args, script, future), reply in zip(batch, replies, strict=True):
            if isinstance(reply, NoScriptError) and script is not None:  # Redis restarted or was flushed
                reply = await self._load_and_retry(script, args)
            if future.done():
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def _load_and_retry(self, script: AsyncScript, args: tuple[Any, ...]) -> Any:
        try:
            await self._redis.script_load(script.script)
            _command, sha, numkeys, *rest = args
            return await self._redis.evalsha(sha, numkeys, *rest)
        except Exception as exc:
            return exc


_PIPELINES: weakref.WeakKeyDictionary[Redis, AutoPipeline] = weakref.WeakKeyDictionary()


def autopipeline(redis: Redis) -> AutoPipeline:
    """The one auto-pipeline of a client (shared, so every store's commands batch together)."""
    found = _PIPELINES.get(redis)
    if found is None:
        found = _PIPELINES[redis] = AutoPipeline(redis)
    return found
