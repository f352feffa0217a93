"""Server-side login sessions.

The browser holds a random token; the database holds only its SHA-256, the user, a
per-session CSRF token and the times that bound its life (idle and absolute).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.config import Settings
from peerhub.i18n import _
from peerhub.models import AuthSession, User
from peerhub.realtime import after_commit
from peerhub.security.tokens import digest, new_token

# Writing last_seen on every request would turn every page view into a write;
# a minute's slack on the idle time-out is harmless.
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Auth:
    """Who is making this request."""

    user: User | None
    session_id: str | None
    csrf_token: str
    # Signed in, but their role needs two-step sign-in and they have not set it up:
    # the two-factor gate (security/middleware.py) sends them to /account/2fa.
    must_enrol_2fa: bool = False
    # Roles beyond member ("admin", "professional", "organiser", "moderator"), read
    # with the session: the menu shows each role's entry (peerhub/web/landing.py).
    roles: frozenset[str] = frozenset()

    @property
    def signed_in(self) -> bool:
        return self.user is not None


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str
    row: AuthSession


async def start_session(
    db: AsyncSession, settings: Settings, user: User, now: datetime, user_agent: str = ""
) -> NewSession:
    token = new_token()
    row = AuthSession(
        user_id=user.id,
        token_hash=digest(token),
        csrf_token=new_token(),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=settings.session_absolute_timeout),
        user_agent=user_agent[:200],
    )
    db.add(row)
    await db.flush()
    return NewSession(token, row)


async def resolve(
    db: AsyncSession, settings: Settings, token: str, now: datetime
) -> tuple[AuthSession, User] | None:
    """The live session and user for a cookie token, or None (expired ones are deleted)."""
    row = (
        await db.execute(
            select(AuthSession, User)
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.token_hash == digest(token))
        )
    ).first()
    if row is None:
        return None
    session, user = row
    idle_limit = session.last_seen_at + timedelta(seconds=settings.session_idle_timeout)
    if user.disabled_at is not None or now >= session.expires_at or now >= idle_limit:
        await db.delete(session)
        return None
    if now - session.last_seen_at >= TOUCH_INTERVAL:
        session.last_seen_at = now
    return session, user


async def end_session(db: AsyncSession, session_id: str) -> None:
    await db.execute(delete(AuthSession).where(AuthSession.id == session_id))


# Ending a sign-in closes the live room sockets it opened, in every process: each
# function below records that in the same transaction (peerhub.realtime.after_commit),
# so it happens once the ending commits, and never if it does not.


async def end_other_sessions(db: AsyncSession, user_id: str, keep: str | None) -> list[str]:
    """End every session of the person but ``keep``; the ids of those ended."""
    query = select(AuthSession.id).where(AuthSession.user_id == user_id)
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    ids = list((await db.scalars(query)).all())
    if ids:
        await db.execute(delete(AuthSession).where(AuthSession.id.in_(ids)))
    for session_id in ids:
        after_commit.disconnect_user(db, user_id, session_id=session_id)
    return ids


async def end_all_sessions(db: AsyncSession, user_id: str, *, reason: str | None = None) -> int:
    """End every session of the person; their live sockets close with ``reason``."""
    result = await db.execute(delete(AuthSession).where(AuthSession.user_id == user_id))
    after_commit.disconnect_user(db, user_id, reason=reason)
    return int(getattr(result, "rowcount", 0) or 0)


async def list_sessions(db: AsyncSession, user_id: str) -> list[AuthSession]:
    rows = await db.scalars(
        select(AuthSession)
        .where(AuthSession.user_id == user_id)
        .order_by(AuthSession.last_seen_at.desc())
    )
    return list(rows.all())


async def end_own_session(db: AsyncSession, user_id: str, session_id: str) -> bool:
    """End one of the person's own sessions; another person's id changes nothing."""
    result = await db.execute(
        delete(AuthSession).where(AuthSession.id == session_id, AuthSession.user_id == user_id)
    )
    ended = bool(getattr(result, "rowcount", 0))
    if ended:
        after_commit.disconnect_user(db, user_id, session_id=session_id)
    return ended


def describe_device(user_agent: str) -> str:
    """A plain name for a browser and system, from its User-Agent (best effort)."""
    ua = user_agent or ""
    browser: str | None = next(
        (
            name
            for key, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if key in ua
        ),
        None,
    )
    system = next(
        (
            name
            for key, name in (
                ("Android", "Android"),
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Windows", "Windows"),
                ("Mac OS X", "Mac"),
                ("CrOS", "ChromeOS"),
                ("Linux", "Linux"),
            )
            if key in ua
        ),
        "",
    )
    # Product names stay as they are; the words around them are translated.
    if browser is None:
        return _("A browser on %(system)s", system=system) if system else _("A browser")
    return _("%(browser)s on %(system)s", browser=browser, system=system) if system else browser
