"""What a person may tell us at intake (skippable buttons), how feedback is asked, and peer matching (pure).

Matching prefers, for a volunteer pulling `next`, a returning person who asked for them, then the first waiting
person whose wish fits the volunteer's lived-experience tags and languages; a person whose wish does not fit
waits at most `match_wait` extra for a volunteer who fits, and people at high or imminent risk are never passed
over for a match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError

from routing import texts
from routing.i18n import negotiate
from routing.model import Button, ConversationId, RiskTier, VolunteerId
from routing.roster import StaffMember

DEFAULT_TOPICS = ("grief", "loneliness", "veterans", "lgbtq+", "substance use", "studies")
DEFAULT_MATCH_WAIT = 180.0
FEEDBACK_CHOICES = ((texts.FEEDBACK_BETTER, "better"), (texts.FEEDBACK_SAME, "same"), (texts.FEEDBACK_WORSE, "worse"))


@dataclass(frozen=True, slots=True)
class Candidate:
    """A waiting person as matching sees them (in queue order)."""

    conversation: ConversationId
    tier: RiskTier
    arrival: float
    topic: str | None
    language: str | None
    asked_for: VolunteerId | None = None  # a returning person asked for the volunteer they had (on duty then)


def language_name(code: str) -> str:
    """A language's name in that language ("Español", "Français"), as a person looks for their own."""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_")) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def topic_buttons(topics: Sequence[str], languages: Sequence[str] = (), lang: str | None = None) -> tuple[Button, ...]:
    """Buttons offering topics and languages, plus a way to skip (in the person's language `lang`)."""
    return (
        *(Button(t.capitalize(), f"topic {t}") for t in topics),
        *(Button(language_name(code), f"lang {code}") for code in languages),
        Button(texts.say(lang, texts.SKIP), "topic -"),
    )


def country_name(code: str, lang: str | None) -> str:
    """A country's name in the person's language ("México", "Mexique")."""
    try:
        return str(Locale.parse(negotiate(lang)).territories.get(code, code))
    except (ValueError, UnknownLocaleError):
        return code


def language_buttons(languages: Sequence[str]) -> tuple[Button, ...]:
    """/language: one button per language, each named in itself."""
    return tuple(Button(language_name(code), f"lang {code}") for code in languages)


def feedback_buttons(
    conversation: ConversationId, lang: str | None = None, *, care: bool = False
) -> tuple[Button, ...]:
    """The feedback question's buttons. Each names the conversation (our id), so that an answer is counted once
    per conversation however often it is pressed; with `care` (only after high risk, and the question says so)
    a "Worse" is acted on: the person is offered someone to talk to again."""
    mark = "care" if care else "plain"
    return tuple(
        Button(texts.say(lang, label), f"feedback {value} {conversation} {mark}") for label, value in FEEDBACK_CHOICES
    )


def fits(volunteer: StaffMember, candidate: Candidate) -> bool:
    """Does the volunteer fit what this person asked for? (No wish: anyone fits.) A person who asked for the
    volunteer they had before fits only that one; others take them once they have waited `match_wait`."""
    if candidate.asked_for is not None:
        return candidate.asked_for == volunteer.id
    topic_ok = candidate.topic is None or candidate.topic in {t.casefold() for t in volunteer.tags}
    lang = (candidate.language or "").split("-")[0].casefold()
    lang_ok = not lang or not volunteer.languages or lang in {x.casefold() for x in volunteer.languages}
    return topic_ok and lang_ok


def first_fit(volunteer: StaffMember, waiting: Sequence[Candidate], now: float, match_wait: float) -> Candidate | None:
    """The first waiting person `volunteer` should take: urgent, or someone who asked for them by name, or fits, or
    has waited long enough; None when everyone in `waiting` is still waiting for a better fit. High risk comes
    first whatever anyone asked for (high and imminent are always at the queue's head, routing/queue_policy.py)."""
    for candidate in waiting:
        if candidate.tier >= RiskTier.HIGH:
            return candidate
        if candidate.asked_for == volunteer.id:
            return candidate
    for candidate in waiting:
        if fits(volunteer, candidate) or now - candidate.arrival >= match_wait:
            return candidate
    return None


def pick_for(volunteer: StaffMember, waiting: Sequence[Candidate], now: float, match_wait: float) -> Candidate | None:
    """The person `volunteer` should take next: urgent first, then the first who fits or has waited long
    enough; if everyone is still waiting for a better fit, the head of the queue (nobody is refused)."""
    return first_fit(volunteer, waiting, now, match_wait) or (waiting[0] if waiting else None)
