"""The rules around a phrase match: suppression, negation, past, third party, windows and combinations."""

from __future__ import annotations

import pytest

from bot import shipped
from routing.model import RiskCategory, RiskTier
from routing.risk.detector import RiskDetector

RISK_DIR = shipped.RISK_PHRASES


@pytest.fixture(scope="module")
def detector() -> RiskDetector:
    return RiskDetector.from_directory(RISK_DIR)


def tier(detector: RiskDetector, text: str, *context: str) -> RiskTier:
    return detector.assess(text, context).tier


# --- idioms and media ---


@pytest.mark.parametrize(
    "text",
    [
        "my back is killing me",
        "i'm dying to see you",
        "i killed myself laughing at that",
        "i cut myself a piece of pie",
        "i hurt myself at the gym",
        "that was career suicide",
        "ugh i want to end things with him",
        "me muero de hambre",
        "me mato estudiando",
        "mañana me corto el pelo",
        "me pegó el resfriado",
    ],
)
def test_idioms_drop_the_match(detector: RiskDetector, text: str) -> None:
    assert tier(detector, text) is RiskTier.NONE


@pytest.mark.parametrize(
    "text", ["suicide squad 2 is out", "suicide prevention week at school", "vimos escuadrón suicida"]
)
def test_media_keeps_the_match_at_review(detector: RiskDetector, text: str) -> None:
    assert tier(detector, text) is RiskTier.REVIEW


def test_an_idiom_elsewhere_in_the_message_does_not_hide_real_risk(detector: RiskDetector) -> None:
    assert tier(detector, "this homework is killing me and i want to kill myself") is RiskTier.HIGH


# --- negation ---


@pytest.mark.parametrize(
    "text",
    [
        "i would never kill myself",
        "i'm not suicidal",
        "i don't want to die",
        "no quiero morir",
        "nunca pensaría en suicidarme",
        "no me quiero matar",
    ],
)
def test_negation_downgrades_to_review_and_marks_the_match(detector: RiskDetector, text: str) -> None:
    assessment = detector.assess(text)
    assert assessment.tier is RiskTier.REVIEW
    assert all(m.negated for m in assessment.matches)


@pytest.mark.parametrize(
    "text",
    [
        "i'm not ok and i want to die",  # "and" ends the negation's reach
        "not good, i want to kill myself",  # so does a comma
        "no doy más, me quiero morir",
        "i can't stop thinking about killing myself",  # pseudo-negation
        "i've never felt so hopeless",
        "i don't want to live anymore",  # the negation is part of the phrase
        "ya no quiero vivir",
    ],
)
def test_negation_does_not_reach_across_clauses_or_into_phrases(detector: RiskDetector, text: str) -> None:
    assessment = detector.assess(text)
    assert assessment.tier >= RiskTier.ELEVATED
    assert not assessment.matches[0].negated


def test_imminent_phrase_is_never_downgraded_by_negation(detector: RiskDetector) -> None:
    assert tier(detector, "i'm not lying, i took 50 pills") is RiskTier.IMMINENT


# --- past and third party ---


@pytest.mark.parametrize(
    "text",
    [
        "i used to cut myself",
        "years ago i was suicidal",
        "i overdosed back in 2015",
        "hace años intenté suicidarme",
        "when i was 14 i tried to kill myself, i'm better now",
    ],
)
def test_past_tense_is_review(detector: RiskDetector, text: str) -> None:
    assert tier(detector, text) is RiskTier.REVIEW


def test_a_recent_time_overrides_a_past_one(detector: RiskDetector) -> None:
    assert tier(detector, "i still cut myself like i used to") is RiskTier.HIGH


def test_abuse_is_not_downgraded_by_past_tense(detector: RiskDetector) -> None:
    assert tier(detector, "my uncle touched me when i was a kid") is RiskTier.HIGH


@pytest.mark.parametrize(
    "text",
    [
        "my brother is suicidal",
        "my friend keeps saying she wants to die",
        "i think my girlfriend is thinking about suicide",
        "mi amiga se quiere suicidar",
    ],
)
def test_third_party_is_review_with_its_own_category(detector: RiskDetector, text: str) -> None:
    assessment = detector.assess(text)
    assert assessment.tier is RiskTier.REVIEW
    assert assessment.category is RiskCategory.THIRD_PARTY


def test_a_subject_in_the_previous_message_does_not_make_a_new_phrase_third_party(detector: RiskDetector) -> None:
    assert tier(detector, "i want to die too", "my brother is suicidal") is RiskTier.ELEVATED


def test_a_phrase_about_the_person_is_not_third_party(detector: RiskDetector) -> None:
    assert tier(detector, "he told me to kill myself") is RiskTier.HIGH
    assert tier(detector, "they would be better off without me") is RiskTier.ELEVATED


def test_a_joke_marker_downgrades_threats_but_not_suicide(detector: RiskDetector) -> None:
    assert tier(detector, "i'm going to kill him lol") is RiskTier.REVIEW
    assert tier(detector, "i want to die lol") is RiskTier.ELEVATED


# --- the window over two messages ---


def test_phrase_split_across_two_messages_is_reported_once_in_the_newest(detector: RiskDetector) -> None:
    assessment = detector.assess("myself", ["i really want to kill"])
    assert assessment.tier is RiskTier.HIGH
    assert assessment.phrase_ids.count("en.suicide.kill_myself") == 1


