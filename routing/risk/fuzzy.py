"""Bounded typo tolerance for long phrase words ("suicdie", "overdoes").

Short words are never fuzzed: "will" and "bill" are one letter from "kill". A message word is corrected to
a phrase word only when both have 5+ letters and they are at most 1 edit apart (2 when both have 8+),
counting a swap of neighbours as one edit; the first letter must agree (rhymes like "bills"/"pills",
"lying"/"dying", "putting"/"cutting" differ there), and a Spanish verb with another attached pronoun is
another word, not a typo ("cortarte"/"cortarme"). Words the phrase files list as
`not_typos` (real words near risk words: "homeless", "overdone") are never corrected.

Lookup uses the symmetric-delete idea: every word with up to k letters deleted is indexed, so a typo is
found by deleting letters from it, without comparing it against every phrase word. The first letter is
never deleted (it must agree anyway), which keeps the index and the lookups small.
"""

from __future__ import annotations

from collections.abc import Iterable

from routing.risk.normalise import evict_oldest

MIN_LENGTH = 5
LONG_LENGTH = 8
_CACHE_LIMIT = 32_768


def allowed_distance(a: str, b: str) -> int:
    """Edits allowed between two words: 0 below 5 letters, 1 from 5, 2 when both have 8 or more."""
    shorter = min(len(a), len(b))
    if shorter < MIN_LENGTH:
        return 0
    return 2 if shorter >= LONG_LENGTH else 1


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (edits plus adjacent swaps); returns limit + 1 once it is exceeded."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        prev2, prev = prev, row
    return prev[-1]


def _deletions(word: str, depth: int) -> set[str]:
    """`word` with up to `depth` letters deleted, never the first (typos must keep the first letter)."""
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(1, len(w))}
        out |= frontier
    return out


class TypoCorrector:
    """Maps a misspelt message word to the phrase word it most likely is, or None."""

    def __init__(self, targets: Iterable[str], protected: Iterable[str] = ()) -> None:
        self._targets = frozenset(t for t in targets if len(t) >= MIN_LENGTH and t.isalpha())
        self._protected = frozenset(protected)
        self._index: dict[str, set[str]] = {}
        for target in self._targets:
            depth = 2 if len(target) >= LONG_LENGTH else 1
            for deleted in _deletions(target, depth):
                self._index.setdefault(deleted, set()).add(target)
        self._cache: dict[str, str | None] = {}
        lengths = [len(t) for t in self._targets]
        self._lengths = (min(lengths), max(lengths)) if lengths else None

    def correct(self, word: str) -> str | None:
        """The phrase word `word` is a typo of, or None (also for exact and protected words)."""
        if len(word) < MIN_LENGTH or word in self._targets or word in self._protected or not word.isalpha():
            return None
        if word in self._cache:
            return self._cache[word]
        if len(self._cache) >= _CACHE_LIMIT:
            evict_oldest(self._cache)
        result = self._cache[word] = self._lookup(word)
        return result

    def _lookup(self, word: str) -> str | None:
        if not self._lengths or not self._lengths[0] - 2 <= len(word) <= self._lengths[1] + 2:
            return None
        depth = 2 if len(word) >= LONG_LENGTH else 1
        candidates: set[str] = set()
        for deleted in _deletions(word, depth):
            candidates |= self._index.get(deleted, set())
        best: tuple[int, str] | None = None
        for target in candidates:
            if not _plausible_typo(word, target):
                continue
            limit = allowed_distance(word, target)
            distance = osa_distance(word, target, limit)
            if distance <= limit and (best is None or (distance, target) < best):
                best = (distance, target)
        return best[1] if best else None


_ENCLITICS = ("me", "te", "se", "le", "lo", "la", "nos", "les", "los", "las")


def _plausible_typo(word: str, target: str) -> bool:
    if word[0] != target[0]:
        return False
    return not _other_pronoun(word, target)


def _other_pronoun(word: str, target: str) -> bool:
    """Spanish verbs with a different attached pronoun are other words: "cortarte" is not "cortarme"."""
    for mine in _ENCLITICS:
        if target.endswith(mine):
            stem = target[: -len(mine)]
            return any(word == stem + other for other in _ENCLITICS if other != mine)
    return False
