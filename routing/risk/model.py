"""The statistical stage beside the phrase rules: logistic regression over the words of a message.

Why it exists: the phrase rules learn their examples and generalise weakly (docs/risk.md: each tuning round
added a few points of recall on the next unseen round, 0.24 in English on round 3). A linear model over the
same normalised words, trained on every labelled line the project has written, learns which words and word
pairs go with risk without anyone listing them, and held out round by round it found most of the risk the
rules missed (docs/risk.md, section 2). It does not replace the rules: the detector takes the higher tier of
the two, so everything the phrase files promise still holds.

The features are plain and cheap: each word and each pair of neighbouring words of the normalised message,
whether it asks a question, and the words of those of the person's two previous messages that read as risk on
their own (a follow-up carries the risk of what came before, not the words of a harmless chat: round 5 showed
that carrying every earlier word flags half of the harmless messages in a conversation). Heads: "risk at
all?" (elevated or more) and "needs an escalation?" (high or more) read the message with its context; "risk
on its own?" reads only its own words and decides which earlier messages count; six more pick the category.
The weights are a text file made by `peerbridge risk-train` from named labelled files (listed with their
hashes in its header), deterministic, so a test re-trains and compares byte for byte.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from routing.model import RiskCategory, RiskTier
from routing.risk.normalise import BOUNDARY

CATEGORIES = tuple(RiskCategory)
HEADS = ("risk", "severe", "alone", *(c.value for c in CATEGORIES))
RISK, SEVERE, ALONE, FIRST_CATEGORY = 0, 1, 2, 3
THRESHOLD = 0.5  # the model's own decision boundary: not tuned on any held-out set
CONTEXT_MESSAGES = 2
QUESTION = "q:?"


class ModelFileError(ValueError):
    """A model file that cannot be used; the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled line for training: normalised tokens, earlier messages' tokens, and the labels."""

    tokens: tuple[str, ...]
    context: tuple[tuple[str, ...], ...]
    question: bool
    tier: RiskTier
    category: RiskCategory | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The model's probabilities for one message."""

    risk: float
    severe: float

    @property
    def tier(self) -> RiskTier:
        if self.severe > THRESHOLD:
            return RiskTier.HIGH
        if self.risk > THRESHOLD:
            return RiskTier.ELEVATED
        return RiskTier.NONE


def features(tokens: Sequence[str], context: Sequence[Sequence[str]] = (), question: bool = False) -> set[str]:
    """Words ("w:"), neighbouring pairs ("b:"), a question mark, and earlier messages' words ("x:")."""
    out = set(own_features(tokens, question))
    for message in context[-CONTEXT_MESSAGES:]:
        out.update(context_features(message))
    return out


def own_features(tokens: Sequence[str], question: bool) -> frozenset[str]:
    """The features of a message's own words."""
    out: set[str] = set()
    previous = BOUNDARY
    for token in tokens:
        if token != BOUNDARY:
            out.add("w:" + token)
            if previous != BOUNDARY:
                out.add(f"b:{previous}_{token}")
        previous = token
    if question:
        out.add(QUESTION)
    return frozenset(out)


def context_features(tokens: Sequence[str]) -> frozenset[str]:
    """The features an earlier message gives the next one: its words."""
    return frozenset("x:" + t for t in tokens if t != BOUNDARY)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


class RiskModel:
    """Weights per feature for each head (see HEADS), and a bias per head."""

    def __init__(self, weights: Mapping[str, Sequence[float]], bias: Sequence[float], header: Sequence[str] = ()):
        if len(bias) != len(HEADS) or any(len(w) != len(HEADS) for w in weights.values()):
            raise ValueError(f"a risk model has {len(HEADS)} heads: {', '.join(HEADS)}")
        self.header = tuple(header)
        self._bias = tuple(bias)
        self._all = {f: tuple(w) for f, w in weights.items()}
        # One table per head, summed with map() over the features (C speed: every message is scored).
        self._heads = [{f: w[i] for f, w in weights.items() if w[i]} for i in range(len(HEADS))]

    def _score(self, head: int, feats: Collection[str]) -> float:
        return self._bias[head] + sum(map(self._heads[head].get, feats, itertools.repeat(0.0)))

    def verdict(self, feats: Collection[str]) -> Verdict:
        return Verdict(_sigmoid(self._score(RISK, feats)), _sigmoid(self._score(SEVERE, feats)))

    def risky_alone(self, own: Collection[str]) -> bool:
        """Whether a message's own words (`own_features`, without the question mark) read as risk: only such
        earlier messages give their words to the next one."""
        return self._score(ALONE, own) > 0.0

    def category(self, feats: Collection[str]) -> RiskCategory:
        """The most likely category for a message the model judged risky."""
        scores = [self._score(FIRST_CATEGORY + i, feats) for i in range(len(CATEGORIES))]
        return CATEGORIES[max(range(len(scores)), key=scores.__getitem__)]

    # -- the file -----------------------------------------------------------------------------------------------

    def dumps(self) -> str:
        lines = [*(f"# {h}" for h in self.header), "\t".join(("feature", *HEADS))]
        lines.append("\t".join(("(bias)", *(_number(b) for b in self._bias))))
        for feature in sorted(self._all):
            lines.append("\t".join((feature, *(_number(w) for w in self._all[feature]))))
        return "\n".join(lines) + "\n"

    @classmethod
    def load(cls, path: Path) -> RiskModel:
        """Read a model file; raises ModelFileError naming the file and the line."""
        header: list[str] = []
        weights: dict[str, tuple[float, ...]] = {}
        bias: tuple[float, ...] | None = None
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("#"):
                header.append(line[1:].strip())
                continue
            fields = line.split("\t")
            if fields[0] == "feature":
                if tuple(fields[1:]) != HEADS:
                    raise ModelFileError(f"{path}: line {number}: the heads must be {', '.join(HEADS)}")
                continue
            try:
                values = tuple(float(v) for v in fields[1:])
            except ValueError:
                raise ModelFileError(f"{path}: line {number}: a weight is not a number") from None
            if len(values) != len(HEADS):
                raise ModelFileError(f"{path}: line {number}: expected {len(HEADS)} weights, found {len(values)}")
            if fields[0] == "(bias)":
                bias = values
            else:
                weights[fields[0]] = values
        if bias is None:
            raise ModelFileError(f"{path}: no (bias) line: not a risk model file")
        return cls(weights, bias, header)


