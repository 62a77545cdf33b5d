"""The normalisation pipeline: turn a chat message into plain word tokens that phrase matching can trust.

Stages, in order (RISK_NOTES "Normalisation pipeline that worked"):

1. unify apostrophes, NFKC (fullwidth and styled letters become plain ones);
2. strip format characters (zero-width, soft hyphen, bidi marks, variation selectors);
3. emoji to tokens (`:pill:`);
4. casefold, strip accents, then fold Cyrillic/Greek look-alikes only inside tokens that mix scripts;
5. per token: split off punctuation (sentence punctuation becomes a "." clause-boundary token; commas and
   dashes are reported as soft breaks beside the tokens, for negation scope, not matched over), expand
   contractions and slang, undo leetspeak only in tokens mixing letters with digits/symbols (never "800mg"),
   split on remaining symbols ("self-harm" -> "self harm"), collapse elongations ("diiiie");
6. join runs of single letters ("k i l l" -> "kill"), two-token slang ("sewer slide"), "800 mg" -> "800mg".

ASCII text skips stages 1-4 (except lower-casing), which is most traffic and 4x faster.

Some choices depend on the words the phrase files use (the vocabulary): an elongation collapses to the
one- or two-letter form that is a known word, a run of single letters is joined only when it spells known
words. Output is idempotent: normalising the joined output again gives the same tokens.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from routing.risk.charmaps import CONFUSABLES, EMOJI_PATTERN, EMOJI_TOKEN, EMOJI_TOKENS, FORMAT_CHARS, LEET_CHARS
from routing.risk.slang import EN_S_IS
from routing.risk.spelling import collapse_elongation, deleet, segment

__all__ = ["BOUNDARY", "SOFT_BREAK", "Normaliser", "collapse_elongation", "deleet", "segment"]

BOUNDARY = "."
SOFT_BREAK = ","  # a comma or dash: kept out of the tokens, reported as a break for negation/subject scope
_APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u2018\u02bc\u00b4`\u2032\uff07\u201b", "'"))
_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~¿¡«»“”„‹›…·•"
_LEFT_STRIP = _PUNCT.replace("$", "").replace("@", "")
_RIGHT_STRIP = _PUNCT.replace("|", "").replace("$", "")  # "pill$", "ki||": leet, not punctuation
_WORD = re.compile(r"[^\W_]+")
_UNITS = frozenset({"mg", "mcg", "g", "ml", "milligrams", "grams", "miligramos", "gramos"})
_NOT_STEMS = {"ca": "can", "wo": "will", "ai": "am", "sha": "shall"}
_SUFFIX_WORDS = (("'m", "am"), ("'re", "are"), ("'ve", "have"), ("'ll", "will"), ("'d", "would"))
_ONE_LETTER_WORDS = frozenset("iayoeu")
_CACHE_LIMIT = 32_768


def evict_oldest(cache: dict[str, Any], share: int = 8) -> None:
    """Drop the oldest 1/share of a bounded cache: small steps keep latency flat (a full clear costs ms)."""
    for key in list(itertools.islice(cache, max(1, len(cache) // share))):
        del cache[key]


def nfkc(text: str) -> str:
    """Unify apostrophes, then NFKC: fullwidth, circled and mathematical letters become plain letters."""
    return unicodedata.normalize("NFKC", text.translate(_APOSTROPHES))


def strip_format_chars(text: str) -> str:
    """Remove zero-width characters, soft hyphens, bidi controls, variation selectors and skin tones."""
    return text.translate(FORMAT_CHARS)


def emoji_to_tokens(text: str) -> str:
    """Replace the emoji in our table by space-separated `:name:` tokens."""
    return EMOJI_PATTERN.sub(lambda m: f" {EMOJI_TOKENS[m.group()]} ", text)


_OTHER_SCRIPT = re.compile("[\u0370-\u052f\u0261]")
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _is_other_script(ch: str) -> bool:
    return "\u0370" <= ch <= "\u052f" or ch == "ɡ"


def fold_confusables(text: str) -> str:
    """Fold Cyrillic/Greek look-alikes to Latin inside tokens that mix them with Latin letters or digits.

    A token made only of look-alikes is folded too when the message has Latin letters elsewhere; real
    Cyrillic or Greek words (letters with no Latin twin, or no Latin around) are left alone.
    """
    if not _OTHER_SCRIPT.search(text):
        return text
    has_latin_text = any("a" <= ch <= "z" for ch in text)
    return " ".join(_fold_token(tok, has_latin_text) for tok in text.split(" "))


def _fold_token(token: str, has_latin_text: bool) -> str:
    other = [ch for ch in token if _is_other_script(ch)]
    if not other:
        return token
    mixed = any("a" <= ch <= "z" or ch.isdigit() or ch in LEET_CHARS for ch in token)
    all_twins = all(ord(ch) in CONFUSABLES for ch in other)
    if mixed or (all_twins and has_latin_text):
        return token.translate(CONFUSABLES)
    return token


def strip_accents(text: str) -> str:
    """Drop combining marks ("más" -> "mas", "mañana" -> "manana"): people type Spanish with and without."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", _COMBINING.sub("", unicodedata.normalize("NFD", text)))


