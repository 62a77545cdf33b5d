"""The rota: who is on shift and on call, when (pure: no Redis, no platform; a contract in pyproject.toml).

The names below are what most callers need: the rota as data, reading the rota file, and the questions asked
of a rota. The rest is imported from its module:

- `routing.rota.model`    the rota as data (`Rota`, `Shift`, `Cover`, `Absence`, `OnCallBlock`, `TimeRange`)
- `routing.rota.clock`    wall clock -> instants, the DST policy, expanding the week into duties
- `routing.rota.maths`    on_shift, on_call, coverage, next_available, shift_ending_soon, hours_this_week
- `routing.rota.validate` the rules a rota must keep, as messages a coordinator understands
- `routing.rota.changes`  typed edits and `apply_change`
- `routing.rota.file`     the `config/rota.toml` data shape (parse_rota, rota_to_toml_data) and the JSON in Redis
- `routing.rota.toml`     the commented, stable rota file text (rota_to_toml)
- `routing.rota.render`   `/rota`, `/oncall` and `peerbridge rota show` as plain text
- `routing.rota.commands` coordinator chat commands: parsing, the coordinator check, the answers to views

Outside this package, because they need Redis: the live rota in Redis, the source of truth
(`routing.store.rota_store`, `routing.store.duty`), and what reads it from there: the coverage watch
(`routing.coverage_watch`), the escalation chain's on-call lookups (`routing.on_call`) and the staff as the
live rota knows them (`routing.live_roster`). Who the staff are (`routing.roster`) is asked by the router,
the workspace, intake and training as well, so it stays in `routing/`; the rota builds on it.
"""

from routing.rota.file import parse_rota
from routing.rota.maths import GapKind, OnCall, gaps, on_call, on_shift
from routing.rota.model import (
    Absence,
    Cover,
    OnCallBlock,
    Rota,
    RotaError,
    Shift,
    TimeRange,
    Weekday,
    can_change_rota,
    parse_date,
    roster_of,
)

__all__ = [
    "Absence",
    "Cover",
    "GapKind",
    "OnCall",
    "OnCallBlock",
    "Rota",
    "RotaError",
    "Shift",
    "TimeRange",
    "Weekday",
    "can_change_rota",
    "gaps",
    "on_call",
    "on_shift",
    "parse_date",
    "parse_rota",
    "roster_of",
]
