"""The rota as a week grid (one column a day; one card a day on a phone) with gaps, and coordinator edits.

Edits go through `RotaStore.apply` with the same change objects as the chat commands (`/shift add ...`), so
they are validated by `routing.rota.changes.apply_change` exactly as in chat; a refused change shows the
coordinator the same sentences.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aiohttp import web

from bot.dashboard import words
from bot.dashboard.auth import EDITORS, may, permitted_form, session_of
from bot.dashboard.html import esc, hidden_csrf, page
from routing.model import VolunteerId
from routing.rota import GapKind, Rota, RotaError, Shift, TimeRange, Weekday
from routing.rota.changes import AddShift, RemoveShift, RotaChange
from routing.rota.maths import coverage, duties_on, oncall_on
from routing.store.rota_store import RotaConflict, RotaStore

_NOTICES = {"added": words.SHIFT_ADDED, "removed": words.SHIFT_REMOVED}


def _clock(at: datetime, rota: Rota) -> str:
    return f"{at.astimezone(rota.zone):%H:%M}"


def _remove_form(shift: Shift, csrf: str) -> str:
    said = f"{shift.volunteer} {words.day_name(shift.day)} {shift.time.label}"  # "ana Tuesday 18:00-22:00"
    return (
        f'<form method="post" action="/dashboard/rota/shifts/remove" class="inline">{hidden_csrf(csrf)}'
        f'<input type="hidden" name="volunteer" value="{esc(shift.volunteer)}">'
        f'<input type="hidden" name="day" value="{esc(shift.day.label)}">'
        f'<input type="hidden" name="time" value="{esc(shift.time.label)}">'
        f'<button type="submit" class="small" aria-label="{esc(words.t(words.REMOVE_SHIFT, shift=said))}">'
        f"{esc(words.t(words.REMOVE))}</button></form>"
    )


def _day_cell(rota: Rota, day: date, csrf: str, editor: bool) -> str:
    t = words.t
    items = []
    for duty in duties_on(rota, day):
        label = f"{_clock(duty.start, rota)}-{_clock(duty.end, rota)} {duty.volunteer}"
        source, remove = duty.source, ""
        if editor and isinstance(source, Shift) and source.day == Weekday(day.weekday()):
            remove = _remove_form(source, csrf)
        items.append(f'<li class="shift">{esc(label)} {remove}</li>')
    for span in oncall_on(rota, day):
        oncall = t(words.ON_CALL, time=_clock(span.start, rota), who=span.primary or t(words.NOBODY))
        items.append(f'<li class="oncall">{esc(oncall)}</li>')
    for gap in coverage(rota, day):
        if gap.kind == GapKind.NO_BACKUP:
            continue
        gap_text = t(
            words.GAP, start=_clock(gap.start, rota), end=_clock(gap.end, rota),
            what=t(words.GAPS[gap.kind]) if gap.kind in words.GAPS else gap.kind.description,
        )  # fmt: skip
        items.append(f'<li class="gap">{esc(gap_text)}</li>')
    nothing = f"<li>{esc(t(words.NOTHING))}</li>"
    return f'<ul class="day-items">{"".join(items) or nothing}</ul>'


def _grid(rota: Rota, monday: date, csrf: str, editor: bool) -> str:
    columns = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        heading = esc(words.when(day, "EEE dd MMM"))  # "Mon 07 Jan", "lun 07 ene"
        columns.append(
            f'<div class="day" data-day="{esc(Weekday(day.weekday()).label)}"><h3>{heading}</h3>'
            f"{_day_cell(rota, day, csrf, editor)}</div>"
        )
    return f'<div class="week" id="week">{"".join(columns)}</div>'


def _add_form(rota: Rota, csrf: str) -> str:
    people = "".join(f'<option value="{esc(m.id)}">{esc(m.id)}</option>' for m in rota.staff)
    days = "".join(f'<option value="{d.label}">{esc(words.day_name(d.value))}</option>' for d in Weekday)
    t = words.t
    return (
        f"<section><h2>{esc(t(words.ADD_A_SHIFT))}</h2>"
        f'<form method="post" action="/dashboard/rota/shifts" class="stack">{hidden_csrf(csrf)}'
        f'<label>{esc(t(words.VOLUNTEER))} <select name="volunteer" id="shift-volunteer">{people}</select></label>'
        f'<label>{esc(t(words.DAY))} <select name="day" id="shift-day">{days}</select></label>'
        f'<label>{esc(t(words.TIME))} <input name="time" id="shift-time" placeholder="18:00-22:00" required></label>'
        f'<button type="submit" id="shift-add">{esc(t(words.ADD_SHIFT))}</button></form></section>'
    )


def _week_nav(monday: date, rota: Rota) -> str:
    week = words.t(words.WEEK_OF, date=words.when(monday, "dd MMM yyyy"), zone=rota.timezone)
    return (
        f'<p class="weeknav"><a href="?week={monday - timedelta(days=7)}">{esc(words.t(words.PREVIOUS_WEEK))}</a> · '
        f"{esc(week)} · "
        f'<a href="?week={monday + timedelta(days=7)}">{esc(words.t(words.NEXT_WEEK))}</a></p>'
    )


def _messages(notice: str, problems: tuple[str, ...]) -> str:
    """What a form post did: a notice, or the problems that refused it (the chat commands' sentences)."""
    messages = f'<p class="notice" id="notice">{esc(notice)}</p>' if notice else ""
    if problems:
        messages += '<ul class="problems" id="problems">' + "".join(f"<li>{esc(p)}</li>" for p in problems) + "</ul>"
    return messages


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
            body = f"<p>{words.markup(words.NO_ROTA, command='<code>peerbridge rota import</code>')}</p>"
            return page(words.t(words.ROTA), body, csrf=session.csrf)
        rota, editor = stored.rota, may(session, EDITORS)
        monday = _monday(request, rota)
        body = _messages(notice, problems) + _week_nav(monday, rota) + _grid(rota, monday, session.csrf, editor)
        read_only = f'<p class="muted">{esc(words.t(words.COORDINATORS_EDIT))}</p>'
        body += _add_form(rota, session.csrf) if editor else read_only
        response = page(words.t(words.ROTA), body, csrf=session.csrf)
        if problems:
            response.set_status(400)
        return response

    async def show(request: web.Request) -> web.Response:
        notice = _NOTICES.get(request.query.get("done", ""))
        return await render(request, words.t(notice) if notice else "")

    async def change(request: web.Request, remove: bool) -> web.Response:
        session = session_of(request)
        form = await permitted_form(request, EDITORS, words.t(words.ROTA_FORBIDDEN))
        try:
            shift = Shift(VolunteerId(form.get("volunteer", "")), Weekday.parse(form.get("day", "")),
                          TimeRange.parse(form.get("time", "")))  # fmt: skip
            edit: RotaChange = RemoveShift(shift) if remove else AddShift(shift)
            await rotas.apply(edit, by=session.identity.volunteer)
        except RotaError as error:
            return await render(request, problems=error.problems or (str(error),))
        except RotaConflict:
            return await render(request, problems=(words.t(words.ROTA_CONFLICT),))
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
