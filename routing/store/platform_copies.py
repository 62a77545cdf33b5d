"""When each closed conversation's staff topic/thread is deleted on its platform (issue 23).

The platforms keep every message in plaintext until the bot deletes the topic (Telegram) or thread (Discord).
A closed conversation's copy is due `platform retention` after closing; the conversation's own hash expires at
the (possibly shorter) Redis retention, so the schedule is a sorted set of its own, holding only the staff
space's platform and thread id (no person, no text): `pb:platform:due`, member "<platform>:<thread id>", score
the time it is due.
"""

from __future__ import annotations

from typing import cast

from redis.asyncio import Redis

from routing.model import Platform, ThreadId
from routing.store import keys
from routing.store.replies import text

DUE = keys.PREFIX + "platform:due"

StaffSpace = tuple[Platform, ThreadId]


def _member(platform: Platform, thread: ThreadId) -> str:
    return f"{platform}:{thread}"


class PlatformCopies:
    """The schedule of staff topics/threads to delete on their platform."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def schedule(self, spaces: list[StaffSpace], at: float) -> None:
        """Delete these topics/threads at `at` (a later close of the same thread moves it later, never earlier)."""
        if spaces:
            await self._redis.zadd(DUE, {_member(p, t): at for p, t in spaces}, gt=True)

    async def cancel(self, spaces: list[StaffSpace]) -> None:
        """No longer scheduled: deleted already (or being deleted now, after /forget)."""
        if spaces:
            await self._redis.zrem(DUE, *(_member(p, t) for p, t in spaces))

    async def due(self, now: float, limit: int = 100) -> list[StaffSpace]:
        """Topics/threads whose platform retention has ended by `now`, oldest first (left scheduled until
        `cancel`led, so a router that dies before emitting their deletion leaves them for the next sweep)."""
        members = cast(list[bytes], await self._redis.zrangebyscore(DUE, "-inf", now, start=0, num=limit))
        spaces: list[StaffSpace] = []
        for member in members:
            platform, _, thread = text(member).partition(":")
            if platform in {p.value for p in Platform} and thread:
                spaces.append((Platform(platform), ThreadId(thread)))
        return spaces
