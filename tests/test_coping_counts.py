"""How often each coping text was shared, per day (issue 25): counts only, every day of the span present, for
the Charts page (`CopingCounts.per_day`), in real Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.embedded_redis import EmbeddedRedis
from routing.store.connection import RedisOptions, connect
from routing.store.coping_counts import CopingCounts


async def test_shares_are_counted_per_day_and_name_with_nothing_else_kept(redis_server: EmbeddedRedis) -> None:
    redis = connect(RedisOptions(url=redis_server.url))
    try:
        await redis.flushall()
        counts = CopingCounts(redis)
        now = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
        for name, when in (("grounding", now), ("grounding", now), ("night", now), ("night", now - timedelta(days=2))):
            await counts.count(name, when)
        week = await counts.per_day(days=7, now=now)
        assert list(week) == [f"2026-12-{day:02d}" for day in range(1, 8)]
        assert week["2026-12-07"] == {"grounding": 2, "night": 1}
        assert week["2026-12-05"] == {"night": 1} and week["2026-12-06"] == {}
        stored = {k.decode() async for k in redis.scan_iter("pb:*")}
        assert stored == {"pb:coping:shared:2026-12-07", "pb:coping:shared:2026-12-05"}
        assert 0 < await redis.ttl("pb:coping:shared:2026-12-07") <= 400 * 86400
    finally:
        await redis.aclose()
