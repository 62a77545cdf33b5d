"""The coping library: short, reviewed texts a volunteer shares with the person they talk with (`/share`).

- `library.py`: the texts by name and language, and which one a person reads (pure).
- `files.py`: reading and checking `<lang>/<name>.toml` (shipped in `bot/shipped/coping/`; `coping.dir`).

Coordinators' edits on the dashboard are kept in Redis (`routing/store/coping_edits.py`) and take precedence
over a file; how often each text was shared, per day, is counted in `routing/store/coping_counts.py`.
"""

from __future__ import annotations

from routing.coping.library import FALLBACK_LANGUAGE, CopingLibrary, CopingText, Shared

__all__ = ["FALLBACK_LANGUAGE", "CopingLibrary", "CopingText", "Shared"]
