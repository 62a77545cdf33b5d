"""The staff as the live rota knows them, for every part that asks "who is this?" or "how do I reach them?"."""

from __future__ import annotations

from datetime import UTC, datetime

from routing.model import Role
from routing.pseudonyms import Pseudonymiser
from routing.roster import Roster
from routing.rota import on_shift, roster_of
from routing.store.duty import DutyRoster


class LiveRoster:
    """The rota in Redis once one is imported (the source of truth then); the roster file before that. Rebuilt
    only when the rota's version changes."""

    def __init__(self, roster: Roster, duty: DutyRoster | None, pseudonyms: Pseudonymiser) -> None:
        self._file = roster
        self._duty = duty
        self._pseudonyms = pseudonyms
        self._built = roster
        self._source: object | None = None  # the rota `_built` was made from

    async def current(self) -> Roster:
        rota = await self._duty.rota() if self._duty else None
        if rota is None:
            return self._file
        if rota is not self._source:
            self._built, self._source = roster_of(rota, self._pseudonyms), rota
        return self._built

    async def supervisors_on_duty(self) -> list[str]:
        """Names of the supervisors on shift now under the live rota; all supervisors when none is (or no rota
        exists)."""
        supervisors = [m for m in (await self.current()).members if m.has(Role.SUPERVISOR)]
        rota = await self._duty.rota() if self._duty else None
        if rota is not None:
            on = on_shift(rota, datetime.now(UTC))
            on_shift_now = [m for m in supervisors if m.id in on]
            supervisors = on_shift_now or supervisors
        return [m.name for m in supervisors]
