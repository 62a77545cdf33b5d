"""Runs practice sessions: `/train`, the volunteer's replies in the TRAINING thread, timed steps, the debrief.

Everything it says goes to the staff workspace: the session's own thread (named "TRAINING · <scenario> ·
<volunteer>") and the lobby. Nothing goes to a person, the queue, the escalation chat, metrics or the audit
stream; and nothing is risk-assessed, because the scripted person's lines are outbound messages that never
come back in as a person's messages (the router drops the bot's own echoes). Training output has background
priority, so under the platforms' rate limits it never delays a real conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from routing import texts
from routing.commands import parse_command
from routing.model import (
    Audience,
    ConversationId,
    InboundKind,
    InboundMessage,
    OutboundKind,
    Platform,
    Priority,
    Pseudonym,
    Role,
    VolunteerId,
)
from routing.outbox import Outbox
from routing.roster import Roster, StaffMember
from routing.store.connection import STORE_ERRORS
from routing.store.streams import StreamWriter
from routing.store.training import CreateOutcome, NewSession, TrainingSession, TrainingStore
from routing.training.debrief import Event, Speaker, checks_met, render, score
from routing.training.scenario import ESCALATE, Reply, Scenario
from routing.training.scenario_file import ScenarioLibrary
from routing.training.script import Move, Phase, after_reply, after_timer, begin

log = logging.getLogger(__name__)

_TIMED = (Phase.DELAY, Phase.SILENT)
_MAY_END = (Role.COORDINATOR, Role.SUPERVISOR)
_LISTED = 40  # volunteers named in an "unknown volunteer" answer

NameOf = Callable[[StaffMember], str]


def display_name(member: StaffMember) -> str:
    """How the staff workspace names a member."""
    return member.name


def staff_id(member: StaffMember) -> str:
    """How the dashboard names a member: by staff id only."""
    return member.id


@dataclass(frozen=True, slots=True)
class Started:
    """A practice session that was just started."""

    session: ConversationId
    scenario: Scenario
    trainee: StaffMember
    topic: Pseudonym  # the name of its TRAINING topic/thread


class TrainingDesk:
    """Starts practice sessions and plays their scripted person."""

    def __init__(
        self,
        platform: Platform,
        store: TrainingStore,
        writer: StreamWriter,
        library: ScenarioLibrary,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._platform = platform
        self._store = store
        self._writer = writer
        self._library = library
        self._clock = clock

    async def start(self, argument: str, member: StaffMember, roster: Roster, out: Outbox) -> str:
        """`/train <volunteer> <scenario>` from a coordinator; returns the answer for them."""
        started = await self.start_session(argument, member, roster, out)
        if isinstance(started, str):
            return started
        return texts.staff(
            texts.TRAIN_STARTED,
            session=started.session,
            volunteer=started.trainee.name,
            title=started.scenario.title,
            topic=started.topic,
        )

    async def start_session(
        self, argument: str, member: StaffMember, roster: Roster, out: Outbox, *, name_of: NameOf = display_name
    ) -> Started | str:
        """Start a session as `/train <argument>` does, or return why not: the same checks and answers, naming
        staff by `name_of` (the dashboard passes `staff_id`: a web page shows staff ids, never names)."""
        chosen = self._choose(argument, member, roster, name_of)
        if isinstance(chosen, str):
            return chosen
        scenario, trainee = chosen
        move, now = begin(scenario), self._clock()
        new = NewSession(
            scenario.name, trainee.id, trainee.name, member.id, member.name, now, move.position, move.entered,
            now + move.due_in if move.due_in is not None else None,
        )  # fmt: skip
        outcome, session_id = await self._store.create(out.entry_id, new)
        if outcome == CreateOutcome.BUSY:
            return texts.staff(texts.TRAIN_BUSY, name=name_of(trainee), session=session_id)
        session = TrainingSession(
            session_id, scenario.name, trainee.id, trainee.name, member.id, member.name, now, move.position,
            move.entered, 0,
        )  # fmt: skip
        intro = texts.staff(texts.TRAINING_INTRO, volunteer=trainee.name, title=scenario.title, brief=scenario.brief)
        self._note(session, intro, out)
        said = self._say(session, move.say, out)
        if move.finished:
            await self._finish(session, scenario, texts.staff(texts.TRAINING_SCRIPT_DONE), out, said=said)
        else:
            out.then(lambda: self._store.record(session_id, said))
        log.info("practice session %s (%s) started for %s by %s", session_id, scenario.name, trainee.id, member.id)
        return Started(session_id, scenario, trainee, _topic(session))

    async def practising(self, volunteers: Iterable[VolunteerId]) -> frozenset[VolunteerId]:
        """Those of `volunteers` with a practice session running now (never handed a real person meanwhile)."""
        return await self._store.running_for(volunteers)

    async def handle(
        self, message: InboundMessage, member: StaffMember, session_id: ConversationId, out: Outbox
    ) -> None:
        """A message in a TRAINING thread. Only the trainee's replies drive the script; others may watch."""
        if message.kind != InboundKind.MESSAGE:
            return  # buttons and edits do nothing in practice
        session = await self._store.get(session_id)
        parsed = parse_command(message.text)
        if session is None or session.position.phase == Phase.DONE:
            if parsed is not None or (session is not None and member.id == session.volunteer):
                over = texts.staff(texts.TRAINING_OVER)
                out.add(self._platform, Audience.STAFF_THREAD, over, conversation=session_id,
                        priority=Priority.BACKGROUND)  # fmt: skip
            return
        scenario = self._library.scenarios.get(session.scenario)
        if parsed is not None:
            await self._command(parsed.name, session, scenario, member, message, out)
        elif member.id != session.volunteer:
            return
        elif scenario is None:
            await self._finish(session, None, texts.staff(texts.TRAINING_SCENARIO_GONE), out)
        else:
            await self._reply(session, scenario, Reply(message.text), message.received_at, out)

    async def fire_due(self, now: float | None = None) -> int:
        """Play every timed step that is due (delayed lines, the end of a silence); returns how many."""
        fired = 0
        for session_id in await self._store.due(now or self._clock()):
            try:
                fired += await self._fire(session_id)
            except STORE_ERRORS:
                raise
            except Exception:
                # A broken practice session must never stop the bridge (its task would take the process down).
                log.exception("practice session %s: a timed step failed and was dropped", session_id)
                await self._store.drop_due(session_id)
        return fired

    async def run_deadlines(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        """Background task: timed steps live in Redis, so a restarted router plays them on time."""
        while not stop.is_set():
            try:
                await self.fire_due()
            except STORE_ERRORS as exc:
                log.warning("practice sessions: redis unavailable (%s)", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await stop.wait()

    def _choose(
        self, argument: str, member: StaffMember, roster: Roster, name_of: NameOf
    ) -> str | tuple[Scenario, StaffMember]:
        """The scenario and volunteer `/train` names, or the answer explaining why not."""
        if not member.has(Role.COORDINATOR):
            return texts.staff(texts.TRAIN_REFUSED)
        known = sorted({*self._library.scenarios, *self._library.problems})
        if not known:
            return texts.staff(texts.TRAIN_NO_SCENARIOS)
        reference, _, name = argument.strip().rpartition(" ")
        if not reference.strip():
            return texts.staff(texts.TRAIN_USAGE, example=known[0], scenarios=", ".join(known))
        problems: list[str] = []
        trainee = roster.resolve(reference)
        if trainee is None:
            volunteers = self._who(roster, name_of)
            problems.append(texts.staff(texts.TRAIN_UNKNOWN_VOLUNTEER, name=reference[:40], volunteers=volunteers))
        elif self._platform not in trainee.identities:
            problems.append(texts.staff(texts.TRAIN_NO_IDENTITY, name=name_of(trainee), platform=self._platform))
        scenario = self._library.scenarios.get(name.lower())
        if name.lower() in self._library.problems:
            problem = self._library.problems[name.lower()]
            problems.append(texts.staff(texts.TRAIN_BROKEN_SCENARIO, name=name.lower(), problem=problem))
        elif scenario is None:
            problems.append(texts.staff(texts.TRAIN_UNKNOWN_SCENARIO, name=name[:40], scenarios=", ".join(known)))
        if problems or scenario is None or trainee is None:
            return " ".join(problems)
        return scenario, trainee

    def _who(self, roster: Roster, name_of: NameOf) -> str:
        able = [m for m in roster.members if self._platform in m.identities]
        named = [m.id if name_of(m) == m.id else f"{m.id} ({name_of(m)})" for m in able[:_LISTED]]
        more = f" and {len(able) - _LISTED} more" if len(able) > _LISTED else ""
        return ", ".join(named) + more if named else f"nobody in the rota has a {self._platform} account"

    async def _command(
        self,
        name: str,
        session: TrainingSession,
        scenario: Scenario | None,
        member: StaffMember,
        message: InboundMessage,
        out: Outbox,
    ) -> None:
        trainee = member.id == session.volunteer
        if name == "end" and (trainee or any(member.has(role) for role in _MAY_END)):
            await self._finish(session, scenario, texts.staff(texts.TRAINING_ENDED_BY, name=member.name), out)
        elif name == "end":
            self._note(session, texts.staff(texts.TRAINING_NOT_YOURS, volunteer=session.volunteer_name), out)
        elif name == ESCALATE and trainee:
            self._note(session, texts.staff(texts.TRAINING_ESCALATE_NOTED), out)
            if scenario is not None:
                await self._reply(session, scenario, Reply("", ESCALATE), message.received_at, out)
        elif name == "help":
            self._note(session, texts.staff(texts.TRAINING_HELP), out)
        else:
            self._note(session, texts.staff(texts.TRAINING_COMMANDS), out)

    async def _reply(self, session: TrainingSession, scenario: Scenario, reply: Reply, at: float, out: Outbox) -> None:
        """Log the volunteer's reply (with the checks it met, never its text) and let the script react."""
        if session.moved_by == out.entry_id:
            return  # this entry already moved the script before a crash; what it said was emitted then
        checks = checks_met(scenario, reply, session.position.step)
        await self._store.record(session.id, {out.entry_id: Event(at, Speaker.VOLUNTEER, checks, reply.command)})
        move = after_reply(scenario, session.position, reply)
        if move is not None:
            await self._apply(session, scenario, move, out)

    async def _fire(self, session_id: ConversationId) -> int:
        session = await self._store.get(session_id)
        if session is None or session.position.phase not in _TIMED:
            await self._store.drop_due(session_id)
            return 0
        scenario = self._library.scenarios.get(session.scenario)
        out = Outbox(f"training:{session.id}:{session.seq}")  # same keys if two routers fire it: sent once
        if scenario is None:
            await self._finish(session, None, texts.staff(texts.TRAINING_SCENARIO_GONE), out)
        else:
            move = after_timer(scenario, session.position)
            if move is None:
                await self._store.drop_due(session_id)
                return 0
            await self._apply(session, scenario, move, out)
        await self._writer.emit_all(out.messages)
        for action in out.after_emit:
            await action()
        return 1

    async def _apply(self, session: TrainingSession, scenario: Scenario, move: Move, out: Outbox) -> None:
        said = self._say(session, move.say, out)
        path = session.path + move.entered
        if move.finished:
            await self._finish(session, scenario, texts.staff(texts.TRAINING_SCRIPT_DONE), out, path=path, said=said)
            return
        due = self._clock() + move.due_in if move.due_in is not None else None

        async def save() -> None:
            if not await self._store.advance(session, move.position, path, due, said, out.entry_id):
                log.info("practice session %s was moved on by another router first", session.id)

        out.then(save)

    async def _finish(
        self,
        session: TrainingSession,
        scenario: Scenario | None,
        ending: str,
        out: Outbox,
        *,
        path: tuple[str, ...] | None = None,
        said: Mapping[str, Event] | None = None,
    ) -> None:
        """The debrief, in the thread for the volunteer and in the lobby for the coordinator; then close."""
        path = session.path if path is None else path
        said = said or {}
        events = await self._store.events(session.id) + list(said.values())
        debrief = render(score(
            scenario, events, volunteer=session.volunteer_name, ending=ending, started_at=session.started_at,
            ended_at=self._clock(), path=path,
        ))  # fmt: skip
        self._note(session, debrief, out)
        for_coordinator = texts.staff(
            texts.TRAINING_FOR_COORDINATOR, coordinator=session.coordinator_name, debrief=debrief
        )
        out.add(self._platform, Audience.STAFF_LOBBY, for_coordinator, priority=Priority.BACKGROUND)
        out.add(self._platform, Audience.STAFF_THREAD, kind=OutboundKind.CLOSE_THREAD, conversation=session.id,
                pseudonym=_topic(session), priority=Priority.BACKGROUND)  # fmt: skip

        async def save() -> None:
            if await self._store.finish(session, path, said, out.entry_id):
                log.info("practice session %s finished", session.id)

        out.then(save)

    def _say(self, session: TrainingSession, lines: tuple[str, ...], out: Outbox) -> dict[str, Event]:
        """The scripted person's lines into the thread; returns their log events by outbound key."""
        said: dict[str, Event] = {}
        now = self._clock()
        for line in lines:
            self._note(session, line, out, person=True)
            said[out.messages[-1].key] = Event(now, Speaker.PERSON)
        return said

    def _note(self, session: TrainingSession, text: str, out: Outbox, *, person: bool = False) -> None:
        """A line in the session's thread: the scripted person's (`person`), or the trainer's notice."""
        out.add(self._platform, Audience.STAFF_THREAD, text, conversation=session.id, pseudonym=_topic(session),
                priority=Priority.BACKGROUND, notice=not person)  # fmt: skip


def _topic(session: TrainingSession) -> Pseudonym:
    """Names the session's topic/thread (the adapters add " · <session id>")."""
    return Pseudonym(texts.staff(texts.TRAINING_TOPIC, scenario=session.scenario, volunteer=session.volunteer_name))
