"""The detector's behaviour as the router sees it: tiers, categories, negation, context."""

from __future__ import annotations

import pytest

from bot import shipped
from routing.model import RiskCategory, RiskTier
from routing.risk.assessment import NO_RISK
from routing.risk.detector import RiskDetector

RISK_DIR = shipped.RISK_PHRASES


@pytest.fixture(scope="module")
def detector() -> RiskDetector:
    return RiskDetector.from_directory(RISK_DIR)


def test_plain_message_has_no_risk(detector: RiskDetector) -> None:
    assert detector.assess("hi, can someone talk to me about exams?") == NO_RISK


def test_active_thoughts_are_high_with_their_phrase(detector: RiskDetector) -> None:
    assessment = detector.assess("I want to kill myself")
    assert assessment.tier is RiskTier.HIGH
    assert assessment.category is RiskCategory.SUICIDE
    assert "en.suicide.kill_myself" in assessment.phrase_ids


def test_intent_with_a_time_is_imminent(detector: RiskDetector) -> None:
    assessment = detector.assess("i'm going to kill myself tonight")
    assert assessment.tier is RiskTier.IMMINENT
    assert "en.rule.high_with_time" in assessment.phrase_ids


def test_tier_is_the_highest_match_and_matches_are_ordered(detector: RiskDetector) -> None:
    assessment = detector.assess("i want to die and i took 40 pills")
    assert assessment.tier is RiskTier.IMMINENT
    tiers = [m.tier for m in assessment.matches]
    assert tiers == sorted(tiers, reverse=True)


def test_negation_downgrades_to_review_and_keeps_the_match(detector: RiskDetector) -> None:
    assessment = detector.assess("i would never kill myself")
    assert assessment.tier is RiskTier.REVIEW
    assert any(m.negated and m.phrase_id == "en.suicide.kill_myself" for m in assessment.matches)


def test_imminent_phrases_are_exempt_from_negation(detector: RiskDetector) -> None:
    assert detector.assess("no, i already took 30 pills").tier is RiskTier.IMMINENT


def test_subject_before_a_negation_ends_its_reach(detector: RiskDetector) -> None:
    assert detector.assess("i'm not ok i want to die").tier is RiskTier.ELEVATED


def test_idiom_is_dropped(detector: RiskDetector) -> None:
    assert detector.assess("this homework is killing me").tier is RiskTier.NONE
    assert detector.assess("i want to die of embarrassment").tier is RiskTier.NONE


def test_media_title_is_review(detector: RiskDetector) -> None:
    assert detector.assess("suicide squad was so bad").tier is RiskTier.REVIEW


def test_third_party_is_review_with_its_category(detector: RiskDetector) -> None:
    assessment = detector.assess("my sister is suicidal")
    assert assessment.tier is RiskTier.REVIEW
    assert assessment.category is RiskCategory.THIRD_PARTY


def test_past_tense_is_review(detector: RiskDetector) -> None:
    assert detector.assess("years ago i tried to kill myself").tier is RiskTier.REVIEW
    assert detector.assess("last night i tried to kill myself").tier is RiskTier.HIGH


def test_phrase_split_over_two_messages_is_found_in_the_newest(detector: RiskDetector) -> None:
    assessment = detector.assess("myself", context=["i really want to kill"])
    assert assessment.tier is RiskTier.HIGH
    assert detector.assess("myself").tier is RiskTier.NONE


def test_match_only_in_the_earlier_message_is_not_reported_again(detector: RiskDetector) -> None:
    assert detector.assess("thanks for listening", context=["i want to kill myself"]) == NO_RISK


def test_goodbye_after_earlier_risk_is_imminent(detector: RiskDetector) -> None:
    alone = detector.assess("this is my last message")
    after = detector.assess("this is my last message", context=["i can't go on", "nobody would miss me"])
    assert alone.tier is RiskTier.ELEVATED
    assert after.tier is RiskTier.IMMINENT
    assert "en.rule.goodbye_after_risk" in after.phrase_ids


def test_bare_means_word_is_review_and_benign_dose_stays_review(detector: RiskDetector) -> None:
    assert detector.assess("took 800mg ibuprofen after the extraction").tier is RiskTier.REVIEW
    assert detector.assess("vitamins 💊").tier is RiskTier.REVIEW


def test_means_with_intent_and_quantity_is_imminent(detector: RiskDetector) -> None:
    assessment = detector.assess("i'm going to take the whole bottle of tylenol")
    assert assessment.tier is RiskTier.IMMINENT
    assert "en.rule.means_with_plan" in assessment.phrase_ids


def test_means_with_quantity_after_risk_in_context_is_imminent(detector: RiskDetector) -> None:
    assert detector.assess("i have 40 tylenol").tier is RiskTier.REVIEW
    assert detector.assess("i have 40 tylenol", context=["i just want to die"]).tier is RiskTier.IMMINENT


def test_obfuscated_spellings_are_found(detector: RiskDetector) -> None:
    for text in (
        "k i l l myself",
        "i want to k1ll mys3lf",
        "kіll myѕelf",
        "ｋｉｌｌ ｍｙｓｅｌｆ",
        "ki\u200bll myself",
    ):
        assert detector.assess(text).tier is RiskTier.HIGH, text


def test_short_words_are_never_fuzzed(detector: RiskDetector) -> None:
    assert detector.assess("i will pay the bill myself").tier is RiskTier.NONE


def test_long_words_tolerate_one_typo(detector: RiskDetector) -> None:
    assert detector.assess("i keep thinking about suicdie").tier is RiskTier.HIGH
