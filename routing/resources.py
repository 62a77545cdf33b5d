"""Crisis resources a person receives at once when a message shows risk: by their country, in their language
(pure).

Each `<country>.toml` (shipped in `bot/shipped/resources/`; `escalation.resources_dir`) names its country
(ISO 3166 code), the languages spoken there that we offer it in, its time zone, the emergency number and the
crisis lines, each with the page it was read on and the date it was checked. A line whose source could not be
checked is not in the file: a wrong number at 3 a.m. is worse than none. `international.toml` names no number
(the local emergency number, a directory of helplines) and is what anyone whose country we do not know gets.

The person's country comes from their choice at intake (skippable) or their language tag's region ("es-MX");
it is never guessed from the language alone (Spanish is spoken in twenty countries).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from routing import texts
from routing.i18n import primary

INTERNATIONAL = "international"
HOW = {"call": texts.HOW_CALL, "text": texts.HOW_TEXT, "call_or_text": texts.HOW_CALL_OR_TEXT}
DEFAULT_DIRECTORY = "https://findahelpline.com"
SOURCE_KINDS = frozenset({"official", "press"})


class ResourceFileError(ValueError):
    """A resource file that cannot be used, in plain words."""


@dataclass(frozen=True, slots=True)
class Line:
    """One crisis line, as its source states it."""

    name: str
    number: str
    how: str = "call"  # call | text | call_or_text
    keyword: str = ""  # for a text line: the word to send ("SHOUT")
    always_open: bool = True  # 24 hours a day, every day
    hours: str = ""  # otherwise, as the source says them
    free: bool = True
    source: str = ""
    checked: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Country:
    """A country's emergency number and crisis lines."""

    code: str
    languages: tuple[str, ...]
    zone: str
    emergency: str
    emergency_source: str
    emergency_checked: dt.date
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class CrisisResources:
    """Resources by country, and the international text for everyone else."""

    countries: Mapping[str, Country]
    directory: str = DEFAULT_DIRECTORY  # where anyone else finds the lines of their country

    def codes_for(self, lang: str | None) -> tuple[str, ...]:
        """The countries to offer a person writing in `lang` (their language's countries first, sorted)."""
        subtag = primary(lang)
        return tuple(sorted(code for code, c in self.countries.items() if subtag in c.languages))

    def country_of(self, chosen: str | None, tag: str | None) -> Country | None:
        """The person's country: the one they chose, else their language tag's region ("es-MX"), else none."""
        for code in (chosen, _region(tag)):
            if code and code.upper() in self.countries:
                return self.countries[code.upper()]
        return None

    def text(self, lang: str | None, country: Country | None) -> str:
        """What the person receives, in their language: the country's numbers, or the international text."""
        intro = texts.say(lang, texts.RESOURCES_INTRO)
        if country is None:
            return f"{intro}\n\n{texts.say(lang, texts.RESOURCES_INTERNATIONAL, directory=self.directory)}"
        lines = [texts.say(lang, texts.RESOURCES_EMERGENCY, number=country.emergency)]
        lines += [f"• {_describe(lang, line)}" for line in country.lines]
        return f"{intro}\n\n" + "\n".join(lines)


def _describe(lang: str | None, line: Line) -> str:
    how_text = texts.HOW_TEXT_WORD if line.how == "text" and line.keyword else HOW[line.how]
    how = texts.say(lang, how_text, number=line.number, keyword=line.keyword)
    when = texts.say(lang, texts.ALWAYS_OPEN) if line.always_open else line.hours
    free = f", {texts.say(lang, texts.FREE)}" if line.free else ""
    return f"{line.name}: {how} ({when}{free})"


def _region(tag: str | None) -> str | None:
    parts = (tag or "").replace("_", "-").split("-")
    return parts[1].upper() if len(parts) > 1 and len(parts[1]) == 2 else None


