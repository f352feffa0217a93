"""What the account, two-step sign-in and recovery pages share: the page to go to next,
where a try at a secret comes from, and the known-device cookie."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from peerhub.accounts import recovery
from peerhub.config import Settings
from peerhub.security import devices
from peerhub.security.middleware import cookie_header
from peerhub.web.render import auth, ctx, ip


def safe_next(value: str | None, default: str = "/account") -> str:
    """Only same-site paths: no open redirect through ?next=."""
    if not value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value:
        return default
    return value


def asker_of(request: Request) -> recovery.Asker:
    """Where a try at a secret comes from (peerhub/accounts/recovery.py, "The throttle")."""
    return recovery.Asker(
        client_ip=ip(request),
        device_cookie=request.cookies.get(devices.cookie_name(ctx(request).settings)),
        sign_in_id=auth(request).sign_in_id,
    )


def device_cookie_header(settings: Settings, value: str) -> str:
    """The known-device cookie (peerhub/security/devices.py): long-lived, HttpOnly."""
    return cookie_header(
        devices.cookie_name(settings),
        value,
        secure=settings.secure_cookies,
        max_age=int(devices.LIFETIME.total_seconds()),
    )
