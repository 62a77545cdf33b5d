"""Metamorphic tests: obfuscating a must-flag example must not change what the detector says about it.

RISK_NOTES measured raw matching keeping 0-33% of detections under these transformations and a normalising
pipeline keeping all but letter spacing; here every transformation must keep every example's tier.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from bot import shipped
from routing.risk.detector import RiskDetector
from routing.risk.phrases import Example, load_phrase_file

RISK_DIR = shipped.RISK_PHRASES
EXAMPLES = [e for path in sorted(RISK_DIR.glob("*.toml")) for e in load_phrase_file(path).must_flag]
_WORD = re.compile(r"[a-záéíóúñ]{4,}")
_LEET = str.maketrans({"i": "1", "e": "3", "o": "0", "a": "4", "s": "$"})
_CYRILLIC = str.maketrans({"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "i": "і", "y": "у", "x": "х"})


def _each_long_word(text: str, change: Callable[[str], str]) -> str:
    return _WORD.sub(lambda m: change(m.group()), text)


def leetspeak(text: str) -> str:
    """Digits and symbols for letters, keeping the first letter so every word still mixes the two."""
    return _each_long_word(text, lambda w: w[0] + w[1:].translate(_LEET))


def cyrillic(text: str) -> str:
    return _each_long_word(text, lambda w: w[0] + w[1:].translate(_CYRILLIC))


def zero_width(text: str) -> str:
    return _each_long_word(text, lambda w: "\u200b".join(w))


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def elongation(text: str) -> str:
    return _each_long_word(text, lambda w: re.sub(r"([aeiou])", lambda m: m.group(1) * 5, w, count=1))


def letter_spacing(text: str) -> str:
    """Space out the longest word ("k i l l"), as people do to dodge filters."""
    words = _WORD.findall(text)
    if not words:
        return text
    longest = max(words, key=len)
    return text.replace(longest, " ".join(longest), 1)


def shouting(text: str) -> str:
    return text.upper()


TRANSFORMS = [leetspeak, cyrillic, zero_width, fullwidth, elongation, letter_spacing, shouting]


@pytest.fixture(scope="module")
def detector() -> RiskDetector:
    return RiskDetector.from_directory(RISK_DIR)


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: t.__name__)
def test_transform_keeps_every_must_flag_tier(detector: RiskDetector, transform: Callable[[str], str]) -> None:
    changed: list[tuple[str, str, str]] = []
    for example in EXAMPLES:
        assessment = detector.assess(transform(example.text), example.context)
        if assessment.tier is not example.tier:
            changed.append((example.text, transform(example.text), assessment.tier.label))
    assert changed == []


@pytest.mark.parametrize("example", EXAMPLES[:5], ids=lambda e: e.text)
def test_transforms_really_change_the_text(example: Example) -> None:
    for transform in (leetspeak, cyrillic, zero_width, fullwidth):
        assert transform(example.text) != example.text
