"""Adds the dashboard to the web app: routes, the session middleware and the static files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from redis.asyncio import Redis

from bot.dashboard.auth import session_middleware, signin_routes
from bot.dashboard.cases_page import CaseDesk, case_routes
from bot.dashboard.charts import chart_routes
from bot.dashboard.coping_page import coping_routes
from bot.dashboard.live import Acknowledge, live_routes
from bot.dashboard.practice import PracticeBoard
from bot.dashboard.rota_page import rota_routes
from bot.dashboard.training_page import training_routes
from bot.dashboard.volunteers import volunteer_routes
from routing.coping import CopingLibrary
from routing.store.coping_edits import CopingEdits
from routing.store.dashboard_access import DashboardSessions, SignInLinks
from routing.store.rota_store import RotaStore
from routing.store.views import DashboardViews

STATIC = Path(__file__).parent / "static"


@dataclass(frozen=True, slots=True)
class Dashboard:
    """What the dashboard needs, built by the composition root."""

    redis: Redis
    links: SignInLinks
    acknowledge: Acknowledge
    practice: PracticeBoard | None = None  # None: practice sessions are not offered
    screened: tuple[str, ...] = ()  # the languages the risk detector has phrases for (the Charts page says)
    cases: CaseDesk | None = None  # None: no Cases pages (a test's dashboard without records)
    coping: CopingLibrary = field(default_factory=CopingLibrary)  # the coping library's files (the Coping page)
    coping_edits: CopingEdits | None = None  # None: the Coping page is not offered
    examples_kept: bool = False  # risk.keep_examples: the Charts page says how many labelled examples are kept


def add_dashboard(app: web.Application, dashboard: Dashboard, views: DashboardViews) -> None:
    sessions = DashboardSessions(dashboard.redis)
    app.middlewares.append(session_middleware(sessions))
    app.router.add_routes(signin_routes(dashboard.links, sessions))
    app.router.add_routes(live_routes(views, dashboard.acknowledge))
    app.router.add_routes(rota_routes(RotaStore(dashboard.redis)))
    app.router.add_routes(chart_routes(dashboard.redis, dashboard.screened, dashboard.examples_kept))
    app.router.add_routes(volunteer_routes(dashboard.redis, views))
    app.router.add_routes(training_routes(dashboard.practice))
    if dashboard.cases is not None:
        app.router.add_routes(case_routes(dashboard.cases))
    if dashboard.coping_edits is not None:
        app.router.add_routes(coping_routes(dashboard.coping, dashboard.coping_edits))
    app.router.add_static("/dashboard/static/", STATIC, show_index=False)

    async def to_live(_request: web.Request) -> web.Response:
        raise web.HTTPFound("/dashboard/")

    app.router.add_get("/dashboard", to_live)
