"""Every phrase file's own examples: what a coordinator adds to must_flag / must_not_flag is enforced here."""

from __future__ import annotations

import pytest

from bot import shipped
from routing.model import RiskTier
from routing.risk.detector import RiskDetector
from routing.risk.phrases import Example, load_phrase_file

RISK_DIR = shipped.RISK_PHRASES
FILES = sorted(RISK_DIR.glob("*.toml"))


def _examples(kind: str) -> list[tuple[str, Example]]:
    out: list[tuple[str, Example]] = []
    for path in FILES:
        phrase_file = load_phrase_file(path)
        examples = phrase_file.must_flag if kind == "must_flag" else phrase_file.must_not_flag
        out.extend((phrase_file.lang, example) for example in examples)
    return out


@pytest.fixture(scope="module")
def detector() -> RiskDetector:
    return RiskDetector.from_directory(RISK_DIR)


def test_there_are_files_for_english_spanish_portuguese_and_french() -> None:
    assert {p.stem for p in FILES} >= {"en", "es", "pt", "fr"}


@pytest.mark.parametrize(("lang", "example"), _examples("must_flag"), ids=lambda v: getattr(v, "text", v))
def test_must_flag_examples_get_their_tier(detector: RiskDetector, lang: str, example: Example) -> None:
    assessment = detector.assess(example.text, example.context)
    assert assessment.tier is example.tier, (lang, example.text, assessment.phrase_ids)


@pytest.mark.parametrize(("lang", "example"), _examples("must_not_flag"), ids=lambda v: getattr(v, "text", v))
def test_must_not_flag_examples_get_no_tier(detector: RiskDetector, lang: str, example: Example) -> None:
    assessment = detector.assess(example.text, example.context)
    assert assessment.tier is RiskTier.NONE, (lang, example.text, assessment.phrase_ids)


def test_each_file_has_examples_of_both_kinds() -> None:
    for path in FILES:
        phrase_file = load_phrase_file(path)
        assert phrase_file.must_flag, path
        assert phrase_file.must_not_flag, path


def test_every_phrase_id_is_prefixed_with_its_language() -> None:
    for path in FILES:
        phrase_file = load_phrase_file(path)
        assert all(p.id.startswith(f"{phrase_file.lang}.") for p in phrase_file.phrases)
