"""Practice sessions as the dashboard sees them: starting one, and the latest ones with their debrief numbers.

Starting goes through `TrainingDesk.start_session`, the same code as `/train <volunteer> <scenario>`, so the
checks and the sentences that explain a refusal are the chat command's; only staff are named by their staff id
(a web page shows no names). What the desk says is emitted like a router's outbox; the routers play the timed
steps and the volunteer's replies, because the session lives in Redis.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from routing.model import ConversationId, Platform, VolunteerId
from routing.outbox import Outbox
from routing.roster import Roster, StaffMember
from routing.store.dashboard_access import DashboardIdentity
from routing.store.streams import StreamWriter
from routing.store.training import TrainingSession, TrainingStore
from routing.training.debrief import Event, score
from routing.training.desk import Started, TrainingDesk, staff_id
from routing.training.scenario_file import ScenarioLibrary
from routing.training.script import Phase

RosterSource = Callable[[], Awaitable[Roster]]
RECENT = 20  # sessions listed


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One practice session on the dashboard: who, which scenario, and its debrief numbers so far."""

    id: ConversationId
    scenario: str
    title: str
    volunteer: VolunteerId
    coordinator: VolunteerId
    started_at: float
    running: bool
    replies: int
    first_reply: float | None
    median_reply: float | None
    checks_met: int
    checks_total: int


class PracticeBoard:
    """Starts practice sessions for the dashboard and lists the latest ones."""

    def __init__(
        self,
        platform: Platform,
        desk: TrainingDesk,
        store: TrainingStore,
        library: ScenarioLibrary,
        writer: StreamWriter,
        roster: RosterSource,
    ) -> None:
        self.platform = platform  # where the staff work: a trainee needs an account there
        self._desk = desk
        self._store = store
        self.library = library
        self._writer = writer
        self._roster = roster

    async def roster(self) -> Roster:
        """The staff as the routers know them now (the live rota, or the roster file)."""
        return await self._roster()

    async def start(self, volunteer: str, scenario: str, by: DashboardIdentity) -> Started | str:
        """Start `scenario` for `volunteer` as `by` would with `/train`; the started session, or why not."""
        roster = await self._roster()
        member = roster.by_id(by.volunteer) or StaffMember(by.volunteer, by.volunteer, by.roles)
        out = Outbox(f"dashboard-train:{secrets.token_hex(8)}")  # one form post: its own idempotency keys
        started = await self._desk.start_session(f"{volunteer} {scenario}", member, roster, out, name_of=staff_id)
        await self._writer.emit_all(out.messages)
        for action in out.after_emit:
            await action()
        return started

    async def sessions(self, limit: int = RECENT) -> list[SessionSummary]:
        """The latest sessions still kept, newest first, with response times and checklist counts."""
        found = await self._store.recent(limit)
        logs = await asyncio.gather(*(self._store.events(s.id) for s in found))
        return [self._summary(s, events) for s, events in zip(found, logs, strict=True)]

    def _summary(self, session: TrainingSession, events: list[Event]) -> SessionSummary:
        scenario = self.library.scenarios.get(session.scenario)
        ended = events[-1].at if events else session.started_at  # the end itself is not stored; not shown
        debrief = score(
            scenario, events, volunteer=session.volunteer, ending="", started_at=session.started_at, ended_at=ended,
            path=session.path,
        )  # fmt: skip
        return SessionSummary(
            id=session.id,
            scenario=session.scenario,
            title=scenario.title if scenario is not None else session.scenario,
            volunteer=session.volunteer,
            coordinator=session.coordinator,
            started_at=session.started_at,
            running=session.position.phase != Phase.DONE,
            replies=debrief.replies,
            first_reply=debrief.first_reply,
            median_reply=debrief.median_reply,
            checks_met=sum(1 for _label, ok in debrief.checklist if ok),
            checks_total=len(debrief.checklist),
        )
