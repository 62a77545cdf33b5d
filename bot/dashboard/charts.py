"""The Charts page: the last 7 calendar days at a glance, drawn with Chart.js (vendored, static/vendor/).

Charts: conversations started per day, median wait (queued -> assigned) by tier, median time to a first
volunteer reply by tier, escalation acknowledgement time, feedback by answer (better / same / worse, once per
conversation), safety plans made and coping texts shared (by name: counts, never words), and what staff taught
the detector (30 days). The numbers come from `week.py`; here they become charts as plain values (axes' titles,
day names, legend names, table cells, all in the staff language) that the page shows as tables at once and
`static/charts.js` draws on canvases, polling `/dashboard/api/charts`. Each chart's numbers are also in a table
under it (a screen reader and a printout read those); the script sets text only with `textContent`, and Chart.js
needs no relaxation of the page's Content-Security-Policy.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import date

from aiohttp import web
from babel import Locale
from redis.asyncio import Redis

from bot.dashboard import words
from bot.dashboard.auth import session_of
from bot.dashboard.html import duration, esc, page, security_headers, table
from bot.dashboard.week import DAY, DAYS, WeekSeries, chart_days, week_series
from routing.i18n import LANGUAGES, staff_language
from routing.store.feedback import FeedbackCounts
from routing.store.risk_examples import count_examples
from routing.store.risk_labels import RiskLabels
from routing.store.views import audit_since

NO_VALUE = "–"  # a day without any: a gap in the chart, a dash in the table
SECONDS_UP_TO = 120  # a time chart whose longest bar is shorter is drawn in seconds, else in minutes
TAUGHT_DAYS = 30
Taught = dict[str, dict[str, int]]  # "missed" / "false_alarm" -> category -> count (RiskLabels.totals)


@dataclass(frozen=True, slots=True)
class Series:
    """One set of bars: a tier, a feedback answer, or the chart's only series."""

    key: str  # a tier, an answer, or the chart's id: the page script picks its colour by it
    name: str  # in the legend and the table's heading
    values: list[float | None]  # in the unit of the chart's y axis; None: no bar
    cells: list[str]  # the same numbers as the table shows them ("4 min", "3", "–")


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart as plain values: its table is on the page at once, the page script draws the canvas."""

    id: str
    x_axis: str
    y_axis: str  # the unit: minutes, seconds, conversations, answers
    labels: list[str]  # along the x axis: days in the staff language (or categories)
    series: list[Series]
    caption: str  # the highest bar and the span, or what an empty chart means
    empty: bool


def _time_chart(chart_id: str, days: list[str], by_key: dict[str, list[float | None]], names: dict[str, str],
                empty: str) -> Chart:  # fmt: skip
    """A chart of durations (seconds in `by_key`), in seconds or minutes, whichever reads better."""
    peak = max((v for values in by_key.values() for v in values if v is not None), default=None)
    in_seconds = peak is not None and peak < SECONDS_UP_TO
    scale = 1 if in_seconds else 60
    series = [
        Series(key, names.get(key, key), [None if v is None else round(v / scale, 1) for v in values],
               [NO_VALUE if v is None else duration(v) for v in values])
        for key, values in by_key.items()
    ]  # fmt: skip
    caption = words.t(empty) if peak is None else _highest(duration(peak), days)
    unit = words.SECONDS if in_seconds else words.MINUTES
    return Chart(chart_id, words.t(words.DAY), words.t(unit), days, series, caption, peak is None)


def _count_chart(chart_id: str, labels: list[str], by_key: dict[str, list[int]], names: dict[str, str],
                 axes: tuple[str, str], empty: str) -> Chart:  # fmt: skip
    peak = max((n for values in by_key.values() for n in values), default=0)
    series = [
        Series(key, names.get(key, key), [float(n) for n in values], [str(n) for n in values])
        for key, values in by_key.items()
    ]
    caption = words.t(empty) if not peak else _highest(str(peak), labels)
    return Chart(chart_id, words.t(axes[0]), words.t(axes[1]), labels, series, caption, not peak)


def _highest(peak: str, labels: list[str]) -> str:
    return words.t(words.HIGHEST, peak=peak, first=labels[0], last=labels[-1])


def _taught_chart(taught: Taught, examples: int | None) -> Chart:
    """What staff taught the detector: counts by category (not per day: a month is few); `examples`: how many
    labelled examples are kept (None: the organisation keeps none)."""
    categories = sorted(set(taught.get("missed", {})) | set(taught.get("false_alarm", {})))
    by_kind = {kind: [taught.get(kind, {}).get(c, 0) for c in categories] for kind in ("missed", "false_alarm")}
    names = {"missed": words.t(words.ESCALATED_ABOVE), "false_alarm": words.t(words.FALSE_ALARMS)}
    labels = [c.replace("_", " ") for c in categories]
    chart = _count_chart("taught", labels, by_kind, names, (words.CATEGORY, words.TIMES_COUNTED), "")
    caption = words.t(words.COUNTS_ONLY if categories else words.NOTHING_TAUGHT)  # never the words themselves
    if examples is not None:
        caption += " " + words.counted(words.EXAMPLES_KEPT, examples)
    return Chart(chart.id, chart.x_axis, chart.y_axis, labels, chart.series, caption, not categories)


def _first_reply_summary(series: WeekSeries) -> str:
    if series.first_reply_week is None:
        return words.t(words.NO_FIRST_REPLY)
    return words.counted(words.FIRST_REPLY_MEDIAN, series.first_replies, duration=duration(series.first_reply_week))


@dataclass(frozen=True, slots=True)
class ChartPage:
    """Everything the charts page shows, as plain values: its first paint, and the JSON its script polls."""

    language: str  # the staff language: Chart.js writes the axes' numbers in it
    charts: dict[str, Chart]
    first_reply_summary: str
    updated: str


def chart_page(series: WeekSeries, now: float, taught: Taught | None = None, examples: int | None = None) -> ChartPage:
    # each per-day bar is labelled with the calendar day its events happened on (this machine's time)
    days = [words.when(d, "EEE dd") for d in chart_days(now)]
    answers = {value: words.t(text) for value, text in words.FEEDBACK_VALUES.items()}
    charts = [
        _count_chart("started", days, {"started": series.started_per_day}, {"started": words.t(words.STARTED_SERIES)},
                     (words.DAY, words.CONVERSATIONS), words.NO_STARTED),
        _time_chart("wait", days, series.wait_by_tier, {}, words.NO_WAITS),
        _time_chart("first-reply", days, series.first_reply_by_tier, {}, words.NO_FIRST_REPLY),
        _time_chart("ack", days, {"ack": series.ack_per_day}, {"ack": words.t(words.ACK_SERIES)}, words.NO_ACKS),
        _count_chart("feedback", days, series.feedback_per_day, answers, (words.DAY, words.ANSWERS), words.NO_FEEDBACK),
        _count_chart("support", days, {"plans": series.plans_per_day, **series.shared_per_day},
                     {"plans": words.t(words.PLANS_SERIES)}, (words.DAY, words.TIMES), words.NO_SUPPORT_SHARED),
        _taught_chart(taught or {}, examples),
    ]  # fmt: skip
    return ChartPage(
        staff_language(), {c.id: c for c in charts}, _first_reply_summary(series), time.strftime("%H:%M:%S")
    )


def _numbers(chart: Chart, table_id: str) -> str:
    """The chart's numbers as a table: a row per day (or category), a column per series."""
    headings = [chart.x_axis, *(s.name for s in chart.series)]
    rows = [[esc(label), *(esc(s.cells[i]) for s in chart.series)] for i, label in enumerate(chart.labels)]
    return table(table_id, headings, rows if chart.series else [], chart.caption, labelled=True)  # phone: cards


