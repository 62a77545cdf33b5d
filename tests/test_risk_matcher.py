"""Phrase matching: whole words, the pattern language, and bounded typo tolerance."""

from __future__ import annotations

import pytest

from routing.model import RiskCategory, RiskTier
from routing.risk import patterns
from routing.risk.fuzzy import TypoCorrector, allowed_distance, osa_distance
from routing.risk.matcher import PhraseMatcher
from routing.risk.normalise import Normaliser
from routing.risk.phrases import Phrase
from routing.risk.slang import SLANG


def phrase(text: str, name: str = "x") -> Phrase:
    return Phrase(f"en.test.{name}", text, RiskTier.HIGH, RiskCategory.SUICIDE, "en")


def matcher(*texts: str) -> PhraseMatcher:
    return PhraseMatcher([phrase(t, f"p{i}") for i, t in enumerate(texts)], Normaliser(SLANG["en"]).tokens)


def found(m: PhraseMatcher, text: str) -> list[tuple[str, int, int]]:
    tokens = Normaliser(SLANG["en"], vocabulary=m.vocabulary).tokens(text)
    return sorted((h.entry.text, h.start, h.end) for h in m.find(tokens))


def test_matches_fall_on_word_boundaries() -> None:
    m = matcher("kill")
    assert found(m, "skill killer kill") == [("kill", 2, 3)]


def test_overlapping_phrases_are_all_reported() -> None:
    m = matcher("kill myself", "myself tonight")
    assert found(m, "kill myself tonight") == [("kill myself", 0, 2), ("myself tonight", 1, 3)]


def test_choices_expand_and_contractions_are_normalised_in_phrases() -> None:
    m = matcher("{can't|cannot} go on")
    assert found(m, "i cant go on") == [("{can't|cannot} go on", 1, 5)]  # i can not go on


def test_gap_allows_up_to_four_words_within_a_sentence() -> None:
    m = matcher("want to ... die")
    assert found(m, "want to just really really very honestly die") == []
    assert found(m, "want to just really honestly die") == [("want to ... die", 0, 6)]
    assert found(m, "want to. die") == []


def test_many_needs_five_or_more_or_a_quantity_word() -> None:
    m = matcher("took <many> pills")
    assert found(m, "took 40 pills") == [("took <many> pills", 0, 3)]
    assert found(m, "took all pills") == [("took <many> pills", 0, 3)]
    assert found(m, "took 2 pills") == []


def test_end_matches_only_at_a_sentence_end() -> None:
    m = matcher("i am done <end>")
    assert found(m, "i'm done") == [("i am done <end>", 0, 3)]
    assert found(m, "i'm done. bye") == [("i am done <end>", 0, 3)]
    assert found(m, "i'm done with it") == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("... die", "gap"),
        ("die <end> now", "<end> can only be the last"),
        ("{die", "opens {"),
        ("{die}", "two or more"),
        ("<when> die", "unknown placeholder"),
        ("!!!", "no words"),
    ],
)
def test_bad_patterns_are_refused_with_a_reason(text: str, problem: str) -> None:
    with pytest.raises(patterns.PatternError, match=problem):
        patterns.parse(text, Normaliser().tokens)


def test_too_many_expansions_are_refused() -> None:
    choice = "{" + "|".join(f"w{i}" for i in range(50)) + "}"
    with pytest.raises(patterns.PatternError, match="expand to"):
        patterns.expand(patterns.parse(f"{choice} {choice}", Normaliser().tokens))


# --- typo tolerance ---


def test_distance_counts_a_swap_as_one_edit() -> None:
    assert osa_distance("suicide", "suicdie", 2) == 1
    assert osa_distance("kill", "bill", 2) == 1
    assert osa_distance("abcdef", "uvwxyz", 2) == 3  # capped at limit + 1


@pytest.mark.parametrize(
    ("a", "b", "allowed"), [("kill", "kils", 0), ("pills", "pilsl", 1), ("overdose", "overdoes", 2)]
)
def test_allowed_distance_grows_with_length(a: str, b: str, allowed: int) -> None:
    assert allowed_distance(a, b) == allowed


def test_corrector_fixes_long_words_only() -> None:
    corrector = TypoCorrector(["suicide", "overdose", "kill", "myself", "pills"], protected=["piles"])
    assert corrector.correct("suicdie") == "suicide"
    assert corrector.correct("ovwrdxsa") is None  # three edits
    assert corrector.correct("ovredsoe") == "overdose"  # two swaps, allowed at 8 letters
    assert corrector.correct("overdsoe") == "overdose"
    assert corrector.correct("kil") is None  # short words are never fuzzed
    assert corrector.correct("bills") is None  # first letter differs: a rhyme, not a typo
    assert corrector.correct("piles") is None  # protected real word
    assert corrector.correct("myselt") == "myself"


def test_inflections_are_not_typos() -> None:
    corrector = TypoCorrector(["cortarme", "matarme"])
    assert corrector.correct("cortarte") is None
    assert corrector.correct("matarse") is None


def test_matcher_uses_typo_tolerance_for_phrases() -> None:
    m = matcher("thinking about suicide")
    tokens = Normaliser(vocabulary=m.vocabulary).tokens("thinking about suicdie")
    assert [h.entry.text for h in m.find(tokens)] == ["thinking about suicide"]
    assert m.find(tokens, fuzzy_from=len(tokens)) == []  # only newest-message tokens are corrected
