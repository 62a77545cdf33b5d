"""The live rota in a real Redis: whole saves with a version, edits that change nothing when refused, and
concurrent edits that are each judged against the rota they land on."""

from __future__ import annotations

import asyncio
import tomllib
from datetime import date
from typing import cast

import pytest
from redis.asyncio import Redis

from routing.model import VolunteerId
from routing.rota import Cover, OnCallBlock, Rota, RotaError, Shift, TimeRange, Weekday, parse_rota
from routing.rota.changes import RotaChange, SetCapacity
from routing.store import keys
from routing.store.rota_store import ROTA_DATA, ROTA_VERSION, NoRota, RotaConflict, RotaStore

ANA, BEN, LEE = VolunteerId("ana"), VolunteerId("ben"), VolunteerId("lee")
T = TimeRange.parse
TEXT = """
timezone = "Europe/London"
[[staff]]
id = "ana"
[[staff]]
id = "ben"
[[staff]]
id = "lee"
roles = ["professional"]
[[staff]]
id = "sam"
roles = ["coordinator"]
[[shift]]
volunteer = "ana"
day = "mon"
time = "09:00-17:00"
[[oncall]]
professional = "lee"
day = "mon"
time = "00:00-24:00"
"""


def rota() -> Rota:
    return parse_rota(tomllib.loads(TEXT))


async def raw(redis: Redis) -> tuple[object, object]:
    return await redis.get(ROTA_DATA), await redis.get(ROTA_VERSION)


async def test_nothing_stored_yet(redis: Redis) -> None:
    store = RotaStore(redis)
    assert await store.load() is None
    assert await store.version() == 0
    with pytest.raises(NoRota, match="peerbridge rota import"):
        await store.add_shift(Shift(ANA, Weekday.TUE, T("09:00-17:00")), by="sam")


async def test_save_and_load_the_whole_rota_with_a_version(redis: Redis) -> None:
    store = RotaStore(redis)
    assert await store.save(rota()) == 1
    stored = await store.load()
    assert stored is not None and stored.rota == rota() and stored.version == 1
    assert await RotaStore(redis).save(rota(), expected_version=1) == 2  # another process, same Redis
    assert await store.version() == 2


async def test_an_unsound_rota_is_not_saved(redis: Redis) -> None:
    store = RotaStore(redis)
    await store.save(rota())
    before = await raw(redis)
    bad = Rota("Europe/London", rota().staff, (Shift(VolunteerId("nobody"), Weekday.MON, T("09:00-10:00")),))
    with pytest.raises(RotaError, match="there is no 'nobody' on the roster"):
        await store.save(bad)
    assert await raw(redis) == before


async def test_a_save_based_on_an_old_version_is_a_conflict(redis: Redis) -> None:
    store = RotaStore(redis)
    await store.save(rota())
    await store.save(rota())
    before = await raw(redis)
    with pytest.raises(RotaConflict) as caught:
        await store.save(rota(), expected_version=1)
    assert (caught.value.expected, caught.value.current) == (1, 2)
    assert await raw(redis) == before
    with pytest.raises(RotaConflict):
        await RotaStore(redis).save(rota(), expected_version=0)  # "there was none" but there is


