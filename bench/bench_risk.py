"""Benchmark the risk detector: messages per second and per-message latency, one core, all phrase files.

Run: `python bench/bench_risk.py [--messages 20000] [--seed 7]`. Prints a table and writes
bench/results/risk.json. Scenarios:

- chat (ascii): short English/Spanish chat without accents or emoji, ~10% risk phrases; the common case.
- chat + context: the same messages, each with two earlier messages (window and context rules run).
- unicode: accents, emoji, curly quotes, look-alike letters and zero-width characters (the slow path).
- unknown words: every word is new (random letters), so token caches miss and typo lookups run: worst case.
- written chat: every labelled line the project has (tests/data, ~2,600 messages written as people write,
  with their context), repeated to the message count: the realistic corpus.

The detector runs as it does in production: phrase rules and the risk model (`--no-model`: the rules alone).

Each scenario is timed twice: "cold" on a freshly built detector (empty caches), then "warm" on a second pass.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import string
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bot import shipped

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.results import RESULTS_DIR, write_results  # noqa: E402
from routing.risk.detector import RiskDetector  # noqa: E402

RESULTS = RESULTS_DIR / "risk.json"
EN_WORDS = [
    "i",
    "you",
    "we",
    "my",
    "the",
    "a",
    "so",
    "really",
    "just",
    "feel",
    "today",
    "tomorrow",
    "work",
    "school",
    "exam",
    "mom",
    "dad",
    "friend",
    "boyfriend",
    "tired",
    "sad",
    "happy",
    "sleep",
    "talk",
    "help",
    "need",
    "want",
    "can",
    "not",
    "do",
    "this",
    "anymore",
    "think",
    "about",
    "life",
    "class",
    "teacher",
    "phone",
    "later",
    "text",
    "game",
    "pizza",
    "dinner",
    "hungry",
    "lonely",
    "anxious",
    "stressed",
    "crying",
    "party",
    "weekend",
    "bus",
    "late",
    "home",
    "room",
    "music",
    "movie",
    "anyone",
    "there",
    "thanks",
    "okay",
    "maybe",
    "never",
    "always",
    "again",
    "night",
    "morning",
    "hate",
    "love",
    "miss",
    "people",
    "nobody",
    "everyone",
]
ES_WORDS = [
    "yo",
    "tu",
    "mi",
    "el",
    "la",
    "que",
    "no",
    "me",
    "siento",
    "muy",
    "triste",
    "hoy",
    "mañana",
    "trabajo",
    "escuela",
    "examen",
    "mamá",
    "papá",
    "amiga",
    "novio",
    "cansada",
    "dormir",
    "hablar",
    "ayuda",
    "necesito",
    "quiero",
    "puedo",
    "hacer",
    "esto",
    "vida",
    "clase",
    "maestra",
    "celular",
    "luego",
    "juego",
    "comida",
    "hambre",
    "sola",
    "ansiedad",
    "estresada",
    "llorar",
    "fiesta",
    "casa",
    "música",
    "película",
    "alguien",
    "gracias",
    "nunca",
    "siempre",
]
RISK = [
    "i want to kill myself",
    "i want to die",
    "i can't do this anymore",
    "i took 30 pills",
    "me quiero matar",
    "ya no quiero vivir",
    "i've been cutting myself again",
    "everyone would be better off without me",
    "my friend is suicidal",
    "this homework is killing me",
    "800mg ibuprofen after the extraction",
    "i would never kill myself",
]
UNICODE_EXTRAS = ["💊", "😭", "’", "é", "ñ", "\u200b", "кіll", "ｄｉｅ", "🔪", "más"]


def chat_message(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return rng.choice(RISK)
    words = EN_WORDS if rng.random() < 0.7 else ES_WORDS
    text = " ".join(rng.choice(words) for _ in range(rng.randint(3, 14)))
    return text.encode("ascii", "ignore").decode()


def unicode_message(rng: random.Random) -> str:
    base = chat_message(rng).split()
    for _ in range(rng.randint(1, 3)):
        base.insert(rng.randrange(len(base) + 1), rng.choice(UNICODE_EXTRAS))
    return " ".join(base)


def unknown_words_message(rng: random.Random) -> str:
    letters = string.ascii_lowercase
    return " ".join("".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(rng.randint(4, 12)))


def time_pass(
    assess: Callable[[str, Sequence[str]], object], cases: Sequence[tuple[str, tuple[str, ...]]]
) -> dict[str, float]:
    durations: list[int] = []
    clock = time.perf_counter_ns
    started = clock()
    for text, context in cases:
        t0 = clock()
        assess(text, context)
        durations.append(clock() - t0)
    total = (clock() - started) / 1e9
    durations.sort()
    return {
        "messages_per_s": round(len(cases) / total),
        "p50_us": round(durations[len(durations) // 2] / 1000, 1),
        "p99_us": round(durations[int(len(durations) * 0.99)] / 1000, 1),
        "mean_us": round(statistics.fmean(durations) / 1000, 1),
        "max_us": round(durations[-1] / 1000, 1),
    }


def written_chat(n: int) -> list[tuple[str, tuple[str, ...]]]:
    """The project's labelled lines (text and context), in file order, repeated up to `n` messages."""
    lines = [
        json.loads(line)
        for path in sorted((ROOT / "tests" / "data").rglob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    cases = [(str(d["text"]), tuple(str(c) for c in d.get("context") or ())) for d in lines]
    return [cases[i % len(cases)] for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-model", action="store_true", help="the phrase rules alone, without the risk model")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    n = args.messages
    model = None if args.no_model else shipped.RISK_MODEL

    def build() -> RiskDetector:
        return RiskDetector.from_directory(shipped.RISK_PHRASES, model)

    started = time.perf_counter()
    build()
    load_ms = (time.perf_counter() - started) * 1000

    chat = [(chat_message(rng), ()) for _ in range(n)]
    scenarios: dict[str, list[tuple[str, tuple[str, ...]]]] = {
        "chat (ascii)": chat,
        "chat + context": [(text, (chat[i - 1][0], chat[i - 2][0])) for i, (text, _) in enumerate(chat)],
        "unicode": [(unicode_message(rng), ()) for _ in range(n)],
        "unknown words": [(unknown_words_message(rng), ()) for _ in range(n)],
        "written chat": written_chat(n),
    }
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, cases in scenarios.items():
        detector = build()  # fresh caches
        results[name] = {"cold": time_pass(detector.assess, cases), "warm": time_pass(detector.assess, cases)}

    detector = build()
    phrase_count = sum(len(f.phrases) for f in detector.files)
    print(
        f"risk detector: {phrase_count} phrases in {', '.join(detector.languages)}; load {load_ms:.0f} ms; "
        f"model {'off' if model is None else 'on'}; {n} messages per scenario; "
        f"Python {platform.python_version()}, one core"
    )
    header = f"{'scenario':<16} {'pass':<5} {'msg/s':>9} {'p50 µs':>8} {'p99 µs':>8} {'mean µs':>8} {'max µs':>9}"
    print(header)
    print("-" * len(header))
    for name, passes in results.items():
        for label, r in passes.items():
            print(
                f"{name:<16} {label:<5} {r['messages_per_s']:>9,} {r['p50_us']:>8} {r['p99_us']:>8} "
                f"{r['mean_us']:>8} {r['max_us']:>9}"
            )
    write_results(
        RESULTS,
        {
            "messages_per_scenario": n,
            "phrases": phrase_count,
            "languages": list(detector.languages),
            "load_ms": round(load_ms, 1),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "scenarios": results,
        },
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
