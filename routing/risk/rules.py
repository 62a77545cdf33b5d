"""What a phrase match means in its sentence and conversation: suppression, downgrades and combinations.

Per match, in its own language's cues:

- an idiom span covering it ("homework is killing me") drops it; a media span ("suicide squad") makes it review;
- negation shortly before it, within its clause ("i would never kill myself") makes it review, flagged
  `negated`; it is never dropped (denial is unreliable) and imminent phrases are exempt;
- a past-time cue in its clause without a recent one ("when i was 14") makes it review;
- a third person as the nearest subject ("my friend is suicidal") makes it review, category third_party;
- a joke marker ("lol") makes a threat to or from others review ("she's going to kill me lol").

Then combinations raise the tier to imminent: a means word with intent and a quantity, or with a quantity or
time once risk is present (C-SSRS 5: intent with plan); a high-tier phrase with a time ("tonight"); two
different signs of danger now; a goodbye after earlier risk or beside a means word; a bare time sent right
after a high-tier phrase. Each combination is reported as its own match ("en.rule.means_with_plan").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from routing.model import RiskCategory, RiskTier
from routing.risk.assessment import PhraseMatch
from routing.risk.matcher import Hit
from routing.risk.normalise import BOUNDARY
from routing.risk.patterns import is_many
from routing.risk.phrases import Cue, CueKind, Phrase, PhraseKind, Suppression, SuppressionKind

NEGATION_REACH = 4
SUBJECT_REACH = 8
_PAST_TENSE_CATEGORIES = frozenset({RiskCategory.SUICIDE, RiskCategory.SELF_HARM, RiskCategory.HARM_OTHERS})
_JOKE_CATEGORIES = frozenset({RiskCategory.HARM_OTHERS, RiskCategory.DANGER})
_SELF_CATEGORIES = frozenset({RiskCategory.SUICIDE, RiskCategory.SELF_HARM})
_TIME_CATEGORIES = frozenset(
    {RiskCategory.SUICIDE, RiskCategory.SELF_HARM, RiskCategory.HARM_OTHERS, RiskCategory.DANGER}
)


@dataclass(frozen=True, slots=True)
class ContextRisk:
    """What the person's earlier messages showed: the highest real (not negated, not third-party) tier."""

    tier: RiskTier = RiskTier.NONE
    has_means: bool = False


NO_CONTEXT_RISK = ContextRisk()


@dataclass(frozen=True, slots=True)
class Judged:
    """A phrase match after the per-match rules; `downgraded` when suppression or a cue lowered it."""

    hit: Hit
    phrase: Phrase
    match: PhraseMatch
    downgraded: bool


class CueMap:
    """Where each language's cues are, as token spans."""

    def __init__(self, hits: Iterable[Hit], breaks: frozenset[int] = frozenset(), message_start: int = 0) -> None:
        """`breaks`: tokens after a comma or dash; `message_start`: where the newest message begins.

        Negation and subjects stop at breaks, and are not looked for in an earlier message unless the
        phrase itself starts there.
        """
        self.breaks = breaks
        self.message_start = message_start
        self._spans: dict[tuple[str, CueKind], list[tuple[int, int]]] = {}
        for hit in hits:
            if isinstance(hit.entry, Cue):
                self._spans.setdefault((hit.entry.lang, hit.entry.kind), []).append((hit.start, hit.end))

    def at(self, lang: str, kind: CueKind, index: int, before: int | None = None) -> bool:
        """A cue covers token `index` (and, with `before`, ends before that token: it is not part of a phrase)."""
        return any(
            start <= index < end and (before is None or end <= before)
            for start, end in self._spans.get((lang, kind), ())
        )

    def languages(self) -> list[str]:
        """The languages whose cues were found."""
        return sorted({lang for lang, _kind in self._spans})

    def spans(self, lang: str, kind: CueKind) -> list[tuple[int, int]]:
        return self._spans.get((lang, kind), [])

    def within(self, lang: str, kind: CueKind, start: int, end: int) -> bool:
        """A cue lies inside tokens [start, end)."""
        return any(start <= s and e <= end for s, e in self._spans.get((lang, kind), ()))


