"""What the risk detector answers: the tier of a message and the phrases that put it there."""

from __future__ import annotations

from dataclasses import dataclass

from routing.model import RiskCategory, RiskTier


@dataclass(frozen=True, slots=True)
class PhraseMatch:
    """One phrase (or rule) that matched, after suppression and negation were applied."""

    phrase_id: str
    tier: RiskTier
    category: RiskCategory
    lang: str
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Assessment:
    """The detector's verdict on one message in its context.

    `tier` is the highest tier among `matches` (NONE when nothing matched); `category` is that match's.
    """

    tier: RiskTier
    category: RiskCategory | None
    matches: tuple[PhraseMatch, ...] = ()

    @property
    def phrase_ids(self) -> tuple[str, ...]:
        return tuple(m.phrase_id for m in self.matches)


NO_RISK = Assessment(tier=RiskTier.NONE, category=None)
