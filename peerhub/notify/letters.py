"""E-mails that must not be lost, as outbox jobs: answers to join requests and referrals.

They used to be sent as Starlette background tasks after the response: a process that
stopped, or a mail server that was down for a moment, lost them for good. Now the
action's transaction records a ``mail.letter`` job (:func:`join_answer`,
:func:`referral_answer`, :func:`referral_accepted`) and the outbox sends it after the
commit, retrying with backoff while the mail server fails.

The payload holds ids and short settings only (the outbox's rule): the letter is
built when it is sent, from the rows its ids name, in the recipient's language — so a
letter about something deleted meanwhile (an erased account, a removed group) is not
sent. Delivery is at least once: a process that dies between sending and marking the
job done sends that one letter again.

Password-reset links stay in the request (peerhub/accounts/recovery_routes.py): their
secret would have to be stored in the outbox row to be sent later, and PeerHub keeps
only a hash of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import i18n, mail, outbox
from peerhub.models import Group, JoinAnswer, Referral, ReferralEvent, User
from peerhub.security.tokens import keyed

if TYPE_CHECKING:
    from peerhub.config import Settings
    from peerhub.context import AppContext
    from peerhub.outbox.dispatcher import Dispatcher

log = logging.getLogger("peerhub.mail")


@dataclass(frozen=True, slots=True)
class Letter:
    """Which letter (``join_answer``, ``referral_answer``, ``referral_accepted``), about
    which row (a join answer's or a referral's id), to whom (``person`` or
    ``professional``), and for a referral's answer its state. ``language``: the
    language of the request that caused it, for a recipient who chose none."""

    letter: str
    ref: str
    to: str = "person"
    state: str = ""
    language: str | None = None


LETTER = outbox.kind("mail.letter", Letter)


async def join_answer(db: AsyncSession, user_id: str, group_id: str) -> None:
    """A moderator has just answered ``user_id``'s request to join ``group_id`` (in this
    transaction): tell the person that answer (if they gave an address)."""
    await db.flush()
    answer_id = await db.scalar(
        select(JoinAnswer.id)
        .where(JoinAnswer.user_id == user_id, JoinAnswer.group_id == group_id)
        .order_by(JoinAnswer.answered_at.desc(), JoinAnswer.id.desc())
        .limit(1)
    )
    if answer_id is not None:
        letter = Letter("join_answer", str(answer_id), language=i18n.current().tag)
        outbox.record(db, LETTER, letter)


def referral_answer(db: AsyncSession, referral_id: str, state: str) -> None:
    """A group accepted or declined a referral: tell the person and the professional."""
    if state in ("accepted", "declined"):
        for to in ("person", "professional"):
            outbox.record(db, LETTER, Letter("referral_answer", referral_id, to, state))


def referral_accepted(db: AsyncSession, referral_id: str) -> None:
    """The person joined before the group answered: the professional gets the letter of
    an acceptance, exactly (docs/referrals.md, "A hidden state looks exactly like
    accepted")."""
    outbox.record(db, LETTER, Letter("referral_accepted", referral_id, "professional"))


def _help_line(settings: Settings, *, text: bool) -> str:
    contacts = settings.crisis_contacts
    if not contacts:
        return ""
    return f"{contacts[0].name}, {contacts[0].how_text if text else contacts[0].how}"


async def _join_answer(
    db: AsyncSession, settings: Settings, letter: Letter
) -> tuple[str, str, str] | None:
    answer = await db.get(JoinAnswer, int(letter.ref)) if letter.ref.isdigit() else None
    if answer is None:
        return None
    person = await db.get(User, answer.user_id)
    group = await db.get(Group, answer.group_id)
    if person is None or not person.email or group is None:
        return None
    # In the person's language, not the organiser's (the crisis line's words too); a
    # person who chose none gets the language of the request that answered.
    chosen = i18n.by_tag(person.language) or i18n.by_tag(letter.language)
    with i18n.using(chosen) as written_in:
        subject, body = mail.join_answer_message(
            pseudonym=person.pseudonym,
            group_name=group.name,
            accepted=answer.accepted,
            message=answer.message,
            account_url=f"{settings.base_url}/account",
            help_line=_help_line(settings, text=True),
            language=written_in.tag,
        )
    return person.email, subject, body


async def _referral(
    db: AsyncSession, settings: Settings, letter: Letter
) -> tuple[str, str, str] | None:
    referral = await db.get(Referral, letter.ref)
    if referral is None:
        return None
    group = await db.get(Group, referral.group_id)
    if group is None:
        return None
    page_url = f"{settings.base_url}/referrals"
    accepted = letter.letter == "referral_accepted" or letter.state == "accepted"
    reason = ""
    if letter.letter == "referral_answer":
        reason = (
            await db.scalar(
                select(ReferralEvent.reason)
                .where(
                    ReferralEvent.referral_id == referral.id,
                    ReferralEvent.state == letter.state,
                )
                .order_by(ReferralEvent.at.desc(), ReferralEvent.id.desc())
                .limit(1)
            )
            or ""
        )
    if letter.to == "professional":
        professional = (
            await db.get(User, referral.professional_id) if referral.professional_id else None
        )
        if professional is None or not professional.email:
            return None
        with i18n.using(professional.language):  # the professional's own language
            subject, body = mail.referral_answer_message(
                greeting_name=professional.pseudonym,
                group_name=group.name,
                accepted=accepted,
                reason=reason,
                for_professional=True,
                page_url=page_url,
            )
        return professional.email, subject, body
    person = await db.get(User, referral.person_user_id) if referral.person_user_id else None
    to = (
        person.email
        if person and person.email
        else referral.contact_value
        if referral.contact_method == "email"
        else None
    )
    if not to:
        return None
    # In the person's own language when they chose one on their account; a person known
    # only by the e-mail address their professional gave gets British English.
    with i18n.using(person.language if person else None):
        subject, body = mail.referral_answer_message(
            greeting_name=person.pseudonym if person else referral.person_name,
            group_name=group.name,
            accepted=accepted,
            reason=reason,
            for_professional=False,
            page_url=page_url,
            help_line=_help_line(settings, text=False),
        )
    return to, subject, body


async def build(
    db: AsyncSession, settings: Settings, letter: Letter
) -> tuple[str, str, str] | None:
    """The letter's address, subject and body now, or None when there is none to send."""
    if letter.letter == "join_answer":
        return await _join_answer(db, settings, letter)
    if letter.letter in ("referral_answer", "referral_accepted"):
        return await _referral(db, settings, letter)
    log.warning("an unknown letter was skipped: %.40s", letter.letter)
    return None


def register(dispatcher: Dispatcher, app: AppContext, state: Any) -> None:
    """Send ``mail.letter`` jobs (the application does, at start-up)."""
    # Logs name a recipient only by a keyed hash; the key is derived, never the secret.
    log_key = keyed(app.settings.secret_key, "notify-log", "")

    async def send(letter: Letter) -> None:
        async with app.sessions() as db:
            built = await build(db, app.settings, letter)
        if built is None:
            return
        to, subject, body = built
        try:
            await mail.sender_of(state, log_key).send(to, subject, body)
        except Exception as exc:
            log.warning("e-mail to %s failed: %s", mail.redact(to, log_key), type(exc).__name__)
            raise  # retried by the outbox

    dispatcher.register(LETTER, send, max_attempts=8, in_request=False)
