"""Training the risk model from labelled files, reproducibly: the model file names its data and their hashes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from routing.model import RiskTier
from routing.risk.detector import RiskDetector
from routing.risk.evaluation import LabelledMessage, load_eval_set
from routing.risk.model import DEFAULT_PLAN, Example, RiskModel, TrainingPlan, train

MADE_BY = "peerbridge risk model (routing/risk/model.py), made by `peerbridge risk-train`: do not edit by hand"
TRAINED_ON = "trained on: "


def examples(detector: RiskDetector, messages: Sequence[LabelledMessage]) -> list[Example]:
    """Labelled messages as the model sees them (tokens from the detector's normaliser)."""
    return [
        Example(
            tokens=detector.tokens(m.text),
            context=tuple(detector.tokens(c) for c in m.context),
            question="?" in m.text,
            tier=(m.tier or RiskTier.HIGH) if m.is_risk else RiskTier.NONE,
            category=m.category,
        )
        for m in messages
    ]


def train_on_files(
    detector: RiskDetector, files: Sequence[Path], root: Path, plan: TrainingPlan = DEFAULT_PLAN
) -> RiskModel:
    """Train on the files in the order given; the header records each file (relative to `root`) and its hash."""
    header = [MADE_BY]
    data: list[Example] = []
    for file in files:
        raw = file.read_bytes()
        messages = load_eval_set(file)
        name = file.resolve().relative_to(root.resolve())
        header.append(f"{TRAINED_ON}{name} sha256={_sha(raw)} lines={len(messages)}")
        data.extend(examples(detector, messages))
    return train(data, plan, header)


def training_files(model: RiskModel, root: Path) -> list[tuple[Path, str]]:
    """The files a model says it was trained on, with the hash each had then."""
    out = []
    for line in model.header:
        if line.startswith(TRAINED_ON):
            path, sha, _lines = line[len(TRAINED_ON) :].split(" ")
            out.append((root / path, sha.removeprefix("sha256=")))
    return out


def _sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
