"""A training scenario: the scripted person's steps, their branches and the debrief's checklist (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

ESCALATE = "escalate"
TRAINING_COMMANDS = frozenset({ESCALATE})  # commands a scenario may react to (besides /end, which stops it)


@dataclass(frozen=True, slots=True)
class Reply:
    """What the volunteer did in the practice thread: wrote `text`, or used a training `command`."""

    text: str
    command: str | None = None


def normalised(text: str) -> str:
    """Text as conditions see it: typographic apostrophes made plain, so "don’t" matches "don't"."""
    return text.replace("\u2019", "'").replace("\u2018", "'")


@dataclass(frozen=True, slots=True)
class Condition:
    """Met by a message matching any of `patterns` (case-insensitive regexes), or by using `command`."""

    patterns: tuple[re.Pattern[str], ...] = ()
    command: str | None = None

    def met_by(self, reply: Reply) -> bool:
        if reply.command is not None:
            return reply.command == self.command
        text = normalised(reply.text)
        return any(pattern.search(text) for pattern in self.patterns)


@dataclass(frozen=True, slots=True)
class Branch:
    """Go to step `goto` when the volunteer's reply meets `condition`."""

    condition: Condition
    goto: str


@dataclass(frozen=True, slots=True)
class Step:
    """One turn of the scripted person.

    On entering the step the person waits `delay` seconds, then says `say`. Then either the script ends
    (`end`), or the person goes silent for `silence` seconds whatever the volunteer writes and moves on to
    `next`, or they wait for the volunteer's reply: the first branch it meets decides the next step, else `next`.
    """

    id: str
    say: tuple[str, ...]
    branches: tuple[Branch, ...] = ()
    next: str | None = None
    delay: float = 0.0
    silence: float = 0.0
    end: bool = False


@dataclass(frozen=True, slots=True)
class Check:
    """One key step of the checklist: met when a volunteer reply meets `condition` while the script is at one
    of the `during` steps (any step when empty)."""

    id: str
    label: str
    condition: Condition
    during: frozenset[str] = frozenset()

    def met_by(self, reply: Reply, step: str) -> bool:
        return (not self.during or step in self.during) and self.condition.met_by(reply)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A whole scenario; `name` is its file's stem, as typed in `/train <volunteer> <name>`."""

    name: str
    title: str
    brief: str
    steps: Mapping[str, Step]  # in file order; the script starts at `first`
    first: str
    checks: tuple[Check, ...]

    def step(self, step_id: str) -> Step:
        return self.steps[step_id]
