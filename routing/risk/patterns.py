"""The small pattern language of phrase texts, and its compiled forms.

A phrase text is words separated by spaces, plus:

- `{a|b c|d}` one of several word sequences ("{took|swallowed} <many> pills");
- `...` a gap of up to four words ("kill ... myself" matches "kill my stupid self"? no: "kill my own self");
- `<num>` any count (a number or a number word), `<many>` a count of five or more, or "all", "whole", ...;
- `<year>` a year from 1900 to 2099 ("back in <year>");
- `<end>` the end of a sentence or message ("{i am|im} done <end>": finality, not "done with homework").

Texts without gaps or counts expand into plain word sequences for Aho-Corasick; the rest compile to a
regular expression over the normalised text, tried only when one of its words (the trigger) was seen.
Literal words go through the same normalisation as messages, so "can't" in a phrase file means "can not".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

GAP_WORDS = 4
MAX_EXPANSIONS = 2048
_NUMBER_WORDS = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "fifteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "hundred",
    "dozen",
    "uno",
    "una",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "doce",
    "quince",
    "veinte",
    "treinta",
    "cuarenta",
    "cincuenta",
    "cien",
]
_MANY_WORDS = [
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "fifteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "hundred",
    "hundreds",
    "dozen",
    "dozens",
    "all",
    "whole",
    "entire",
    "bunch",
    "handful",
    "lots",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "doce",
    "quince",
    "veinte",
    "treinta",
    "cuarenta",
    "cincuenta",
    "cien",
    "todas",
    "todos",
    "toda",
    "todo",
    "entera",
    "entero",
    "monton",
    "muchas",
    "muchos",
    "everything",
]
_NUM = r"(?:\d+(?:[.,]\d+)?|" + "|".join(_NUMBER_WORDS) + r") "
_MANY = r"(?:[5-9]|[1-9]\d+|" + "|".join(_MANY_WORDS) + r") "
_YEAR = r"(?:19|20)\d\d "
_GAP = rf"(?:[^ .][^ ]* ){{0,{GAP_WORDS}}}"
_END = r"(?=$|\. )"
_SLOTS = {"<num>": _NUM, "<many>": _MANY, "<year>": _YEAR, "<end>": _END}
_SYNTAX = re.compile(r"\{[^{}]*\}|\S+")

MANY_WORDS = frozenset(_MANY_WORDS)
Tokens = tuple[str, ...]
WordNormaliser = Callable[[str], Sequence[str]]


def is_many(token: str) -> bool:
    """A count of five or more, or a word like "all" or "whole": the quantity in an overdose."""
    if token.isdigit():
        return not token.startswith("0") and int(token) >= 5
    return token in MANY_WORDS


@dataclass(frozen=True, slots=True)
class Choice:
    """One of several word sequences; a plain word is a choice of one."""

    options: tuple[Tokens, ...]


@dataclass(frozen=True, slots=True)
class Slot:
    """A gap or a count: anything that needs a regular expression."""

    regex: str


Element = Choice | Slot


class PatternError(ValueError):
    """A phrase text that does not follow the pattern language."""


def parse(text: str, normalise_words: WordNormaliser) -> tuple[Element, ...]:
    """Parse a phrase text into elements, normalising literal words like message text."""
    elements: list[Element] = []
    for raw in _SYNTAX.findall(text.strip()):
        if raw == "...":
            elements.append(Slot(_GAP))
        elif raw in _SLOTS:
            elements.append(Slot(_SLOTS[raw]))
        elif raw.startswith("{") and not raw.endswith("}"):
            raise PatternError(f"{raw!r} opens {{ without closing it; write choices as {{a|b c}}")
        elif raw.startswith("<"):
            raise PatternError(f"unknown placeholder {raw!r}; use <num>, <many>, <year>, <end>, ... or {{a|b}}")
        elif raw.startswith("{"):
            elements.append(Choice(_options(raw, normalise_words)))
        elif "{" in raw or "}" in raw:
            raise PatternError(f"braces must wrap whole words: {raw!r}")
        else:
            words = tuple(normalise_words(raw))
            if words:
                elements.append(Choice((words,)))
    if not any(isinstance(e, Choice) for e in elements):
        raise PatternError("the text has no words left after normalisation")
    if (isinstance(elements[0], Slot) and elements[0].regex == _GAP) or elements[-1] == Slot(_GAP):
        raise PatternError("a gap (...) must sit between words, not at the start or end")
    if Slot(_END) in elements[:-1]:
        raise PatternError("<end> can only be the last element")
    return tuple(elements)


def _options(raw: str, normalise_words: WordNormaliser) -> tuple[Tokens, ...]:
    options = tuple(tuple(normalise_words(opt)) for opt in raw[1:-1].split("|"))
    if len(options) < 2 or any(not opt for opt in options):
        raise PatternError(f"{raw!r} needs two or more non-empty options separated by |")
    return options


def expand(elements: Sequence[Element]) -> list[Tokens] | None:
    """Every word sequence the pattern stands for, or None when it has gaps or counts."""
    if any(isinstance(e, Slot) for e in elements):
        return None
    choices = [e.options for e in elements if isinstance(e, Choice)]
    combos = 1
    for options in choices:
        combos *= len(options)
    if combos > MAX_EXPANSIONS:
        raise PatternError(f"the choices expand to {combos} phrases (at most {MAX_EXPANSIONS})")
    return [tuple(itertools.chain.from_iterable(combo)) for combo in itertools.product(*choices)]


def to_regex(elements: Sequence[Element]) -> re.Pattern[str]:
    """A regex matching whole tokens of a " "-padded normalised text, each token followed by a space."""
    parts: list[str] = []
    for element in elements:
        if isinstance(element, Slot):
            parts.append(element.regex)
        else:
            alts = "|".join(re.escape(" ".join(opt)) + " " for opt in element.options)
            parts.append(f"(?:{alts})")
    return re.compile("(?<= )" + "".join(parts))


def triggers(elements: Sequence[Element]) -> frozenset[str]:
    """Words of which at least one must be in a text for the pattern to match: the cheapest gate."""
    best: frozenset[str] | None = None
    for element in elements:
        if isinstance(element, Choice):
            firsts = frozenset(opt[0] for opt in element.options)
            if best is None or _score(firsts) > _score(best):
                best = firsts
    assert best is not None  # parse() guarantees at least one Choice
    return best


def _score(words: frozenset[str]) -> float:
    """Prefer a single long word as trigger: rarer in chat, so the regex runs less often."""
    return min(len(w) for w in words) / len(words)


def words(elements: Sequence[Element]) -> set[str]:
    """All literal words of a pattern: they make up the vocabulary the normaliser prefers."""
    return {w for e in elements if isinstance(e, Choice) for opt in e.options for w in opt}