def split_punctuation(raw: str) -> tuple[str, str]:
    """Strip punctuation around a raw token; return it and what followed: ".", "," or "" (an ellipsis is "")."""
    right = raw.rstrip(_RIGHT_STRIP)
    tail = raw[len(right) :]
    core = right.lstrip(_LEFT_STRIP)
    if any(ch in "!?;" for ch in tail) or ("." in tail and ".." not in tail):
        return core, BOUNDARY
    if any(ch in ",:)" for ch in tail) or (not core and raw in ("-", "–", "—")):
        return core, SOFT_BREAK
    return core, ""


def expand_apostrophes(word: str, plain: Callable[[str], str] = str) -> list[str]:
    """Expand English contractions by suffix ("how'd" -> "how would"); drop possessive "'s".

    `plain` normalises the stem before deciding whether "'s" is "is" ("t0n1ght's" is "tonight is").
    """
    if "'" not in word:
        return [word]
    if word.endswith("n't"):
        stem = word[:-3]
        return [_NOT_STEMS.get(stem, stem), "not"]
    for suffix, full in _SUFFIX_WORDS:
        if word.endswith(suffix):
            return [word[: -len(suffix)], full]
    if word.endswith("'s"):
        stem = word[:-2]
        return [stem, "is"] if plain(stem) in EN_S_IS else [stem]
    return [word.replace("'", "")]


