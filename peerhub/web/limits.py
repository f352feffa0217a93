"""The answer when a limit on making things is reached (peerhub/security/buckets.py):
429 with ``Retry-After``, and a page that says in plain words when to try again."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peerhub.security import buckets
from peerhub.security.middleware import wants_json
from peerhub.web.render import render

_WHY = {
    "signup": (
        "A lot of new accounts have been made from this internet connection in a short time."
    ),
    "organisations": (
        "A lot of organisations have been registered from this internet connection in a short time."
    ),
}
_BACK = {
    "signup": ("/signup", "Back to joining PeerHub"),
    "organisations": ("/organise", "Back to organising"),
}


def in_words(seconds: int) -> str:
    """A wait in plain words: "less than a minute", "7 minutes", "1 hour and 5 minutes"."""
    if seconds < 60:
        return "less than a minute"
    minutes = -(-seconds // 60)
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours, minutes = divmod(minutes, 60)
    text = f"{hours} hour{'s' if hours != 1 else ''}"
    if minutes:
        text += f" and {minutes} minute{'s' if minutes != 1 else ''}"
    return text


def too_many(request: Request, exc: buckets.Exhausted) -> Response:
    wait = in_words(exc.retry_after)
    headers = {"Retry-After": str(exc.retry_after)}
    why = _WHY.get(exc.bucket.purpose, "A lot of requests have come from this connection.")
    if request.url.path.startswith("/api/") or wants_json(request.headers):
        return JSONResponse(
            {"error": f"{why} Please try again in {wait}.", "retry_after": exc.retry_after},
            status_code=429,
            headers=headers,
        )
    back, back_text = _BACK.get(exc.bucket.purpose, ("/", "Go to the home page"))
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
