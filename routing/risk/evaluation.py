"""Metrics for the detector on a labelled set of messages (JSONL), as numbers, a readable report or a dict.

A line is `{"text": ..., "label": "risk" | "none", "tier"?: ..., "category"?: ..., "lang"?: ...,
"context"?: [earlier messages, oldest first]}`; other keys (e.g. "split") are ignored. A message counts as
flagged when its tier reaches `positive_at` (elevated by default: review is context for the volunteer, not
an escalation), so negated, past, third-party and media messages are labelled "none". Recall by tier is
stricter: a risk message labelled `high` counts only if the detector gave it high or imminent; "escalated
recall" is the share of messages labelled high or imminent that reach an escalation (high or more).

The protocol (docs/risk.md): risk messages labelled `review` (distress without risk words) are neither counted
as misses nor as false alarms in the headline numbers; they are reported on their own ("review noticed": the
share the detector gave at least review).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routing.model import RiskCategory, RiskTier
from routing.risk.assessment import Assessment

Assess = Callable[[str, Sequence[str]], Assessment]


class EvalSetError(ValueError):
    """A line of a labelled set that cannot be used."""


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    """One labelled example."""

    text: str
    is_risk: bool
    tier: RiskTier | None = None
    category: RiskCategory | None = None
    lang: str | None = None
    context: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """A labelled message and what the detector said about it."""

    message: LabelledMessage
    assessment: Assessment


@dataclass(frozen=True, slots=True)
class EvalReport:
    """The detector's numbers on one labelled set."""

    n: int
    positive_at: RiskTier
    true_positives: int
    false_positives: int
    false_negatives: int
    negatives: int
    recall_by_tier: dict[str, float]
    recall_by_category: dict[str, float]
    by_lang: dict[str, dict[str, float]]
    escalated_recall: dict[str, float]  # labelled imminent / high: share given high or more
    recall_by_lang_category: dict[str, dict[str, float]]
    review_lines: int  # risk lines labelled review: outside the headline numbers
    review_noticed: float  # their share given at least review
    misses: tuple[Outcome, ...]
    false_positive_outcomes: tuple[Outcome, ...]
    under_triaged: tuple[Outcome, ...]

    @property
    def precision(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_negatives)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    @property
    def false_positive_rate(self) -> float:
        return _ratio(self.false_positives, self.negatives)


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def parse_line(line: str, number: int = 0) -> LabelledMessage:
    """Parse one JSONL line; raises EvalSetError naming the line."""
    try:
        data = json.loads(line)
        label = data["label"]
        if label not in ("risk", "none"):
            raise ValueError(f"label must be risk or none, not {label!r}")
        tier = RiskTier.parse(data["tier"]) if data.get("tier") else None
        category = RiskCategory(data["category"]) if data.get("category") else None
        context = tuple(str(c) for c in data.get("context") or ())
        return LabelledMessage(str(data["text"]), label == "risk", tier, category, data.get("lang"), context)
    except (ValueError, KeyError, TypeError) as exc:
        raise EvalSetError(f"line {number}: {exc}") from None


def parse_jsonl(lines: Iterable[str]) -> list[LabelledMessage]:
    """Parse JSONL text lines, skipping blank ones."""
    return [parse_line(line, i) for i, line in enumerate(lines, 1) if line.strip()]


def load_eval_set(path: Path) -> list[LabelledMessage]:
    """Read a labelled JSONL file."""
    return parse_jsonl(path.read_text(encoding="utf-8").splitlines())


def evaluate(
    messages: Sequence[LabelledMessage], assess: Assess, positive_at: RiskTier = RiskTier.ELEVATED
) -> EvalReport:
    """Run `assess` on every message and count."""
    every = [Outcome(m, assess(m.text, m.context)) for m in messages]
    review = [o for o in every if o.message.is_risk and o.message.tier is RiskTier.REVIEW]
    outcomes = [o for o in every if not (o.message.is_risk and o.message.tier is RiskTier.REVIEW)]
    flagged = [o for o in outcomes if o.assessment.tier >= positive_at]
    risk = [o for o in outcomes if o.message.is_risk]
    return EvalReport(
        n=len(outcomes),
        positive_at=positive_at,
        true_positives=sum(1 for o in flagged if o.message.is_risk),
        false_positives=sum(1 for o in flagged if not o.message.is_risk),
        false_negatives=sum(1 for o in risk if o.assessment.tier < positive_at),
        negatives=sum(1 for o in outcomes if not o.message.is_risk),
        recall_by_tier=_recall_by_tier(risk),
        recall_by_category=_recall_by(risk, lambda o: o.message.category, positive_at),
        by_lang=_by_lang(outcomes, positive_at),
        escalated_recall=_escalated(risk),
        recall_by_lang_category={
            lang: _recall_by([o for o in risk if o.message.lang == lang], lambda o: o.message.category, positive_at)
            for lang in sorted({o.message.lang for o in risk if o.message.lang})
        },
        review_lines=len(review),
        review_noticed=_ratio(sum(1 for o in review if o.assessment.tier >= RiskTier.REVIEW), len(review)),
        misses=tuple(o for o in risk if o.assessment.tier < positive_at),
        false_positive_outcomes=tuple(o for o in flagged if not o.message.is_risk),
        under_triaged=tuple(o for o in risk if o.message.tier and positive_at <= o.assessment.tier < o.message.tier),
    )


