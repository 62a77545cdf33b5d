"""The rota as a week grid (one column a day; one card a day on a phone) with gaps, and coordinator edits.

Edits go through `RotaStore.apply` with the same change objects as the chat commands (`/shift add ...`), so
they are validated by `routing.rota.changes.apply_change` exactly as in chat; a refused change shows the
coordinator the same sentences.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aiohttp import web

from bot.dashboard.auth import EDITORS, check_csrf, may, session_of
from bot.dashboard.html import esc, hidden_csrf, page
from routing.model import VolunteerId
from routing.rota import GapKind, Rota, RotaError, Shift, TimeRange, Weekday
from routing.rota.changes import AddShift, RemoveShift, RotaChange
from routing.rota.maths import coverage, duties_on, oncall_on
from routing.store.rota_store import RotaConflict, RotaStore

_NOTICES = {"added": "Shift added.", "removed": "Shift removed."}


def _clock(at: datetime, rota: Rota) -> str:
    return f"{at.astimezone(rota.zone):%H:%M}"


def _day_cell(rota: Rota, day: date, csrf: str, editor: bool) -> str:
    items = []
    for duty in duties_on(rota, day):
        label = f"{_clock(duty.start, rota)}-{_clock(duty.end, rota)} {duty.volunteer}"
        remove = ""
        source = duty.source
        if editor and isinstance(source, Shift) and source.day == Weekday(day.weekday()):
            remove = (
                f'<form method="post" action="/dashboard/rota/shifts/remove" class="inline">{hidden_csrf(csrf)}'
                f'<input type="hidden" name="volunteer" value="{esc(source.volunteer)}">'
                f'<input type="hidden" name="day" value="{esc(source.day.label)}">'
                f'<input type="hidden" name="time" value="{esc(source.time.label)}">'
                f'<button type="submit" class="small" aria-label="remove {esc(source.label)}">remove</button></form>'
            )
        items.append(f'<li class="shift">{esc(label)} {remove}</li>')
    for span in oncall_on(rota, day):
        who = span.primary or "nobody"
        items.append(f'<li class="oncall">on call {esc(_clock(span.start, rota))} {esc(who)}</li>')
    for gap in coverage(rota, day):
        if gap.kind == GapKind.NO_BACKUP:
            continue
        items.append(
            f'<li class="gap">gap {esc(_clock(gap.start, rota))}-{esc(_clock(gap.end, rota))}: '
            f"{esc(gap.kind.description)}</li>"
        )
    return f'<ul class="day-items">{"".join(items) or "<li>nothing</li>"}</ul>'


def _grid(rota: Rota, monday: date, csrf: str, editor: bool) -> str:
    columns = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        columns.append(
            f'<div class="day" data-day="{esc(Weekday(day.weekday()).label)}"><h3>{esc(f"{day:%a %d %b}")}</h3>'
            f"{_day_cell(rota, day, csrf, editor)}</div>"
        )
    return f'<div class="week" id="week">{"".join(columns)}</div>'


def _add_form(rota: Rota, csrf: str) -> str:
    people = "".join(f'<option value="{esc(m.id)}">{esc(m.id)}</option>' for m in rota.staff)
    days = "".join(f'<option value="{d.label}">{d.label}</option>' for d in Weekday)
    return (
        '<section><h2>Add a weekly shift</h2><form method="post" action="/dashboard/rota/shifts" class="stack">'
        f"{hidden_csrf(csrf)}"
        f'<label>Volunteer <select name="volunteer" id="shift-volunteer">{people}</select></label>'
        f'<label>Day <select name="day" id="shift-day">{days}</select></label>'
        '<label>Time <input name="time" id="shift-time" placeholder="18:00-22:00" required></label>'
        '<button type="submit" id="shift-add">Add shift</button></form></section>'
    )


def _monday(request: web.Request, rota: Rota) -> date:
    try:
        chosen = date.fromisoformat(request.query.get("week", ""))
    except ValueError:
        chosen = datetime.now(UTC).astimezone(rota.zone).date()
    return chosen - timedelta(days=chosen.weekday())


def rota_routes(rotas: RotaStore) -> list[web.RouteDef]:
    async def render(request: web.Request, notice: str = "", problems: tuple[str, ...] = ()) -> web.Response:
        session = session_of(request)
        stored = await rotas.load()
        if stored is None:
            body = "<p>There is no rota yet; a coordinator can load one with <code>peerbridge rota import</code>.</p>"
            return page("Rota", body, csrf=session.csrf)
        rota, editor = stored.rota, may(session, EDITORS)
        monday = _monday(request, rota)
        nav = (
            f'<p class="weeknav"><a href="?week={monday - timedelta(days=7)}">&larr; previous week</a> · '
            f"week of {monday:%d %b %Y} ({esc(rota.timezone)}) · "
            f'<a href="?week={monday + timedelta(days=7)}">next week &rarr;</a></p>'
        )
        messages = f'<p class="notice" id="notice">{esc(notice)}</p>' if notice else ""
        if problems:
            messages += (
                '<ul class="problems" id="problems">' + "".join(f"<li>{esc(p)}</li>" for p in problems) + "</ul>"
            )
        body = messages + nav + _grid(rota, monday, session.csrf, editor)
        body += _add_form(rota, session.csrf) if editor else '<p class="muted">Coordinators can edit the rota.</p>'
        response = page("Rota", body, csrf=session.csrf)
        if problems:
            response.set_status(400)
        return response

    async def show(request: web.Request) -> web.Response:
        return await render(request, _NOTICES.get(request.query.get("done", ""), ""))

    async def change(request: web.Request, remove: bool) -> web.Response:
        session = session_of(request)
        form = {k: str(v) for k, v in (await request.post()).items()}
        check_csrf(request, form)
        if not may(session, EDITORS):
            raise web.HTTPForbidden(text="only coordinators change the rota")
        try:
            shift = Shift(VolunteerId(form.get("volunteer", "")), Weekday.parse(form.get("day", "")),
                          TimeRange.parse(form.get("time", "")))  # fmt: skip
            edit: RotaChange = RemoveShift(shift) if remove else AddShift(shift)
            await rotas.apply(edit, by=session.identity.volunteer)
        except RotaError as error:
            return await render(request, problems=error.problems or (str(error),))
        except RotaConflict:
            return await render(request, problems=("Someone else changed the rota at the same moment; try again.",))
        raise web.HTTPSeeOther(f"/dashboard/rota?done={'removed' if remove else 'added'}")

    async def add(request: web.Request) -> web.Response:
        return await change(request, remove=False)

    async def remove(request: web.Request) -> web.Response:
        return await change(request, remove=True)

    return [
        web.get("/dashboard/rota", show),
        web.post("/dashboard/rota/shifts", add),
        web.post("/dashboard/rota/shifts/remove", remove),
    ]
