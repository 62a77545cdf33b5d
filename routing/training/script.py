"""The script engine: where a practice session is and what the scripted person does next (pure).

A session is at a step in one of four phases. DELAY: the person has not said the step's lines yet (a timer
will). WAITING: they said them and wait for the volunteer's reply. SILENT: they said them and go quiet until
a timer, whatever the volunteer writes. DONE: the script has finished. Replies and timers are the only
events; each yields a `Move` (or None when the event changes nothing), never more than one step at a time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from routing.training.scenario import Reply, Scenario, Step


class Phase(enum.StrEnum):
    """Where within its current step a session is."""

    DELAY = "delay"
    WAITING = "waiting"
    SILENT = "silent"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Position:
    """A session's place in its script."""

    step: str
    phase: Phase


@dataclass(frozen=True, slots=True)
class Move:
    """What an event does: the person's lines, in order; the new position; the steps entered on the way; and
    the seconds until the next timer (None: no timer, the script waits for a reply or has finished)."""

    say: tuple[str, ...]
    position: Position
    entered: tuple[str, ...] = ()
    due_in: float | None = None

    @property
    def finished(self) -> bool:
        return self.position.phase == Phase.DONE


def begin(scenario: Scenario) -> Move:
    """The first move of a new session."""
    return _enter(scenario.step(scenario.first))


def after_reply(scenario: Scenario, at: Position, reply: Reply) -> Move | None:
    """The volunteer replied. Only a person who is waiting reacts; a command (such as /escalate) moves the
    script only when a branch asks for it, since the person never sees a command."""
    if at.phase != Phase.WAITING:
        return None
    step = scenario.step(at.step)
    for branch in step.branches:
        if branch.condition.met_by(reply):
            return _enter(scenario.step(branch.goto))
    if reply.command is not None or step.next is None:
        return None
    return _enter(scenario.step(step.next))


def after_timer(scenario: Scenario, at: Position) -> Move | None:
    """A timer of the current step ran out: the delayed lines are said, or the silence ends."""
    step = scenario.step(at.step)
    if at.phase == Phase.DELAY:
        return _speak(step)
    if at.phase == Phase.SILENT:
        if step.end or step.next is None:
            return Move((), Position(step.id, Phase.DONE))
        return _enter(scenario.step(step.next))
    return None


def _enter(step: Step) -> Move:
    if step.delay > 0:
        return Move((), Position(step.id, Phase.DELAY), (step.id,), step.delay)
    return _speak(step, entered=(step.id,))


def _speak(step: Step, entered: tuple[str, ...] = ()) -> Move:
    if step.silence > 0:
        return Move(step.say, Position(step.id, Phase.SILENT), entered, step.silence)
    if step.end:
        return Move(step.say, Position(step.id, Phase.DONE), entered)
    return Move(step.say, Position(step.id, Phase.WAITING), entered)
