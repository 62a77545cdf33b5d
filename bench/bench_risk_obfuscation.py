"""How much of the detector's finding survives obfuscation, on the latest unseen round (issue 20's target: 95 %).

Run: `python bench/bench_risk_obfuscation.py [--no-model] [FILE …]` (default: the newest round in tests/data/unseen/).
Of the risk lines the detector flags (elevated or more) as written, the share still flagged after each
transformation people use to dodge filters (the same ones tests/test_risk_metamorphic.py applies to every
phrase-file example): leetspeak, Cyrillic look-alikes, zero-width characters, fullwidth letters, elongated
vowels, a spaced-out word, capitals. Prints one row per file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import shipped  # noqa: E402
from routing.model import RiskTier  # noqa: E402
from routing.risk.detector import RiskDetector  # noqa: E402
from routing.risk.evaluation import load_eval_set  # noqa: E402
from tests.test_risk_metamorphic import TRANSFORMS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="*", type=Path)
    parser.add_argument("--no-model", action="store_true", help="the phrase rules alone, without the risk model")
    args = parser.parse_args()
    rounds = sorted((ROOT / "tests" / "data" / "unseen").glob("round*"), key=lambda p: int(p.name[5:]))
    files = args.file or sorted(rounds[-1].glob("*.jsonl"))
    detector = RiskDetector.from_directory(shipped.RISK_PHRASES, None if args.no_model else shipped.RISK_MODEL)
    print(f"model {'off' if args.no_model else 'on'}; share of flagged risk lines still flagged after each change")
    print(f"{'file':<34} {'flagged':>7} " + " ".join(f"{t.__name__:>14}" for t in TRANSFORMS))
    for path in files:
        risky = [m for m in load_eval_set(path) if m.is_risk]
        found = [m for m in risky if detector.assess(m.text, m.context).tier >= RiskTier.ELEVATED]
        kept = [
            sum(detector.assess(t(m.text), m.context).tier >= RiskTier.ELEVATED for m in found) / len(found)
            for t in TRANSFORMS
        ]
        name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        print(f"{name:<34} {len(found):>7} " + " ".join(f"{k:>14.2f}" for k in kept))


if __name__ == "__main__":
    main()
