"""Phrase files: loading `<lang>.toml` (shipped in `bot/shipped/risk/`) and checking it, with errors a coordinator
can act on.

A file holds, for one language: `phrases` (id, text, tier, category, optional kind), `suppress` (idioms and
media titles that contain risk words), `[cues]` (word lists the rules use: negation, time, ...), an optional
`[slang]` table, and `must_flag` / `must_not_flag` examples that the tests run. See bot/shipped/risk/en.toml.
"""

from __future__ import annotations

import enum
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from routing.model import RiskCategory, RiskTier

_LANG = re.compile(r"[a-z]{2,3}")
_ID_PART = r"[a-z0-9_]+"
_TOP_KEYS = frozenset({"lang", "must_flag", "must_not_flag", "phrases", "suppress", "cues", "slang"})
_PHRASE_KEYS = frozenset({"id", "text", "tier", "category", "kind"})
_SUPPRESS_KEYS = frozenset({"id", "text", "kind"})
_EXAMPLE_KEYS = frozenset({"text", "tier", "context"})
_E = TypeVar("_E", bound=enum.StrEnum)


class PhraseFileError(Exception):
    """A phrase file that cannot be used; the message names the file and says what to fix."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


class PhraseKind(enum.StrEnum):
    """How the rules treat a phrase beyond its own tier."""

    RISK = "risk"
    MEANS = "means"  # a method or means word: review alone, imminent with intent and a quantity or time
    GOODBYE = "goodbye"  # a farewell or finality phrase: imminent after earlier risk in the conversation


class SuppressionKind(enum.StrEnum):
    """What a suppression span does to the risk phrases inside it."""

    IDIOM = "idiom"  # "homework is killing me": the risk match is dropped
    MEDIA = "media"  # "suicide squad", "suicide prevention": the risk match is kept at review


class CueKind(enum.StrEnum):
    """Word lists the rules consult; each phrase is judged with its own language's cues."""

    NEGATION = "negation"
    PSEUDO_NEGATION = "pseudo_negation"
    SCOPE_BREAK = "scope_break"
    FIRST_PERSON = "first_person"
    THIRD_PARTY = "third_party"
    PAST = "past"
    RECENT = "recent"
    TIME = "time"
    INTENT = "intent"
    QUANTITY = "quantity"
    HUMOUR = "humour"
    ROUTINE = "routine"
    READINESS = "readiness"  # "it's ready", "on my way": after risk earlier in the conversation, imminent
    NOT_TYPOS = "not_typos"


@dataclass(frozen=True, slots=True)
class Phrase:
    """A risk phrase as written in its file."""

    id: str
    text: str
    tier: RiskTier
    category: RiskCategory
    lang: str
    kind: PhraseKind = PhraseKind.RISK


@dataclass(frozen=True, slots=True)
class Suppression:
    """An idiom or media span that neutralises the risk phrases it contains."""

    id: str
    text: str
    kind: SuppressionKind
    lang: str


@dataclass(frozen=True, slots=True)
class Cue:
    """One entry of a cue list, e.g. ("negation", "never")."""

    kind: CueKind
    text: str
    lang: str


@dataclass(frozen=True, slots=True)
class Example:
    """A must_flag / must_not_flag example: the tier the detector has to give it."""

    text: str
    tier: RiskTier
    context: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PhraseFile:
    """Everything one language's file declares."""

    path: Path
    lang: str
    phrases: tuple[Phrase, ...]
    suppressions: tuple[Suppression, ...]
    cues: tuple[Cue, ...]
    slang: Mapping[str, str] = field(default_factory=dict)
    must_flag: tuple[Example, ...] = ()
    must_not_flag: tuple[Example, ...] = ()


