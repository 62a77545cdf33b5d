"""The coping library as staff read it (the texts volunteers share with /share), and coordinators' edits.

An edit is kept in Redis (`routing/store/coping_edits.py`, encrypted, audited without the words) and takes
precedence over the text's file; "back to the shipped text" removes it. Edits go through the same check as a
file's text (`routing.coping.files.check_text`), so a share never meets a text a message cannot carry.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from bot.dashboard import words
from bot.dashboard.auth import EDITORS, may, permitted_form, session_of
from bot.dashboard.html import esc, hidden_csrf, page
from routing.coping import CopingLibrary, CopingText
from routing.coping.files import check_text
from routing.store.coping_edits import CopingEdit, CopingEdits

_NOTICES = {"saved": words.COPING_SAVED, "reverted": words.COPING_REVERTED}


def _anchor(text: CopingText) -> str:
    return f"coping-{text.lang}-{text.name}"


def _status(edit: CopingEdit | None, text: CopingText, csrf: str, editor: bool) -> str:
    if edit is None:
        return f'<p class="muted">{esc(words.t(words.COPING_SHIPPED))}</p>'
    when = words.when(datetime.fromtimestamp(edit.at, UTC), "dd MMM yyyy HH:mm")
    edited = f'<p class="notice edited">{esc(words.t(words.COPING_EDITED, who=edit.by, date=when))}</p>'
    if not editor:
        return edited
    return edited + (
        f'<form method="post" action="/dashboard/coping/revert" class="inline">{hidden_csrf(csrf)}'
        f'<input type="hidden" name="lang" value="{esc(text.lang)}">'
        f'<input type="hidden" name="name" value="{esc(text.name)}">'
        f'<button type="submit" id="revert-{esc(text.lang)}-{esc(text.name)}">{esc(words.t(words.COPING_REVERT))}'
        "</button></form>"
    )


def _words(text: CopingText, csrf: str, editor: bool) -> str:
    if not editor:
        return f'<p class="coping-text">{esc(text.text)}</p>'
    key = f"{esc(text.lang)}-{esc(text.name)}"
    return (
        f'<form method="post" action="/dashboard/coping/edit" class="stack">{hidden_csrf(csrf)}'
        f'<input type="hidden" name="lang" value="{esc(text.lang)}">'
        f'<input type="hidden" name="name" value="{esc(text.name)}">'
        f'<textarea name="text" id="text-{key}" class="coping-text" aria-label="{esc(text.title)}">'
        f"{esc(text.text)}</textarea>"
        f'<button type="submit" id="save-{key}">{esc(words.t(words.COPING_SAVE))}</button></form>'
    )


def _entry(text: CopingText, edit: CopingEdit | None, csrf: str, editor: bool) -> str:
    t = words.t
    reviewed = t(words.COPING_REVIEWED, who=text.reviewed_by, date=words.when(text.reviewed_on, "dd MMM yyyy"))
    return (
        f'<section class="coping" id="{esc(_anchor(text))}"><h2>{esc(text.title)}</h2>'
        f'<p class="muted">{esc(t(words.COPING_NAME, name=text.name, language=text.lang))}</p>'
        f"{_status(edit, text, csrf, editor)}{_words(text, csrf, editor)}"
        f'<p class="muted">{esc(t(words.COPING_SOURCE, source=text.source))}<br>{esc(reviewed)}</p></section>'
    )


def _left_out(library: CopingLibrary) -> str:
    if not library.problems:
        return ""
    items = "".join(f"<li>{esc(problem)}</li>" for problem in library.problems.values())
    return f'<p>{esc(words.t(words.LEFT_OUT))}</p><ul class="problems">{items}</ul>'


def coping_routes(library: CopingLibrary, edits: CopingEdits) -> list[web.RouteDef]:
    async def render(request: web.Request, notice: str = "", problem: str = "") -> web.Response:
        session = session_of(request)
        editor = may(session, EDITORS)
        current = await edits.all()
        shown = library.with_edits({key: edit.text for key, edit in current.items()})
        body = f"<p>{esc(words.t(words.COPING_EXPLAINED))}</p><p>{esc(words.t(words.COPING_PRECEDENCE))}</p>"
        body += f'<p class="notice" id="notice">{esc(notice)}</p>' if notice else ""
        body += f'<ul class="problems" id="problems"><li>{esc(problem)}</li></ul>' if problem else ""
        body += "" if editor else f'<p class="muted">{esc(words.t(words.COPING_EDITORS))}</p>'
        body += _left_out(library) if editor else ""
        entries = [
            _entry(text, current.get((lang, name)), session.csrf, editor)
            for name in shown.names
            for lang in sorted(shown.texts, key=lambda code: (code != "en", code))
            if (text := shown.get(lang, name)) is not None
        ]
        body += "".join(entries) or f"<p>{esc(words.t(words.COPING_NONE))}</p>"
        response = page(words.t(words.COPING_TITLE), body, csrf=session.csrf)
        if problem:
            response.set_status(400)
        return response

    async def show(request: web.Request) -> web.Response:
        notice = _NOTICES.get(request.query.get("done", ""))
        return await render(request, words.t(notice) if notice else "")

    async def change(request: web.Request, revert: bool) -> web.Response:
        session = session_of(request)
        form = await permitted_form(request, EDITORS, words.t(words.COPING_FORBIDDEN))
        lang, name = form.get("lang", ""), form.get("name", "")
        text = library.get(lang, name)
        if text is None:
            return await render(request, problem=words.t(words.COPING_UNKNOWN))
        if revert:
            await edits.revert(lang, name, by=session.identity.volunteer)
        else:
            try:
                words_now = check_text(form.get("text", "").replace("\r\n", "\n"))
            except ValueError as error:
                return await render(request, problem=f"{text.title}: {error}")
            await edits.save(lang, name, words_now, by=session.identity.volunteer)
        done = "reverted" if revert else "saved"
        raise web.HTTPSeeOther(f"/dashboard/coping?done={done}#{_anchor(text)}")

    async def edit(request: web.Request) -> web.Response:
        return await change(request, revert=False)

    async def revert(request: web.Request) -> web.Response:
        return await change(request, revert=True)

    return [
        web.get("/dashboard/coping", show),
        web.post("/dashboard/coping/edit", edit),
        web.post("/dashboard/coping/revert", revert),
    ]
