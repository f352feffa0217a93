"""The answer when a limit on making things is reached (peerhub/security/buckets.py):
429 with ``Retry-After``, and a page that says in plain words when to try again."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peerhub.i18n import _, lazy_gettext, ngettext
from peerhub.security import buckets
from peerhub.security.middleware import wants_json
from peerhub.web.render import render

_WHY = {
    "signup": lazy_gettext(
        "A lot of new accounts have been made from this internet connection in a short time."
    ),
    "organisations": lazy_gettext(
        "A lot of organisations have been registered from this internet connection in a short time."
    ),
}
_BACK = {
    "signup": ("/signup", lazy_gettext("Back to joining PeerHub")),
    "organisations": ("/organise", lazy_gettext("Back to organising")),
}


def in_words(seconds: int) -> str:
    """A wait in plain words, in the page's language: "less than a minute", "7 minutes",
    "1 hour and 5 minutes"."""
    if seconds < 60:
        return _("less than a minute")
    minutes = -(-seconds // 60)
    if minutes < 60:
        return ngettext("%(num)s minute", "%(num)s minutes", minutes)
    hours, minutes = divmod(minutes, 60)
    hours_text = ngettext("%(num)s hour", "%(num)s hours", hours)
    if not minutes:
        return hours_text
    # TRANSLATORS: a wait such as "1 hour and 5 minutes".
    return _(
        "%(hours)s and %(minutes)s",
        hours=hours_text,
        minutes=ngettext("%(num)s minute", "%(num)s minutes", minutes),
    )


def too_many(request: Request, exc: buckets.Exhausted) -> Response:
    wait = in_words(exc.retry_after)
    headers = {"Retry-After": str(exc.retry_after)}
    why = str(
        _WHY.get(exc.bucket.purpose) or _("A lot of requests have come from this connection.")
    )
    if request.url.path.startswith("/api/") or wants_json(request.headers):
        return JSONResponse(
            {
                "error": _("%(why)s Please try again in %(wait)s.", why=why, wait=wait),
                "retry_after": exc.retry_after,
            },
            status_code=429,
            headers=headers,
        )
    back, back_text = _BACK.get(exc.bucket.purpose, ("/", lazy_gettext("Go to the home page")))
    return render(
        request,
        "too_many.html",
        {
            "wait": wait,
            "why": why,
            "back": back,
            "back_text": back_text,
            "signup": exc.bucket.purpose == "signup",
        },
        status=429,
        headers=headers,
    )
