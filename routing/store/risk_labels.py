"""What volunteers teach the detector: per day, counts by risk category of messages staff escalated above what
the detector said (its misses) and of alerts staff marked as false alarms. Counts only: never a message's text,
a person or a conversation (docs/risk.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from routing.model import RiskTier
from routing.store import keys

KEEP_DAYS = 400
UNSPECIFIED = "unspecified"  # escalated by hand without naming a category


def _key(day: str) -> str:
    return f"{keys.PREFIX}risklabels:{day}"


class RiskLabels:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def missed(self, category: str | None, detected: RiskTier, now: datetime | None = None) -> None:
        """Staff escalated a conversation the detector had at `detected` (below what staff said)."""
        await self._count(f"missed:{category or UNSPECIFIED}:{detected.label}", now)

    async def false_alarm(self, category: str | None, now: datetime | None = None) -> None:
        """Staff marked one of the detector's alerts as a false alarm."""
        await self._count(f"false_alarm:{category or UNSPECIFIED}", now)

    async def _count(self, field: str, now: datetime | None) -> None:
        key = _key((now or datetime.now(UTC)).strftime("%Y-%m-%d"))
        pipe = self._redis.pipeline(transaction=True)
        pipe.hincrby(key, field, 1)
        pipe.expire(key, KEEP_DAYS * 86400)
        await pipe.execute()

    async def totals(self, days: int = 30, now: datetime | None = None) -> dict[str, dict[str, int]]:
        """{"missed": {category: n}, "false_alarm": {category: n}} over the last `days` days."""
        today = now or datetime.now(UTC)
        pipe = self._redis.pipeline(transaction=False)
        for back in range(days):
            pipe.hgetall(_key((today - timedelta(days=back)).strftime("%Y-%m-%d")))
        totals: dict[str, dict[str, int]] = {"missed": {}, "false_alarm": {}}
        for day in await pipe.execute():
            for raw_field, raw_count in day.items():
                field = raw_field.decode() if isinstance(raw_field, bytes) else str(raw_field)
                kind, _, rest = field.partition(":")
                category = rest.split(":")[0]
                if kind in totals:
                    totals[kind][category] = totals[kind].get(category, 0) + int(raw_count)
        return totals
