"""Practice sessions in Redis: their state, an idempotent event log, and when their timed steps are due.

Every change of a session's position is a compare-and-set on its `seq` counter (one Lua script), so two
routers handling the same session at once never both move it; the loser's event is still logged. The log
holds times, speakers and which checks a reply met, never message text. None of these keys is read by the
queue, escalation, metrics or audit code.
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from routing.model import ConversationId, VolunteerId
from routing.store import keys
from routing.store.replies import text
from routing.training import SESSION_PREFIX
from routing.training.debrief import Event, Speaker
from routing.training.script import Phase, Position

DAY = 24 * 3600
SESSION_TTL = 7 * DAY  # a running session nobody touched for a week is forgotten

# KEYS: sequence, volunteer's running session, started marker of the inbound entry, due set.
# ARGV: session key prefix, session id prefix, ttl, due time ("" = none), then field/value pairs.
_CREATE = """
local existing = redis.call('GET', KEYS[3])
if existing then return {'replay', existing} end
local busy = redis.call('GET', KEYS[2])
if busy and redis.call('EXISTS', ARGV[1] .. busy) == 1 then return {'busy', busy} end
local id = ARGV[2] .. redis.call('INCR', KEYS[1])
local key = ARGV[1] .. id
for i = 5, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
redis.call('HSET', key, 'seq', 0)
redis.call('EXPIRE', key, ARGV[3])
redis.call('SET', KEYS[2], id, 'EX', ARGV[3])
redis.call('SET', KEYS[3], id, 'EX', 2 * 86400)
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[4], ARGV[4], id) end
return {'new', id}
"""

# KEYS: session, due set, log, volunteer's running session, the session's thread binding (conversation hash).
# ARGV: expected seq, session id, due time ("" = none), ttl, finish ("1": release the volunteer and keep the
# thread binding only `ttl`), number of session field pairs N, N field/value pairs, then log field/value pairs.
_ADVANCE = """
if redis.call('HGET', KEYS[1], 'seq') ~= ARGV[1] then return 0 end
local i = 7
for _ = 1, tonumber(ARGV[6]) do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]); i = i + 2 end
while i <= #ARGV do redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 1]); i = i + 2 end
redis.call('HINCRBY', KEYS[1], 'seq', 1)
if ARGV[3] == '' then redis.call('ZREM', KEYS[2], ARGV[2]) else redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2]) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[4])
if ARGV[5] == '1' then
  if redis.call('GET', KEYS[4]) == ARGV[2] then redis.call('DEL', KEYS[4]) end
  redis.call('EXPIRE', KEYS[5], ARGV[4])
