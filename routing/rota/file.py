"""The rota file (`config/rota.toml`) and the JSON kept in Redis: one data shape, parsed and written (pure).

```toml
timezone = "Europe/London"          # IANA name; required
[[staff]]                           # as before, plus weekly_hours
id = "ana"
weekly_hours = 16
[[shift]]                           # weekly: day (or days = [...]) and HH:MM-HH:MM
volunteer = "ana"
day = "mon"
time = "09:00-17:00"
[[cover]]                           # one-off, starting on a date
volunteer = "ana"
date = 2025-03-31
time = "18:00-22:00"
[[absence]]                         # date = ..., or from = ... and until = ... (inclusive)
volunteer = "ana"
from = 2025-04-01
until = 2025-04-07
[[oncall]]                          # weekly, professionals only; backup optional (a gap is reported)
professional = "dr-lee"
backup = "dr-kim"
day = "mon"
time = "00:00-24:00"
```
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from routing.model import Platform, Role, VolunteerId
from routing.roster import RosterError, StaffMember, parse_staff
from routing.rota.model import (
    Absence,
    Cover,
    OnCallBlock,
    Rota,
    RotaError,
    Shift,
    TimeRange,
    Weekday,
    check_timezone,
    parse_date,
)
from routing.rota.validate import validate

T = TypeVar("T")
_TOP_KEYS = ("timezone", "staff", "shift", "cover", "absence", "oncall")
_ENTRY_KEYS = {
    "shift": ("volunteer", "day", "days", "time"),
    "cover": ("volunteer", "date", "time"),
    "absence": ("volunteer", "date", "from", "until"),
    "oncall": ("professional", "backup", "day", "days", "time"),
}


def parse_rota(data: Mapping[str, Any], *, check: bool = True) -> Rota:
    """Build a rota from the file's data (tomllib) or the stored JSON; raises RotaError listing every problem.

    With `check=False` only the shape is checked, not the rules between entries (used when reading back a
    rota that was checked when it was saved).
    """
    problems = [
        f"{key} is not a rota setting (expected one of: {', '.join(_TOP_KEYS)})" for key in data if key not in _TOP_KEYS
    ]
    timezone = data.get("timezone")
    if not isinstance(timezone, str):
        raise RotaError(*problems, 'timezone is missing: put timezone = "Europe/London" (your zone) at the top')
    try:
        check_timezone(timezone)
        staff = tuple(parse_staff(data))
    except (RosterError, RotaError) as exc:
        raise RotaError(*problems, str(exc)) from None
    rota = Rota(
        timezone,
        staff,
        shifts=_table(data, "shift", _shifts, problems),
        covers=_table(data, "cover", _cover, problems),
        absences=_table(data, "absence", _absence, problems),
        oncall=_table(data, "oncall", _oncall, problems),
    )
    problems += validate(rota) if check else []
    if problems:
        raise RotaError(*problems)
    return rota


def _table(
    data: Mapping[str, Any], table: str, parse: Callable[[Mapping[str, Any]], list[T]], problems: list[str]
) -> tuple[T, ...]:
    """The entries of one `[[table]]` list; problems are added to `problems`, naming the entry."""
    value = data.get(table, [])
    if not isinstance(value, list):
        problems.append(f"{table} must be a list of [[{table}]] tables")
        return ()
    found: list[T] = []
    for index, entry in enumerate(value, start=1):
        where = f"[[{table}]] #{index}"
        if not isinstance(entry, Mapping):
            problems.append(f"{where} must be a table")
            continue
        unknown = [k for k in entry if k not in _ENTRY_KEYS[table]]
        if unknown:
            expected = ", ".join(_ENTRY_KEYS[table])
            problems.append(f"{where}: {', '.join(map(repr, unknown))} is not a {table} setting (expected: {expected})")
            continue
        try:
            found += parse(entry)
        except RotaError as exc:
            problems.extend(f"{where}: {p}" for p in exc.problems)
    return tuple(found)


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RotaError(f"{key} is missing or not text")
    return value.strip()


def _date(entry: Mapping[str, Any], key: str) -> date:
    value = entry.get(key)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return parse_date(value)
    raise RotaError(f"{key} must be a date (YYYY-MM-DD)")


def _days(entry: Mapping[str, Any]) -> list[Weekday]:
    if ("day" in entry) == ("days" in entry):
        raise RotaError('give either day = "mon" or days = ["mon", "tue"]')
    if "day" in entry:
        return [Weekday.parse(_text(entry, "day"))]
    days = entry["days"]
    if not isinstance(days, list) or not days or not all(isinstance(d, str) for d in days):
        raise RotaError('days must be a list of day names, such as ["mon", "tue"]')
    return [Weekday.parse(d) for d in days]


def _shifts(entry: Mapping[str, Any]) -> list[Shift]:
    volunteer, time = VolunteerId(_text(entry, "volunteer")), TimeRange.parse(_text(entry, "time"))
    return [Shift(volunteer, day, time) for day in _days(entry)]


def _cover(entry: Mapping[str, Any]) -> list[Cover]:
    return [Cover(VolunteerId(_text(entry, "volunteer")), _date(entry, "date"), TimeRange.parse(_text(entry, "time")))]


def _absence(entry: Mapping[str, Any]) -> list[Absence]:
    volunteer = VolunteerId(_text(entry, "volunteer"))
    if "date" in entry:
        if "from" in entry or "until" in entry:
            raise RotaError("give either date = ..., or from = ... and until = ...")
        day = _date(entry, "date")
        return [Absence(volunteer, day, day)]
    first, last = _date(entry, "from"), _date(entry, "until")
    if last < first:
        raise RotaError(f"until ({last}) is before from ({first})")
    return [Absence(volunteer, first, last)]


def _oncall(entry: Mapping[str, Any]) -> list[OnCallBlock]:
    professional, time = VolunteerId(_text(entry, "professional")), TimeRange.parse(_text(entry, "time"))
    backup = VolunteerId(_text(entry, "backup")) if "backup" in entry else None
    return [OnCallBlock(professional, day, time, backup) for day in _days(entry)]


def rota_to_toml_data(rota: Rota) -> dict[str, Any]:
    """The rota as the file's data (what tomllib would read back); `parse_rota` of it gives an equal rota."""
    return {
        "timezone": rota.timezone,
        "staff": [_staff_data(m) for m in rota.staff],
        "shift": [{"volunteer": s.volunteer, "day": s.day.label, "time": s.time.label} for s in rota.shifts],
        "cover": [{"volunteer": c.volunteer, "date": c.day, "time": c.time.label} for c in rota.covers],
        "absence": [_absence_data(a) for a in rota.absences],
        "oncall": [_oncall_data(b) for b in rota.oncall],
    }


