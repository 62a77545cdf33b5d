"""The debrief after a practice session: response times and the scenario's checklist (pure).

A response time is measured from the first of the person's messages the volunteer had not yet answered to
the volunteer's next message; commands (/escalate) are actions, not replies, and are not timed.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from routing import texts
from routing.training.scenario import Reply, Scenario


class Speaker(enum.StrEnum):
    """Who did something in the practice thread."""

    PERSON = "person"
    VOLUNTEER = "volunteer"


@dataclass(frozen=True, slots=True)
class Event:
    """One message (or training command) of a session, without its text: when, who, which checks it met."""

    at: float
    speaker: Speaker
    checks: frozenset[str] = frozenset()
    command: str | None = None


@dataclass(frozen=True, slots=True)
class Debrief:
    """What the volunteer and the coordinator are told when a session ends."""

    title: str
    volunteer: str
    ending: str
    duration: float
    person_messages: int
    replies: int
    first_reply: float | None
    median_reply: float | None
    checklist: tuple[tuple[str, bool], ...]  # (label, met), in the scenario's order
    path: tuple[str, ...]


def checks_met(scenario: Scenario, reply: Reply, step: str) -> frozenset[str]:
    """The ids of the checks this reply meets while the script is at `step`."""
    return frozenset(check.id for check in scenario.checks if check.met_by(reply, step))


def response_times(events: Iterable[Event]) -> list[float]:
    """Seconds from each first unanswered message of the person to the volunteer's next reply, in order."""
    times: list[float] = []
    waiting_since: float | None = None
    for event in sorted(events, key=lambda e: e.at):
        if event.speaker == Speaker.PERSON:
            waiting_since = event.at if waiting_since is None else waiting_since
        elif event.command is None and waiting_since is not None:
            times.append(max(0.0, event.at - waiting_since))
            waiting_since = None
    return times


def score(
    scenario: Scenario | None,
    events: list[Event],
    *,
    volunteer: str,
    ending: str,
    started_at: float,
    ended_at: float,
    path: tuple[str, ...],
) -> Debrief:
    """Score a session. `scenario` is None when its file is gone: the times are still told, no checklist."""
    times = response_times(events)
    met: set[str] = set().union(*(e.checks for e in events if e.speaker == Speaker.VOLUNTEER))
    checks = scenario.checks if scenario is not None else ()
    return Debrief(
        title=f"{scenario.title} ({scenario.name})" if scenario is not None else "unknown scenario",
        volunteer=volunteer,
        ending=ending,
        duration=max(0.0, ended_at - started_at),
        person_messages=sum(1 for e in events if e.speaker == Speaker.PERSON),
        replies=sum(1 for e in events if e.speaker == Speaker.VOLUNTEER and e.command is None),
        first_reply=times[0] if times else None,
        median_reply=statistics.median(times) if times else None,
        checklist=tuple((c.label, c.id in met) for c in checks),
        path=path,
    )


def render(debrief: Debrief) -> str:
    """The debrief as one message."""
    if debrief.first_reply is None or debrief.median_reply is None:
        timing = texts.staff(texts.DEBRIEF_NO_REPLIES)
    else:
        timing = texts.staff(
            texts.DEBRIEF_TIMES, first=seconds_text(debrief.first_reply), median=seconds_text(debrief.median_reply)
        )
    lines = [
        texts.staff(texts.DEBRIEF_HEADER, title=debrief.title, volunteer=debrief.volunteer),
        texts.staff(texts.DEBRIEF_ENDING, ending=debrief.ending, duration=seconds_text(debrief.duration)),
        texts.staff(texts.DEBRIEF_COUNTS, replies=debrief.replies, person=debrief.person_messages),
        timing,
    ]
    if debrief.checklist:
        met = sum(1 for _label, ok in debrief.checklist if ok)
        lines.append(texts.staff(texts.DEBRIEF_CHECKLIST, met=met, total=len(debrief.checklist)))
        lines += [f"{'✓' if ok else '✗'} {label}" for label, ok in debrief.checklist]
    lines.append(texts.staff(texts.DEBRIEF_PATH, path=" → ".join(debrief.path) or "-"))
    return "\n".join(lines)


def seconds_text(seconds: float) -> str:
    """ "42 s", "3 min 5 s", "1 h 2 min": short and readable."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(whole, 3600)
    return f"{hours} h {rest // 60} min"