end
return 1
"""


class CreateOutcome(enum.StrEnum):
    """What `create` did."""

    NEW = "new"
    REPLAY = "replay"  # this inbound entry already created the session (handled again after a crash)
    BUSY = "busy"  # the volunteer already has a session running (its id is returned)


@dataclass(frozen=True, slots=True)
class NewSession:
    """What a new session starts with."""

    scenario: str
    volunteer: VolunteerId
    volunteer_name: str
    coordinator: VolunteerId
    coordinator_name: str
    started_at: float
    position: Position
    path: tuple[str, ...]
    due_at: float | None


@dataclass(frozen=True, slots=True)
class TrainingSession:
    """A session as stored; `seq` counts its moves (the compare-and-set guard)."""

    id: ConversationId
    scenario: str
    volunteer: VolunteerId
    volunteer_name: str
    coordinator: VolunteerId
    coordinator_name: str
    started_at: float
    position: Position
    path: tuple[str, ...]
    seq: int
    moved_by: str = ""  # the inbound entry (or timer) that made the last move


class TrainingStore:
    """Creates, reads, moves and finishes practice sessions."""

    def __init__(self, redis: Redis, *, retention_days: float = 30) -> None:
        self._redis = redis
        self._retention = int(retention_days * DAY)
        self._create = redis.register_script(_CREATE)
        self._advance = redis.register_script(_ADVANCE)

    async def create(self, entry_id: str, new: NewSession) -> tuple[CreateOutcome, ConversationId]:
        """Create a session for `new.volunteer`, once per inbound entry and one running per volunteer."""
        fields = {
            "scenario": new.scenario, "volunteer": new.volunteer, "volunteer_name": new.volunteer_name,
            "coordinator": new.coordinator, "coordinator_name": new.coordinator_name,
            "started_at": f"{new.started_at:.3f}", **_position_fields(new.position, new.path),
        }  # fmt: skip
        status, session = await self._create(
            keys=[keys.TRAINING_SEQ, keys.training_of(new.volunteer), keys.training_started(entry_id),
                  keys.TRAINING_DUE],
            args=[keys.training(ConversationId("")), SESSION_PREFIX, SESSION_TTL, _due(new.due_at),
                  *_flat(fields)],
        )  # fmt: skip
        return CreateOutcome(text(status)), ConversationId(text(session))

    async def get(self, session: ConversationId) -> TrainingSession | None:
        return _session(session, await self._redis.hgetall(keys.training(session)))

    async def recent(self, limit: int = 20) -> list[TrainingSession]:
        """The latest sessions still kept, running or finished, newest first (for the dashboard)."""
        last = int(text(await self._redis.get(keys.TRAINING_SEQ) or b"0"))
        ids = [ConversationId(f"{SESSION_PREFIX}{n}") for n in range(last, max(last - limit, 0), -1)]
        pipe = self._redis.pipeline(transaction=False)
        for session in ids:
            pipe.hgetall(keys.training(session))
        found = [_session(session, raw) for session, raw in zip(ids, await pipe.execute(), strict=True)]
        return [s for s in found if s is not None]

    async def running_for(self, volunteers: Iterable[VolunteerId]) -> frozenset[VolunteerId]:
        """Those of `volunteers` with a session running now (the same test `create` uses to refuse a second)."""
        wanted = list(volunteers)
        if not wanted:
            return frozenset()
        running = await self._redis.mget([keys.training_of(v) for v in wanted])
        held = [(v, ConversationId(text(s))) for v, s in zip(wanted, running, strict=True) if s]
        if not held:
            return frozenset()
        pipe = self._redis.pipeline(transaction=False)
        for _volunteer, session in held:
            pipe.exists(keys.training(session))
        exists = await pipe.execute()
        return frozenset(v for (v, _session_id), there in zip(held, exists, strict=True) if there)

    async def record(self, session: ConversationId, events: Mapping[str, Event]) -> None:
        """Log events, each under its key (an inbound entry id or an outbound key). The first write wins, so
        handling an entry again after a crash neither doubles an event nor moves its time."""
        pipe = self._redis.pipeline(transaction=True)
        for key, event in events.items():
            pipe.hsetnx(keys.training_log(session), key, _encode(event))
        pipe.expire(keys.training_log(session), SESSION_TTL)
        await pipe.execute()

    async def events(self, session: ConversationId) -> list[Event]:
        raw = await self._redis.hgetall(keys.training_log(session))
        return sorted((_decode(text(v)) for v in raw.values()), key=lambda e: e.at)

    async def advance(
        self,
        session: TrainingSession,
        position: Position,
        path: tuple[str, ...],
        due_at: float | None,
        said: Mapping[str, Event],
        by: str,
    ) -> bool:
        """Move the session (and log what the person said) unless another router moved it first; `by` names
        the inbound entry or timer that moved it."""
        return await self._move(session, position, path, due_at, said, by, finish=False)

    async def finish(self, session: TrainingSession, path: tuple[str, ...], said: Mapping[str, Event], by: str) -> bool:
        """Mark the session done, free its volunteer for another, and keep it only for the retention time."""
        done = Position(session.position.step, Phase.DONE)
        return await self._move(session, done, path, None, said, by, finish=True)

    async def due(self, now: float | None = None, limit: int = 50) -> list[ConversationId]:
        """Sessions whose timed step is due."""
        found = await self._redis.zrangebyscore(keys.TRAINING_DUE, "-inf", now or time.time(), start=0, num=limit)
        return [ConversationId(text(s)) for s in cast(list[bytes], found)]

    async def drop_due(self, session: ConversationId) -> None:
        await self._redis.zrem(keys.TRAINING_DUE, session)

    async def _move(
        self,
        session: TrainingSession,
        position: Position,
        path: tuple[str, ...],
        due_at: float | None,
        said: Mapping[str, Event],
        by: str,
        *,
        finish: bool,
    ) -> bool:
        fields = {**_position_fields(position, path), "moved_by": by}
        ttl = self._retention if finish else SESSION_TTL
        moved = await self._advance(
            keys=[keys.training(session.id), keys.TRAINING_DUE, keys.training_log(session.id),
                  keys.training_of(session.volunteer), keys.conversation(session.id)],
            args=[session.seq, session.id, _due(due_at), ttl, "1" if finish else "0", len(fields), *_flat(fields),
                  *_flat({key: _encode(event) for key, event in said.items()})],
        )  # fmt: skip
        return bool(moved)


def _session(session: ConversationId, raw: Mapping[bytes | str, bytes | str]) -> TrainingSession | None:
    if not raw:
        return None
    d = {text(k): text(v) for k, v in raw.items()}
    return TrainingSession(
        id=session,
        scenario=d["scenario"],
        volunteer=VolunteerId(d["volunteer"]),
        volunteer_name=d["volunteer_name"],
        coordinator=VolunteerId(d["coordinator"]),
        coordinator_name=d["coordinator_name"],
        started_at=float(d["started_at"]),
        position=Position(d["step"], Phase(d["phase"])),
        path=tuple(s for s in d.get("path", "").split(",") if s),
        seq=int(d.get("seq", "0")),
        moved_by=d.get("moved_by", ""),
    )


def _position_fields(position: Position, path: tuple[str, ...]) -> dict[str, str]:
    return {"step": position.step, "phase": position.phase.value, "path": ",".join(path)}


def _flat(fields: Mapping[str, str]) -> list[str]:
    return [item for pair in fields.items() for item in pair]


def _due(at: float | None) -> str:
    return "" if at is None else f"{at:.3f}"


def _encode(event: Event) -> str:
    return json.dumps(
        {"at": event.at, "who": event.speaker.value, "checks": sorted(event.checks), "command": event.command}
    )


def _decode(raw: str) -> Event:
    d = json.loads(raw)
    return Event(float(d["at"]), Speaker(d["who"]), frozenset(d.get("checks", [])), d.get("command"))