def parse_resources(files: Mapping[str, Mapping[str, Any]]) -> CrisisResources:
    """Build from parsed files keyed by file name (e.g. {"international": {...}, "mx": {...}})."""
    if INTERNATIONAL not in files:
        raise ResourceFileError(f"{INTERNATIONAL}.toml is missing: it is what anyone of an unknown country gets")
    countries: dict[str, Country] = {}
    for name, data in files.items():
        if name == INTERNATIONAL:
            continue
        country = _country(name, data)
        countries[country.code] = country
    directory = str(files[INTERNATIONAL].get("directory", DEFAULT_DIRECTORY))
    if not directory.startswith(("https://", "http://")):
        raise ResourceFileError(f"{INTERNATIONAL}.toml: directory must be a web address, not {directory!r}")
    return CrisisResources(countries, directory)


def _country(name: str, data: Mapping[str, Any]) -> Country:
    where = f"{name}.toml"
    code = str(data.get("country", ""))
    if len(code) != 2 or not code.isalpha() or code.upper() != code:
        raise ResourceFileError(f'{where}: country must be a two-letter code such as "MX", not {code!r}')
    zone = str(data.get("zone", ""))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        example = '"America/Mexico_City"'
        raise ResourceFileError(f"{where}: zone {zone!r} is not a time zone name such as {example}") from None
    emergency = data.get("emergency")
    if not isinstance(emergency, Mapping):
        raise ResourceFileError(f"{where}: needs an [emergency] table with number, source and checked")
    number, source, checked = _sourced(where, "emergency", emergency)
    lines = data.get("lines", [])
    if not isinstance(lines, Sequence) or not all(isinstance(line, Mapping) for line in lines):
        raise ResourceFileError(f"{where}: lines must be a list of [[lines]] tables")
    return Country(
        code=code,
        languages=tuple(str(lang).casefold() for lang in data.get("languages", [])),
        zone=zone,
        emergency=number,
        emergency_source=source,
        emergency_checked=checked,
        lines=tuple(_line(where, i, line) for i, line in enumerate(lines, 1)),
    )


def _sourced(where: str, what: str, entry: Mapping[str, Any]) -> tuple[str, str, dt.date]:
    """Every number carries the page it was read on and the date it was checked: a test and check-config hold
    every file to it."""
    number, source, checked = str(entry.get("number", "")).strip(), str(entry.get("source", "")), entry.get("checked")
    if not number:
        raise ResourceFileError(f"{where}: {what} has no number")
    if not source.startswith(("https://", "http://")):
        raise ResourceFileError(f'{where}: {what} needs the source page it was read on (source = "https://...")')
    if not isinstance(checked, dt.date) or isinstance(checked, dt.datetime):
        raise ResourceFileError(f"{where}: {what} needs the date it was checked (checked = 2026-12-07)")
    kind = entry.get("source_kind", "official")
    if kind not in SOURCE_KINDS:
        raise ResourceFileError(f"{where}: {what}: source_kind is official or press, not {kind!r}")
    return number, source, checked


def _line(where: str, index: int, entry: Mapping[str, Any]) -> Line:
    what = f"line {index}"
    number, source, checked = _sourced(where, what, entry)
    name, how = str(entry.get("name", "")).strip(), str(entry.get("how", "call"))
    if not name:
        raise ResourceFileError(f"{where}: {what} has no name")
    if how not in HOW:
        raise ResourceFileError(f"{where}: {what}: how is one of {', '.join(HOW)}, not {how!r}")
    always = bool(entry.get("always_open", True))
    if not always and not str(entry.get("hours", "")).strip():
        raise ResourceFileError(f'{where}: {what} is not always open: give its hours (hours = "15:00-22:00")')
    return Line(
        name=name, number=number, how=how, keyword=str(entry.get("keyword", "")), always_open=always,
        hours=str(entry.get("hours", "")), free=bool(entry.get("free", True)), source=source, checked=checked,
    )  # fmt: skip
