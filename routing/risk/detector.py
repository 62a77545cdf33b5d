"""The risk detector: phrase files in, `assess(text, context) -> Assessment` out. Pure after loading.

Usage::

    detector = RiskDetector.from_directory(Path("bot/shipped/risk"))   # every <lang>.toml, all languages together
    assessment = detector.assess("i want to kill myself tonight", context=earlier_messages)

All languages are matched together (a message's language is not known); each match is judged with the cues
of the language its phrase came from. `context` is the same person's recent earlier messages, oldest first:
the last one is joined to the new message so a phrase split across two messages is found (only matches
ending in the new message are reported), and earlier risk turns a goodbye or a means word into imminent.

With a statistical model (`routing/risk/model.py`), the message gets the higher of the two verdicts: the
phrase rules' and the model's (reported as the match `model.<tier>`), so every phrase-file promise holds and
the model adds what the phrases never listed.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from pathlib import Path

from routing.model import RiskTier
from routing.risk import patterns
from routing.risk.assessment import NO_RISK, Assessment, PhraseMatch
from routing.risk.matcher import Entry, Hit, PhraseMatcher
from routing.risk.model import CONTEXT_MESSAGES as MODEL_CONTEXT
from routing.risk.model import QUESTION, RiskModel, context_features, own_features
from routing.risk.normalise import BOUNDARY, Normaliser
from routing.risk.phrases import Cue, CueKind, Phrase, PhraseFile, PhraseFileError, load_phrase_file
from routing.risk.rules import ContextRisk, CueMap, combine, context_risk, judge, ready_after_risk, time_follow_up
from routing.risk.slang import PAIRS, SLANG

QUESTION_FEATURE = frozenset({QUESTION})
WINDOW_TAIL = 8  # tokens of the previous message joined to the new one
FOLLOW_UP_TOKENS = 4  # a new message this short giving a time ("tonight") completes the previous one
CONTEXT_MESSAGES = 10  # earlier messages consulted for "risk earlier in the conversation"


class RiskDetector:
    """Detects risk phrases in a message and its recent context."""

    def __init__(self, files: Sequence[PhraseFile], model: RiskModel | None = None) -> None:
        """Build from parsed phrase files; raises PhraseFileError for a phrase text that cannot be compiled."""
        if not files:
            raise ValueError("RiskDetector needs at least one phrase file")
        _check_unique_ids(files)
        self.files = tuple(files)
        slang: dict[str, str] = {}
        pairs: dict[tuple[str, str], str] = {}
        for file in files:
            slang.update(SLANG.get(file.lang, {}))
            pairs.update(PAIRS.get(file.lang, {}))
        for file in files:
            slang.update({k: " ".join(Normaliser().tokens(v)) for k, v in file.slang.items()})
        plain = Normaliser(slang, pairs)
        entries: list[Entry] = []
        for file in files:
            file_entries: list[Entry] = [*file.phrases, *file.suppressions, *file.cues]
            _check_patterns(file.path, file_entries, plain)
            entries.extend(file_entries)
        protected = [c.text for f in files for c in f.cues if c.kind is CueKind.NOT_TYPOS]
        self._matcher = PhraseMatcher(entries, plain.tokens, protected)
        self._normaliser = Normaliser(slang, pairs, self._matcher.vocabulary)
        # One cache for new messages and context: a person's next message finds its predecessor analysed.
        self._analysis = functools.lru_cache(maxsize=8192)(self._normaliser.analyse)
        # Per message text: its own words' features, and what it gives the next message (cached: a person's
        # next message finds its predecessor's ready).
        self._own = functools.lru_cache(maxsize=8192)(lambda text: own_features(self.tokens(text), False))
        self._as_context = functools.lru_cache(maxsize=8192)(self._context_of)
        self.model = model

    @classmethod
    def from_files(cls, paths: Iterable[Path], model: RiskModel | None = None) -> RiskDetector:
        """Load the given phrase files; raises PhraseFileError naming the file and the problem."""
        return cls([load_phrase_file(Path(p)) for p in paths], model)

    @classmethod
    def from_directory(cls, directory: Path, model_file: Path | None = None) -> RiskDetector:
        """Load every `<lang>.toml` in `directory`, and the model in `model_file` if one is named (ModelFileError)."""
        paths = sorted(Path(directory).glob("*.toml"))
        if not paths:
            raise PhraseFileError(directory, "has no <lang>.toml phrase files")
        return cls.from_files(paths, RiskModel.load(model_file) if model_file is not None else None)

    def tokens(self, text: str) -> tuple[str, ...]:
        """The normalised tokens of a message, as the phrases and the model see them."""
        return self._analysis(text)[0]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(f.lang for f in self.files)

    def normalise(self, text: str) -> str:
        """The normalised form the phrases are matched against (for tests and for explaining a match)."""
        return self._normaliser.text(text)

    def assess(self, text: str, context: Sequence[str] = ()) -> Assessment:
        """Assess the newest message `text`, given the same person's earlier messages (oldest first)."""
        rules = self._rules(text, context)
        if self.model is None or rules.tier >= RiskTier.HIGH:
            return rules  # the model's highest tier is high: it cannot add to a high or imminent verdict
        feats = self._own(text).union(*(self._as_context(c) for c in context[-MODEL_CONTEXT:]))
        if "?" in text:
            feats |= QUESTION_FEATURE
        tier = self.model.verdict(feats).tier
        if tier <= rules.tier:
            return rules
        match = PhraseMatch(f"model.{tier.label}", tier, self.model.category(feats), "model")
        return Assessment(tier, match.category, (match, *rules.matches))

    def _context_of(self, text: str) -> frozenset[str]:
        """What an earlier message gives the next one: its words if they read as risk on their own, else
        nothing (a harmless earlier message does not colour the next)."""
        assert self.model is not None
        return context_features(self.tokens(text)) if self.model.risky_alone(self._own(text)) else frozenset()

    def _rules(self, text: str, context: Sequence[str]) -> Assessment:
        tail, tail_breaks = self._tail(context[-1]) if context else ((), frozenset[int]())
        tokens, breaks = self._analysis(text)
        window = (*tail, *tokens)
        offset = len(tail)
        hits = self._matcher.find(window, fuzzy_from=offset)
        prior = functools.cache(lambda: self._context_risk(context))  # earlier messages, read only if needed
        if not any(isinstance(h.entry, Phrase) for h in hits):
            if context and _follow_up_cue(hits, offset):  # no risk words, but it may complete earlier ones
                cues = CueMap(hits, tail_breaks | {b + offset for b in breaks}, offset)
                return _assessment(
                    ready_after_risk(window, cues, offset, functools.cache(lambda: self._context_risk(context)))
                )
            return NO_RISK
        cues = CueMap(hits, tail_breaks | {b + offset for b in breaks}, offset)
        judged = judge(window, hits, cues)
        reported = [j for j in judged if j.hit.end > offset]
        rules = combine(window, reported, cues, prior)
        if len(window) - offset <= FOLLOW_UP_TOKENS:
            rules += time_follow_up(window, [j for j in judged if j.hit.end <= offset], cues, offset)
        if (
            context
            and not rules
            and _follow_up_cue(hits, offset)
            and all(j.match.tier < RiskTier.HIGH for j in reported)
        ):
            rules += ready_after_risk(window, cues, offset, prior)
        return _assessment([*rules, *(j.match for j in reported)])

    def _tail(self, previous: str) -> tuple[tuple[str, ...], frozenset[int]]:
        """The end of the previous message's last sentence, joined to the new one, and its soft breaks."""
        tokens, breaks = self._analysis(previous)
        start = max(0, len(tokens) - WINDOW_TAIL)
        if BOUNDARY in tokens[start:]:
            start = len(tokens) - tokens[::-1].index(BOUNDARY)
        return tokens[start:], frozenset(b - start for b in breaks if b > start)

    def _context_risk(self, context: Sequence[str]) -> ContextRisk:
        judged = []
        for message in context[-CONTEXT_MESSAGES:]:
            tokens, breaks = self._analysis(message)
            hits: list[Hit] = self._matcher.find(tokens)
            judged.append(judge(tokens, hits, CueMap(hits, breaks)))
        return context_risk(judged)


