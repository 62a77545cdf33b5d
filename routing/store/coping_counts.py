"""How often each coping text was shared, per day: counts only (no text, no person, no conversation), kept
for the Charts page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from routing.store import keys
from routing.store.replies import text

KEEP_DAYS = 400


class CopingCounts:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def count(self, name: str, now: datetime | None = None) -> None:
        """One more share of the text `name` today (UTC)."""
        key = keys.coping_shared(_day(now or datetime.now(UTC)))
        pipe = self._redis.pipeline(transaction=True)
        pipe.hincrby(key, name, 1)
        pipe.expire(key, KEEP_DAYS * 86400)
        await pipe.execute()

    async def per_day(self, days: int = 7, now: datetime | None = None) -> dict[str, dict[str, int]]:
        """The last `days` days (UTC, oldest first, today last), each "YYYY-MM-DD" -> {name: shares}; a day
        with no shares is there with an empty mapping, so a chart has every bar."""
        today = now or datetime.now(UTC)
        wanted = [_day(today - timedelta(days=back)) for back in range(days - 1, -1, -1)]
        pipe = self._redis.pipeline(transaction=False)
        for day in wanted:
            pipe.hgetall(keys.coping_shared(day))
        found = await pipe.execute()
        return {day: {text(k): int(v) for k, v in raw.items()} for day, raw in zip(wanted, found, strict=True)}


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")