async def test_small_edits_change_the_live_rota_and_are_audited(redis: Redis) -> None:
    store = RotaStore(redis)
    await store.save(rota())
    stored = await store.add_shift(Shift(BEN, Weekday.TUE, T("22:00-02:00")), by="sam")
    assert stored.version == 2 and Shift(BEN, Weekday.TUE, T("22:00-02:00")) in stored.rota.shifts
    await store.add_cover(Cover(BEN, date(2025, 6, 5), T("09:00-12:00")), by="sam")
    await store.set_capacity(BEN, 1, by="sam")
    await store.add_volunteer(VolunteerId("zoe"), "Zoë", by="sam")
    await store.set_oncall(OnCallBlock(LEE, Weekday.TUE, T("00:00-24:00")), by="sam")
    await store.remove_shift(Shift(ANA, Weekday.MON, T("09:00-17:00")), by="sam")
    await store.remove_cover(Cover(BEN, date(2025, 6, 5), T("09:00-12:00")), by="sam")
    final = await store.remove_volunteer(VolunteerId("zoe"), by="sam")
    loaded = await store.load()
    assert loaded == final and final.version == 9
    assert [s.label for s in final.rota.shifts] == ["ben tue 22:00-02:00"]
    assert final.rota.covers == ()
    ben = final.rota.member(BEN)
    assert ben is not None and ben.max_concurrent == 1
    assert [b.label for b in final.rota.oncall] == ["mon 00:00-24:00 lee", "tue 00:00-24:00 lee"]
    audit = cast(list[tuple[bytes, dict[bytes, bytes]]], await redis.xrange(keys.AUDIT))
    events = [fields[b"event"].decode() for _id, fields in audit]
    assert events == [
        "rota_replaced", "rota_shift_add", "rota_cover_add", "rota_capacity", "rota_volunteer_add",
        "rota_oncall_set", "rota_shift_remove", "rota_cover_remove", "rota_volunteer_remove",
    ]  # fmt: skip
    assert {fields[b"by"] for _id, fields in audit[1:]} == {b"sam"}
    assert all(b"Z" not in value for _id, fields in audit for value in fields.values())  # no names in the audit


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (SetCapacity(ANA, 21), "capacity must be a whole number from 0 to 20"),
        (SetCapacity(VolunteerId("anna"), 2), "there is no 'anna' on the roster"),
    ],
)
async def test_a_refused_edit_changes_nothing(redis: Redis, change: RotaChange, message: str) -> None:
    store = RotaStore(redis)
    await store.save(rota())
    before = await raw(redis)
    audit_before = await redis.xlen(keys.AUDIT)
    with pytest.raises(RotaError, match=message):
        await store.apply(change, by="sam")
    assert await raw(redis) == before
    assert await redis.xlen(keys.AUDIT) == audit_before


async def test_an_overlapping_shift_is_refused_and_changes_nothing(redis: Redis) -> None:
    store = RotaStore(redis)
    await store.save(rota())
    before = await raw(redis)
    with pytest.raises(RotaError, match="shift ana mon 16:00-18:00 overlaps ana's shift mon 09:00-17:00"):
        await store.add_shift(Shift(ANA, Weekday.MON, T("16:00-18:00")), by="sam")
    with pytest.raises(RotaError, match="ben cannot be on call"):
        await store.set_oncall(OnCallBlock(BEN, Weekday.TUE, T("00:00-24:00")), by="sam")
    assert await raw(redis) == before


async def test_concurrent_edits_all_land(redis: Redis) -> None:
    await RotaStore(redis).save(rota())
    shifts = [Shift(BEN, Weekday(d), T(f"{h:02d}:00-{h + 1:02d}:00")) for d in range(7) for h in (6, 20)]
    stores = [RotaStore(redis, retries=len(shifts) + 1) for _ in shifts]  # as if from separate processes
    await asyncio.gather(*(s.add_shift(shift, by="sam") for s, shift in zip(stores, shifts, strict=True)))
    stored = await RotaStore(redis).load()
    assert stored is not None and stored.version == 1 + len(shifts)
    assert set(shifts) <= set(stored.rota.shifts)


async def test_racing_overlapping_edits_one_wins_the_other_is_judged_against_it(redis: Redis) -> None:
    await RotaStore(redis).save(rota())
    a, b = Shift(BEN, Weekday.WED, T("09:00-13:00")), Shift(BEN, Weekday.WED, T("12:00-16:00"))
    results = await asyncio.gather(
        RotaStore(redis).add_shift(a, by="sam"), RotaStore(redis).add_shift(b, by="sam"), return_exceptions=True
    )
    assert sum(isinstance(r, RotaError) for r in results) == 1
    stored = await RotaStore(redis).load()
    assert stored is not None and stored.version == 2
    assert len([s for s in stored.rota.shifts if s.volunteer == BEN]) == 1


async def test_load_if_changed_reads_only_a_new_version(redis: Redis) -> None:
    store = RotaStore(redis)
    await store.save(rota())
    assert await store.load_if_changed(1) is None
    await store.set_capacity(ANA, 2, by="sam")
    fresh = await store.load_if_changed(1)
    assert fresh is not None and fresh.version == 2
