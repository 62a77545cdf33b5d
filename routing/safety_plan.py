"""A safety plan's sections and how the finished plan reads (pure).

The sections follow the Stanley–Brown Safety Planning Intervention (Stanley & Brown, 2012): warning signs,
things a person can do on their own, people and places that take their mind off things, people they can ask for
help, professionals and crisis lines, making their surroundings safer, and reasons for living. A plan is the
person's own words; the service only asks the questions and gives it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routing import texts


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    question: str  # a person's text id (N_)
    title: str


SECTIONS = (
    Section("warning", texts.PLAN_Q_WARNING, texts.PLAN_T_WARNING),
    Section("coping", texts.PLAN_Q_COPING, texts.PLAN_T_COPING),
    Section("distract", texts.PLAN_Q_DISTRACT, texts.PLAN_T_DISTRACT),
    Section("help", texts.PLAN_Q_HELP, texts.PLAN_T_HELP),
    Section("professionals", texts.PLAN_Q_PROFESSIONALS, texts.PLAN_T_PROFESSIONALS),
    Section("safer", texts.PLAN_Q_SAFER, texts.PLAN_T_SAFER),
    Section("reasons", texts.PLAN_Q_REASONS, texts.PLAN_T_REASONS),
)
PROFESSIONALS = "professionals"  # the section that starts with the person's own crisis lines
MAX_ANSWER = 1000  # characters kept per section: a plan is read in a hurry, and one message must hold it all


def question(lang: str | None, step: int, crisis_lines: str = "") -> str:
    """What the person is asked at `step` (0-based), numbered; the professionals' step shows their lines."""
    section = SECTIONS[step]
    asked = texts.say(
        lang, texts.PLAN_STEP, step=step + 1, steps=len(SECTIONS), question=texts.say(lang, section.question)
    )
    return f"{asked}\n\n{crisis_lines}" if section.key == PROFESSIONALS and crisis_lines else asked


def next_step(answers: Mapping[str, str], skipped: frozenset[str], after: int = -1) -> int | None:
    """The first section after `after` not yet answered or skipped; None when the plan has been gone through."""
    for index in range(after + 1, len(SECTIONS)):
        key = SECTIONS[index].key
        if key not in answers and key not in skipped:
            return index
    return None


def render(lang: str | None, answers: Mapping[str, str], crisis_lines: str, date: str) -> str:
    """The whole plan as one message, in the person's language (their own words under each heading)."""
    parts = [texts.say(lang, texts.PLAN_TITLE).upper()]
    for section in SECTIONS:
        said = answers.get(section.key, "").strip()
        if section.key == PROFESSIONALS:
            said = "\n".join(part for part in (said, crisis_lines) if part)
        parts.append(f"{texts.say(lang, section.title)}\n{said or texts.say(lang, texts.PLAN_EMPTY_SECTION)}")
    parts.append(texts.say(lang, texts.PLAN_FOOTER, date=date))
    return "\n\n".join(parts)