def clause(tokens: Sequence[str], start: int, end: int) -> tuple[int, int]:
    """The sentence around tokens [start, end): from after the previous "." to the next one."""
    left = start
    while left > 0 and tokens[left - 1] != BOUNDARY:
        left -= 1
    right = end
    while right < len(tokens) and tokens[right] != BOUNDARY:
        right += 1
    return left, right


def judge(tokens: Sequence[str], hits: Sequence[Hit], cues: CueMap) -> list[Judged]:
    """Apply suppression, negation, past tense, third party and humour to every phrase hit."""
    suppressions = [h for h in hits if isinstance(h.entry, Suppression)]
    phrases = [h for h in hits if isinstance(h.entry, Phrase)]
    judged: list[Judged] = []
    for hit in _outermost(phrases):
        assert isinstance(hit.entry, Phrase)
        result = _judge_one(tokens, hit, hit.entry, suppressions, cues)
        if result is not None:
            judged.append(result)
    return judged


def _outermost(hits: Sequence[Hit]) -> list[Hit]:
    """Drop phrase hits lying inside a longer one: "suicide" inside "died by suicide" is not its own match."""
    return [
        h
        for h in hits
        if not any(o.start <= h.start and h.end <= o.end and o.end - o.start > h.end - h.start for o in hits)
    ]


def _judge_one(
    tokens: Sequence[str], hit: Hit, phrase: Phrase, suppressions: Sequence[Hit], cues: CueMap
) -> Judged | None:
    media = False
    for span in suppressions:
        if span.start <= hit.end - 1 < span.end:  # the idiom covers the phrase's last word
            assert isinstance(span.entry, Suppression)
            if span.entry.kind is SuppressionKind.IDIOM:
                return None
            media = True
    left, right = clause(tokens, hit.start, hit.end)
    negated = phrase.tier < RiskTier.IMMINENT and _negated(hit, phrase.lang, left, cues)
    past = phrase.category in _PAST_TENSE_CATEGORIES and _past(
        phrase.lang, *_subclause(hit, phrase.lang, left, right, cues), cues
    )
    third = (
        phrase.category in _SELF_CATEGORIES
        and phrase.kind is PhraseKind.RISK
        and not _says_first_person(hit, phrase.lang, cues)
        and _third_party(hit, phrase.lang, left, cues)
    )
    joking = phrase.category in _JOKE_CATEGORIES and cues.within(phrase.lang, CueKind.HUMOUR, 0, len(tokens))
    downgraded = media or negated or past or third or joking
    match = PhraseMatch(
        phrase_id=phrase.id,
        tier=RiskTier.REVIEW if downgraded else phrase.tier,
        category=RiskCategory.THIRD_PARTY if third else phrase.category,
        lang=phrase.lang,
        negated=negated,
    )
    return Judged(hit, phrase, match, downgraded)


def _negated(hit: Hit, lang: str, left: int, cues: CueMap) -> bool:
    """A negation word within a few tokens before the phrase, before any subject or clause break.

    Not looked for in the previous message: "i can't go on" / "goodbye everyone" is no denial, and erring
    towards the higher tier is the safe side.
    """
    if hit.start >= cues.message_start:
        left = max(left, cues.message_start)
    for i in range(hit.start - 1, max(left, hit.start - NEGATION_REACH) - 1, -1):
        if i + 1 in cues.breaks:
            return False
        if cues.at(lang, CueKind.NEGATION, i, hit.start) and not cues.at(lang, CueKind.PSEUDO_NEGATION, i):
            return True
        if cues.at(lang, CueKind.SCOPE_BREAK, i) or cues.at(lang, CueKind.FIRST_PERSON, i):
            return False
    return False


