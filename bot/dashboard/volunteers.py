"""The volunteers page: each staff member's load and wellbeing this week, refreshed without a reload.

Hours come from the live rota in Redis (time on shift in the rota's local Monday-to-Sunday week, against the
member's `weekly_hours`, the same sum as the coordinators' over-hours alert); open conversations from each
member's active set against `max_concurrent`; conversations this week from the audit stream; check-in, break
and cool-down from their keys. Coordinators and supervisors see everyone: they look after the team. Anyone
else sees only their own row: knowing your own hours and pauses helps you pace yourself, and other people's
load is not yours to watch. Staff appear by their staff id only, never by name or platform id.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

from bot.dashboard import words
from bot.dashboard.auth import may, session_of
from bot.dashboard.html import esc, page, security_headers
from routing.model import Role, VolunteerId
from routing.roster import StaffMember
from routing.rota import Rota
from routing.rota.clock import duties
from routing.rota.maths import week_bounds
from routing.store.duty import DutyRoster, DutyState
from routing.store.rota_store import RotaStore
from routing.store.views import DashboardViews, WeeklyConversations

TEAM_VIEWERS = frozenset({Role.COORDINATOR, Role.SUPERVISOR})
HEADINGS = (
    words.STAFF, words.HOURS_THIS_WEEK, words.WEEKLY_LIMIT, words.OPEN_CONVERSATIONS, words.CONVERSATIONS_THIS_WEEK,
    words.NOW,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class VolunteerLoad:
    """One staff member's week so far and their state right now."""

    member: StaffMember
    scheduled_hours: float | None  # None: there is no rota
    hours_so_far: float
    open: int
    conversations: int
    on_shift: bool
    duty: DutyState

    @property
    def over_hours(self) -> bool:
        limit = self.member.weekly_hours
        return limit is not None and self.scheduled_hours is not None and self.scheduled_hours > limit

    @property
    def full(self) -> bool:
        """At or over capacity (a professional taking over a crisis may go over it)."""
        return self.open > 0 and self.open >= self.member.max_concurrent

    @property
    def flags(self) -> list[str]:
        found = [("over-hours", self.over_hours), ("full", self.full)]
        found += [("cooling", self.duty.cooldown_left > 0), ("break", self.duty.break_left > 0)]
        return [name for name, on in found if on]


@dataclass(frozen=True, slots=True)
class WeekHours:
    """Time on shift per staff id in one week: scheduled in total, and the part already past."""

    start: datetime
    scheduled: dict[VolunteerId, float]
    so_far: dict[VolunteerId, float]
    on_shift: frozenset[VolunteerId]


def week_hours(rota: Rota, now: datetime) -> WeekHours:
    """Hours on shift in the rota's local week containing `now` (shifts crossing its edges count their part)."""
    start, end = week_bounds(rota, now.astimezone(rota.zone).date())
    scheduled: dict[VolunteerId, timedelta] = {}
    so_far: dict[VolunteerId, timedelta] = {}
    for duty in duties(rota, start, end):
        first, last = max(duty.start, start), min(duty.end, end)
        scheduled[duty.volunteer] = scheduled.get(duty.volunteer, timedelta()) + (last - first)
        past = max(min(last, now) - first, timedelta())
        so_far[duty.volunteer] = so_far.get(duty.volunteer, timedelta()) + past
    hours = {v: t.total_seconds() / 3600 for v, t in scheduled.items()}
    done = {v: t.total_seconds() / 3600 for v, t in so_far.items()}
    on = frozenset(d.volunteer for d in duties(rota, now, now + timedelta(microseconds=1)) if d.start <= now < d.end)
    return WeekHours(start, hours, done, on)


def staff_of(rota: Rota | None, seen: Iterable[VolunteerId]) -> list[StaffMember]:
    """The rota's staff in rota order, then anyone else who had conversations (a plain volunteer by default)."""
    members = list(rota.staff) if rota is not None else []
    known = {m.id for m in members}
    members += [StaffMember(id=v, name=v) for v in sorted(set(seen) - known)]
    return members


def build_loads(
    members: Sequence[StaffMember],
    week: WeekHours | None,
    open_counts: Mapping[VolunteerId, int],
    given: Mapping[VolunteerId, int],
    states: Mapping[VolunteerId, DutyState],
) -> list[VolunteerLoad]:
    idle = DutyState(checked_in=False, break_left=0, cooldown_left=0)
    return [
        VolunteerLoad(
            member=m,
            scheduled_hours=week.scheduled.get(m.id, 0.0) if week is not None else None,
            hours_so_far=week.so_far.get(m.id, 0.0) if week is not None else 0.0,
            open=open_counts.get(m.id, 0),
            conversations=given.get(m.id, 0),
            on_shift=week is not None and m.id in week.on_shift,
            duty=states.get(m.id, idle),
        )
        for m in members
    ]


def _hours(h: float) -> str:
    return f"{words.number(h, '0.0')} h"


def cells(load: VolunteerLoad) -> list[str]:
    """What a row shows, as plain text in the staff language (the page sets it with textContent). Roles stay as
    the rota file writes them."""
    m, t = load.member, words.t
    extra = sorted(r.value for r in m.roles - {Role.VOLUNTEER})
    who = m.id + (f" ({', '.join(extra)})" if extra else "")
    if load.scheduled_hours is None:
        hours = t(words.NO_ROTA_HOURS)
    else:
        hours = t(words.SCHEDULED, scheduled=_hours(load.scheduled_hours), so_far=_hours(load.hours_so_far))
    limit = t(words.NO_LIMIT) if m.weekly_hours is None else f"{words.number(m.weekly_hours)} h"
    if load.over_hours and load.scheduled_hours is not None and m.weekly_hours is not None:
        limit += " · " + t(words.OVER_BY, hours=_hours(load.scheduled_hours - m.weekly_hours))
    capacity = t(words.N_OF_TOTAL, n=load.open, total=m.max_concurrent) + (f" · {t(words.FULL)}" if load.full else "")
    return [who, hours, limit, capacity, str(load.conversations), now_text(load)]


