"""The rota file: the example parses, the writer is stable and commented, and what it writes reads back equal."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.model import Platform, Role, UserId, VolunteerId
from routing.pseudonyms import Pseudonymiser
from routing.roster import StaffMember, parse_roster
from routing.rota import Absence, Cover, OnCallBlock, Rota, Shift, TimeRange, Weekday, parse_rota
from routing.rota.file import rota_from_json, rota_to_json, rota_to_toml_data
from routing.rota.toml import rota_to_toml

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "config" / "rota.example.toml"


def example() -> Rota:
    with open(EXAMPLE, "rb") as f:
        return parse_rota(tomllib.load(f))


def test_the_example_is_a_sound_rota_with_on_call_all_week() -> None:
    rota = example()
    assert rota.timezone == "Europe/London"
    assert {m.id for m in rota.with_role(Role.PROFESSIONAL)} == {"dr-lee", "dr-kim"}
    assert sum(b.time.minutes for b in rota.oncall) == 7 * 24 * 60
    assert all(b.backup is not None for b in rota.oncall)
    ana = rota.member(VolunteerId("ana"))
    assert ana is not None and ana.weekly_hours == 20 and ana.identities == {Platform.TELEGRAM: UserId("111111111")}


def test_parse_roster_still_reads_the_rota_file() -> None:
    with open(EXAMPLE, "rb") as f:
        roster = parse_roster(tomllib.load(f), Pseudonymiser(b"0123456789abcdef0123"))
    member = roster.member(Platform.TELEGRAM, UserId("111111111"))
    assert member.id == "ana" and member.max_concurrent == 3 and member.weekly_hours == 20
    assert roster.resolve("Dr Lee") is not None


def test_written_file_reads_back_equal_and_is_stable() -> None:
    rota = example()
    text = rota_to_toml(rota)
    again = parse_rota(tomllib.loads(text))
    assert again == rota
    assert rota_to_toml(again) == text  # same rota, same bytes: diffs in version control stay small


def test_written_file_is_commented_and_readable() -> None:
    text = rota_to_toml(example())
    assert text.startswith("# peerbridge rota")
    assert "a time the clocks skip means the moment" in text
    assert '[[shift]]\nvolunteer = "ana"\nday = "mon"\ntime = "09:00-15:00"\n' in text
    assert '[[absence]]\nvolunteer = "ben"\nfrom = 2025-12-24\nuntil = 2025-12-26\n' in text
    assert "telegram = 111111111\n" in text and 'discord = "222222222222222222"\n' in text


def test_an_empty_rota_writes_every_section_with_a_note() -> None:
    text = rota_to_toml(Rota("America/New_York"))
    assert 'timezone = "America/New_York"' in text
    assert "# (no shift entries)" in text and "# (no oncall entries)" in text
    assert parse_rota(tomllib.loads(text)) == Rota("America/New_York")


def test_the_stored_json_reads_back_equal() -> None:
    rota = example()
    assert rota_from_json(rota_to_json(rota)) == rota
    assert rota_from_json(rota_to_json(rota).encode()) == rota


def test_dates_may_be_toml_dates_or_text() -> None:
    data = rota_to_toml_data(example())
    assert isinstance(data["cover"][0]["date"], date)
    data["cover"][0]["date"] = "2025-12-24"
    assert parse_rota(data) == example()


# Arbitrary rotas (rules between entries aside): the writer must escape any name and keep every entry.
ids = st.sampled_from(["ana", "ben", "dr-lee", "x.y_z"]).map(VolunteerId)
ranges = (
    st.tuples(st.integers(0, 1439), st.integers(1, 1440)).filter(lambda r: r[0] != r[1]).map(lambda r: TimeRange(*r))
)
days = st.sampled_from(list(Weekday))
dates = st.dates(date(2020, 1, 1), date(2030, 12, 31))
text = st.text(st.characters(codec="utf-8"), max_size=20)
members = st.builds(
    StaffMember,
    id=ids,
    name=text,
    roles=st.frozensets(st.sampled_from([Role.SUPERVISOR, Role.PROFESSIONAL, Role.COORDINATOR])).map(
        lambda r: frozenset({Role.VOLUNTEER, *r})
    ),
    languages=st.lists(text, max_size=2).map(tuple),
    tags=st.lists(text, max_size=2).map(tuple),
    max_concurrent=st.integers(0, 20),
    identities=st.fixed_dictionaries(
        {}, optional={Platform.TELEGRAM: st.from_regex(r"[1-9][0-9]{0,11}", fullmatch=True).map(UserId)}
    ),
    weekly_hours=st.none() | st.integers(0, 168).map(float) | st.just(12.5),
)
rotas = st.builds(
    Rota,
    timezone=st.sampled_from(["Europe/London", "America/New_York", "UTC", "Asia/Kolkata"]),
    staff=st.lists(members, max_size=4, unique_by=lambda m: m.id).map(tuple),
    shifts=st.lists(st.builds(Shift, ids, days, ranges), max_size=5).map(tuple),
    covers=st.lists(st.builds(Cover, ids, dates, ranges), max_size=3).map(tuple),
    absences=st.lists(
        st.builds(lambda v, a, n: Absence(v, a, date.fromordinal(a.toordinal() + n)), ids, dates, st.integers(0, 9)),
        max_size=3,
    ).map(tuple),
    oncall=st.lists(st.builds(OnCallBlock, ids, days, ranges, st.none() | ids), max_size=3).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(rotas)
def test_any_rota_survives_the_file_and_the_json(rota: Rota) -> None:
    assert parse_rota(tomllib.loads(rota_to_toml(rota)), check=False) == rota
    assert rota_from_json(rota_to_json(rota)) == rota