def _subclause(hit: Hit, lang: str, left: int, right: int, cues: CueMap) -> tuple[int, int]:
    """Narrow a sentence to the part between commas and scope breaks ("and", "but") around the hit."""
    for index in cues.breaks:
        if left < index <= hit.start:
            left = index
        elif hit.end <= index < right:
            right = index
    for start, end in cues.spans(lang, CueKind.SCOPE_BREAK):
        if left <= start and end <= hit.start:
            left = max(left, end)
        elif hit.end <= start < right:
            right = start
    return left, right


def _says_first_person(hit: Hit, lang: str, cues: CueMap) -> bool:
    """The phrase itself names the person ("better off without me"), whoever the sentence's subject is."""
    return any(cues.at(lang, CueKind.FIRST_PERSON, i) for i in range(hit.start, hit.end))


def _past(lang: str, left: int, right: int, cues: CueMap) -> bool:
    return cues.within(lang, CueKind.PAST, left, right) and not cues.within(lang, CueKind.RECENT, left, right)


def _third_party(hit: Hit, lang: str, left: int, cues: CueMap) -> bool:
    """The nearest subject before the phrase in its clause is someone else ("my friend ... suicidal")."""
    if hit.start >= cues.message_start:
        left = max(left, cues.message_start)
    for i in range(hit.start - 1, max(left, hit.start - SUBJECT_REACH) - 1, -1):
        if i + 1 in cues.breaks:
            return False
        if cues.at(lang, CueKind.FIRST_PERSON, i):
            return False
        if cues.at(lang, CueKind.THIRD_PARTY, i):
            return True
    return False


def combine(
    tokens: Sequence[str], judged: Sequence[Judged], cues: CueMap, context: Callable[[], ContextRisk]
) -> list[PhraseMatch]:
    """Matches for the combination rules that fire on the reported matches."""
    live = [j for j in judged if not j.downgraded]
    out: list[PhraseMatch] = _corroborated_danger(live)
    for item in live:
        rule = _combination(tokens, item, [j for j in live if j is not item], cues, context)
        if rule is not None:
            out.append(
                PhraseMatch(f"{item.phrase.lang}.rule.{rule}", RiskTier.IMMINENT, _category(item), item.phrase.lang)
            )
    return out


def time_follow_up(tokens: Sequence[str], earlier: Sequence[Judged], cues: CueMap, offset: int) -> list[PhraseMatch]:
    """A short new message giving a time ("tonight") for a high-tier phrase at the end of the previous one."""
    for item in earlier:
        lang = item.phrase.lang
        if item.downgraded or item.match.tier != RiskTier.HIGH or item.phrase.category not in _TIME_CATEGORIES:
            continue
        if cues.within(lang, CueKind.TIME, offset, len(tokens)):
            return [PhraseMatch(f"{lang}.rule.time_follow_up", RiskTier.IMMINENT, item.phrase.category, lang)]
    return []


FOLLOW_UP_REACH = 12  # tokens: a follow-up that carries the risk of what came before is short
TIME_FOLLOW_UP_REACH = 4  # a bare time ("tonight") completes a plan; a longer message with a time is its own


def ready_after_risk(
    tokens: Sequence[str], cues: CueMap, offset: int, context_of: Callable[[], ContextRisk]
) -> list[PhraseMatch]:
    """A follow-up with no risk words of its own that completes what came before: "ok, it's ready now" after a
    rope was mentioned, "on my way" after talk of a bridge, "tonight" after a plan. Readiness after a means word
    or any real risk earlier, or a time after high risk, is imminent; not when the follow-up is negated."""
    length = len(tokens) - offset
    if length > FOLLOW_UP_REACH:
        return []  # decided before the earlier messages are read: most messages stop here
    for lang in cues.languages():
        if cues.within(lang, CueKind.NEGATION, offset, len(tokens)):
            continue
        ready = cues.within(lang, CueKind.READINESS, offset, len(tokens))
        timed = length <= TIME_FOLLOW_UP_REACH and cues.within(lang, CueKind.TIME, offset, len(tokens))
        if not (ready or timed):
            continue
        context = context_of()
        if (ready and (context.has_means or context.tier >= RiskTier.ELEVATED)) or (
            timed and context.tier >= RiskTier.HIGH
        ):
            return [PhraseMatch(f"{lang}.rule.ready_after_risk", RiskTier.IMMINENT, RiskCategory.SUICIDE, lang)]
    return []