def _follow_up_cue(hits: Sequence[Hit], offset: int) -> bool:
    """The newest message has a readiness or time word (cheap: decides whether earlier messages are read)."""
    return any(
        isinstance(h.entry, Cue) and h.entry.kind in (CueKind.READINESS, CueKind.TIME) and h.end > offset for h in hits
    )


def _assessment(matches: list[PhraseMatch]) -> Assessment:
    if not matches:
        return NO_RISK
    unique = list(dict.fromkeys(matches))
    unique.sort(key=lambda m: m.tier, reverse=True)
    top = unique[0]
    if top.tier is RiskTier.NONE:
        return NO_RISK
    return Assessment(tier=top.tier, category=top.category, matches=tuple(unique))


def _check_unique_ids(files: Sequence[PhraseFile]) -> None:
    owner: dict[str, Path] = {}
    for file in files:
        if file.lang in {f.lang for f in files if f is not file}:
            raise PhraseFileError(file.path, f"another file also has lang = {file.lang!r}")
        for entry_id in [p.id for p in file.phrases] + [s.id for s in file.suppressions]:
            if entry_id in owner:
                raise PhraseFileError(file.path, f"id {entry_id!r} is already used in {owner[entry_id]}")
            owner[entry_id] = file.path


def _check_patterns(path: Path, entries: Sequence[Entry], plain: Normaliser) -> None:
    for entry in entries:
        try:
            patterns.expand(patterns.parse(entry.text, plain.tokens))
        except patterns.PatternError as exc:
            name = getattr(entry, "id", None) or f"cues.{getattr(entry, 'kind', '')}"
            raise PhraseFileError(path, f"{name}: text {entry.text!r}: {exc}") from None
