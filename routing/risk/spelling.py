"""Spelling repairs on single words: leetspeak, elongation, stutters and run-together letters.

These choices use the words the phrase files know (`known`): an elongation collapses to the one- or
two-letter form that is a known word, "1" reads as "l" when "i" gives no known word, a run of letters is
split only into known words.
"""

from __future__ import annotations

import itertools
import re

from routing.risk.charmaps import LEET, LEET_ALT, LEET_CHARS

_DOSE_OR_TIME = re.compile(
    r"\d+(?:[.,]\d+)?(?:mg|mcg|g|ml|l|kg|lbs?|x|k|am|pm|h|hrs?|mins?|s|st|nd|rd|th|yo|yrs?|m|cm|mm|km|gb|mb|p)?"
)
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")
_LAUGH = {
    "haha": re.compile(r"(?:ha|ah){2,}h?"),
    "jaja": re.compile(r"(?:ja|aj){2,}j?"),
    "hehe": re.compile(r"(?:he|eh){2,}"),
    "jeje": re.compile(r"(?:je|ej){2,}"),
}
MAX_JOIN = 40


def deleet(word: str, known: frozenset[str] = frozenset()) -> str:
    """Undo leetspeak in a token mixing letters with digits/symbols; leave numbers and doses alone."""
    if not any(ch in LEET_CHARS for ch in word) or not any(ch.isalpha() for ch in word):
        return word
    if _DOSE_OR_TIME.fullmatch(word):
        return word
    plain = word.translate(LEET)
    if plain not in known:
        alternative = word.translate(LEET_ALT).translate(LEET)
        if alternative in known:
            return alternative
    return plain


def collapse_elongation(word: str, known: frozenset[str] = frozenset()) -> str:
    """Collapse runs of 3+ letters, to one or two letters, preferring a form that is a known word."""
    for name, pattern in _LAUGH.items():
        if len(word) >= 4 and pattern.fullmatch(word):
            return name
    runs = list(_ELONGATED.finditer(word))
    if not runs:
        return _undouble(word, known)
    runs = runs[:4]
    for lengths in itertools.product((2, 1), repeat=len(runs)):
        candidate = _rebuild(word, runs, lengths)
        if candidate in known:
            return candidate
    return _ELONGATED.sub(lambda m: m.group(1) * 2, word)


def _undouble(word: str, known: frozenset[str]) -> str:
    """A stuttered double letter in an unknown word ("tookk"): drop it when that gives a known word of 4+."""
    if len(word) < 5 or word in known:
        return word
    for i in range(1, len(word)):
        if word[i] == word[i - 1] and word[i].isalpha():
            candidate = word[:i] + word[i + 1 :]
            if candidate in known:
                return candidate
    return word


def _rebuild(word: str, runs: list[re.Match[str]], lengths: tuple[int, ...]) -> str:
    parts: list[str] = []
    last = 0
    for run, length in zip(runs, lengths, strict=True):
        parts.append(word[last : run.start()])
        parts.append(run.group(1) * length)
        last = run.end()
    parts.append(word[last:])
    # Runs beyond the first four collapse to two letters.
    return _ELONGATED.sub(lambda m: m.group(1) * 2, "".join(parts))


def segment(letters: str, known: frozenset[str]) -> list[str] | None:
    """Split a joined run of letters into known words ("killmyself" -> kill, myself), fewest words first."""
    if len(letters) > MAX_JOIN:
        return None
    best: list[list[str] | None] = [[]] + [None] * len(letters)
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - 20), end):
            prefix = best[start]
            piece = letters[start:end]
            usable = prefix is not None and piece in known and (len(piece) > 1 or piece in "ia")
            if usable and prefix is not None and (best[end] is None or len(prefix) + 1 < len(best[end] or ())):
                best[end] = [*prefix, piece]
    return best[-1]
