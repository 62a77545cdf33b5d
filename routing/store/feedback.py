"""Anonymous feedback: only counts per day and answer are kept (no link to a person or conversation)."""

from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis

from routing.store import keys

KEEP_DAYS = 400


class FeedbackCounts:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def count(self, answer: str, now: datetime | None = None) -> None:
        day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
        key = f"{keys.PREFIX}feedback:{day}"
        pipe = self._redis.pipeline(transaction=True)
        pipe.hincrby(key, answer, 1)
        pipe.expire(key, KEEP_DAYS * 86400)
        await pipe.execute()

    async def day(self, day: str) -> dict[str, int]:
        raw = await self._redis.hgetall(f"{keys.PREFIX}feedback:{day}")
        return {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}
