"""The risk model beside the phrase rules: what it adds, what it never takes away, and that it is reproducible."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot import shipped
from routing.model import Audience, Platform, RiskCategory, RiskTier
from routing.risk.detector import RiskDetector
from routing.risk.model import HEADS, Example, ModelFileError, RiskModel, TrainingPlan, Verdict, features, train
from routing.risk.phrases import load_phrase_file
from tests.routing_harness import make_harness

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def rules() -> RiskDetector:
    return RiskDetector.from_directory(shipped.RISK_PHRASES)


@pytest.fixture(scope="module")
def both() -> RiskDetector:
    return RiskDetector.from_directory(shipped.RISK_PHRASES, shipped.RISK_MODEL)


# Messages in no labelled file, worded as the phrase files never listed: the rules alone find nothing.
UNLISTED = [
    ("wrote letters for my kids and put them in the drawer. they'll find them after", RiskTier.HIGH),
    ("he's kicking the bedroom door and screaming he'll break it down", RiskTier.HIGH),
    ("nobody would even notice if i just wasn't here next week", RiskTier.ELEVATED),
]


@pytest.mark.parametrize(("text", "tier"), UNLISTED)
def test_the_model_finds_risk_the_phrases_never_listed(
    rules: RiskDetector, both: RiskDetector, text: str, tier: RiskTier
) -> None:
    assert rules.assess(text).tier is RiskTier.NONE
    found = both.assess(text)
    assert found.tier >= tier
    assert found.matches[0].phrase_id == f"model.{found.tier.label}" and found.category is not None


@pytest.mark.parametrize(
    "text",
    ["this homework is killing me", "can you recommend a good book about grief?", "thanks, that really helped"],
)
def test_ordinary_messages_stay_unflagged_with_the_model(both: RiskDetector, text: str) -> None:
    assert both.assess(text).tier < RiskTier.ELEVATED


def test_a_follow_up_carries_the_risk_of_a_risky_earlier_message_not_the_words_of_a_harmless_one(
    rules: RiskDetector, both: RiskDetector
) -> None:
    """Conversation risk state (round 5's lesson): only earlier messages that read as risk on their own give
    their words to the next one."""
    follow_up = "yeah it's in my pocket"
    risky = ["i bought a knife today and i know what i'm going to do with it"]
    assert rules.assess(follow_up, risky).tier is RiskTier.NONE  # no phrase completes it
    assert both.assess(follow_up, risky).tier >= RiskTier.HIGH
    # (The model trained through round 11 reads "got my phone back from the repair shop" as risk on its own, a
    # known false "risky alone": docs/risk.md, "Round 12". The mechanism is tested with a plainly harmless one.)
    assert both.assess(follow_up, ["watched a film with my mum"]).tier is RiskTier.NONE
    assert both.assess("thanks, talking helps", ["i feel so alone lately", "nobody texts me back"]).tier < (
        RiskTier.ELEVATED
    )


def test_the_model_never_lowers_what_the_phrase_files_promise(rules: RiskDetector, both: RiskDetector) -> None:
    """Every must_flag example keeps at least its tier with the model on; a rules verdict is never replaced."""
    for path in sorted(shipped.RISK_PHRASES.glob("*.toml")):
        for example in load_phrase_file(path).must_flag:
            plain = rules.assess(example.text, example.context)
            combined = both.assess(example.text, example.context)
            assert combined.tier >= plain.tier == example.tier, example.text
            assert set(plain.matches) <= set(combined.matches), example.text


def test_the_shipped_model_is_reproduced_exactly_from_the_files_it_names() -> None:
    """Same data, same code, same weights: `risk-train --check` re-trains on the files (and hashes) in its header."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "risk-train", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reproduced exactly" in result.stdout
    named = [line for line in RiskModel.load(shipped.RISK_MODEL).header if line.startswith("trained on: ")]
    assert len(named) >= 7 and not any("unseen" in line for line in named)  # never trained on an unseen round


def test_training_is_deterministic_and_learns_from_its_examples() -> None:
    def example(text: str, tier: RiskTier, category: RiskCategory | None = None) -> Example:
        return Example(tuple(text.split()), (), False, tier, category)

    data = [
        example("i will jump off the tower", RiskTier.HIGH, RiskCategory.SUICIDE),
        example("he punched me again", RiskTier.HIGH, RiskCategory.ABUSE),
        example("i miss the old days sometimes", RiskTier.ELEVATED, RiskCategory.SUICIDE),
        example("the tower has a nice view", RiskTier.NONE),
        example("lunch was good today", RiskTier.NONE),
        example("feeling flat", RiskTier.REVIEW),  # left out, as in the protocol
    ] * 5
    first, second = train(data, TrainingPlan(epochs=20)), train(data, TrainingPlan(epochs=20))
    assert first.dumps() == second.dumps()
    jump = features(("i", "will", "jump"))
    assert first.verdict(jump).tier is RiskTier.HIGH
    assert first.verdict(features(("lunch", "was", "good"))).tier is RiskTier.NONE
    assert first.category(features(("he", "punched", "me"))) is RiskCategory.ABUSE
    assert "w:feeling" not in first.dumps()  # the review line taught it nothing


def test_a_model_file_round_trips_and_a_broken_one_is_named(tmp_path: Path) -> None:
    model = RiskModel({"w:rope": (1.5, 0.5, *([0.0] * (len(HEADS) - 2)))}, [-1.0] * len(HEADS), ["made for a test"])
    path = tmp_path / "model.tsv"
    path.write_text(model.dumps())
    again = RiskModel.load(path)
    assert again.dumps() == model.dumps() and again.header == ("made for a test",)
    assert again.verdict({"w:rope"}) == model.verdict({"w:rope"})
    lines = model.dumps().splitlines()
    for broken, problem in [
        ([*lines, "w:knot\t0.1\tnot-a-number" + "\t0" * 7], "line 5: a weight is not a number"),
        ([*lines, "w:knot\t0.1"], "line 5: expected 9 weights, found 1"),
        ([lines[0], lines[1], lines[3]], "no (bias) line"),
        ([lines[0], "feature\trisk", *lines[2:]], "line 2: the heads must be"),
    ]:
        path.write_text("\n".join(broken) + "\n")
        with pytest.raises(ModelFileError, match=problem.replace("(", r"\(").replace(")", r"\)")):
            RiskModel.load(path)


def test_verdict_tiers_follow_the_two_heads() -> None:
    assert Verdict(risk=0.9, severe=0.8).tier is RiskTier.HIGH
    assert Verdict(risk=0.9, severe=0.2).tier is RiskTier.ELEVATED
    assert Verdict(risk=0.3, severe=0.6).tier is RiskTier.HIGH  # needing an escalation is risk whatever the other
    assert Verdict(risk=0.3, severe=0.2).tier is RiskTier.NONE


def test_check_config_names_a_broken_model_and_the_way_out(tmp_path: Path) -> None:
    broken = tmp_path / "model.tsv"
    broken.write_text("feature\trisk\n")
    cfg = tmp_path / "p.toml"
    cfg.write_text(f'[risk]\nmodel_file = "{broken}"\n')
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check-config", "--config", str(cfg)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "risk model problem" in result.stderr + result.stdout and "risk.use_model = false" in (
        result.stderr + result.stdout
    )


async def test_a_message_only_the_model_reads_as_risk_is_escalated_end_to_end(redis: Redis, both: RiskDetector) -> None:
    """The router with the production detector (rules and model): the person gets the crisis resources, the
    professional gets an escalation, though no phrase matched."""
    h = make_harness(redis, detector=both)
    await h.person("9101", "wrote letters for my kids and put them in the drawer. they'll find them after")
    out = await h.outbound(Platform.TELEGRAM)
    assert any(m.audience == Audience.SEEKER and "emergency number" in m.text for m in out)
    assert any(m.audience == Audience.ESCALATION and "high" in m.text.lower() for m in out)