def _figure(chart: Chart, heading: str, above: str = "", table_id: str = "") -> str:
    """A section: heading, what to know first, the canvas the script draws on, its caption, and its numbers."""
    numbers = _numbers(chart, table_id or f"{chart.id}-table")
    return (
        f'<section id="{esc(chart.id)}-section"><h2>{esc(heading)}</h2>{above}'
        f'<figure><div class="chart-box"><canvas id="{esc(chart.id)}" role="img" aria-label="{esc(heading)}">'
        f"</canvas></div>"
        f'<figcaption id="{esc(chart.id)}-caption">{esc(chart.caption)}</figcaption></figure>'
        f"<details><summary>{esc(words.t(words.THE_NUMBERS))}</summary>{numbers}</details></section>"
    )


def _render(p: ChartPage) -> str:
    t, c = words.t, p.charts
    updated = words.markup(words.UPDATED, time=f'<span id="updated">{esc(p.updated)}</span>')
    first_reply = f'<p id="first-reply-summary">{esc(p.first_reply_summary)}</p>'
    feedback = f'<p class="muted">{esc(t(words.FEEDBACK_EXPLAINED))}</p>'
    return (
        f'<p class="muted">{updated}</p>'
        + _figure(c["started"], t(words.STARTED_PER_DAY))
        + _figure(c["wait"], t(words.MEDIAN_WAIT))
        + _figure(c["first-reply"], t(words.FIRST_REPLY_BY_TIER), first_reply)
        + _figure(c["ack"], t(words.ACK_TIME))
        + _figure(c["feedback"], t(words.FEEDBACK), feedback)
        + _figure(c["support"], t(words.SUPPORT_SHARED))
        + _figure(c["taught"], t(words.TAUGHT), table_id="labels")
    )


def render_charts(series: WeekSeries, now: float, taught: Taught | None = None) -> str:
    return _render(chart_page(series, now, taught))


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


async def read_week(redis: Redis, now: float) -> WeekSeries:
    """The week's numbers from the audit stream and the feedback counts of the chart's days."""
    days: list[date] = chart_days(now)
    feedback = await FeedbackCounts(redis).days(days)
    return week_series(await audit_since(redis, now - DAYS * DAY), now, feedback)


def chart_routes(redis: Redis, screened: tuple[str, ...] = (), examples_kept: bool = False) -> list[web.RouteDef]:
    async def state() -> ChartPage:
        now = time.time()
        examples = await count_examples(redis) if examples_kept else None
        return chart_page(await read_week(redis, now), now, await RiskLabels(redis).totals(TAUGHT_DAYS), examples)

    async def show(request: web.Request) -> web.Response:
        body = _render(await state()) + coverage_section(screened)
        return page(
            words.t(words.CHARTS_TITLE), body, csrf=session_of(request).csrf,
            scripts=["vendor/chart.umd.min.js", "charts.js"],
        )  # fmt: skip

    async def api(_request: web.Request) -> web.Response:
        return web.json_response(asdict(await state()), headers=security_headers())

    return [web.get("/dashboard/charts", show), web.get("/dashboard/api/charts", api)]
