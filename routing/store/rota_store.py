"""The live rota in Redis: the source of truth, replaced whole or edited one change at a time.

Keys (under `pb:rota:`): `data` holds the rota as JSON (`routing.rota.file`), `version` a counter raised by
every save. A save names the version it was based on and fails with `RotaConflict` if someone saved in
between (compare-and-set in one Lua script, which also writes a content-free audit entry). Edits load,
apply the pure change, and save against the version they loaded, retrying on a conflict so the change is
always judged against the rota it lands on. Nothing is written when a change is refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from routing.model import VolunteerId
from routing.rota import Absence, Cover, OnCallBlock, Rota, RotaError, Shift
from routing.rota.changes import (
    AddAbsence,
    AddCover,
    AddShift,
    AddVolunteer,
    RemoveAbsence,
    RemoveCover,
    RemoveShift,
    RemoveVolunteer,
    RotaChange,
    SetCapacity,
    SetOnCall,
    apply_change,
    change_kind,
)
from routing.rota.file import rota_from_json, rota_to_json
from routing.rota.validate import check
from routing.store import keys

ROTA_DATA = keys.PREFIX + "rota:data"
ROTA_VERSION = keys.PREFIX + "rota:version"

# Compare-and-set of the whole rota, with an audit entry.
# KEYS: data, version, audit stream. ARGV: expected version ("" = any), JSON, event, by, now.
# Returns {1, new version} or {0, current version} on a conflict.
SAVE_ROTA = """
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= current then return {0, current} end
redis.call('SET', KEYS[1], ARGV[2])
local version = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 100000, '*', 'event', 'rota_' .. ARGV[3], 'at', ARGV[5],
  'by', ARGV[4], 'version', version)
return {1, version}
"""

# Data and version read together (a plain GET of each could straddle a save).
# KEYS: data, version. Returns {data or false, version}.
LOAD_ROTA = """
return {redis.call('GET', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0')}
"""


class RotaConflict(Exception):
    """Someone else saved the rota since it was loaded; load it again and redo the change."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"the rota changed meanwhile (expected version {expected}, now {current})")
        self.expected = expected
        self.current = current


class NoRota(RotaError):
    """There is no rota in Redis yet."""

    def __init__(self) -> None:
        super().__init__("there is no rota yet; a coordinator can load one with `peerbridge rota import`")


@dataclass(frozen=True, slots=True)
class StoredRota:
    """A rota and the version it was saved as."""

    rota: Rota
    version: int


class RotaStore:
    """Loads, replaces and edits the live rota."""

    def __init__(self, redis: Redis, *, retries: int = 5) -> None:
        self._redis = redis
        self._retries = retries
        self._save = redis.register_script(SAVE_ROTA)
        self._load = redis.register_script(LOAD_ROTA)

    async def version(self) -> int:
        """The current version (0 = never saved): cheap, to decide whether a cached rota is stale."""
        value = await self._redis.get(ROTA_VERSION)
        return int(value) if value is not None else 0

    async def load(self) -> StoredRota | None:
        """The live rota, or None if none was ever saved."""
        data, version = await self._load(keys=[ROTA_DATA, ROTA_VERSION])
        if data is None:
            return None
        return StoredRota(rota_from_json(data), int(version))

    async def load_if_changed(self, known_version: int) -> StoredRota | None:
        """The live rota if its version differs from `known_version`, else None (keep the cached one)."""
        if await self.version() == known_version:
            return None
        return await self.load()

    async def save(self, rota: Rota, *, expected_version: int | None = None, by: str = "import") -> int:
        """Replace the whole rota after checking it; returns the new version.

        `expected_version` is the version the rota was based on (0: there was none); None replaces whatever
        is there. Raises RotaError (nothing written) if the rota breaks a rule, RotaConflict if the version
        moved on.
        """
        check(rota)
        return await self._write(rota, expected_version, "replaced", by)

    async def _write(self, rota: Rota, expected: int | None, event: str, by: str) -> int:
        ok, version = await self._save(
            keys=[ROTA_DATA, ROTA_VERSION, keys.AUDIT],
            args=["" if expected is None else expected, rota_to_json(rota), event, by, f"{time.time():.3f}"],
        )
        if not int(ok):
            raise RotaConflict(expected or 0, int(version))
        return int(version)

    async def apply(self, change: RotaChange, *, by: str) -> StoredRota:
        """Apply one change to the live rota; `by` is the coordinator's id (for the audit stream).

        Raises RotaError (nothing written) if the change is refused, NoRota if there is no rota yet, and
        RotaConflict only if other edits kept winning the race `retries` times.
        """
        conflict: RotaConflict | None = None
        for _ in range(self._retries):
            stored = await self.load()
            if stored is None:
                raise NoRota()
            changed = apply_change(stored.rota, change)
            try:
                version = await self._write(changed, stored.version, change_kind(change), by)
            except RotaConflict as exc:
                conflict = exc
                continue
            return StoredRota(changed, version)
        assert conflict is not None
        raise conflict

    # The small edits by name, for callers that do not build change objects themselves.

    async def add_shift(self, shift: Shift, *, by: str) -> StoredRota:
        return await self.apply(AddShift(shift), by=by)

    async def remove_shift(self, shift: Shift, *, by: str) -> StoredRota:
        return await self.apply(RemoveShift(shift), by=by)

    async def add_cover(self, cover: Cover, *, by: str) -> StoredRota:
        return await self.apply(AddCover(cover), by=by)

    async def remove_cover(self, cover: Cover, *, by: str) -> StoredRota:
        return await self.apply(RemoveCover(cover), by=by)

    async def set_capacity(self, volunteer: VolunteerId, capacity: int, *, by: str) -> StoredRota:
        return await self.apply(SetCapacity(volunteer, capacity), by=by)

    async def add_volunteer(self, volunteer: VolunteerId, name: str, *, by: str) -> StoredRota:
        return await self.apply(AddVolunteer(volunteer, name), by=by)

    async def remove_volunteer(self, volunteer: VolunteerId, *, by: str) -> StoredRota:
        return await self.apply(RemoveVolunteer(volunteer), by=by)

    async def set_oncall(self, block: OnCallBlock, *, by: str) -> StoredRota:
        return await self.apply(SetOnCall(block), by=by)

    async def add_absence(self, absence: Absence, *, by: str) -> StoredRota:
        return await self.apply(AddAbsence(absence), by=by)

    async def remove_absence(self, absence: Absence, *, by: str) -> StoredRota:
        return await self.apply(RemoveAbsence(absence), by=by)
