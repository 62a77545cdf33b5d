"""Crisis lines by country and times in the person's zone: the shipped resource files, and the router using them."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from bot import shipped
from bot.services import load_resources
from routing import texts
from routing.intake import country_name
from routing.model import Audience, InboundKind, Platform, UserId, VolunteerId
from routing.resources import CrisisResources, ResourceFileError, parse_resources
from routing.risk.detector import RiskDetector
from routing.roster import StaffMember
from routing.rota import parse_rota
from routing.store import keys
from routing.store.rota_store import RotaStore
from tests.routing_harness import make_harness

RESOURCES = shipped.CRISIS_RESOURCES
ANA = StaffMember(id=VolunteerId("ana"), name="Ana", identities={Platform.TELEGRAM: UserId("501")})


@pytest.fixture(scope="module")
def resources() -> CrisisResources:
    return load_resources(RESOURCES)


def test_at_least_fifteen_countries_each_number_with_its_source_and_the_day_it_was_checked(
    resources: CrisisResources,
) -> None:
    """The loader refuses an entry without both (next test); here: what ships, and that it was really checked."""
    assert len(resources.countries) >= 15
    for country in resources.countries.values():
        assert country.emergency_source.startswith("http") and country.emergency_checked <= dt.date.today()
        assert country.lines, country.code  # a country file without any crisis line is not worth sending
        for line in country.lines:
            assert line.source.startswith("http") and line.checked is not None and line.checked <= dt.date.today()
    assert {"US", "CA", "GB", "IE", "ES", "MX", "CO", "CL", "PE", "BR", "PT", "FR", "BE", "AU", "NZ", "IN"} <= set(
        resources.countries
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"checked": None}, "line 1 needs the date it was checked"),
        ({"source": "a newspaper"}, "line 1 needs the source page it was read on"),
        ({"number": ""}, "line 1 has no number"),
        ({"how": "fax"}, "line 1: how is one of call, text, call_or_text"),
        ({"always_open": False}, "line 1 is not always open: give its hours"),
        ({"source_kind": "blog"}, "line 1: source_kind is official or press"),
    ],
)
def test_an_entry_without_a_checked_source_is_refused_by_name(change: dict[str, object], problem: str) -> None:
    line = {"name": "Line", "number": "123", "source": "https://example.org/line", "checked": dt.date(2026, 12, 7)}
    line = {k: v for k, v in (line | change).items() if v is not None}
    country = {
        "country": "XX", "languages": ["en"], "zone": "UTC", "lines": [line],
        "emergency": {"number": "112", "source": "https://example.org/112", "checked": dt.date(2026, 12, 7)},
    }  # fmt: skip
    with pytest.raises(ResourceFileError, match=f"xx.toml: {problem}"):
        parse_resources({"international": {}, "xx": country})


def test_the_country_comes_from_a_choice_or_the_language_region_never_from_the_language_alone(
    resources: CrisisResources,
) -> None:
    mexico = resources.country_of(None, "es-MX")
    assert mexico is not None and mexico.code == "MX"
    assert resources.country_of(None, "es") is None  # Spanish is spoken in twenty countries: no guess
    chosen = resources.country_of("CO", "es-MX")
    assert chosen is not None and chosen.code == "CO"  # what they told us beats their phone's setting
    spanish = resources.text("es", None)
    assert texts.say("es", texts.RESOURCES_INTRO) in spanish and "findahelpline.com" in spanish
    assert "024" not in spanish  # Spain's line is not for every Spanish speaker
    assert "800 911 2000" in resources.text("es", mexico) and "911" in resources.text("es", mexico)


async def test_a_person_from_mexico_at_risk_gets_mexicos_lines_in_spanish(
    redis: Redis, resources: CrisisResources
) -> None:
    h = make_harness(redis, resources=resources)
    await h.person("9001", "ya no aguanto, me voy a matar esta noche", language="es-MX")
    said = await h.to_person()
    country = resources.countries["MX"]
    assert any(resources.text("es", country) in t for t in said)
    assert not any(texts.say("es", texts.COUNTRY_QUESTION) in t for t in said)  # their app told us the country


async def test_a_person_whose_country_is_unknown_is_asked_once_and_gets_its_lines_at_once_when_at_risk(
    redis: Redis, resources: CrisisResources
) -> None:
    h = make_harness(redis, resources=resources)
    await h.person("9002", "quiero morirme", language="es")  # elevated: the international lines, in Spanish
    out = [m for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.SEEKER]
    assert any(resources.text("es", None) in m.text for m in out)
    question = next(m for m in out if m.text == texts.say("es", texts.COUNTRY_QUESTION))
    assert [b.label for b in question.buttons] == [
        *(country_name(code, "es") for code in ("CL", "CO", "ES", "US", "MX", "PE")), "Otro país"  # A to Z
    ]  # fmt: skip

    await h.person("9002", "country MX", kind=InboundKind.ACTION, language="es")
    said = await h.to_person()
    assert texts.say("es", texts.COUNTRY_NOTED, country="México") in said
    assert resources.text("es", resources.countries["MX"]) in said  # at risk: their own lines, now

    await h.person("9002", "/stop", language="es")
    await h.person("9002", "hola otra vez", language="es")  # a new conversation: not asked again
    assert not any(texts.say("es", texts.COUNTRY_QUESTION) in t for t in await h.to_person())
    await h.person("9002", "/forget sí", language="es")
    person_key = h.pseudonyms.key(Platform.TELEGRAM, UserId("9002"))
    assert not await redis.exists(keys.person_country(person_key), keys.person_language(person_key))


async def test_a_french_person_out_of_hours_reads_when_volunteers_are_back_in_their_own_time(
    redis: Redis, resources: CrisisResources
) -> None:
    h = make_harness(redis, members=[ANA], resources=resources)
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(datetime.now(UTC) + timedelta(days=2)).weekday()]
    rota = {"timezone": "UTC", "staff": [{"id": "ana", "name": "Ana", "telegram": 501}],
            "shift": [{"volunteer": "ana", "day": day, "time": "09:00-10:00"}]}  # fmt: skip
    await RotaStore(redis).save(parse_rota(rota), by="test")
    await h.person("9003", "il y a quelqu'un ?", language="fr-FR")
    reply = (await h.to_person())[-1]
    paris = (datetime.now(UTC) + timedelta(days=2)).replace(hour=9, minute=0).astimezone(ZoneInfo("Europe/Paris"))
    assert texts.say("fr", texts.OUT_OF_HOURS, next_open="")[:30] in reply
    assert f"{paris:%H:%M} (heure" in reply  # 10:00 in winter, 11:00 in summer: Paris time, the zone named
    assert "UTC" not in reply


def test_every_shipped_resource_file_loads(tmp_path: Path) -> None:
    """The shipped folder copied elsewhere (as a charity that edits it would) still loads."""
    for path in RESOURCES.glob("*.toml"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    assert load_resources(tmp_path).countries.keys() == load_resources(RESOURCES).countries.keys()


async def test_a_conversation_in_a_language_without_risk_phrases_is_marked_for_the_volunteer(
    redis: Redis, tmp_path: Path
) -> None:
    """A deployment whose phrase folder lacks Portuguese (an organisation that keeps only its own files) still
    serves Portuguese speakers in their language: the volunteer is told screening is limited when they take the
    conversation (and check-config says it too)."""
    for lang in ("en", "es"):
        (tmp_path / f"{lang}.toml").write_bytes((shipped.RISK_PHRASES / f"{lang}.toml").read_bytes())
    h = make_harness(redis, members=[ANA], detector=RiskDetector.from_directory(tmp_path))
    await h.person("9004", "olá, estou muito mal", language="pt-BR")
    await h.person("9005", "hello, rough night", language="en-GB")
    await h.staff("501", "/next")
    await h.staff("501", "/next")
    threads = [m.text for m in await h.outbound(Platform.TELEGRAM) if m.audience == Audience.STAFF_THREAD]
    opened = [t for t in threads if "language:" in t]
    assert len(opened) == 2
    portuguese = next(t for t in opened if "language: pt-BR" in t)
    assert texts.RISK_SCREENING_LIMITED.format(language="pt") in portuguese
    english = next(t for t in opened if "language: en-GB" in t)
    assert "Risk screening limited" not in english
