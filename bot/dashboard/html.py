"""Page shell and small HTML builders (`string.Template`); every value passes through `esc`.

Pages are served with a strict Content-Security-Policy: scripts and styles only from peerbridge itself, so
nothing is fetched from a CDN and injected markup could not run.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from string import Template

from aiohttp import web

from bot.dashboard import words
from routing.i18n import staff_language

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)

_PAGE = Template("""<!doctype html>
<html lang="$lang">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>$title · peerbridge</title>
<link rel="stylesheet" href="/dashboard/static/dashboard.css">
</head>
<body data-csrf="$csrf">
<header class="top">
<strong>peerbridge</strong>
<nav>$nav</nav>
</header>
<main>
<h1>$title</h1>
$body
</main>
$scripts
</body>
</html>
""")

NAV = (
    ("/dashboard/", words.LIVE), ("/dashboard/rota", words.ROTA), ("/dashboard/volunteers", words.VOLUNTEERS),
    ("/dashboard/charts", words.CHARTS), ("/dashboard/training", words.TRAINING), ("/dashboard/cases", words.CASES),
    ("/dashboard/coping", words.COPING),
)  # fmt: skip


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def page(title: str, body: str, *, csrf: str = "", signed_in: bool = True, scripts: Sequence[str] = ()) -> web.Response:
    """A whole page as a response with the security headers every dashboard page carries; `title` and `body`
    are already in the staff language (the page says which language it is in, for screen readers)."""
    nav = ""
    if signed_in:
        links = "".join(f'<a href="{esc(href)}">{esc(words.t(label))}</a>' for href, label in NAV)
        logout = (
            f'<form method="post" action="/dashboard/signout" class="inline">'
            f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
            f'<button type="submit">{esc(words.t(words.SIGN_OUT))}</button></form>'
        )
        nav = links + logout
    tags = "".join(f'<script src="/dashboard/static/{esc(name)}" defer></script>' for name in scripts)
    text = _PAGE.substitute(
        lang=esc(staff_language()), title=esc(title), nav=nav, body=body, csrf=esc(csrf), scripts=tags
    )
    return web.Response(text=text, content_type="text/html", headers=security_headers())


def security_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def table(
    table_id: str,
    headings: Sequence[str],
    rows: Iterable[Sequence[str]],
    empty: str,
    *,
    labelled: bool = False,
    data: Mapping[str, str] | None = None,
    row_attributes: Sequence[Mapping[str, str]] = (),
) -> str:
    """A table whose cells are already-escaped HTML; `empty` shows when there are no rows (and is kept in
    `data-empty`, for a page script that refills the table). `labelled` gives each cell its heading as
    `data-label`, so a stylesheet can show it when the table becomes cards on a phone. `data` adds `data-`
    attributes (plain text) to the table; `row_attributes` gives each row its own (e.g. a class, `data-esc`)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headings)
    labels = [f' data-label="{esc(h)}"' if labelled else "" for h in headings]

    def opening(index: int) -> str:
        given = row_attributes[index] if index < len(row_attributes) else {}
        return "<tr" + "".join(f' {esc(name)}="{esc(value)}"' for name, value in given.items()) + ">"

    body = "".join(
        opening(r)
        + "".join(f"<td{labels[i] if i < len(labels) else ''}>{cell}</td>" for i, cell in enumerate(row))
        + "</tr>"
        for r, row in enumerate(rows)
    )
    if not body:
        body = f'<tr class="empty"><td colspan="{len(headings)}">{esc(empty)}</td></tr>'
    extra = "".join(f' data-{esc(name)}="{esc(value)}"' for name, value in (data or {}).items())
    return (
        f'<table id="{esc(table_id)}" data-empty="{esc(empty)}"{extra}>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def duration(seconds: float) -> str:
    """ "4 min", "1 h 05 min": short enough for a phone."""
    total = max(int(seconds), 0)
    if total < 60:
        return f"{total} s"
    minutes = total // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def ago(seconds: float) -> str:
    """ "4 min ago", in the staff language."""
    return words.t(words.AGO, duration=duration(seconds))


def hidden_csrf(csrf: str) -> str:
    return f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
