"""`peerbridge risk-check`, `risk-eval` and `risk-train`: see what the detector does, measure it, train its model."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from routing.risk.detector import RiskDetector
from routing.risk.model import ModelFileError
from routing.risk.phrases import PhraseFileError


def _load(phrases: Path, model: Path | None = None) -> RiskDetector | None:
    try:
        return RiskDetector.from_directory(phrases, model)
    except (PhraseFileError, ModelFileError, OSError) as exc:
        print(f"cannot load the detector ({phrases}, model {model or 'none'}): {exc}", file=sys.stderr)
        return None


def risk_check(text: str, phrases: Path, model: Path | None = None) -> int:
    """Print the tier, category and matched phrases for one message."""
    detector = _load(phrases, model)
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


def risk_eval(files: list[Path], phrases: Path, model: Path | None = None, *, as_json: bool) -> int:
    """Evaluate the detector on each labelled file and print one report per file (never pooled: a score on the
    development set, which the phrases were tuned on, says nothing about unseen words; docs/risk.md)."""
    from routing.risk import evaluation

    detector = _load(phrases, model)
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


def risk_train(files: list[Path], phrases: Path, out: Path, *, check: bool) -> int:
    """Train the model on `files` (or, with `check`, on the files `out` names) and write it to `out`.

    With `check`, nothing is written: exit 1 unless re-training gives the same file byte for byte (the model
    is reproducible from the repository: same data, same code, same weights) or a named file has changed.
    """
    from routing.risk.model import RiskModel
    from routing.risk.model_training import train_on_files, training_files

    detector = _load(phrases)
    if detector is None:
        return 2
    root = Path.cwd()
    if check:
        try:
            named = training_files(RiskModel.load(out), root)
        except (ModelFileError, OSError) as exc:
            print(f"cannot read the model {out}: {exc}", file=sys.stderr)
            return 2
        for path, sha in named:
            if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != sha:
                print(f"{path} is missing or has changed since the model was trained: re-train it", file=sys.stderr)
                return 1
        files = [path for path, _sha in named]
    if not files:
        print("name the labelled files to train on (e.g. tests/data/risk_eval.jsonl tests/data/dev/*/*.jsonl)",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        text = train_on_files(detector, files, root).dumps()
    except (OSError, ValueError) as exc:
        print(f"cannot train: {exc}", file=sys.stderr)
        return 2
    if check:
        same = out.read_text(encoding="utf-8") == text
        print(f"{out}: {'reproduced exactly' if same else 'DIFFERS from a re-training: re-train and commit it'}")
        return 0 if same else 1
    out.write_text(text, encoding="utf-8")
    print(f"{out}: trained on {len(files)} files")
    return 0