def _left(seconds: int) -> str:
    """Time left, in whole minutes rounded up ("10 min left" just after `/break 10`)."""
    return f"{-(-seconds // 60)} min" if seconds >= 60 else f"{seconds} s"


def now_text(load: VolunteerLoad) -> str:
    t = words.t
    parts = [t(words.ON_SHIFT) if load.on_shift else t(words.OFF_SHIFT)]
    if load.duty.checked_in:
        parts.append(t(words.CHECKED_IN))
    if load.duty.cooldown_left:
        parts.append(t(words.COOLING_DOWN, left=_left(load.duty.cooldown_left)))
    if load.duty.break_left:
        parts.append(t(words.ON_A_BREAK, left=_left(load.duty.break_left)))
    return " · ".join(parts)


def summary(loads: Sequence[VolunteerLoad]) -> str:
    counts = [
        (sum(x.over_hours for x in loads), words.OVER_HOURS_COUNT),
        (sum(x.full for x in loads), words.AT_CAPACITY_COUNT),
        (sum(x.duty.cooldown_left > 0 for x in loads), words.COOLING_DOWN_COUNT),
        (sum(x.duty.break_left > 0 for x in loads), words.ON_A_BREAK_COUNT),
    ]
    said = [words.counted(forms, n) for n, forms in counts if n]
    return " · ".join(said) if said else words.t(words.NOBODY_FLAGGED)


class VolunteerBoard:
    """Reads everything the page shows; one per web app (it caches the rota and follows the audit stream)."""

    def __init__(self, redis: Redis, views: DashboardViews) -> None:
        self._duty = DutyRoster(redis, RotaStore(redis))
        self._views = views
        self._weekly = WeeklyConversations(redis)

    async def loads(self, now: datetime) -> tuple[list[VolunteerLoad], datetime]:
        """Every member's load, and when their week began."""
        rota = await self._duty.rota()
        week = week_hours(rota, now) if rota is not None else None
        start = week.start.astimezone(rota.zone) if week is not None and rota is not None else _utc_monday(now)
        given = await self._weekly.counts(start.timestamp())
        active = {row.volunteer for row in await self._views.active()}
        members = staff_of(rota, [*given, *active])
        ids = [m.id for m in members]
        open_counts = await self._views.open_counts(ids)
        return build_loads(members, week, open_counts, given, await self._duty.states(ids)), start


def _utc_monday(now: datetime) -> datetime:
    day = now.astimezone(UTC).date()
    monday = day - timedelta(days=day.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


async def board_state(board: VolunteerBoard, viewer: VolunteerId, team: bool) -> dict[str, Any]:
    loads, start = await board.loads(datetime.now(UTC))
    shown = loads if team else [x for x in loads if x.member.id == viewer]
    return {
        "rows": [{"volunteer": x.member.id, "cells": cells(x), "flags": x.flags} for x in shown],
        "summary": summary(shown) if team else "",
        "week": words.t(words.WEEK_FROM, start=words.when(start, "EEE dd MMM HH:mm"), zone=start.tzname() or "UTC"),
        "updated": time.strftime("%H:%M:%S"),
        "empty": words.t(words.NOBODY_THIS_WEEK if team else words.NOTHING_FOR_YOU),
    }


def _render(state: dict[str, Any]) -> str:
    headings = [words.t(h) for h in HEADINGS]
    head = "".join(f"<th>{esc(h)}</th>" for h in headings)
    rows = "".join(
        f'<tr class="{esc(" ".join(r["flags"]))}" data-volunteer="{esc(r["volunteer"])}">'
        + "".join(f'<td data-label="{esc(h)}">{esc(c)}</td>' for h, c in zip(headings, r["cells"], strict=True))
        + "</tr>"
        for r in state["rows"]
    )
    if not rows:
        rows = f'<tr class="empty"><td colspan="{len(HEADINGS)}">{esc(state["empty"])}</td></tr>'
    summary_line = f'<p id="volunteers-summary" class="summary">{esc(state["summary"])}</p>' if state["summary"] else ""
    updated = words.markup(words.UPDATED, time=f'<span id="updated">{esc(state["updated"])}</span>')
    return (
        f'<p class="muted">{updated} · <span id="week">{esc(state["week"])}</span></p>{summary_line}'
        f'<table id="volunteers" data-empty="{esc(state["empty"])}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        f'<p class="muted">{esc(words.t(words.HOURS_EXPLAINED))}</p>'
    )


def volunteer_routes(redis: Redis, views: DashboardViews) -> list[web.RouteDef]:
    board = VolunteerBoard(redis, views)

    async def show(request: web.Request) -> web.Response:
        session = session_of(request)
        state = await board_state(board, session.identity.volunteer, may(session, TEAM_VIEWERS))
        title = words.t(words.VOLUNTEERS if may(session, TEAM_VIEWERS) else words.YOUR_WEEK)
        return page(title, _render(state), csrf=session.csrf, scripts=["volunteers.js"])

    async def api(request: web.Request) -> web.Response:
        session = session_of(request)
        state = await board_state(board, session.identity.volunteer, may(session, TEAM_VIEWERS))
        return web.json_response(state, headers=security_headers())

    return [web.get("/dashboard/volunteers", show), web.get("/dashboard/api/volunteers", api)]
