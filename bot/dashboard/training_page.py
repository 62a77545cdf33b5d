"""The training page: coordinators start a practice session; everyone sees the practice sessions they may see.

The form posts to `PracticeBoard.start`, which runs the same checks as `/train <volunteer> <scenario>` and
answers a refusal with the same sentences. Coordinators and supervisors see every recent session with its
debrief numbers (they look after the team's learning); anyone else sees only their own. Staff appear by their
staff id, never by name; no message text is shown (the session log holds none).
"""

from __future__ import annotations

import time

from aiohttp import web

from bot.dashboard import words
from bot.dashboard.auth import EDITORS, may, permitted_form, session_of
from bot.dashboard.html import ago, duration, esc, hidden_csrf, page, table
from bot.dashboard.practice import PracticeBoard, SessionSummary
from bot.dashboard.volunteers import TEAM_VIEWERS
from routing import texts
from routing.model import VolunteerId
from routing.roster import StaffMember
from routing.training.desk import Started

HEADINGS = (
    words.SESSION, words.SCENARIO, words.VOLUNTEER, words.STARTED_BY, words.STARTED, words.STATE, words.REPLIES,
    words.FIRST_REPLY, words.MEDIAN_REPLY, words.KEY_STEPS,
)  # fmt: skip


def _seconds(value: float | None) -> str:
    return duration(value) if value is not None else "-"


def session_cells(s: SessionSummary) -> list[str]:
    """A session's row as plain text, in the staff language."""
    steps = words.t(words.N_OF_TOTAL, n=s.checks_met, total=s.checks_total) if s.checks_total else "-"
    return [
        s.id, f"{s.title} ({s.scenario})", s.volunteer, s.coordinator, ago(time.time() - s.started_at),
        words.t(words.RUNNING if s.running else words.FINISHED), str(s.replies), _seconds(s.first_reply),
        _seconds(s.median_reply), steps,
    ]  # fmt: skip


def started_notice(s: SessionSummary) -> str:
    return words.t(words.PRACTICE_STARTED, session=s.id, volunteer=s.volunteer, title=s.title)


def _volunteer_option(member: StaffMember, board: PracticeBoard, practising: set[VolunteerId]) -> str:
    label: str = member.id
    if member.id in practising:
        label = words.t(words.PRACTISING_NOW, volunteer=member.id)
    elif board.platform not in member.identities:
        label = words.t(words.NO_ACCOUNT, volunteer=member.id, platform=board.platform)
    return f'<option value="{esc(member.id)}">{esc(label)}</option>'


def _form(board: PracticeBoard, members: list[StaffMember], practising: set[VolunteerId], csrf: str) -> str:
    scenarios = sorted(board.library.scenarios.values(), key=lambda s: s.name)
    if not scenarios:
        return f'<p class="muted" id="no-scenarios">{esc(texts.staff(texts.TRAIN_NO_SCENARIOS))}</p>'
    if not members:
        nobody = words.markup(words.NOBODY_IN_ROTA, command="<code>peerbridge rota import</code>")
        return f'<p class="muted">{nobody}</p>'
    people = "".join(_volunteer_option(m, board, practising) for m in members)
    options = "".join(f'<option value="{esc(s.name)}">{esc(s.name)}: {esc(s.title)}</option>' for s in scenarios)
    briefs = "".join(
        f'<dt data-scenario="{esc(s.name)}">{esc(s.title)} ({esc(s.name)})</dt><dd>{esc(s.brief)}</dd>'
        for s in scenarios
    )
    broken = "".join(f"<li>{esc(problem)}</li>" for _name, problem in sorted(board.library.problems.items()))
    t = words.t
    left_out = f'<p class="muted">{esc(t(words.LEFT_OUT))}</p><ul>{broken}</ul>' if broken else ""
    return (
        f"<section><h2>{esc(t(words.START_A_SESSION))}</h2>"
        f'<form method="post" action="/dashboard/training/sessions" class="stack">{hidden_csrf(csrf)}'
        f'<label>{esc(t(words.VOLUNTEER))} <select name="volunteer" id="train-volunteer">{people}</select></label>'
        f'<label>{esc(t(words.SCENARIO))} <select name="scenario" id="train-scenario">{options}</select></label>'
        f'<button type="submit" id="train-start">{esc(t(words.START_PRACTICE))}</button></form>'
        f'<p class="muted">{esc(t(words.PRACTICE_EXPLAINED))}</p>'
        f'<dl id="scenarios">{briefs}</dl>{left_out}</section>'
    )


def training_routes(board: PracticeBoard | None) -> list[web.RouteDef]:
    """The page and its form; without a `board` the page only says that practice is not offered."""
    if board is None:

        async def off(request: web.Request) -> web.Response:
            body = f"<p>{esc(texts.staff(texts.TRAIN_OFF))}</p>"
            return page(words.t(words.TRAINING), body, csrf=session_of(request).csrf)

        return [web.get("/dashboard/training", off)]

    async def render(request: web.Request, problems: tuple[str, ...] = ()) -> web.Response:
        session = session_of(request)
        identity = session.identity
        listed = await board.sessions()
        shown = listed if may(session, TEAM_VIEWERS) else [s for s in listed if s.volunteer == identity.volunteer]
        parts = []
        done = next((s for s in shown if s.id == request.query.get("started")), None)
        if done is not None and not problems:
            parts.append(f'<p class="notice" id="notice">{esc(started_notice(done))}</p>')
        if problems:
            parts.append('<ul class="problems" id="problems">' + "".join(f"<li>{esc(p)}</li>" for p in problems))
            parts.append("</ul>")
        if may(session, EDITORS):
            members = (await board.roster()).members
            practising = {s.volunteer for s in listed if s.running}
            parts.append(_form(board, members, practising, session.csrf))
        else:
            parts.append(f'<p class="muted">{esc(words.t(words.COORDINATORS_START))}</p>')
        rows = ([esc(c) for c in session_cells(s)] for s in shown)
        empty = words.t(words.NO_SESSIONS if may(session, TEAM_VIEWERS) else words.NO_OWN_SESSIONS)
        sessions = table("practice", [words.t(h) for h in HEADINGS], rows, empty, labelled=True)
        parts.append(f"<section><h2>{esc(words.t(words.PRACTICE_SESSIONS))}</h2>{sessions}</section>")
        response = page(words.t(words.TRAINING), "".join(parts), csrf=session.csrf)
        if problems:
            response.set_status(400)
        return response

    async def show(request: web.Request) -> web.Response:
        return await render(request)

    async def start(request: web.Request) -> web.Response:
        session = session_of(request)
        form = await permitted_form(request, EDITORS, words.t(words.TRAIN_FORBIDDEN))
        started = await board.start(form.get("volunteer", ""), form.get("scenario", ""), session.identity)
        if not isinstance(started, Started):
            return await render(request, problems=(started,))
        raise web.HTTPSeeOther(f"/dashboard/training?started={started.session}")

    return [web.get("/dashboard/training", show), web.post("/dashboard/training/sessions", start)]
