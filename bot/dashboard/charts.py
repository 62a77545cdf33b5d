"""Charts over the last 7 days from the audit stream, drawn as inline SVG on the server (no chart library).

Series: median wait (queued -> assigned) by tier per day, median time from a volunteer taking a person to
the first reply that reached them (the `first_reply` audit event, once per assignment) per day, escalation
acknowledgement time per day, and conversations started per hour. The page script polls `/dashboard/api/charts`
and redraws the bars from numbers (SVG elements built with DOM calls, tooltips as text), as the Live page does.
Captions, tooltips and day names are in the staff language, in the JSON too: the script only sets them.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from aiohttp import web
from babel import Locale
from redis.asyncio import Redis

from bot.dashboard import words
from bot.dashboard.auth import session_of
from bot.dashboard.html import duration, esc, page, security_headers
from routing.i18n import LANGUAGES, staff_language
from routing.model import RiskTier
from routing.store.risk_labels import RiskLabels
from routing.store.views import AuditEvent, audit_since

DAY = 24 * 3600
HOUR = 3600
DAYS = 7
WIDTH, HEIGHT = 700, 160  # the SVG's own coordinates; CSS scales it to the page
QUEUED_EVENTS = frozenset({"queued", "queued_out_of_hours"})  # out of hours, people still wait and are taken


@dataclass(frozen=True, slots=True)
class WeekSeries:
    """The numbers behind the charts (also handy in tests)."""

    wait_by_tier: dict[str, list[float | None]]  # tier -> median wait (s) per day, oldest day first
    ack_per_day: list[float | None]
    started_per_hour: list[int]
    first_reply_per_day: list[float | None]
    first_reply_week: float | None = None  # median over all seven days
    first_replies: int = 0


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _day(at: float, today: date) -> int | None:
    """The bar of a per-day chart an event belongs to: its calendar day (this machine's time), today last; None
    for a day before the chart."""
    back = (today - datetime.fromtimestamp(at).date()).days
    return DAYS - 1 - back if 0 <= back < DAYS else None


def chart_days(now: float) -> list[date]:
    """The calendar days the per-day charts show, oldest first, today last."""
    today = datetime.fromtimestamp(now).date()
    return [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]


def week_series(events: list[AuditEvent], now: float) -> WeekSeries:
    start = now - DAYS * DAY  # the per-hour chart: the last 7 × 24 hours
    today = datetime.fromtimestamp(now).date()
    queued: dict[str, float] = {}
    raised: dict[str, float] = {}
    tiers: dict[str, str] = {}
    waits: dict[str, list[list[float]]] = defaultdict(lambda: [[] for _ in range(DAYS)])
    acks: list[list[float]] = [[] for _ in range(DAYS)]
    replies: list[list[float]] = [[] for _ in range(DAYS)]
    started = [0] * (DAYS * 24)
    for e in events:
        conv = e.fields.get("conversation", "")
        if e.event in QUEUED_EVENTS:
            queued[conv] = e.at
            started[min(int((e.at - start) // HOUR), DAYS * 24 - 1)] += 1
        elif e.event == "escalation_raised":
            raised[e.fields.get("escalation", "")] = e.at
            tiers[conv] = e.fields.get("tier", tiers.get(conv, "none"))
        elif e.event == "assigned" and conv in queued:
            waited = e.at - queued.pop(conv)
            if (day := _day(e.at, today)) is not None:
                waits[tiers.get(conv, RiskTier.NONE.label)][day].append(waited)
        elif e.event == "escalation_acknowledged" and e.fields.get("escalation") in raised:
            took = e.at - raised.pop(e.fields["escalation"])
            if (day := _day(e.at, today)) is not None:
                acks[day].append(took)
        elif e.event == "first_reply" and (seconds := _seconds(e.fields.get("seconds"))) is not None:
            day = _day(e.at, today)
            if day is not None:
                replies[day].append(seconds)
    return WeekSeries(
        {tier: [_median(d) for d in days] for tier, days in sorted(waits.items())},
        [_median(d) for d in acks],
        started,
        [_median(d) for d in replies],
        _median([s for d in replies for s in d]),
        sum(len(d) for d in replies),
    )


def _seconds(value: str | None) -> float | None:
    try:
        return max(float(value or ""), 0.0)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a chart, in the SVG's own coordinates, with its tooltip."""

    x: float
    y: float
    width: float
    height: float
    tip: str


@dataclass(frozen=True, slots=True)
class BarChart:
    """A chart as numbers: the server draws it as SVG for the first paint, the page script redraws it."""

    id: str
    bars: tuple[Bar, ...]
    caption: str


def bar_chart(values: list[float | None], labels: list[str], unit_seconds: bool, chart_id: str) -> BarChart:
    width, height, gap = WIDTH, HEIGHT, 2
    top = max((v for v in values if v is not None), default=0) or 1
    step = width / max(len(values), 1)
    bars = []
    for i, value in enumerate(values):
        if not value:
            continue
        h = max(value / top * (height - 20), 1)
        tip = duration(value) if unit_seconds else f"{value:g}"
        bars.append(Bar(round(i * step, 1), round(height - h, 1), round(max(step - gap, 1), 1), round(h, 1),
                        f"{labels[i]}: {tip}"))  # fmt: skip
    peak = duration(top) if unit_seconds else f"{top:g}"
    return BarChart(chart_id, tuple(bars), words.t(words.HIGHEST, peak=peak, first=labels[0], last=labels[-1]))


def _svg(chart: BarChart) -> str:
    bars = "".join(
        f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.width:.1f}" height="{b.height:.1f}"><title>{esc(b.tip)}</title>'
        "</rect>"
        for b in chart.bars
    )
    return (
        f'<figure><svg id="{esc(chart.id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" preserveAspectRatio="none">'
        f'{bars}</svg><figcaption id="{esc(chart.id)}-caption">{esc(chart.caption)}</figcaption></figure>'
    )


