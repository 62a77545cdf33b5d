"""The normalisation pipeline, stage by stage, and properties over arbitrary text."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import shipped
from routing.risk import normalise as n
from routing.risk.detector import RiskDetector
from routing.risk.normalise import EMOJI_TOKENS, Normaliser
from routing.risk.slang import PAIRS, SLANG

RISK_DIR = shipped.RISK_PHRASES


@pytest.fixture(scope="module")
def detector() -> RiskDetector:
    return RiskDetector.from_directory(RISK_DIR)


@pytest.fixture(scope="module")
def norm() -> Normaliser:
    vocabulary = ["kill", "myself", "die", "suicide", "pills", "goodbye", "took", "want", "to", "overdose"]
    return Normaliser({**SLANG["en"], **SLANG["es"]}, {**PAIRS["en"], **PAIRS["es"]}, vocabulary)


# --- stage 1-4: whole-text Unicode stages ---


def test_nfkc_turns_fullwidth_and_styled_letters_into_plain_ones() -> None:
    assert n.nfkc("ｋｉｌｌ") == "kill"
    assert n.nfkc("\U0001d4ed\U0001d4f2\U0001d4ee") == "die"  # mathematical script
    assert n.nfkc("i’m") == "i'm"


def test_format_characters_are_stripped() -> None:
    hidden = "k\u200bi\u200cl\u200dl\u2060 my\u00adself\ufe0f\u202e"
    assert n.strip_format_chars(hidden) == "kill myself"


def test_emoji_become_tokens_and_unknown_emoji_stay() -> None:
    assert n.emoji_to_tokens("vitamins💊ok") == "vitamins :pill: ok"
    assert n.emoji_to_tokens("🔪🩸") == " :knife:  :drop_of_blood: "
    assert n.emoji_to_tokens("🙂") == "🙂"


def test_confusables_fold_only_inside_mixed_script_tokens() -> None:
    assert n.fold_confusables("kіll mysеlf") == "kill myself"  # Cyrillic і and е
    assert n.fold_confusables("привет") == "привет"  # a real Russian word stays
    assert n.fold_confusables("кто") == "кто"  # no Latin around: left alone


def test_accents_are_stripped_for_spanish() -> None:
    assert n.strip_accents("más mañana quitarmé") == "mas manana quitarme"


# --- stage 5: per token ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("kill!", ("kill", ".")), ("myself...", ("myself", "")), ("die,", ("die", ",")), ("¡hola", ("hola", ""))],
)
def test_punctuation_is_split_off_and_classified(raw: str, expected: tuple[str, str]) -> None:
    assert n.split_punctuation(raw) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [("i'd", ["i", "would"]), ("can't", ["can", "not"]), ("won't", ["will", "not"]), ("mom's", ["mom"])],
)
def test_contractions_expand_by_suffix(word: str, expected: list[str]) -> None:
    assert n.expand_apostrophes(word) == expected


def test_tonights_is_tonight_is() -> None:
    assert n.expand_apostrophes("tonight's") == ["tonight", "is"]


def test_slang_and_algospeak_expand(norm: Normaliser) -> None:
    assert norm.text("kms") == "kill myself"
    assert norm.text("i want to unalive myself") == "i want to kill myself"
    assert norm.text("sewer slide") == "suicide"
    assert norm.text("im gonna") == "i am going to"


@pytest.mark.parametrize(
    ("word", "expected"),
    [("k1ll", "kill"), ("su1c1d3", "suicide"), ("my$elf", "myself"), ("d!e", "die"), ("ki11", "kill")],
)
def test_leet_is_undone_in_mixed_tokens(norm: Normaliser, word: str, expected: str) -> None:
    assert norm.text(word) == expected


@pytest.mark.parametrize("dose", ["800mg", "3am", "10pm", "2nd", "24", "1000"])
def test_leet_leaves_numbers_and_doses_alone(dose: str) -> None:
    assert n.deleet(dose, frozenset({"boom"})) == dose


def test_number_and_unit_are_joined(norm: Normaliser) -> None:
    assert norm.text("800 mg ibuprofen") == "800mg ibuprofen"


def test_censored_letters_are_read_as_the_one_known_word(norm: Normaliser) -> None:
    assert norm.text("k*ll myself") == "kill myself"
    assert norm.text("f*** this") == "f this"  # no known word fits: the stars go, nothing is invented


def test_symbols_inside_words_split_them(norm: Normaliser) -> None:
    assert norm.text("self-harm") == "self harm"


# --- stage 6: joins and collapses ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("k i l l myself", "kill myself"),
        ("k.i.l.l m.y.s.e.l.f", "kill myself"),
        ("k i l l m y s e l f", "kill myself"),
        ("i d i e", "i die"),
        ("a b c", "a b c"),  # spells nothing known: left as letters
    ],
)
def test_runs_of_single_letters_join_into_known_words(norm: Normaliser, text: str, expected: str) -> None:
    assert norm.text(text) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [("diiiiie", "die"), ("killlll", "kill"), ("goodbyeeee", "goodbye"), ("soooo", "soo"), ("tookk", "took")],
)
def test_elongations_collapse_to_one_or_two_letters_preferring_known_words(
    norm: Normaliser, word: str, expected: str
) -> None:
    assert norm.text(word) == expected


def test_laughter_is_normalised(norm: Normaliser) -> None:
    assert norm.text("hahahahaha jajajaja") == "haha jaja"


def test_sentence_punctuation_becomes_a_boundary_and_commas_a_soft_break(norm: Normaliser) -> None:
    tokens, breaks = norm.analyse("no, i want to die. ok")
    assert tokens == ("no", "i", "want", "to", "die", ".", "ok")
    assert breaks == frozenset({1})


def test_newlines_are_sentence_boundaries(norm: Normaliser) -> None:
    assert norm.tokens("bye\nnow") == ("bye", ".", "now")


def test_ascii_and_unicode_paths_agree_on_plain_text(norm: Normaliser) -> None:
    assert norm.text("I want to DIE, really") == norm.text("I want to DIE, really\u200b")


def test_detector_normalise_uses_the_phrase_vocabulary(detector: RiskDetector) -> None:
    assert detector.normalise("I’m gonna k!ll mysеlf tonіght 💊") == "i am going to kill myself tonight :pill:"


# --- properties ---

_CHARS = string.printable + "’‘\u200b\u00adﬁéñáüłßÇкіеорсаɡαο💊🔪😭ｋｉｌ\u3000"


_LONGEST_TOKEN = max(16, *(len(name) + 2 for name in EMOJI_TOKENS.values()))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_and_output_length_is_bounded(text: str) -> None:
    norm = _shared_normaliser()
    out = norm.text(text)
    assert len(out) <= _LONGEST_TOKEN * len(text) + 1  # an emoji becomes its name, e.g. ":skull_and_crossbones:"
    assert all(token for token in norm.tokens(text))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(alphabet=_CHARS, max_size=80), st.text(max_size=80)))
def test_normalising_twice_changes_nothing(text: str) -> None:
    norm = _shared_normaliser()
    once = norm.tokens(text)
    assert norm.tokens(" ".join(once)) == once


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.lists(st.text(max_size=80), max_size=4))
def test_detector_never_raises(text: str, context: list[str]) -> None:
    assessment = _shared_detector().assess(text, context)
    assert assessment.tier >= 0


_CACHE: dict[str, object] = {}


def _shared_detector() -> RiskDetector:
    detector = _CACHE.get("detector")
    if not isinstance(detector, RiskDetector):
        detector = _CACHE["detector"] = RiskDetector.from_directory(RISK_DIR)
    return detector


def _shared_normaliser() -> Normaliser:
    return _shared_detector()._normaliser
