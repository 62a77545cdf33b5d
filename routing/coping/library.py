"""The coping texts by name and language, and which version a person reads (pure).

Every text has an English version: a person whose language has none reads the English one, and staff are told
before they send it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from routing.i18n import primary

FALLBACK_LANGUAGE = "en"
MAX_TEXT = 3000  # a Telegram message holds 4096 characters; the title and a line break go with the text


@dataclass(frozen=True, slots=True)
class CopingText:
    """One text in one language, as its file (or a coordinator's edit) says it."""

    name: str  # what staff type: /share grounding
    lang: str
    title: str
    text: str
    source: str  # the published technique it follows
    reviewed_by: str
    reviewed_on: dt.date

    @property
    def message(self) -> str:
        """Exactly what the person reads."""
        return f"{self.title}\n\n{self.text}"

    @property
    def digest(self) -> str:
        """A short fingerprint of what the person reads: a preview is sent only if the text is still the same."""
        return hashlib.sha256(f"{self.lang}\n{self.message}".encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Shared:
    """The version of a text a person gets: in their language, or English when theirs has none."""

    text: CopingText
    in_their_language: bool


@dataclass(frozen=True, slots=True)
class CopingLibrary:
    """The texts that loaded (language -> name -> text) and the problem of each file that did not."""

    texts: Mapping[str, Mapping[str, CopingText]] = field(default_factory=dict)
    problems: Mapping[str, str] = field(default_factory=dict)  # file path -> what is wrong with it

    @property
    def names(self) -> tuple[str, ...]:
        """What can be shared: the names of the English texts (every text has one), sorted."""
        return tuple(sorted(self.texts.get(FALLBACK_LANGUAGE, {})))

    def for_person(self, name: str, lang: str | None) -> Shared | None:
        """The version of `name` for a person writing in `lang`, or None when the library has no such text."""
        wanted = primary(lang) or FALLBACK_LANGUAGE  # a person whose language we do not know reads English
        own = self.texts.get(wanted, {}).get(name)
        if own is not None:
            return Shared(own, in_their_language=True)
        english = self.texts.get(FALLBACK_LANGUAGE, {}).get(name)
        return Shared(english, in_their_language=False) if english else None

    def get(self, lang: str, name: str) -> CopingText | None:
        return self.texts.get(lang, {}).get(name)

    def with_edits(self, edits: Mapping[tuple[str, str], str]) -> CopingLibrary:
        """The library as people read it now: a coordinator's edit ((lang, name) -> text) replaces the file's."""
        texts = {
            lang: {
                name: replace(t, text=edits[lang, name]) if (lang, name) in edits else t for name, t in named.items()
            }
            for lang, named in self.texts.items()
        }
        return CopingLibrary(texts, self.problems)