def load_phrase_file(path: Path) -> PhraseFile:
    """Read and check one phrase file; raise PhraseFileError naming the file and the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PhraseFileError(path, f"cannot be read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise PhraseFileError(path, "is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PhraseFileError(path, f"is not valid TOML: {exc}") from exc
    try:
        return _parse(path, data)
    except _Problem as exc:
        raise PhraseFileError(path, str(exc)) from None


class _Problem(Exception):
    """A problem found while checking; becomes a PhraseFileError with the path attached."""


def _parse(path: Path, data: dict[str, Any]) -> PhraseFile:
    _no_unknown_keys(data, _TOP_KEYS, "the file")
    lang = data.get("lang")
    if not isinstance(lang, str) or not _LANG.fullmatch(lang):
        raise _Problem('needs lang = "<two or three letter code>", e.g. lang = "en"')
    if path.suffix == ".toml" and path.stem != lang:
        raise _Problem(f'says lang = "{lang}" but the file is named {path.name}; name it {lang}.toml')
    phrases = tuple(_phrase(entry, i, lang) for i, entry in enumerate(_table_list(data, "phrases")))
    _unique_ids([p.id for p in phrases])
    suppressions = tuple(_suppression(e, i, lang) for i, e in enumerate(_table_list(data, "suppress", 0)))
    _unique_ids([s.id for s in suppressions])
    return PhraseFile(
        path=path,
        lang=lang,
        phrases=phrases,
        suppressions=suppressions,
        cues=_cues(data.get("cues", {}), lang),
        slang=_slang(data.get("slang", {})),
        must_flag=tuple(_example(e, f"must_flag[{i}]", True) for i, e in enumerate(_list(data, "must_flag"))),
        must_not_flag=tuple(
            _example(e, f"must_not_flag[{i}]", False) for i, e in enumerate(_list(data, "must_not_flag"))
        ),
    )


def _list(data: Mapping[str, Any], key: str, minimum: int = 1) -> list[Any]:
    value = data.get(key)
    if value is None and minimum == 0:
        return []
    if not isinstance(value, list) or len(value) < minimum:
        raise _Problem(f"needs {key} = [ ... ] with at least {minimum} entry")
    return value


def _table_list(data: Mapping[str, Any], key: str, minimum: int = 1) -> list[dict[str, Any]]:
    entries = _list(data, key, minimum)
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _Problem(f"{key}[{i}] must be a table like {{ id = ..., text = ... }}, not {entry!r}")
    return entries


def _no_unknown_keys(entry: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise _Problem(f"{where} has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _Problem(f"{where} needs a non-empty {key} string")
    return value


def _phrase(entry: dict[str, Any], index: int, lang: str) -> Phrase:
    where = f"phrases[{index}] (id {entry.get('id')!r})"
    _no_unknown_keys(entry, _PHRASE_KEYS, where)
    phrase_id = _check_id(_text(entry, "id", where), lang, where)
    tier = _tier(_text(entry, "tier", where), where)
    if tier is RiskTier.NONE:
        raise _Problem(f"{where}: tier none is not a risk; use review, elevated, high or imminent")
    return Phrase(
        id=phrase_id,
        text=_text(entry, "text", where),
        tier=tier,
        category=_enum(RiskCategory, _text(entry, "category", where), "category", where),
        lang=lang,
        kind=_enum(PhraseKind, entry.get("kind", "risk"), "kind", where),
    )


def _suppression(entry: dict[str, Any], index: int, lang: str) -> Suppression:
    where = f"suppress[{index}] (id {entry.get('id')!r})"
    _no_unknown_keys(entry, _SUPPRESS_KEYS, where)
    return Suppression(
        id=_check_id(_text(entry, "id", where), lang, where),
        text=_text(entry, "text", where),
        kind=_enum(SuppressionKind, _text(entry, "kind", where), "kind", where),
        lang=lang,
    )


def _check_id(phrase_id: str, lang: str, where: str) -> str:
    if not re.fullmatch(rf"{lang}\.{_ID_PART}\.{_ID_PART}", phrase_id):
        raise _Problem(
            f"{where}: id must look like {lang}.<group>.<name> in lower case, e.g. {lang}.suicide.want_to_die"
        )
    return phrase_id


def _unique_ids(ids: Sequence[str]) -> None:
    seen: set[str] = set()
    for phrase_id in ids:
        if phrase_id in seen:
            raise _Problem(f"id {phrase_id!r} is used twice; ids must be unique")
        seen.add(phrase_id)


def _tier(value: str, where: str) -> RiskTier:
    try:
        return RiskTier.parse(value)
    except ValueError as exc:
        raise _Problem(f"{where}: {exc}") from None


def _enum(cls: type[_E], value: object, name: str, where: str) -> _E:
    allowed = [m.value for m in cls]
    if value not in allowed:
        raise _Problem(f"{where}: {name} {value!r} is not one of {', '.join(allowed)}")
    return cls(value)


def _cues(table: object, lang: str) -> tuple[Cue, ...]:
    if not isinstance(table, dict):
        raise _Problem("[cues] must be a table of word lists")
    _no_unknown_keys(table, frozenset(k.value for k in CueKind), "[cues]")
    cues: list[Cue] = []
    for key, values in table.items():
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            raise _Problem(f"cues.{key} must be a list of non-empty strings")
        cues.extend(Cue(CueKind(key), v, lang) for v in values)
    return tuple(cues)


def _slang(table: object) -> dict[str, str]:
    if not isinstance(table, dict) or not all(isinstance(v, str) and v.strip() for v in table.values()):
        raise _Problem('[slang] must map words to what they stand for, e.g. kms = "kill myself"')
    for key in table:
        if " " in key.strip() or not key.strip():
            raise _Problem(f"slang key {key!r} must be a single word")
    return {k.strip().casefold(): v for k, v in table.items()}


def _example(entry: object, where: str, needs_tier: bool) -> Example:
    if isinstance(entry, str) and not needs_tier:
        return Example(text=entry, tier=RiskTier.NONE)
    if not isinstance(entry, dict):
        shape = '{ text = "...", tier = "high" }' if needs_tier else '"..." or { text = "...", context = [...] }'
        raise _Problem(f"{where} must be {shape}")
    _no_unknown_keys(entry, _EXAMPLE_KEYS if needs_tier else _EXAMPLE_KEYS - {"tier"}, where)
    context = entry.get("context", [])
    if not isinstance(context, list) or not all(isinstance(c, str) for c in context):
        raise _Problem(f"{where}: context must be a list of earlier messages (strings)")
    tier = _tier(_text(entry, "tier", where), where) if needs_tier else RiskTier.NONE
    return Example(text=_text(entry, "text", where), tier=tier, context=tuple(context))
