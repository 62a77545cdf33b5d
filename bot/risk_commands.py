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


def risk_eval(files: list[Path], phrases: Path, *, as_json: bool) -> int:
    """Evaluate the detector on each labelled file and print one report per file (never pooled: a score on the
    development set, which the phrases were tuned on, says nothing about unseen words; docs/risk.md)."""
    from routing.risk import evaluation

    detector = _load(phrases)
    if detector is None:
        return 2
    reports = {}
    for file in files:
        try:
            reports[str(file)] = evaluation.evaluate(evaluation.load_eval_set(file), detector.assess)
        except (OSError, ValueError) as exc:
            print(f"cannot evaluate {file}: {exc}", file=sys.stderr)
            return 2
    if as_json:
        dicts = {name: evaluation.report_dict(report) for name, report in reports.items()}
        print(json.dumps(dicts[str(files[0])] if len(files) == 1 else dicts))
        return 0
    for name, report in reports.items():
        if len(files) > 1:
            kind = "UNSEEN (score before any tuning on it)" if "unseen" in Path(name).parts else "development"
            print(f"== {name}: {kind}")
        print(evaluation.format_report(report))
    return 0