class Normaliser:
    """Turns text into tokens; built once per detector from the phrase files' slang and vocabulary.

    Per-token work is cached (bounded), so common words cost one dictionary lookup.
    """

    def __init__(
        self,
        slang: Mapping[str, str] | None = None,
        pairs: Mapping[tuple[str, str], str] | None = None,
        vocabulary: Iterable[str] = (),
    ) -> None:
        self._slang = dict(slang or {})
        self._pairs = dict(pairs or {})
        self._vocabulary = frozenset(vocabulary)
        self._known = self._vocabulary | frozenset(self._slang)
        self._by_length: dict[int, list[str]] = {}
        for known_word in sorted(self._vocabulary):
            self._by_length.setdefault(len(known_word), []).append(known_word)
        self._cache: dict[str, tuple[tuple[str, ...], str]] = {}

    @property
    def vocabulary(self) -> frozenset[str]:
        return self._vocabulary

    def text(self, text: str) -> str:
        """The normalised text: tokens joined by single spaces."""
        return " ".join(self.tokens(text))

    def tokens(self, text: str) -> tuple[str, ...]:
        """Normalise `text` to word tokens, with "." marking sentence boundaries."""
        return self.analyse(text)[0]

    def analyse(self, text: str) -> tuple[tuple[str, ...], frozenset[int]]:
        """Tokens, and the indices of tokens that follow a comma or dash (soft breaks within a sentence)."""
        text = self.prepare(text)
        out: list[str] = []
        for raw in text.split():
            words, mark = self._raw_token(raw)
            out.extend(words)
            if mark and out and out[-1] not in (BOUNDARY, SOFT_BREAK):
                out.append(mark)
            elif mark == BOUNDARY and out and out[-1] == SOFT_BREAK:
                out[-1] = BOUNDARY
        while out and out[-1] in (BOUNDARY, SOFT_BREAK):
            out.pop()
        joined = self._join_letters(self._join_pairs(out))
        tokens: list[str] = []
        breaks: set[int] = set()
        for token in joined:
            if token == SOFT_BREAK:
                breaks.add(len(tokens))
            else:
                tokens.append(token)
        return tuple(tokens), frozenset(breaks)

    def prepare(self, text: str) -> str:
        """Whole-text stages: the Unicode ones for non-ASCII text, then lower-casing and line breaks."""
        if text.isascii():
            text = text.lower().replace("`", "'")
        else:
            text = emoji_to_tokens(strip_format_chars(nfkc(text))).casefold()
            text = fold_confusables(strip_accents(text))
        if "\n" in text:
            text = text.replace("\n", " . ")
        return text

    def _raw_token(self, raw: str) -> tuple[tuple[str, ...], str]:
        cached = self._cache.get(raw)
        if cached is None:
            if len(self._cache) >= _CACHE_LIMIT:
                evict_oldest(self._cache)
            cached = self._cache[raw] = self._compute_raw_token(raw)
        return cached

    def _compute_raw_token(self, raw: str) -> tuple[tuple[str, ...], str]:
        if EMOJI_TOKEN.fullmatch(raw):
            return (raw,), ""
        core, boundary = split_punctuation(raw)
        if not core:
            return (), boundary
        words: list[str] = []
        expanded = self._slang.get(core)
        for word in expanded.split() if expanded else expand_apostrophes(core, self._plain_word):
            words.extend(self.word(word))
        return tuple(words), boundary

    def _plain_word(self, word: str) -> str:
        return " ".join(self.word(word))

    def word(self, word: str) -> list[str]:
        """Normalise one punctuation-free word: slang, leet, split on symbols, elongation, slang again."""
        expanded = self._slang.get(word)
        if expanded is not None:
            return expanded.split()
        if "*" in word:
            word = self.uncensor(word)
        out: list[str] = []
        for piece in _WORD.findall(deleet(word, self._known)):
            piece = collapse_elongation(piece, self._known)
            expanded = self._slang.get(piece)
            out.extend(expanded.split() if expanded else (piece,))
        return out

    def uncensor(self, word: str) -> str:
        """Read "k*ll" as the one known word it can be ("kill"); leave it alone when none or several fit."""
        if not any(ch.isalpha() for ch in word):
            return word
        pattern = re.compile("".join("[^\\W\\d_]" if ch == "*" else re.escape(ch) for ch in word))
        fits = [w for w in self._by_length.get(len(word), ()) if pattern.fullmatch(w)]
        return fits[0] if len(fits) == 1 else word

    def _join_pairs(self, tokens: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(tokens):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            pair = self._pairs.get((tokens[i], nxt))
            if pair is not None:
                out.extend(pair.split())
                i += 2
            elif nxt in _UNITS and tokens[i].replace(".", "", 1).isdigit():
                out.append(tokens[i] + nxt)
                i += 2
            else:
                out.append(tokens[i])
                i += 1
        return out

    def _join_letters(self, tokens: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(tokens):
            j = i
            while j < len(tokens) and len(tokens[j]) == 1 and tokens[j].isalnum():
                j += 1
            if j - i >= 3:
                out.extend(self._joined_run(tokens[i:j]))
                i = j
            else:
                out.append(tokens[i])
                i += 1
        return out

    def _joined_run(self, run: list[str]) -> list[str]:
        """Join a run of single letters when it spells known words; otherwise keep the letters.

        A real one-letter word may sit at either end ("i d i e", "e s t o y a salvo"): a known word without
        it beats splitting the whole run into pieces.
        """
        whole = self._exact_word("".join(run))
        if whole is not None:
            return whole
        if len(run) > 3 and run[0] in _ONE_LETTER_WORDS:
            rest = self._exact_word("".join(run[1:]))
            if rest is not None:
                return [run[0], *rest]
        if len(run) > 3 and run[-1] in _ONE_LETTER_WORDS:
            rest = self._exact_word("".join(run[:-1]))
            if rest is not None:
                return [*rest, run[-1]]
        words = self._spelled_words("".join(run))
        return run if words is None else words

    def _exact_word(self, letters: str) -> list[str] | None:
        letters = collapse_elongation(deleet(letters, self._known), self._known)
        return self.word(letters) if letters in self._known else None

    def _spelled_words(self, letters: str) -> list[str] | None:
        letters = collapse_elongation(deleet(letters, self._known), self._known)
        if letters in self._known:
            return self.word(letters)
        words = segment(letters, self._vocabulary)
        if words and len(words) <= 4 and max(len(w) for w in words) >= 4:
            return words
        return None
