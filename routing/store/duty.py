"""Who is available right now: checked in (/on), not on a break, not cooling down, and on shift per the rota.

Breaks and cool-downs are keys with a time-to-live, so they end by themselves even if nobody remembers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis

from routing.model import VolunteerId
from routing.rota import Rota, on_shift
from routing.rota.maths import next_available
from routing.store import keys
from routing.store.rota_store import RotaStore

ROTA_CHECK_SECONDS = 1.0


def break_key(volunteer: VolunteerId) -> str:
    return f"{keys.PREFIX}break:{volunteer}"


def cooldown_key(volunteer: VolunteerId) -> str:
    return f"{keys.PREFIX}cooldown:{volunteer}"


class DutyRoster:
    """Availability of volunteers, combining the live rota with check-ins, breaks and cool-downs."""

    def __init__(self, redis: Redis, rotas: RotaStore) -> None:
        self._redis = redis
        self._rotas = rotas
        self._rota: Rota | None = None
        self._version = -1
        self._checked = 0.0

    async def rota(self) -> Rota | None:
        """The live rota from Redis; its version is checked at most once a second (not on every message), and
        the rota re-read only when that version changed. None if no rota was imported."""
        now = time.monotonic()
        if now - self._checked >= ROTA_CHECK_SECONDS:
            self._checked = now
            changed = await self._rotas.load_if_changed(self._version)
            if changed is not None:
                self._rota, self._version = changed.rota, changed.version
        return self._rota

    async def on_shift_now(self) -> set[VolunteerId] | None:
        """Who the live rota has on shift now; None without a rota (then nobody is off shift)."""
        rota = await self.rota()
        return on_shift(rota, datetime.now(UTC)) if rota is not None else None

    async def take_break(self, volunteer: VolunteerId, minutes: int) -> None:
        await self._redis.set(break_key(volunteer), 1, ex=max(60, minutes * 60))

    async def end_break(self, volunteer: VolunteerId) -> None:
        await self._redis.delete(break_key(volunteer))

    async def cool_down(self, volunteer: VolunteerId, minutes: float) -> None:
        await self._redis.set(cooldown_key(volunteer), 1, ex=max(60, int(minutes * 60)))

    async def cooling_down_for(self, volunteer: VolunteerId) -> int:
        """Seconds of cool-down left (0 when none)."""
        return max(0, int(await self._redis.ttl(cooldown_key(volunteer))))

    async def states(self, volunteers: Sequence[VolunteerId]) -> dict[VolunteerId, DutyState]:
        """Check-in, break and cool-down of each volunteer now, in one round trip (for the dashboard)."""
        pipe = self._redis.pipeline(transaction=False)
        for volunteer in volunteers:
            pipe.sismember(keys.ON_DUTY, volunteer)
            pipe.ttl(break_key(volunteer))
            pipe.ttl(cooldown_key(volunteer))
        raw = await pipe.execute()
        return {
            v: DutyState(bool(raw[3 * i]), max(0, int(raw[3 * i + 1])), max(0, int(raw[3 * i + 2])))
            for i, v in enumerate(volunteers)
        }

    async def available(self, volunteer: VolunteerId) -> bool:
        """Not on a break and not cooling down (the rota and check-in are separate questions)."""
        return not await self._redis.exists(break_key(volunteer), cooldown_key(volunteer))

    async def out_of_hours(self, now: datetime | None = None) -> OutOfHours | None:
        """Out of hours means nobody is on shift under the live rota (check-ins don't matter here: someone on
        shift may check in any minute). None when open, or when no rota was imported or the rota names no
        shifts at all (it gives roles, not hours: always open)."""
        rota = await self.rota()
        at = now or datetime.now(UTC)
        if rota is None or not (rota.shifts or rota.covers) or on_shift(rota, at):
            return None
        return OutOfHours(next_open=next_available(rota, at))


@dataclass(frozen=True, slots=True)
class DutyState:
    """A volunteer's check-in (/on) and wellbeing pauses right now; seconds left, 0 when there is none."""

    checked_in: bool
    break_left: int
    cooldown_left: int


@dataclass(frozen=True, slots=True)
class OutOfHours:
    """Nobody is on shift; `next_open` is when volunteers are next scheduled (None: nobody is)."""

    next_open: datetime | None
