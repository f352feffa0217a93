"""Sign-ins, held on the server (the ``sign_ins`` table, :class:`~peerhub.models.SignIn`).

The browser holds a random token in the sign-in cookie; the database holds only its
SHA-256, the user, a per-sign-in CSRF token and the times that bound its life (idle and
absolute). In code "session" means only SQLAlchemy's database session; the cookie's
name, ``/account/sessions`` and the settings' environment variables keep the word
(docs/architecture.md, "Names").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.config import Settings
from peerhub.i18n import _
from peerhub.models import SignIn, User
from peerhub.realtime import after_commit
from peerhub.security.tokens import digest, new_token

# Writing last_seen on every request would turn every page view into a write;
# a minute's slack on the idle time-out is harmless.
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Auth:
    """Who is making this request."""

    user: User | None
    sign_in_id: str | None
    csrf_token: str
    # Signed in, but their role needs two-step sign-in and they have not set it up:
    # the two-factor gate (security/middleware.py) sends them to /account/2fa.
    must_enrol_2fa: bool = False
    # Roles beyond member ("admin", "professional", "organiser", "moderator"), read
    # with the sign-in: the menu shows each role's entry (peerhub/web/landing.py).
    roles: frozenset[str] = frozenset()

    @property
    def signed_in(self) -> bool:
        return self.user is not None


@dataclass(frozen=True, slots=True)
class NewSignIn:
    token: str
    row: SignIn


async def start_sign_in(
    db: AsyncSession, settings: Settings, user: User, now: datetime, user_agent: str = ""
) -> NewSignIn:
    token = new_token()
    row = SignIn(
        user_id=user.id,
        token_hash=digest(token),
        csrf_token=new_token(),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=settings.sign_in_absolute_timeout),
        user_agent=user_agent[:200],
    )
    db.add(row)
    await db.flush()
    return NewSignIn(token, row)


async def resolve(
    db: AsyncSession, settings: Settings, token: str, now: datetime
) -> tuple[SignIn, User] | None:
    """The live sign-in and user for a cookie token, or None (expired ones are deleted)."""
    row = (
        await db.execute(
            select(SignIn, User)
            .join(User, User.id == SignIn.user_id)
            .where(SignIn.token_hash == digest(token))
        )
    ).first()
    if row is None:
        return None
    sign_in, user = row
    idle_limit = sign_in.last_seen_at + timedelta(seconds=settings.sign_in_idle_timeout)
    if user.disabled_at is not None or now >= sign_in.expires_at or now >= idle_limit:
        await db.delete(sign_in)
        return None
    if now - sign_in.last_seen_at >= TOUCH_INTERVAL:
        sign_in.last_seen_at = now
    return sign_in, user


async def end_sign_in(db: AsyncSession, sign_in_id: str) -> None:
    await db.execute(delete(SignIn).where(SignIn.id == sign_in_id))


# Ending a sign-in closes the live room sockets it opened, in every process: each
# function below records that in the same transaction (peerhub.realtime.after_commit),
# so it happens once the ending commits, and never if it does not.


async def end_other_sign_ins(db: AsyncSession, user_id: str, keep: str | None) -> list[str]:
    """End every sign-in of the person but ``keep``; the ids of those ended."""
    query = select(SignIn.id).where(SignIn.user_id == user_id)
    if keep is not None:
        query = query.where(SignIn.id != keep)
    ids = list((await db.scalars(query)).all())
    if ids:
        await db.execute(delete(SignIn).where(SignIn.id.in_(ids)))
    for sign_in_id in ids:
        after_commit.disconnect_user(db, user_id, sign_in_id=sign_in_id)
    return ids


async def end_all_sign_ins(db: AsyncSession, user_id: str, *, reason: str | None = None) -> int:
    """End every sign-in of the person; their live sockets close with ``reason``."""
    result = await db.execute(delete(SignIn).where(SignIn.user_id == user_id))
    after_commit.disconnect_user(db, user_id, reason=reason)
    return int(getattr(result, "rowcount", 0) or 0)


async def list_sign_ins(db: AsyncSession, user_id: str) -> list[SignIn]:
    rows = await db.scalars(
        select(SignIn).where(SignIn.user_id == user_id).order_by(SignIn.last_seen_at.desc())
    )
    return list(rows.all())


async def end_own_sign_in(db: AsyncSession, user_id: str, sign_in_id: str) -> bool:
    """End one of the person's own sign-ins; another person's id changes nothing."""
    result = await db.execute(
        delete(SignIn).where(SignIn.id == sign_in_id, SignIn.user_id == user_id)
    )
    ended = bool(getattr(result, "rowcount", 0))
    if ended:
        after_commit.disconnect_user(db, user_id, sign_in_id=sign_in_id)
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
