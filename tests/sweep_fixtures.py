"""The platform-retention sweep run by a test with its own clock, over the running bridge's Redis."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from bot.services import start_services
from bot.settings import Settings
from routing.platform_sweep import PlatformSweep
from routing.store.platform_copies import PlatformCopies
from routing.store.streams import StreamWriter

DAY = 24 * 3600.0


@contextlib.asynccontextmanager
async def retention_sweep(settings: Settings) -> AsyncIterator[PlatformSweep]:
    """The same sweep the bridge's router runs every ten minutes, for the test to call with a later `now`."""
    services = await asyncio.to_thread(start_services, settings)
    try:
        yield PlatformSweep(
            PlatformCopies(services.redis), StreamWriter(services.redis, services.cipher, services.pseudonyms)
        )
    finally:
        await services.close()


def with_storage(settings: Settings, **storage: object) -> Settings:
    """`settings` with some storage settings changed (validated like a config file)."""
    return Settings.model_validate(settings.model_dump() | {"storage": settings.storage.model_dump() | storage})
