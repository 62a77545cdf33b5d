"""Crisis resources a person receives at once when a message shows high risk (pure).

Each `<country>.toml` (shipped in `bot/shipped/resources/`; `escalation.resources_dir`) lists the languages it
serves and the text to send; a person gets the file matching their language (as their app reports it), else
the international default. Numbers change: coordinators keep these files current, and `peerbridge check-config`
checks they load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_NAME = "international"


class ResourceFileError(ValueError):
    """A resource file that cannot be used, in plain words."""


@dataclass(frozen=True, slots=True)
class CrisisResources:
    """Resource texts by language, with an international default."""

    default: str
    by_language: Mapping[str, str]

    def for_language(self, language: str | None) -> str:
        """The text for a language tag such as "es" or "en-GB" (the primary subtag decides)."""
        if language:
            primary = language.replace("_", "-").split("-")[0].casefold()
            if primary in self.by_language:
                return self.by_language[primary]
        return self.default


def parse_resources(files: Mapping[str, Mapping[str, Any]]) -> CrisisResources:
    """Build from parsed files keyed by name (e.g. {"international": {...}, "es": {...}})."""
    if DEFAULT_NAME not in files:
        raise ResourceFileError(f"{DEFAULT_NAME}.toml is missing: it is the default every person can receive")
    by_language: dict[str, str] = {}
    for name, data in files.items():
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ResourceFileError(f"{name}.toml needs a non-empty text")
        for lang in data.get("languages", []):
            by_language.setdefault(str(lang).casefold(), text.strip())
    return CrisisResources(default=files[DEFAULT_NAME]["text"].strip(), by_language=by_language)
