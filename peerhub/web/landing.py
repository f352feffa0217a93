"""Where each role's work is: the menu entries, and the page a person lands on after sign-in.

One table, so that the menu (base.html) and the landing page never disagree, and an
entry is shown only to people who may open it:

| Role | Menu entry | Its page |
|---|---|---|
| everyone signed in | Your groups | ``/account/groups``: places, next meetings, rooms |
| moderator, organiser | Your rooms | ``/moderate``: open rooms, waiting reports |
| organiser | Organise | ``/organise``: their organisations and groups |
| verified professional | Referrals | ``/referrals``: the directory and their referrals |
| administrator | Admin | ``/admin``: what waits for checking |

After sign-in a safe ``next=`` wins; without one a person lands on the work of their
highest role in the order administrator, organiser, moderator, professional, member
(someone who is two things sees the other in the menu).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from babel.support import LazyProxy
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.accounts import twofactor
from peerhub.i18n import lazy_gettext
from peerhub.models import User


@dataclass(frozen=True, slots=True)
class Entry:
    href: str
    label: str | LazyProxy  # in the page's language when shown
    # The roles that may use the page; empty means everyone signed in.
    roles: frozenset[str] = frozenset()

    def shown_to(self, roles: Collection[str]) -> bool:
        return not self.roles or any(role in roles for role in self.roles)


YOUR_GROUPS: Final = Entry("/account/groups", lazy_gettext("Your groups"))
YOUR_ROOMS: Final = Entry(
    "/moderate", lazy_gettext("Your rooms"), frozenset({"moderator", "organiser"})
)
DUTY: Final = Entry(
    "/duty",
    lazy_gettext("Duty desk"),
    frozenset({"moderator", "organiser", "safeguarding_lead", "admin"}),
)
ORGANISE: Final = Entry("/organise", lazy_gettext("Organise"), frozenset({"organiser"}))
REFERRALS: Final = Entry("/referrals", lazy_gettext("Referrals"), frozenset({"professional"}))
ADMIN: Final = Entry("/admin", lazy_gettext("Admin"), frozenset({"admin"}))

# In menu order.
ENTRIES: Final = (YOUR_GROUPS, YOUR_ROOMS, DUTY, ORGANISE, REFERRALS, ADMIN)
# Whose work comes first when a person has more than one role.
LANDING_ORDER: Final = (
    ("admin", ADMIN),
    ("organiser", ORGANISE),
    ("moderator", YOUR_ROOMS),
    ("safeguarding_lead", DUTY),
    ("professional", REFERRALS),
)


def menu(roles: Collection[str]) -> tuple[Entry, ...]:
    """The work entries of the main menu for someone signed in with these roles."""
    return tuple(entry for entry in ENTRIES if entry.shown_to(roles))


def landing(roles: Collection[str]) -> str:
    """Where someone with these roles lands after signing in, when no next= is given."""
    for role, entry in LANDING_ORDER:
        if role in roles:
            return entry.href
    return YOUR_GROUPS.href


async def roles_of(db: AsyncSession, user: User) -> frozenset[str]:
    """The person's roles now, as the authentication middleware reads them."""
    return (await twofactor.standing(db, user)).roles


async def after_sign_in(db: AsyncSession, user: User, nxt: str) -> str:
    """A safe ``next`` (already checked by the caller) wins; otherwise the role's work."""
    return nxt or landing(await roles_of(db, user))
