"""Reads and checks the coping library's files (`<lang>/<name>.toml`, shipped in `bot/shipped/coping/`;
`coping.dir`); every problem names the file and the field.

A file looks like this (see the shipped texts for whole examples):

    title = "Grounding: 5-4-3-2-1"          # what the person reads first, and the button staff press
    text = \"\"\"When everything feels like too much, ...\"\"\"
    source = "The 5-4-3-2-1 grounding technique, as described in the NHS's Every Mind Matters"
    reviewed_by = "Dr A. Example, clinical lead"
    reviewed_on = 2026-12-07

The folder is the language (`en`, `es`, ...) and the file name is what staff type (`/share grounding`). Every
text needs an English version (`en/<name>.toml`): a person whose language has none reads that one.

A bad file is left out and its problem kept, never raised: a typo in one text must not stop a crisis service
(`peerbridge check-config` lists the problems, and the bridge logs them at start-up).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from routing.coping.library import FALLBACK_LANGUAGE, MAX_TEXT, CopingLibrary, CopingText

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,23}")  # short: it travels in a button's data (Telegram: 64 bytes)
_LANG = re.compile(r"[a-z]{2,3}")
_KEYS = frozenset({"title", "text", "source", "reviewed_by", "reviewed_on"})
_RESERVED = frozenset({"send", "cancel"})  # the preview's buttons: "share send 3", "share cancel 3"
MAX_TITLE = 80


class CopingFileError(ValueError):
    """A problem with one coping file, naming the file and the field."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def load_library(directory: Path) -> CopingLibrary:
    """Every `<lang>/<name>.toml` under `directory`; a bad file is left out and its problem kept."""
    if not directory.is_dir():
        return CopingLibrary(problems={str(directory): f"{directory}: the coping library folder does not exist"})
    texts: dict[str, dict[str, CopingText]] = {}
    problems: dict[str, str] = {}
    for path in sorted(directory.glob("*/*.toml")):
        try:
            text = load_text(path)
        except CopingFileError as exc:
            problems[str(path)] = str(exc)
            continue
        texts.setdefault(text.lang, {})[text.name] = text
    english = texts.get(FALLBACK_LANGUAGE, {})
    for lang, named in texts.items():
        for name in [n for n in named if n not in english]:
            path = directory / lang / f"{name}.toml"
            problem = f"there is no {FALLBACK_LANGUAGE}/{name}.toml: every text needs an English version, which "
            problems[str(path)] = str(CopingFileError(path, problem + "people whose language has none read"))
            del named[name]
    return CopingLibrary({lang: named for lang, named in texts.items() if named}, problems)


def load_text(path: Path) -> CopingText:
    """Read and check one file; raise CopingFileError naming the file and the problem."""
    lang, name = path.parent.name, path.stem
    if not _LANG.fullmatch(lang):
        raise CopingFileError(path, f"the folder {lang!r} must be a language code such as en or es")
    if not NAME.fullmatch(name) or name in _RESERVED:
        raise CopingFileError(
            path, "the file name is typed in /share: lowercase letters, digits and -, at most 24, not send or cancel"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CopingFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise CopingFileError(path, "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise CopingFileError(path, f"is not valid TOML: {exc}") from None
    try:
        return parse_text(lang, name, data)
    except ValueError as exc:
        raise CopingFileError(path, str(exc)) from None


def parse_text(lang: str, name: str, data: Mapping[str, Any]) -> CopingText:
    """Build a text from a file's data; raises ValueError naming the field."""
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}")
    reviewed_on = data.get("reviewed_on")
    if not isinstance(reviewed_on, dt.date) or isinstance(reviewed_on, dt.datetime):
        raise ValueError("reviewed_on must be the date the text was last reviewed, e.g. reviewed_on = 2026-12-07")
    return CopingText(
        name=name,
        lang=lang,
        title=_string(data, "title", MAX_TITLE),
        text=check_text(data.get("text")),
        source=_string(data, "source", 1000),
        reviewed_by=_string(data, "reviewed_by", 200),
        reviewed_on=reviewed_on,
    )


def check_text(value: object) -> str:
    """A text a person will read (from a file or a coordinator's edit): not empty, not too long for a message."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("text: needs a non-empty string (what the person reads)")
    if len(value.strip()) > MAX_TEXT:
        raise ValueError(f"text: is {len(value.strip())} characters; at most {MAX_TEXT} fit in one message")
    return value.strip()


def _string(data: Mapping[str, Any], key: str, longest: int) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key}: needs a non-empty string")
    if len(value.strip()) > longest:
        raise ValueError(f"{key}: is {len(value.strip())} characters; at most {longest}")
    return value.strip()
