"""The data peerbridge ships with, used when a config names none: installed with the package, so peerbridge runs
from any folder, with or without a checkout.

- `risk/<lang>.toml`: risk phrase files (`risk.phrases_dir`)
- `risk/model.tsv`: the risk model's weights (`risk.model_file`), made by `peerbridge risk-train`
- `resources/<country>.toml`: crisis resources sent on high risk (`escalation.resources_dir`)
- `training/<name>.toml`: practice scenarios for `/train` (`training.scenarios_dir`)
- `coping/<lang>/<name>.toml`: the coping library volunteers share with `/share` (`coping.dir`)
- `scenarios/<name>.toml`: scripted people and volunteers for `peerbridge demo --scenario`

A charity that changes one of them copies the folder, edits the copy and names it in its config.
"""

from __future__ import annotations

from pathlib import Path

# Files beside this module: an installed wheel unpacks them into site-packages (peerbridge is not zip-safe).
_HERE = Path(__file__).resolve().parent

RISK_PHRASES = _HERE / "risk"
RISK_MODEL = _HERE / "risk" / "model.tsv"
CRISIS_RESOURCES = _HERE / "resources"
TRAINING_SCENARIOS = _HERE / "training"
DEMO_SCENARIOS = _HERE / "scenarios"
COPING_TEXTS = _HERE / "coping"
