"""``GET /oauth/callback``: where the provider sends the browser back after an OAuth2 sign-in.

The work is ``services.mail_oauth.complete_sign_in``; this module turns its outcome into
a redirect to the sign-in's ``returnUrl`` (only when it is still an allowed origin) or a
short page in the browser's language. The page is static HTML with the service's stylesheet,
no script at all, under a policy allowing only that (``CALLBACK_POLICY``); it never shows a
code, a token or a traceback, and sends no Referer (the callback's address holds the code).
"""

from __future__ import annotations

import html
import logging
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from i18n import Lang, Text, negotiate
from oauth.texts import (
    CALLBACK_PROBLEMS,
    CLOSE_WINDOW,
    CONNECTED,
    CONNECTED_TITLE,
    FAILED_TITLE,
    START_AGAIN,
)
from services.mail_oauth import SignInOutcome, allowed_return_url, complete_sign_in
from services.runtime import Runtime
from web.security import PAGE_HEADERS, SELF_ONLY, format_policy

__all__ = ["CALLBACK_PATH", "CALLBACK_POLICY", "oauth_callback_route"]

log = logging.getLogger("mailtab.oauth")
CALLBACK_PATH = "/oauth/callback"
#: Only the service's stylesheet; no script, no form, no frame.
CALLBACK_POLICY = format_policy({**SELF_ONLY, "script-src": "'none'", "connect-src": "'none'"})
FAULT = Text(
    ru="Не удалось завершить подключение из-за ошибки сервера. Ничего не изменилось; "
    "попробуйте ещё раз.",
    en="The sign-in could not be completed because of a server error. Nothing was changed; "
    "try again.",
)
_HEADERS = {**PAGE_HEADERS, "content-security-policy": CALLBACK_POLICY}


def _page(lang: Lang, *, title: str, lines: list[str], status: int) -> Response:
    body = "\n".join(f"    <p>{html.escape(line)}</p>" for line in lines)
    document = f"""<!doctype html>
<html lang="{lang}">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>{html.escape(title)}</title>
    <link rel="stylesheet" href="/static/mailtab.css">
  </head>
  <body>
  <main role="main">
    <h1>{html.escape(title)}</h1>
{body}
  </main>
  </body>
</html>
"""
    return Response(
        document, status_code=status, media_type="text/html; charset=utf-8", headers=_HEADERS
    )


def _with_result(url: str, result: str) -> str:
    """``url`` with ``mailOAuth=<result>`` added, so the page it opens can say so."""
    parts = urlsplit(url)
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=query + urlencode({"mailOAuth": result})))


def _answer(outcome: SignInOutcome, lang: Lang, runtime: Runtime) -> Response:
    if outcome.problem is None:
        if outcome.return_url and allowed_return_url(outcome.return_url, runtime.settings):
            return RedirectResponse(
                _with_result(outcome.return_url, "connected"), status_code=303, headers=_HEADERS
            )
        title = runtime.presets[outcome.provider].title(lang) if outcome.provider else ""
        connected = CONNECTED.format(address=outcome.address or "", provider=title)
        return _page(
            lang,
            title=CONNECTED_TITLE(lang),
            lines=[connected(lang), CLOSE_WINDOW(lang)],
            status=200,
        )
    reason = CALLBACK_PROBLEMS[outcome.problem].format(error=outcome.detail or "")
    return _page(
        lang, title=FAILED_TITLE(lang), lines=[reason(lang), START_AGAIN(lang)], status=400
    )


def oauth_callback_route(runtime: Runtime) -> Route:
    async def callback(request: Request) -> Response:
        lang = negotiate(request.headers.get("accept-language"))
        params = request.query_params
        try:
            outcome = await complete_sign_in(
                state=params.get("state"),
                code=params.get("code"),
                error=params.get("error"),
                runtime=runtime,
            )
        except Exception as exc:
            # The exception may hold the code in its text: its kind only, never a traceback.
            log.error("OAuth2 callback failed (%s)", type(exc).__name__)
            return _page(lang, title=FAILED_TITLE(lang), lines=[FAULT(lang)], status=500)
        return _answer(outcome, lang, runtime)

    return Route(CALLBACK_PATH, callback, methods=["GET"])