def _staff_data(m: StaffMember) -> dict[str, Any]:
    data: dict[str, Any] = {"id": m.id, "name": m.name}
    for platform in Platform:
        if platform in m.identities:
            user = str(m.identities[platform])
            numeric = platform == Platform.TELEGRAM and user.isascii() and user.isdigit() and user[0] != "0"
            data[platform.value] = int(user) if numeric else user
    data["roles"] = [r.value for r in Role if r in m.roles]
    data["languages"] = list(m.languages)
    data["tags"] = list(m.tags)
    data["max_concurrent"] = m.max_concurrent
    if m.weekly_hours is not None:
        data["weekly_hours"] = int(m.weekly_hours) if m.weekly_hours.is_integer() else m.weekly_hours
    return data


def _absence_data(a: Absence) -> dict[str, Any]:
    if a.first == a.last:
        return {"volunteer": a.volunteer, "date": a.first}
    return {"volunteer": a.volunteer, "from": a.first, "until": a.last}


def _oncall_data(b: OnCallBlock) -> dict[str, Any]:
    data: dict[str, Any] = {"professional": b.professional}
    if b.backup is not None:
        data["backup"] = b.backup
    return {**data, "day": b.day.label, "time": b.time.label}


def rota_to_json(rota: Rota) -> str:
    """Compact JSON of the file's data (dates as YYYY-MM-DD), as kept in Redis."""
    return json.dumps(rota_to_toml_data(rota), default=_iso, separators=(",", ":"), ensure_ascii=False)


def rota_from_json(text: str | bytes, *, check: bool = False) -> Rota:
    """The rota from `rota_to_json`'s output; raises RotaError if it is not one."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RotaError(f"the stored rota is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RotaError("the stored rota is not a JSON object")
    return parse_rota(data, check=check)


def _iso(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in the rota")
