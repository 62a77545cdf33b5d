"""Evaluation metrics, and the detector on the labelled set tests/data/risk_eval.jsonl."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot import shipped
from routing.model import RiskCategory, RiskTier
from routing.risk.assessment import NO_RISK, Assessment
from routing.risk.detector import RiskDetector
from routing.risk.evaluation import (
    EvalSetError,
    LabelledMessage,
    evaluate,
    format_report,
    load_eval_set,
    parse_jsonl,
    report_dict,
)

ROOT = Path(__file__).resolve().parent.parent
EVAL_SET = ROOT / "tests" / "data" / "risk_eval.jsonl"


def fixed(answers: dict[str, RiskTier]):  # type: ignore[no-untyped-def]
    def assess(text: str, context: Sequence[str] = ()) -> Assessment:
        tier = answers.get(text, RiskTier.NONE)
        return NO_RISK if tier is RiskTier.NONE else Assessment(tier, RiskCategory.SUICIDE)

    return assess


LINES = [
    '{"text": "a", "label": "risk", "tier": "imminent", "category": "suicide", "lang": "en"}',
    '{"text": "b", "label": "risk", "tier": "high", "category": "self_harm", "lang": "en"}',
    '{"text": "c", "label": "risk", "tier": "elevated", "category": "suicide", "lang": "es"}',
    '{"text": "d", "label": "none", "lang": "en"}',
    "",
    '{"text": "e", "label": "none", "lang": "es", "context": ["x"]}',
]


def test_metrics_count_what_they_should() -> None:
    messages = parse_jsonl(LINES)
    assess = fixed({"a": RiskTier.HIGH, "b": RiskTier.HIGH, "d": RiskTier.ELEVATED, "e": RiskTier.REVIEW})
    report = evaluate(messages, assess)
    assert report.n == 5
    assert (report.true_positives, report.false_positives, report.false_negatives) == (2, 1, 1)
    assert report.precision == pytest.approx(2 / 3)
    assert report.recall == pytest.approx(2 / 3)
    assert report.f1 == pytest.approx(2 / 3)
    assert report.false_positive_rate == pytest.approx(1 / 2)  # review is not a flag
    assert report.recall_by_tier == {"imminent": 0.0, "high": 1.0, "elevated": 0.0}  # "a" was under-triaged
    assert report.recall_by_category == {"self_harm": 1.0, "suicide": 0.5}
    assert [o.message.text for o in report.misses] == ["c"]
    assert [o.message.text for o in report.false_positive_outcomes] == ["d"]
    assert [o.message.text for o in report.under_triaged] == ["a"]
    assert report.by_lang["es"] == {"n": 2, "precision": 0.0, "recall": 0.0}


def test_escalated_recall_per_language_categories_and_review_lines_kept_apart() -> None:
    messages = parse_jsonl([
        *LINES,
        '{"text": "f", "label": "risk", "tier": "imminent", "category": "abuse", "lang": "es"}',
        '{"text": "g", "label": "risk", "tier": "review", "category": "suicide", "lang": "en"}',
        '{"text": "h", "label": "risk", "tier": "review", "category": "suicide", "lang": "en"}',
    ])  # fmt: skip
    assess = fixed({"a": RiskTier.HIGH, "b": RiskTier.ELEVATED, "f": RiskTier.IMMINENT, "g": RiskTier.HIGH})
    report = evaluate(messages, assess)
    assert report.escalated_recall == {"imminent": 1.0, "high": 0.0}  # "a" and "f" escalate; "b" only elevated
    assert report.recall_by_lang_category == {
        "en": {"self_harm": 1.0, "suicide": 1.0},
        "es": {"abuse": 1.0, "suicide": 0.0},
    }
    # The two review-labelled lines are neither misses ("h") nor false alarms ("g"), and are reported apart.
    assert report.n == 6 and report.false_positives == 0 and report.false_negatives == 1
    assert (report.review_lines, report.review_noticed) == (2, 0.5)
    text = format_report(report)
    assert "escalated recall (labelled tier -> high or more): imminent 1.000, high 0.000" in text
    assert "review-labelled lines (outside the numbers above): 2, given at least review 0.500" in text


def test_report_dict_is_json_and_has_the_headline_keys() -> None:
    report = evaluate(parse_jsonl(LINES), fixed({"a": RiskTier.IMMINENT}))
    data = json.loads(json.dumps(report_dict(report)))
    assert {"precision", "recall", "f1", "n", "recall_by_tier", "false_positive_rate"} <= set(data)
    assert data["misses"][0]["text"] == "b"


def test_text_report_lists_numbers_and_errors() -> None:
    text = format_report(evaluate(parse_jsonl(LINES), fixed({"d": RiskTier.HIGH})))
    assert "precision 0.000" in text
    assert "false positives (1):" in text
    assert "'d'" in text


@pytest.mark.parametrize(
    "line", ['{"text": "a"}', '{"text": "a", "label": "maybe"}', '{"text": "a", "label": "risk", "tier": "x"}', "{"]
)
def test_bad_lines_name_their_line_number(line: str) -> None:
    with pytest.raises(EvalSetError, match="line 2"):
        parse_jsonl([LINES[0], line])


# --- the labelled set ---


@pytest.fixture(scope="module")
def eval_report():  # type: ignore[no-untyped-def]
    detector = RiskDetector.from_directory(shipped.RISK_PHRASES)
    return evaluate(load_eval_set(EVAL_SET), detector.assess)


def test_eval_set_is_large_and_bilingual() -> None:
    messages = load_eval_set(EVAL_SET)
    assert len(messages) >= 400
    assert {m.lang for m in messages} == {"en", "es"}
    assert sum(m.is_risk for m in messages) >= 150
    assert sum(not m.is_risk for m in messages) >= 150
    assert sum(bool(m.context) for m in messages) >= 20


def test_detector_meets_the_targets_on_the_eval_set(eval_report) -> None:  # type: ignore[no-untyped-def]
    summary = format_report(eval_report)
    assert eval_report.recall >= 0.95, summary
    assert eval_report.precision >= 0.90, summary
    assert eval_report.recall_by_tier["imminent"] == 1.0, summary


def test_unseen_rounds_are_complete_and_share_no_message_with_the_development_data() -> None:
    """The protocol (docs/risk.md): an unseen round is frozen apart from everything tuned on; a line copied into
    the development data (or from it) would make its score a score on tuned data. A line is its words with the
    earlier messages it follows: "yes" after "do you have the pills with you" is not "yes" after "are you home"."""
    data = ROOT / "tests" / "data"

    def line(m: LabelledMessage) -> tuple[str, tuple[str, ...]]:
        return m.text.casefold(), tuple(c.casefold() for c in m.context)

    development = {line(m) for m in load_eval_set(EVAL_SET)}
    for path in sorted((data / "dev").rglob("*.jsonl")):
        development |= {line(m) for m in load_eval_set(path)}
    rounds = sorted((data / "unseen").glob("round*/*.jsonl"))
    assert rounds, "there must always be an unseen round to score the detector on"
    for path in rounds:
        messages = load_eval_set(path)
        assert len(messages) >= 250 and sum(m.is_risk for m in messages) >= 150, path
        assert {m.lang for m in messages} == {path.stem}, path
        assert not {line(m) for m in messages} & development, path