def _first_reply_summary(series: WeekSeries) -> str:
    if series.first_reply_week is None:
        return words.t(words.NO_FIRST_REPLY)
    return words.counted(words.FIRST_REPLY_MEDIAN, series.first_replies, duration=duration(series.first_reply_week))


@dataclass(frozen=True, slots=True)
class ChartPage:
    """Everything the charts page shows, as plain values: its first paint, and the JSON its script polls."""

    tiers: tuple[str, ...]
    charts: dict[str, BarChart]
    first_reply_summary: str
    updated: str


def chart_page(series: WeekSeries, now: float) -> ChartPage:
    start = now - DAYS * DAY
    # each per-day bar is labelled with the calendar day its events happened on (this machine's time)
    days = [words.when(d, "EEE dd") for d in chart_days(now)]
    hours = [words.when(datetime.fromtimestamp(start + i * HOUR), "EEE HH:00") for i in range(DAYS * 24)]
    charts = [
        *(bar_chart(values, days, True, f"wait-{tier}") for tier, values in series.wait_by_tier.items()),
        bar_chart(series.first_reply_per_day, days, True, "first-reply"),
        bar_chart(series.ack_per_day, days, True, "ack"),
        bar_chart([float(n) for n in series.started_per_hour], hours, False, "started"),
    ]
    return ChartPage(
        tuple(series.wait_by_tier), {c.id: c for c in charts}, _first_reply_summary(series), time.strftime("%H:%M:%S")
    )


def _render(p: ChartPage) -> str:
    t = words.t
    waits = "".join(f"<h3>{esc(tier)}</h3>" + _svg(p.charts[f"wait-{tier}"]) for tier in p.tiers)
    no_waits = esc(t(words.NO_WAITS))
    empty = f'<p class="muted">{no_waits}</p>'
    updated = words.markup(words.UPDATED, time=f'<span id="updated">{esc(p.updated)}</span>')
    return (
        f'<p class="muted">{updated}</p>'
        f"<section><h2>{esc(t(words.MEDIAN_WAIT))}</h2>"
        f'<div id="wait-charts" data-empty="{no_waits}">{waits or empty}</div></section>'
        f"<section><h2>{esc(t(words.FIRST_REPLY_TIME))}</h2>"
        f'<p id="first-reply-summary">{esc(p.first_reply_summary)}</p>{_svg(p.charts["first-reply"])}</section>'
        f"<section><h2>{esc(t(words.ACK_TIME))}</h2>{_svg(p.charts['ack'])}</section>"
        f"<section><h2>{esc(t(words.STARTED_PER_HOUR))}</h2>{_svg(p.charts['started'])}</section>"
    )


def labels_section(totals: dict[str, dict[str, int]]) -> str:
    """Counts by category of what staff escalated above the detector and of its alerts marked false alarms."""
    categories = sorted(set(totals.get("missed", {})) | set(totals.get("false_alarm", {})))
    t = words.t
    if not categories:
        body = f'<p class="muted" id="labels-empty">{esc(t(words.NOTHING_TAUGHT))}</p>'
    else:
        rows = "".join(
            f"<tr><td>{esc(c.replace('_', ' '))}</td><td>{totals['missed'].get(c, 0)}</td>"
            f"<td>{totals['false_alarm'].get(c, 0)}</td></tr>"
            for c in categories
        )
        head = "".join(f"<th>{esc(t(h))}</th>" for h in (words.CATEGORY, words.ESCALATED_ABOVE, words.FALSE_ALARMS))
        body = f'<table id="labels"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    return f'<section><h2>{esc(t(words.TAUGHT))}</h2><p class="muted">{esc(t(words.COUNTS_ONLY))}</p>{body}</section>'


def render_charts(series: WeekSeries, now: float) -> str:
    return _render(chart_page(series, now))


def coverage_section(screened: tuple[str, ...]) -> str:
    """Which languages risk screening reads, and where people are served with screening limited."""
    if not screened:
        return ""
    limited = [lang for lang in LANGUAGES if lang not in screened]
    said = [words.t(words.READS, languages=_names(list(screened)))]
    if limited:
        said.append(words.t(words.LIMITED, languages=_names(limited)))
    return (
        f"<section><h2>{esc(words.t(words.RISK_SCREENING))}</h2>"
        f'<p id="risk-coverage">{esc(" ".join(said))}</p></section>'
    )


def _names(codes: list[str]) -> str:
    """Language names in the staff's language, e.g. "English, Spanish" (plain text)."""
    return ", ".join(Locale.parse(code).get_display_name(staff_language()) or code for code in codes)


def chart_routes(redis: Redis, screened: tuple[str, ...] = ()) -> list[web.RouteDef]:
    async def state() -> ChartPage:
        now = time.time()
        return chart_page(week_series(await audit_since(redis, now - DAYS * DAY), now), now)

    async def show(request: web.Request) -> web.Response:
        labels = labels_section(await RiskLabels(redis).totals(30))
        body = _render(await state()) + labels + coverage_section(screened)
        return page(words.t(words.CHARTS_TITLE), body, csrf=session_of(request).csrf, scripts=["charts.js"])

    async def api(_request: web.Request) -> web.Response:
        return web.json_response(asdict(await state()), headers=security_headers())

    return [web.get("/dashboard/charts", show), web.get("/dashboard/api/charts", api)]
