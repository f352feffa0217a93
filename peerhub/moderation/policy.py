"""The moderation toolkit's pure rules: no database, no sockets, no clock of its own.

What the policy decides from the room's cached :class:`RoomRules` (may this message be
sent now?), how ranks compare (nobody acts on an equal or higher rank), and the checks
on an action's input that need nothing stored. :mod:`peerhub.moderation.actions` and
:mod:`peerhub.moderation.extension` call these; every refusal is a :class:`Refused`
(or a refusing :class:`~peerhub.realtime.policy.Verdict` for a message).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from peerhub import i18n
from peerhub.duty.models import DEFAULT_ALERT_MINUTES
from peerhub.i18n import _, lazy_gettext, ngettext
from peerhub.models import GroupRole
from peerhub.moderation.lexicon import Matcher
from peerhub.moderation.models import REPORT_CATEGORIES
from peerhub.realtime.policy import ALLOW, Verdict
from peerhub.realtime.protocol import iso

HELD_NOTE = lazy_gettext(
    "Waiting for a moderator to look at it. Only you and the moderators can see it."
)
RANK_NAMES = {"member": GroupRole.MEMBER, "moderator": GroupRole.MODERATOR}
OUTCOMES = ("action", "no_action")
MUTE_KINDS = ("word", "person")


class Refused(Exception):
    """An action that cannot be done; ``code`` and ``message`` go to the actor."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class RoomRules:
    slow: int = 0
    locked: bool = False
    pinned: dict[str, Any] | None = None
    hold: Matcher = field(default_factory=lambda: Matcher(()))
    hold_words: list[str] = field(default_factory=list)
    timeouts: dict[str, datetime] = field(default_factory=dict)
    # How many of a new member's first messages are held (0: the group does not hold
    # them), and the members this process has seen pass that number (counts only grow).
    newcomer_messages: int = 0
    cleared: set[str] = field(default_factory=set)
    # Minutes a crisis alert waits to be opened before the organisers are told
    # (peerhub/duty/escalation.py): read with the rules, so a message reads nothing more.
    alert_minutes: int = DEFAULT_ALERT_MINUTES
    loaded: float = 0.0


def hhmm(moment: datetime) -> str:
    """ "18:40 UTC on 4 November", in the language of the socket's person."""
    return _(
        "%(time)s UTC on %(day)s",
        time=i18n.format_time(moment, tz=UTC),
        day=i18n.format_skeleton(moment, "dMMMM", tz=UTC),
    )


def send_verdict(
    rules: RoomRules, user: str, rank: GroupRole, now: datetime, last_sent: datetime | None
) -> Verdict:
    """May ``user`` send a message now? ``last_sent``: when their last message in the
    room was accepted (for slow mode). Moderators and organisers always may."""
    if rank >= GroupRole.MODERATOR:
        return ALLOW
    until = rules.timeouts.get(user)
    if until is not None and until > now:
        wait = (until - now).total_seconds()
        return Verdict.refuse(
            "timed_out",
            _("A moderator has paused your messages until %(when)s.", when=hhmm(until)),
            retry_after=round(wait, 1),
        )
    if rules.locked:
        return Verdict.refuse(
            "locked", _("A moderator has locked the room for now: you can read but not write.")
        )
    if rules.slow and last_sent is not None:
        wait = rules.slow - (now - last_sent).total_seconds()
        if wait > 0:
            return Verdict.refuse(
                "slow_mode",
                ngettext(
                    "Slow mode is on: one message every %(num)s second.",
                    "Slow mode is on: one message every %(num)s seconds.",
                    rules.slow,
                ),
                retry_after=round(wait, 1),
            )
    return ALLOW


def held_by_words(rules: RoomRules, body: str) -> bool:
    """One of the room's hold-for-review words or phrases is in the message."""
    return bool(rules.hold) and rules.hold.search(body) is not None


def room_state(rules: RoomRules, user: str, now: datetime) -> dict[str, Any]:
    """What the ``subscribed`` frame's ``extra.moderation`` says of the room's rules."""
    state: dict[str, Any] = {
        "slow_mode_seconds": rules.slow,
        "locked": rules.locked,
        "pinned": rules.pinned,
    }
    until = rules.timeouts.get(user)
    if until is not None and until > now:
        state["timed_out_until"] = iso(until)
    return state


def require_rank(rank: GroupRole, minimum: GroupRole) -> None:
    """The actor's rank in the group (read from the database) allows the action."""
    if rank < minimum:
        raise Refused("forbidden", _("You cannot do that in this group."))


def check_target(
    actor: str, actor_rank: GroupRole, target: str, target_rank: GroupRole, *, allow_self: bool
) -> None:
    """The person acted on must rank strictly below the actor (and not be the actor,
    unless ``allow_self``)."""
    if target == actor and not allow_self:
        raise Refused("forbidden", _("You cannot do that to yourself."))
    if target_rank >= actor_rank and target != actor:
        raise Refused(
            "forbidden", _("You cannot act on someone of the same or a higher rank than you.")
        )


def clean(value: object) -> str:
    """Free text (a reason, a note, a report's words) on one line, spaces collapsed."""
    return " ".join(str(value or "").split())


def check_report(category: str, seq: int | None, subject: str | None) -> None:
    if category not in REPORT_CATEGORIES:
        raise Refused("bad_category", _("Choose one of the kinds of report offered."))
    if seq is None and subject is None:
        raise Refused("bad_frame", _("Say which message or which person you are reporting."))


def check_outcome(outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise Refused("bad_outcome", _("Say whether you took action or no action."))


def check_mute(kind: str, value: str) -> None:
    if kind not in MUTE_KINDS or not value:
        raise Refused("bad_frame", _("Mute a word or a person."))