def _number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") if value else "0"


@dataclass(frozen=True, slots=True)
class TrainingPlan:
    """How a model is trained; recorded in the model file's header."""

    epochs: int = 12
    rate: float = 0.3
    l2: float = 0.001
    seed: int = 7
    keep_above: float = 0.01  # weights smaller than this are left out of the file

    def describe(self) -> str:
        return f"epochs={self.epochs} rate={self.rate} l2={self.l2} seed={self.seed} keep_above={self.keep_above}"


DEFAULT_PLAN = TrainingPlan()


def train(examples: Sequence[Example], plan: TrainingPlan = DEFAULT_PLAN, header: Sequence[str] = ()) -> RiskModel:
    """Stochastic gradient descent on the logistic loss of each head, in a seeded order: deterministic.

    First the "alone" head learns from each message's own words; then the other heads learn from the message
    with the earlier messages the alone head reads as risk (as the detector will see them). `review`-labelled
    lines are left out (distress without risk words is neither risk nor its absence: the measurement protocol
    keeps them apart too). The category heads learn from risk lines only.
    """
    rows = [e for e in examples if e.tier is not RiskTier.REVIEW]
    weights: dict[str, list[float]] = {}
    bias = [0.0] * len(HEADS)
    alone = [(sorted(own_features(e.tokens, e.question)), [(ALONE, float(e.tier >= RiskTier.ELEVATED))]) for e in rows]
    _descend(alone, weights, bias, plan)

    def risky(tokens: Sequence[str]) -> bool:
        own = own_features(tokens, False)
        return bias[ALONE] + sum(weights[f][ALONE] for f in own if f in weights) > 0.0

    full = [
        (sorted(features(e.tokens, [c for c in e.context[-CONTEXT_MESSAGES:] if risky(c)], e.question)), _targets(e))
        for e in rows
    ]
    _descend(full, weights, bias, plan)
    kept = {
        f: tuple(round(x, 4) if abs(x) >= plan.keep_above else 0.0 for x in w)
        for f, w in weights.items()
        if any(abs(x) >= plan.keep_above for x in w)
    }
    return RiskModel(kept, tuple(round(b, 4) for b in bias), [*header, plan.describe()])


def _descend(
    rows: Sequence[tuple[Sequence[str], Sequence[tuple[int, float]]]],
    weights: dict[str, list[float]],
    bias: list[float],
    plan: TrainingPlan,
) -> None:
    order = list(range(len(rows)))
    rng = random.Random(plan.seed)
    for _ in range(plan.epochs):
        rng.shuffle(order)
        for index in order:
            feats, targets = rows[index]
            vectors = [weights.setdefault(f, [0.0] * len(HEADS)) for f in feats]
            for head, target in targets:
                gradient = _sigmoid(bias[head] + sum(v[head] for v in vectors)) - target
                bias[head] -= plan.rate * gradient
                for v in vectors:
                    v[head] -= plan.rate * (gradient + plan.l2 * v[head])


def _targets(example: Example) -> list[tuple[int, float]]:
    targets = [(RISK, float(example.tier >= RiskTier.ELEVATED)), (SEVERE, float(example.tier >= RiskTier.HIGH))]
    if example.tier >= RiskTier.ELEVATED and example.category is not None:
        targets += [(FIRST_CATEGORY + i, float(c is example.category)) for i, c in enumerate(CATEGORIES)]
    return targets
