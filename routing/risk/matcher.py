"""Finding phrases, suppressions and cues in normalised tokens.

One Aho-Corasick automaton holds every plain word sequence of every language, padded with spaces so matches
fall on word boundaries ("skill" never matches "kill"); it reports all overlapping matches in one pass.
Patterns with gaps or counts ("took <many> ... pills") are regular expressions run only when their trigger
word was seen. A second pass over typo-corrected words catches "suicdie" without fuzzing short words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick

from routing.risk import patterns
from routing.risk.fuzzy import TypoCorrector
from routing.risk.phrases import Cue, Phrase, Suppression

Entry = Phrase | Suppression | Cue


@dataclass(frozen=True, slots=True)
class Hit:
    """An entry found at tokens [start, end) of the matched text."""

    entry: Entry
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Trigger:
    """A word that makes a regex pattern worth running."""

    pattern: int


@dataclass(frozen=True, slots=True)
class _RegexPattern:
    entry: Entry
    regex: re.Pattern[str]


class PhraseMatcher:
    """All entries of all loaded languages, compiled once."""

    def __init__(
        self,
        entries: Iterable[Entry],
        normalise_words: patterns.WordNormaliser,
        protected_words: Iterable[str] = (),
    ) -> None:
        """Compile `entries`; raises patterns.PatternError (with the entry's id) on a bad text."""
        self._automaton = ahocorasick.Automaton()
        self._regexes: list[_RegexPattern] = []
        keys: dict[str, list[Entry | _Trigger]] = {}
        vocabulary: set[str] = set()
        phrase_words: set[str] = set()
        for entry in entries:
            elements = self._parse(entry, normalise_words)
            words = patterns.words(elements)
            vocabulary |= words
            if isinstance(entry, Phrase):
                phrase_words |= words
            expanded = patterns.expand(elements)
            if expanded is not None:
                for tokens in expanded:
                    entries_here = keys.setdefault(_key(tokens), [])
                    if entry not in entries_here:  # two choices may normalise alike ("can't", "cannot")
                        entries_here.append(entry)
                continue
            self._regexes.append(_RegexPattern(entry, patterns.to_regex(elements)))
            for word in patterns.triggers(elements):
                keys.setdefault(_key((word,)), []).append(_Trigger(len(self._regexes) - 1))
        for key, values in keys.items():
            self._automaton.add_word(key, (len(key), tuple(values)))
        if keys:
            self._automaton.make_automaton()
        self._empty = not keys
        self.vocabulary = frozenset(vocabulary)
        self._typos = TypoCorrector(phrase_words, protected_words)

    @staticmethod
    def _parse(entry: Entry, normalise_words: patterns.WordNormaliser) -> tuple[patterns.Element, ...]:
        try:
            return patterns.parse(entry.text, normalise_words)
        except patterns.PatternError as exc:
            name = entry.id if not isinstance(entry, Cue) else f"cues.{entry.kind}"
            raise patterns.PatternError(f"{name}: text {entry.text!r}: {exc}") from None

    def find(self, tokens: Sequence[str], fuzzy_from: int = 0) -> list[Hit]:
        """Every entry in `tokens`, plus phrases found after correcting typos in tokens[fuzzy_from:]."""
        hits = self._find_exact(tokens)
        corrected = self._corrected(tokens, fuzzy_from)
        if corrected is not None:
            seen = set(hits)
            hits.extend(h for h in self._find_exact(corrected) if h not in seen and isinstance(h.entry, Phrase))
        return hits

    def _find_exact(self, tokens: Sequence[str]) -> list[Hit]:
        if self._empty or not tokens:
            return []
        text = " " + " ".join(tokens) + " "
        token_at = _token_starts(tokens)
        hits: list[Hit] = []
        regexes_to_run: set[int] = set()
        for last_space, (length, values) in self._automaton.iter(text):
            start = token_at[last_space - length + 1]
            end = token_at[last_space]
            for value in values:
                if isinstance(value, _Trigger):
                    regexes_to_run.add(value.pattern)
                else:
                    hits.append(Hit(value, start, end))
        for index in sorted(regexes_to_run):
            pattern = self._regexes[index]
            for match in pattern.regex.finditer(text):
                hits.append(Hit(pattern.entry, token_at[match.start() - 1], token_at[match.end() - 1]))
        return hits

    def _corrected(self, tokens: Sequence[str], start: int) -> list[str] | None:
        corrected: list[str] | None = None
        for i in range(start, len(tokens)):
            token = tokens[i]
            if len(token) < 5 or token in self.vocabulary:
                continue
            fixed = self._typos.correct(token)
            if fixed is not None:
                corrected = corrected or list(tokens)
                corrected[i] = fixed
        return corrected


def _key(tokens: Sequence[str]) -> str:
    return " " + " ".join(tokens) + " "


def _token_starts(tokens: Sequence[str]) -> dict[int, int]:
    """Map the offset of the space before each token (and the final space) to the token's index."""
    out: dict[int, int] = {}
    offset = 0
    for i, token in enumerate(tokens):
        out[offset] = i
        offset += len(token) + 1
    out[offset] = len(tokens)
    return out