def _corroborated_danger(live: Sequence[Judged]) -> list[PhraseMatch]:
    """Two different signs of danger in one message ("a man is in my house", "i'm hiding") mean danger now."""
    danger = [j for j in live if j.phrase.category is RiskCategory.DANGER and j.match.tier == RiskTier.HIGH]
    if len({j.phrase.id for j in danger}) < 2:
        return []
    lang = danger[0].phrase.lang
    return [PhraseMatch(f"{lang}.rule.danger_corroborated", RiskTier.IMMINENT, RiskCategory.DANGER, lang)]


def _category(item: Judged) -> RiskCategory:
    return RiskCategory.SUICIDE if item.phrase.kind is PhraseKind.GOODBYE else item.phrase.category


def _combination(
    tokens: Sequence[str],
    item: Judged,
    others: Sequence[Judged],
    cues: CueMap,
    context: Callable[[], ContextRisk],
) -> str | None:
    risk_here = any(j.match.tier >= RiskTier.ELEVATED for j in others)
    means_here = any(j.phrase.kind is PhraseKind.MEANS for j in others)
    lang, hit = item.phrase.lang, item.hit
    left, right = clause(tokens, hit.start, hit.end)
    timed = cues.within(lang, CueKind.TIME, left, right)
    if item.phrase.kind is PhraseKind.MEANS:
        return _means_rule(tokens, item, risk_here, cues, context, left, right)
    if item.phrase.kind is PhraseKind.GOODBYE:
        if risk_here or means_here:
            return "goodbye_after_risk"
        prior = context()
        if prior.tier >= RiskTier.ELEVATED or prior.has_means:
            return "goodbye_after_risk"
        return None
    if item.match.tier == RiskTier.HIGH and item.phrase.category in _TIME_CATEGORIES and timed:
        return "high_with_time"
    return None


def _means_rule(
    tokens: Sequence[str],
    item: Judged,
    risk_here: bool,
    cues: CueMap,
    context: Callable[[], ContextRisk],
    left: int,
    right: int,
) -> str | None:
    """A means word with intent and a quantity, with intent and a time, or with either once risk is present.

    A routine cue ("like always", "as prescribed") takes away the intent-with-time reading: people take
    their medication at night. A large quantity is never routine.
    """
    lang = item.phrase.lang
    many = any(is_many(t) for t in tokens[left:right]) or cues.within(lang, CueKind.QUANTITY, left, right)
    timed = cues.within(lang, CueKind.TIME, left, right)
    intent = cues.within(lang, CueKind.INTENT, left, right)
    routine = cues.within(lang, CueKind.ROUTINE, left, right)
    if intent and (many or (timed and not routine)):
        return "means_with_plan"
    if (many or timed or intent) and (risk_here or context().tier >= RiskTier.ELEVATED):
        return "means_with_plan"
    return None


def context_risk(judged_messages: Iterable[Sequence[Judged]]) -> ContextRisk:
    """Summarise earlier messages' judged matches (negated and third-party ones do not count)."""
    tier = RiskTier.NONE
    has_means = False
    for judged in judged_messages:
        for item in judged:
            if item.match.negated or item.match.category is RiskCategory.THIRD_PARTY:
                continue
            tier = max(tier, item.match.tier)
            has_means = has_means or (item.phrase.kind is PhraseKind.MEANS and not item.downgraded)
    return ContextRisk(tier, has_means)
