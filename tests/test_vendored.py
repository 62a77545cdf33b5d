"""The vendored browser files are the ones recorded (name, version, sha256) in bot/dashboard/static/vendor/README.md:
an accidental edit, or an update that forgot its record, fails here."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from bot.dashboard.app import STATIC

VENDOR = STATIC / "vendor"
ROW = re.compile(r"^\| `(?P<file>[^`]+)` \|.*\| `(?P<sha256>[0-9a-f]{64})` \|$")


def _recorded() -> dict[str, str]:
    lines = (VENDOR / "README.md").read_text(encoding="utf-8").splitlines()
    return {m["file"]: m["sha256"] for m in map(ROW.match, lines) if m}


def test_each_vendored_file_matches_its_recorded_sha256() -> None:
    recorded = _recorded()
    shipped = {p.name for p in VENDOR.iterdir() if p.name != "README.md"}
    assert set(recorded) == shipped == {"chart.umd.min.js", "chart.js.LICENSE.md"}  # each file has its record
    for name, sha256 in recorded.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == sha256, name


def test_the_chart_library_runs_under_the_dashboards_policy() -> None:
    """Chart.js as shipped evaluates no strings (the policy's `script-src 'self'` would refuse them) and names
    its version and licence in its header."""
    code = (VENDOR / "chart.umd.min.js").read_text(encoding="utf-8")
    assert code.startswith("/*!\n * Chart.js v4.6.2\n") and "Released under the MIT License" in code[:300]
    assert "eval(" not in code and "new Function" not in code
    assert Path(VENDOR / "chart.js.LICENSE.md").read_text(encoding="utf-8").startswith("The MIT License (MIT)")
