"""Who an escalation pages at each level of its chain, from the live rota.

Level 0: the on-call professional of this hour (the backup when the primary is absent); nobody on call: every
professional, and the coordinators are told of the gap. Level 1: the backup (else the other professionals).
Level 2 and the last: the coordinators on shift (else every coordinator). Pure lookups; the caller sends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from routing.model import Role
from routing.roster import Roster, StaffMember
from routing.rota import OnCall, on_call, on_shift
from routing.store.duty import DutyRoster


@dataclass(frozen=True, slots=True)
class Paged:
    """The staff a level pages directly, and whether the rota has nobody on call right now."""

    members: tuple[StaffMember, ...]
    gap: bool = False


class OnCallDirectory:
    """Resolves a chain level to staff members, with the rota as it is when the level is reached."""

    def __init__(self, duty: DutyRoster | None, roster: Callable[[], Awaitable[Roster]]) -> None:
        self._duty = duty
        self._roster = roster

    async def at_level(self, level: int, now: datetime | None = None) -> Paged:
        at = now or datetime.now(UTC)
        rota = await self._duty.rota() if self._duty else None
        roster = await self._roster()
        call = on_call(rota, at) if rota is not None else OnCall(None, None)
        professionals = tuple(m for m in roster.members if m.has(Role.PROFESSIONAL))
        if level == 0:
            first = roster.by_id(call.first) if call.first else None
            return Paged((first,)) if first is not None else Paged(professionals, gap=True)
        if level == 1:
            backup = roster.by_id(call.backup) if call.primary and call.backup else None
            if backup is not None:
                return Paged((backup,))
            return Paged(tuple(m for m in professionals if m.id != call.first))
        coordinators = tuple(m for m in roster.members if m.has(Role.COORDINATOR))
        on = on_shift(rota, at) if rota is not None else set()
        return Paged(tuple(m for m in coordinators if m.id in on) or coordinators)
