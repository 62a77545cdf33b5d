"""The message catalogues: every text a person or a member of staff reads, translated into every language,
placeholders intact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from routing import texts
from routing.i18n import LANGUAGES, SOURCE, negotiate, translate, use_staff_language
from routing.i18n.catalogue import LOCALES, catalogue_path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "tools" / "catalogue-sources.txt"  # the files `./dev catalogues` extracts from
TRANSLATED = [lang for lang in LANGUAGES if lang != SOURCE]
_PLACEHOLDER = re.compile(r"\{(\w+)")
_MARKS = re.compile(r"\b(?:N_|NP_|S_)\(\s*[\"']")  # a text marked where it is written


def sources() -> list[Path]:
    """The files listed in tools/catalogue-sources.txt, as `./dev catalogues` reads them."""
    lines = (line.strip() for line in SOURCES.read_text(encoding="utf-8").splitlines())
    return [ROOT / line for line in lines if line and not line.startswith("#")]


def marked() -> set[str]:
    """Every text the listed files mark for translation: N_ and NP_ for people, S_ for staff (as Babel's
    extractor, `./dev catalogues`, sees them)."""
    keywords = {"N_": None, "NP_": (1, 2), "S_": None}
    found = [m for path in sources() for m in extract_from_file("python", str(path), keywords=keywords)]
    return {m[1] if isinstance(m[1], str) else m[1][0] for m in found}


def test_every_file_that_marks_texts_is_extracted() -> None:
    """A text marked in a file `./dev catalogues` does not read would never be translated."""
    listed = set(sources())
    assert all(path.is_file() for path in listed), "tools/catalogue-sources.txt names a file that does not exist"
    marking = {
        path
        for package in ("routing", "bot", "adapters", "sandboxes")
        for path in (ROOT / package).rglob("*.py")
        if _MARKS.search(path.read_text(encoding="utf-8"))
    }
    assert marking <= listed, f"add to tools/catalogue-sources.txt: {sorted(str(p) for p in marking - listed)}"


def catalogue(lang: str) -> Catalog:
    with catalogue_path(lang).open("rb") as f:
        return read_po(f, locale=lang)


def test_the_template_is_up_to_date_with_the_texts() -> None:
    with (LOCALES / "peerbridge.pot").open("rb") as f:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    assert template == marked(), "run ./dev catalogues: the template does not match the marked texts"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_text_is_translated_with_its_placeholders(lang: str) -> None:
    messages = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue(lang) if m.id}
    missing = marked() - set(messages)
    assert not missing, f"{lang}: not in the catalogue (run ./dev catalogues and translate): {sorted(missing)[:3]}"
    for msgid, message in messages.items():
        assert msgid in marked(), f"{lang}: an obsolete text is still in the catalogue: {msgid[:60]!r}"
        assert not message.fuzzy, f"{lang}: marked fuzzy (check and unmark): {msgid[:60]!r}"
        forms = [message.string] if isinstance(message.string, str) else list(message.string)
        assert forms and all(forms), f"{lang}: untranslated: {msgid[:60]!r}"
        source = message.id if isinstance(message.id, str) else message.id[1]
        for form in forms:
            assert set(_PLACEHOLDER.findall(form)) == set(_PLACEHOLDER.findall(source)), (
                f"{lang}: placeholders differ in {form[:60]!r}"
            )
            try:
                form.format_map(_Anything())  # braces that str.format can read
            except (ValueError, IndexError) as exc:
                pytest.fail(f"{lang}: {form[:60]!r} cannot be filled in: {exc}")


class _Anything(dict[str, object]):
    """Any placeholder filled with a number: it takes every format spec the texts use ({hours:.0f} too)."""

    def __missing__(self, key: str) -> int:
        return 0


def test_a_person_reads_their_language_with_its_own_emergency_paragraph() -> None:
    queued = texts.say("es-MX", texts.QUEUED, position=2)
    assert "2" in queued and texts.translate("es", texts.EMERGENCY) in queued
    assert queued != texts.say("en", texts.QUEUED, position=2)
    assert texts.say("pt-BR", texts.WELCOME, retention=30) == texts.say("pt", texts.WELCOME, retention=30)
    assert texts.say("de", texts.QUEUED, position=2) == texts.say(None, texts.QUEUED, position=2)  # English


def test_counts_follow_each_languages_plural_rules() -> None:
    assert texts.count("en", texts.CONVERSATIONS, 1) == "1 conversation"
    assert texts.count("en", texts.CONVERSATIONS, 0) == "0 conversations"
    french_zero, french_one, french_two = (texts.count("fr", texts.CONVERSATIONS, n) for n in (0, 1, 2))
    assert french_zero.removeprefix("0 ") == french_one.removeprefix("1 ")  # French: "0 conversation", singular
    assert french_two.removeprefix("2 ") != french_one.removeprefix("1 ")
    spanish_zero, spanish_one = texts.count("es", texts.CONVERSATIONS, 0), texts.count("es", texts.CONVERSATIONS, 1)
    assert spanish_zero.removeprefix("0 ") != spanish_one.removeprefix("1 ")  # Spanish: "0 conversaciones"


@pytest.mark.parametrize(("tag", "lang"), [("es-MX", "es"), ("pt_BR", "pt"), ("FR", "fr"), ("de", "en"), (None, "en")])
def test_a_language_tag_finds_its_catalogue(tag: str | None, lang: str) -> None:
    assert negotiate(tag) == lang


def test_staff_read_the_organisations_language_and_people_their_own() -> None:
    """`staff.language` changes what staff read, never what a person reads (the person's own language)."""
    english = texts.staff(texts.NOTE_SAVED, note="x")
    use_staff_language("es")
    try:
        spanish = texts.staff(texts.NOTE_SAVED, note="x")
        assert spanish == translate("es", texts.NOTE_SAVED).format(note="x") != english
        assert texts.say("fr", texts.CONNECTED) == translate("fr", texts.CONNECTED)  # the person: theirs
        assert texts.say(None, texts.CONNECTED) == texts.CONNECTED  # unknown: English, not the staff's Spanish
    finally:
        use_staff_language(SOURCE)
    assert texts.staff(texts.NOTE_SAVED, note="x") == english


def test_a_language_without_a_catalogue_is_refused_for_staff() -> None:
    with pytest.raises(ValueError, match="no catalogue for staff language 'de'"):
        use_staff_language("de")
    assert texts.staff(texts.NOBODY_WAITING) == texts.NOBODY_WAITING
