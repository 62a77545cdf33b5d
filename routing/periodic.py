"""Run a check every so often until stopped, riding out Redis outages (the watches and the deadline worker)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from routing.store.connection import STORE_ERRORS

log = logging.getLogger(__name__)


async def every(interval: float, stop: asyncio.Event, check: Callable[[], Awaitable[object]], name: str) -> None:
    """Call `check` now and then every `interval` seconds until `stop`; a Redis outage skips a turn, logged."""
    while not stop.is_set():
        try:
            await check()
        except STORE_ERRORS as exc:
            log.warning("%s: redis unavailable (%s)", name, type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await stop.wait()
