"""Where the benchmarks write what they measured: one JSON file each under `bench/results/` (not in git)."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"


def this_machine() -> dict[str, str]:
    """The Python and the machine a run was on, as every results file records them."""
    return {"python": platform.python_version(), "machine": f"{platform.machine()}, {os.cpu_count()} cores"}


def write_results(path: Path, results: dict[str, Any]) -> None:
    """Write `results` as indented JSON to `path` (its folder made if need be)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
