"""Message catalogues: `locales/<lang>/LC_MESSAGES/peerbridge.po`, one per language, read with Babel.

The English texts in `routing/texts.py` are the message ids (gettext's convention: the source text is the key,
so a missing translation falls back to readable English, never to a key). A text is marked for extraction by
wrapping it in `N_()` (or `NP_(singular, plural)` for a count); `./dev catalogues` extracts them into
`locales/peerbridge.pot` and merges new ones into every `.po` for translators; `tests/test_catalogues.py`
fails when a catalogue misses a text, leaves one untranslated, or changes its `{placeholders}`.

The catalogues are read once per process from the package (installed with it), so routing needs no file
from the composition root to speak a person's language.
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_timezone_name
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "peerbridge"
SOURCE = "en"
LANGUAGES = ("en", "es", "pt", "fr")  # every language with a complete catalogue (a test checks each)


def N_(text: str) -> str:
    """Mark a text for extraction; it is translated where it is said (`translate`)."""
    return text


def S_(text: str) -> str:
    """Mark a staff-facing text for extraction; it is said in the organisation's language (`staff_language`)."""
    return text


# The organisation's language: one per deployment, set once by the composition root at start-up from
# `staff.language` (every volunteer, supervisor and professional of a deployment reads the same texts).
_staff = [SOURCE]


def use_staff_language(lang: str) -> None:
    """Say every staff-facing text in `lang` from now on (a language with a catalogue; see LANGUAGES)."""
    if lang not in LANGUAGES:
        raise ValueError(f"no catalogue for staff language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    _staff[0] = lang


def staff_language() -> str:
    return _staff[0]


def staff_text(template: str, /, **params: object) -> str:
    """A staff text (marked `S_`) in the organisation's language, its `{placeholders}` filled in. The one way
    staff texts are said: chat (`routing.texts.staff`), the rota's answers and the dashboard alias it."""
    return translate(staff_language(), template).format(**params)


def staff_count(forms: tuple[str, str], n: int, /, **params: object) -> str:
    """A staff text with a count `{n}` (marked `NP_`), in the form the organisation's plural rule picks."""
    return ngettext(staff_language(), forms, n).format(n=n, **params)


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a text with a count for extraction: (singular, plural) in English, as gettext's ngettext wants."""
    return singular, plural


def negotiate(tag: str | None) -> str:
    """The catalogue for a language tag ("es-MX", "pt_BR", "FR"): its primary subtag if we have it, else
    English."""
    subtag = primary(tag)
    return subtag if subtag in LANGUAGES else SOURCE


def primary(tag: str | None) -> str | None:
    """A language tag's primary subtag, lower case ("pt-BR" -> "pt"); None when there is no tag."""
    return tag.replace("_", "-").split("-")[0].casefold() or None if tag else None


def catalogue_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _catalogue(lang: str) -> tuple[dict[str, str], dict[str, tuple[str, ...]], Callable[[int], int]]:
    """(texts, plural texts, plural rule) of one language; English has none (its ids are its texts)."""
    if lang == SOURCE or lang not in LANGUAGES:
        return {}, {}, lambda n: 0 if n == 1 else 1
    with catalogue_path(lang).open("rb") as f:
        catalog: Catalog = read_po(f, locale=lang)
    singles: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        msgid, translated = message.id, message.string
        if not msgid or message.fuzzy:
            continue
        if isinstance(msgid, (tuple, list)) and isinstance(translated, (tuple, list)):
            if all(translated):
                plurals[str(msgid[0])] = tuple(str(t) for t in translated)
        elif isinstance(msgid, str) and isinstance(translated, str) and translated:
            singles[msgid] = translated
    return singles, plurals, gettext.c2py(catalog.plural_expr)


def translate(lang: str | None, text: str) -> str:
    """`text` (an English text from routing/texts.py) in the language `lang` (a tag; English if unknown)."""
    return _catalogue(negotiate(lang))[0].get(text, text)


def ngettext(lang: str | None, forms: tuple[str, str], n: int) -> str:
    """The form of a counted text for `n` in `lang` (plural rules per language: French says "0 message")."""
    _singles, plurals, rule = _catalogue(negotiate(lang))
    translated = plurals.get(forms[0])
    if translated is None:
        return forms[0] if n == 1 else forms[1]
    return translated[min(rule(n), len(translated) - 1)]


def moment(lang: str | None, when: datetime, pattern: str = "EEEE HH:mm") -> str:
    """A time in the person's language ("lunes 18:00", "Monday 18:00"), in UTC (the texts name the zone)."""
    return format_datetime(when.astimezone(UTC), pattern, tzinfo=UTC, locale=negotiate(lang))


def local_moment(lang: str | None, when: datetime, zone: str) -> str:
    """A time in the person's language and time zone, the zone named ("lunes 12:00 (hora de México)")."""
    tz = ZoneInfo(zone)
    local = when.astimezone(tz)
    name = get_timezone_name(local, width="long", locale=negotiate(lang))
    return f"{format_datetime(local, 'EEEE HH:mm', tzinfo=tz, locale=negotiate(lang))} ({name})"
