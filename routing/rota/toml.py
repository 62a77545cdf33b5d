"""Writes the rota file: stable (same rota, same bytes), commented, and read back to an equal rota (pure).

Only the few TOML forms the rota uses are written (strings, integers, floats, dates, lists of strings), so
no TOML library is needed; `tomllib` reads the result.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from routing.rota.file import rota_to_toml_data
from routing.rota.model import Rota

HEADER = """\
# peerbridge rota: who is on shift and on call, and when.
# The live rota is kept in Redis: `peerbridge rota export FILE` writes it here, `peerbridge rota import FILE`
# checks this file and replaces the live rota with it (nothing changes if there is a problem).
#
# Times are HH:MM on the wall clock of `timezone` (an IANA name such as Europe/London). A range that ends
# before it starts runs past midnight ("22:00-02:00"); "24:00" is the midnight that ends a day.
# Days: mon tue wed thu fri sat sun. On the nights the clocks change, a time the clocks skip means the moment
# they jump, and a time that happens twice means its first occurrence.

"""

SECTIONS = {
    "staff": (
        "# Staff. Everyone in the staff chat is a volunteer; roles add supervisor, professional or coordinator.\n"
        "# telegram/discord: platform user ids. max_concurrent: conversations at once (0-20). weekly_hours:\n"
        "# scheduled hours a week before the person and the coordinators are warned (leave out for no limit)."
    ),
    "shift": "# Weekly shifts: every `day` during `time`.",
    "cover": "# One-off cover: a shift on one date (it may run past midnight).",
    "absence": "# Absences: whole days (`date`, or `from` and `until` inclusive), off every shift and on-call block.",
    "oncall": (
        "# On call: a professional (and a backup) for every hour of the week; each needs the professional role.\n"
        "# Hours without a professional or a backup are shown as gaps by `/rota` and `peerbridge rota show`."
    ),
}


def rota_to_toml(rota: Rota) -> str:
    """The rota file's text."""
    data = rota_to_toml_data(rota)
    parts = [HEADER, f"timezone = {_value(data['timezone'])}\n"]
    for table, comment in SECTIONS.items():
        entries: list[dict[str, Any]] = data[table]
        parts.append(f"\n{comment}\n")
        if not entries:
            parts.append(f"# (no {table} entries)\n")
        for entry in entries:
            parts.append(f"\n[[{table}]]\n")
            parts.extend(f"{key} = {_value(value)}\n" for key, value in entry.items())
    return "".join(parts)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"the rota file has no place for {type(value).__name__}")


def _string(text: str) -> str:
    """A TOML basic string. JSON's escapes are TOML's; TOML also wants DEL escaped."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
