"""Anonymous feedback: only counts per day and answer are kept (no link to a person or conversation).

A day is a calendar day in this machine's time, as the dashboard's charts count days, so the feedback bar of a day
holds the answers given on that day. (Answers are counted once per conversation by the router.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from redis.asyncio import Redis

from routing.store import keys

KEEP_DAYS = 400


def _key(day: date) -> str:
    return f"{keys.PREFIX}feedback:{day.isoformat()}"


class FeedbackCounts:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def count(self, answer: str, now: datetime | None = None) -> None:
        """Count one answer on the calendar day of `now` (this machine's time; an aware `now` is converted)."""
        day = (now.astimezone() if now is not None else datetime.now()).date()
        pipe = self._redis.pipeline(transaction=True)
        pipe.hincrby(_key(day), answer, 1)
        pipe.expire(_key(day), KEEP_DAYS * 86400)
        await pipe.execute()

    async def day(self, day: str) -> dict[str, int]:
        """The counts of one day given as "YYYY-MM-DD"."""
        (counts,) = await self.days([date.fromisoformat(day)])
        return counts

    async def days(self, days: Sequence[date]) -> list[dict[str, int]]:
        """The counts of each day, answer -> count, in the order given (one round trip)."""
        pipe = self._redis.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(_key(day))
        raws: list[dict[bytes | str, bytes | str]] = await pipe.execute()
        return [{(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()} for raw in raws]
