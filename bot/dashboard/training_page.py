"""The training page: coordinators start a practice session; everyone sees the practice sessions they may see.

The form posts to `PracticeBoard.start`, which runs the same checks as `/train <volunteer> <scenario>` and
answers a refusal with the same sentences. Coordinators and supervisors see every recent session with its
debrief numbers (they look after the team's learning); anyone else sees only their own. Staff appear by their
staff id, never by name; no message text is shown (the session log holds none).
"""

from __future__ import annotations

from aiohttp import web

from bot.dashboard.auth import EDITORS, check_csrf, may, session_of
from bot.dashboard.html import duration, esc, hidden_csrf, page, since, table
from bot.dashboard.practice import PracticeBoard, SessionSummary
from bot.dashboard.volunteers import TEAM_VIEWERS
from routing import texts
from routing.model import VolunteerId
from routing.roster import StaffMember
from routing.training.desk import Started

HEADINGS = (
    "Session", "Scenario", "Volunteer", "Started by", "Started", "State", "Replies", "First reply", "Median reply",
    "Key steps",
)  # fmt: skip


def _seconds(value: float | None) -> str:
    return duration(value) if value is not None else "-"


def session_cells(s: SessionSummary) -> list[str]:
    """A session's row as plain text."""
    steps = f"{s.checks_met} of {s.checks_total}" if s.checks_total else "-"
    return [
        s.id, f"{s.title} ({s.scenario})", s.volunteer, s.coordinator, f"{since(s.started_at)} ago",
        "running" if s.running else "finished", str(s.replies), _seconds(s.first_reply), _seconds(s.median_reply),
        steps,
    ]  # fmt: skip


def started_notice(s: SessionSummary) -> str:
    return (
        f"Practice session {s.id} started for {s.volunteer}: {s.title}. The scripted person is writing in a topic "
        f"marked TRAINING in the staff workspace; the debrief goes to {s.volunteer} there and to the staff lobby "
        "when it ends."
    )


def _volunteer_option(member: StaffMember, board: PracticeBoard, practising: set[VolunteerId]) -> str:
    label: str = member.id
    if member.id in practising:
        label += " (practising now)"
    elif board.platform not in member.identities:
        label += f" (no {board.platform} account in the rota)"
    return f'<option value="{esc(member.id)}">{esc(label)}</option>'


def _form(board: PracticeBoard, members: list[StaffMember], practising: set[VolunteerId], csrf: str) -> str:
    scenarios = sorted(board.library.scenarios.values(), key=lambda s: s.name)
    if not scenarios:
        return f'<p class="muted" id="no-scenarios">{esc(texts.TRAIN_NO_SCENARIOS)}</p>'
    if not members:
        return '<p class="muted">Nobody is in the rota yet: import one with <code>peerbridge rota import</code>.</p>'
    people = "".join(_volunteer_option(m, board, practising) for m in members)
    options = "".join(f'<option value="{esc(s.name)}">{esc(s.name)}: {esc(s.title)}</option>' for s in scenarios)
    briefs = "".join(
        f'<dt data-scenario="{esc(s.name)}">{esc(s.title)} ({esc(s.name)})</dt><dd>{esc(s.brief)}</dd>'
        for s in scenarios
    )
    broken = "".join(f"<li>{esc(problem)}</li>" for _name, problem in sorted(board.library.problems.items()))
    left_out = f'<p class="muted">Left out until their files are fixed:</p><ul>{broken}</ul>' if broken else ""
    return (
        '<section><h2>Start a practice session</h2><form method="post" action="/dashboard/training/sessions" '
        f'class="stack">{hidden_csrf(csrf)}'
        f'<label>Volunteer <select name="volunteer" id="train-volunteer">{people}</select></label>'
        f'<label>Scenario <select name="scenario" id="train-scenario">{options}</select></label>'
        '<button type="submit" id="train-start">Start practice</button></form>'
        '<p class="muted">The bot plays a scripted person in a topic marked TRAINING in the staff workspace. '
        "Nothing reaches a real person, the queue or the on-call professionals, and the volunteer gets no real "
        "person by automatic assignment while it runs.</p>"
        f'<dl id="scenarios">{briefs}</dl>{left_out}</section>'
    )


def training_routes(board: PracticeBoard | None) -> list[web.RouteDef]:
    """The page and its form; without a `board` the page only says that practice is not offered."""
    if board is None:

        async def off(request: web.Request) -> web.Response:
            return page("Training", f"<p>{esc(texts.TRAIN_OFF)}</p>", csrf=session_of(request).csrf)

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
            parts.append('<p class="muted">Coordinators start practice sessions (here or with /train).</p>')
        rows = ([esc(c) for c in session_cells(s)] for s in shown)
        empty = "No practice sessions yet." if may(session, TEAM_VIEWERS) else "You have no practice sessions yet."
        parts.append(
            f"<section><h2>Practice sessions</h2>{table('practice', HEADINGS, rows, empty, labelled=True)}</section>"
        )
        response = page("Training", "".join(parts), csrf=session.csrf)
        if problems:
            response.set_status(400)
        return response

    async def show(request: web.Request) -> web.Response:
        return await render(request)

    async def start(request: web.Request) -> web.Response:
        session = session_of(request)
        form = {k: str(v) for k, v in (await request.post()).items()}
        check_csrf(request, form)
        if not may(session, EDITORS):
            raise web.HTTPForbidden(text="only coordinators start practice sessions")
        started = await board.start(form.get("volunteer", ""), form.get("scenario", ""), session.identity)
        if not isinstance(started, Started):
            return await render(request, problems=(started,))
        raise web.HTTPSeeOther(f"/dashboard/training?started={started.session}")

    return [web.get("/dashboard/training", show), web.post("/dashboard/training/sessions", start)]
