"""`peerbridge risk-check` and `peerbridge risk-eval`: see what the detector does, without touching code."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from routing.risk.detector import RiskDetector
from routing.risk.phrases import PhraseFileError


def _load(phrases: Path) -> RiskDetector | None:
    try:
        return RiskDetector.from_directory(phrases)
    except (PhraseFileError, OSError) as exc:
        print(f"cannot load the phrase files in {phrases}: {exc}", file=sys.stderr)
        return None


def risk_check(text: str, phrases: Path) -> int:
    """Print the tier, category and matched phrases for one message."""
    detector = _load(phrases)
    if detector is None:
        return 2
    assessment = detector.assess(text)
    print(f"tier: {assessment.tier.label}")
    print(f"category: {assessment.category or '-'}")
    for match in assessment.matches:
        negated = " (negated)" if match.negated else ""
        print(f"matched: {match.phrase_id} [{match.tier.label}, {match.category}, {match.lang}]{negated}")
    if not assessment.matches:
        print("matched: nothing")
    return 0


def risk_eval(file: Path, phrases: Path, *, as_json: bool) -> int:
    """Evaluate the detector on a labelled JSONL file and print the report."""
    from routing.risk import evaluation

    detector = _load(phrases)
    if detector is None:
        return 2
    try:
        report = evaluation.evaluate(evaluation.load_eval_set(file), detector.assess)
    except (OSError, ValueError) as exc:
        print(f"cannot evaluate {file}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(evaluation.report_dict(report)) if as_json else evaluation.format_report(report))
    return 0