def _escalated(risk: Sequence[Outcome]) -> dict[str, float]:
    """For messages labelled imminent and high: the share that reached an escalation (high or more)."""
    out: dict[str, float] = {}
    for tier in (RiskTier.IMMINENT, RiskTier.HIGH):
        group = [o for o in risk if o.message.tier is tier]
        if group:
            out[tier.label] = _ratio(sum(1 for o in group if o.assessment.tier >= RiskTier.HIGH), len(group))
    return out


def _recall_by_tier(risk: Sequence[Outcome]) -> dict[str, float]:
    """For each labelled tier, the share given at least that tier."""
    out: dict[str, float] = {}
    for tier in sorted({o.message.tier for o in risk if o.message.tier}, reverse=True):
        group = [o for o in risk if o.message.tier is tier]
        out[tier.label] = _ratio(sum(1 for o in group if o.assessment.tier >= tier), len(group))
    return out


def _recall_by(risk: Sequence[Outcome], key: Callable[[Outcome], object], positive_at: RiskTier) -> dict[str, float]:
    groups: dict[str, list[Outcome]] = {}
    for outcome in risk:
        name = key(outcome)
        if name is not None:
            groups.setdefault(str(name), []).append(outcome)
    return {
        name: _ratio(sum(1 for o in group if o.assessment.tier >= positive_at), len(group))
        for name, group in sorted(groups.items())
    }


def _by_lang(outcomes: Sequence[Outcome], positive_at: RiskTier) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for lang in sorted({o.message.lang for o in outcomes if o.message.lang}):
        group = [o for o in outcomes if o.message.lang == lang]
        tp = sum(1 for o in group if o.message.is_risk and o.assessment.tier >= positive_at)
        fp = sum(1 for o in group if not o.message.is_risk and o.assessment.tier >= positive_at)
        positives = sum(1 for o in group if o.message.is_risk)
        out[lang] = {"n": len(group), "precision": _ratio(tp, tp + fp), "recall": _ratio(tp, positives)}
    return out


def report_dict(report: EvalReport) -> dict[str, Any]:
    """A JSON-able summary (misses and false positives as texts)."""
    return {
        "n": report.n,
        "positive_at": report.positive_at.label,
        "precision": round(report.precision, 4),
        "recall": round(report.recall, 4),
        "f1": round(report.f1, 4),
        "false_positive_rate": round(report.false_positive_rate, 4),
        "recall_by_tier": {k: round(v, 4) for k, v in report.recall_by_tier.items()},
        "recall_by_category": {k: round(v, 4) for k, v in report.recall_by_category.items()},
        "by_lang": {lang: {k: round(v, 4) for k, v in d.items()} for lang, d in report.by_lang.items()},
        "escalated_recall": {k: round(v, 4) for k, v in report.escalated_recall.items()},
        "recall_by_lang_category": {
            lang: {k: round(v, 4) for k, v in d.items()} for lang, d in report.recall_by_lang_category.items()
        },
        "review_lines": report.review_lines,
        "review_noticed": round(report.review_noticed, 4),
        "misses": [_describe(o) for o in report.misses],
        "false_positives": [_describe(o) for o in report.false_positive_outcomes],
        "under_triaged": [_describe(o) for o in report.under_triaged],
    }


def _describe(outcome: Outcome) -> dict[str, Any]:
    return {
        "text": outcome.message.text,
        "context": list(outcome.message.context),
        "expected": outcome.message.tier.label if outcome.message.tier else "none",
        "got": outcome.assessment.tier.label,
        "phrases": list(outcome.assessment.phrase_ids),
    }


def format_report(report: EvalReport) -> str:
    """A plain-text report for people: headline numbers, per tier/category/language, then the errors."""
    lines = [
        f"n={report.n}  flagged at >= {report.positive_at.label}",
        f"precision {report.precision:.3f}  recall {report.recall:.3f}  F1 {report.f1:.3f}  "
        f"false-positive rate {report.false_positive_rate:.3f}",
        "recall by tier (given at least the labelled tier): "
        + ", ".join(f"{k} {v:.3f}" for k, v in report.recall_by_tier.items()),
        "escalated recall (labelled tier -> high or more): "
        + ", ".join(f"{k} {v:.3f}" for k, v in report.escalated_recall.items()),
        "recall by category: " + ", ".join(f"{k} {v:.3f}" for k, v in report.recall_by_category.items()),
    ]
    for lang, numbers in report.by_lang.items():
        categories = ", ".join(f"{k} {v:.2f}" for k, v in report.recall_by_lang_category.get(lang, {}).items())
        lines.append(
            f"  {lang}: n={numbers['n']:.0f} precision {numbers['precision']:.3f} recall {numbers['recall']:.3f}"
            + (f"  ({categories})" if categories else "")
        )
    if report.review_lines:
        lines.append(
            f"review-labelled lines (outside the numbers above): {report.review_lines}, "
            f"given at least review {report.review_noticed:.3f}"
        )
    for title, outcomes in (
        ("misses", report.misses),
        ("false positives", report.false_positive_outcomes),
        ("under-triaged", report.under_triaged),
    ):
        lines.append(f"{title} ({len(outcomes)}):")
        lines.extend(_line(o) for o in outcomes)
    return "\n".join(lines)


def _line(outcome: Outcome) -> str:
    d = _describe(outcome)
    context = f"  [after {len(d['context'])} earlier]" if d["context"] else ""
    return f"  {d['expected']:>8} -> {d['got']:<8} {d['text']!r}{context} {', '.join(d['phrases'])}"