def test_spanish_phrase_split_across_messages(detector: RiskDetector) -> None:
    assert tier(detector, "matar", "me quiero") is RiskTier.HIGH


def test_a_phrase_wholly_in_the_earlier_message_is_not_reported_again(detector: RiskDetector) -> None:
    assert tier(detector, "ok", "i want to die") is RiskTier.NONE


def test_window_does_not_join_across_a_sentence_end(detector: RiskDetector) -> None:
    assert tier(detector, "myself", "i really want to kill. whatever") is RiskTier.NONE


def test_a_time_sent_right_after_intent_makes_it_imminent(detector: RiskDetector) -> None:
    assessment = detector.assess("tonight", ["i'm going to end it"])
    assert assessment.tier is RiskTier.IMMINENT
    assert assessment.phrase_ids == ("en.rule.time_follow_up",)


def test_a_follow_up_with_no_risk_words_carries_the_risk_of_what_came_before(detector: RiskDetector) -> None:
    """Readiness after a means word or real risk earlier in the conversation (not only the last message)."""
    rope = ["i have my dads belt", "the door in my room has a hook on the back of it"]
    assessment = detector.assess("ok. it's ready now", rope)
    assert assessment.tier is RiskTier.IMMINENT and assessment.phrase_ids == ("en.rule.ready_after_risk",)
    assert (
        tier(detector, "ya está lista", "me compré una cuerda en la ferretería", "hoy no hay nadie")
        is RiskTier.IMMINENT
    )
    assert tier(detector, "on my way there now", "i keep thinking about jumping off the viaduct") is RiskTier.IMMINENT
    # The same words without risk before them, negated, or long and about something else: nothing.
    assert tier(detector, "ok. it's ready now", "the cake is in the oven", "smells great") is RiskTier.NONE
    assert tier(detector, "it's not ready yet", *rope) is RiskTier.NONE
    long = "ok it's ready now, we are all going to the cinema with my sister and her kids later"
    assert tier(detector, long, *rope) is RiskTier.NONE


def test_a_long_message_mentioning_a_time_is_not_a_follow_up(detector: RiskDetector) -> None:
    assert tier(detector, "i have to work tonight at the store again", "i want to kill myself") is RiskTier.NONE


# --- combination rules ---


@pytest.mark.parametrize(
    "text",
    [
        "i want to kill myself tonight",
        "he is beating me right now",
        "me voy a matar esta noche",
        "im gonna kill myself in like an hour",
    ],
)
def test_high_with_a_time_is_imminent(detector: RiskDetector, text: str) -> None:
    assessment = detector.assess(text)
    assert assessment.tier is RiskTier.IMMINENT
    assert any(p.endswith(".rule.high_with_time") for p in assessment.phrase_ids)


def test_a_time_in_another_sentence_does_not_combine(detector: RiskDetector) -> None:
    assert tier(detector, "i was suicidal for years. i'm safe now") is RiskTier.HIGH


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i'm going to take all my pills", RiskTier.IMMINENT),  # intent + quantity
        ("i'm going to take the pills tonight", RiskTier.IMMINENT),  # intent + time
        ("i'm going to take my pills tonight like always", RiskTier.REVIEW),  # routine
        ("i have 30 pills and i want to die", RiskTier.IMMINENT),  # quantity + risk in the message
        ("i want to die and i have a gun right here", RiskTier.IMMINENT),  # closeness counts as now
        ("i took 800mg ibuprofen after the extraction", RiskTier.REVIEW),  # a dose is not a quantity
        ("my grandma takes 6 pills a day", RiskTier.REVIEW),
        ("voy a tomarme todas las pastillas", RiskTier.IMMINENT),
    ],
)
def test_means_word_combinations(detector: RiskDetector, text: str, expected: RiskTier) -> None:
    assert tier(detector, text) is expected


def test_means_with_quantity_after_risk_earlier_in_the_conversation(detector: RiskDetector) -> None:
    assert tier(detector, "i have 40 tylenol") is RiskTier.REVIEW
    assert tier(detector, "i have 40 tylenol", "i want to die", "nobody cares") is RiskTier.IMMINENT


def test_goodbye_is_imminent_only_after_risk(detector: RiskDetector) -> None:
    assert tier(detector, "goodbye everyone") is RiskTier.ELEVATED
    assert tier(detector, "goodbye everyone", "i can't go on") is RiskTier.IMMINENT
    assert tier(detector, "goodbye everyone", "i would never kill myself") is RiskTier.ELEVATED  # negated risk
    assert tier(detector, "goodbye everyone", "my friend is suicidal") is RiskTier.ELEVATED  # third party
    assert tier(detector, "bye everyone, i have the pills") is RiskTier.IMMINENT  # beside a means word


def test_goodbye_for_now_is_not_a_farewell(detector: RiskDetector) -> None:
    assert tier(detector, "goodbye for now, talk later", "i want to die") is RiskTier.NONE


def test_finality_at_a_sentence_end_only(detector: RiskDetector) -> None:
    assert tier(detector, "i'm done.", "i want to kill myself") is RiskTier.IMMINENT
    assert tier(detector, "i'm done with my homework", "i want to kill myself") is RiskTier.NONE


def test_context_older_than_the_window_still_counts_for_goodbye(detector: RiskDetector) -> None:
    context = ["i want to kill myself", *["ok"] * 5]
    assert tier(detector, "this is my last message", *context) is RiskTier.IMMINENT
