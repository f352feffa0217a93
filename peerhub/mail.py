"""E-mail notifications through a pluggable sender.

E-mail is never required on PeerHub: everything a message says is also on the
person's own pages. A sender is anything with ``async send(to, subject, body)``:

- :class:`LogSender` (the default, for development) writes one log line with a
  keyed hash of the address and the subject: never the address, never the body.
- :class:`SmtpSender` sends through an SMTP server with STARTTLS, using the
  standard library in a worker thread so the event loop never blocks on the network.

Choose one with :func:`load_sender` from ``PEERHUB_SMTP_*`` variables; tests and
deployments may put any sender in ``app.state.sender`` instead. Subjects are
deliberately generic (no group names) because they are logged and shown on lock
screens; the detail is in the body.

Every message is written in its recipient's language: the builders below take the
account's ``users.language`` (``language=``) and fall back to the language of the
request that caused the e-mail, so an organiser answering in English writes to a
Welsh-speaking member in Welsh.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import smtplib
import ssl
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

from peerhub import i18n
from peerhub.config import ConfigError
from peerhub.i18n import _
from peerhub.inputs import ascii_digits

log = logging.getLogger("peerhub.mail")


class Sender(Protocol):
    async def send(self, to: str, subject: str, body: str) -> None: ...


def redact(address: str, key: str = "") -> str:
    """A stable, non-reversible label for an address, for logs: ``addr:3f9c1a2b7d04``."""
    mac = hmac.new(key.encode(), address.strip().casefold().encode(), hashlib.sha256)
    return "addr:" + mac.hexdigest()[:12]


class LogSender:
    """Logs that a message would be sent: the redacted recipient and the subject."""

    def __init__(self, key: str = "") -> None:
        self._key = key

    async def send(self, to: str, subject: str, body: str) -> None:
        log.info("e-mail (not sent: log sender) to=%s subject=%r", redact(to, self._key), subject)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 587
    user: str | None = None
    password: str | None = None
    sender: str = ""
    starttls: bool = True
    timeout: float = 20.0


class SmtpSender:
    """Sends through SMTP (STARTTLS unless turned off for a local relay)."""

    def __init__(self, config: SmtpConfig, *, smtp_class: type[smtplib.SMTP] = smtplib.SMTP):
        self.config = config
        self._smtp_class = smtp_class

    def message(self, to: str, subject: str, body: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=self.config.sender.rpartition("@")[2] or None)
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(body)
        return msg

    def _send_blocking(self, msg: EmailMessage) -> None:
        c = self.config
        with self._smtp_class(c.host, c.port, timeout=c.timeout) as smtp:
            if c.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if c.user:
                smtp.login(c.user, c.password or "")
            smtp.send_message(msg)

    async def send(self, to: str, subject: str, body: str) -> None:
        await asyncio.to_thread(self._send_blocking, self.message(to, subject, body))


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}: use true or false, not {value!r}")


def load_sender(env: Mapping[str, str] | None = None, *, log_key: str = "") -> Sender:
    """SMTP when ``PEERHUB_SMTP_HOST`` is set, otherwise the log sender.

    ``PEERHUB_SMTP_PORT`` (587), ``PEERHUB_SMTP_USER``, ``PEERHUB_SMTP_PASSWORD``,
    ``PEERHUB_SMTP_FROM`` (required with a host) and ``PEERHUB_SMTP_STARTTLS``
    (true; false only for a relay on the same machine). A bad value raises
    :class:`~peerhub.config.ConfigError` naming the variable.
    """
    env = os.environ if env is None else env
    host = env.get("PEERHUB_SMTP_HOST", "").strip()
    if not host:
        return LogSender(log_key)
    port_raw = env.get("PEERHUB_SMTP_PORT", "587").strip()
    # ASCII digits only: "²".isdigit() is true, and int() then refuses it.
    port = ascii_digits(port_raw, max_digits=5)
    if port is None or not 0 < port < 65536:
        raise ConfigError(f"PEERHUB_SMTP_PORT: {port_raw!r} is not a port number")
    sender = env.get("PEERHUB_SMTP_FROM", "").strip()
    if "@" not in sender or any(c in sender for c in "\r\n"):
        raise ConfigError("PEERHUB_SMTP_FROM: give the address e-mails come from")
    user = env.get("PEERHUB_SMTP_USER", "").strip() or None
    password = env.get("PEERHUB_SMTP_PASSWORD") or None
    if user and not password:
        raise ConfigError("PEERHUB_SMTP_PASSWORD: needed with PEERHUB_SMTP_USER")
    starttls = _flag(env.get("PEERHUB_SMTP_STARTTLS", "true"), "PEERHUB_SMTP_STARTTLS")
    if not starttls and user and host not in ("localhost", "127.0.0.1", "::1"):
        raise ConfigError(
            "PEERHUB_SMTP_STARTTLS: a password is never sent unencrypted to another host"
        )
    return SmtpSender(SmtpConfig(host, port, user, password, sender, starttls))


def sender_of(state: Any, log_key: str = "") -> Sender:
    """The application's sender: ``state.sender`` if set, else one from the environment.

    Built once and kept on ``state`` so every request shares it.
    """
    current: Sender | None = getattr(state, "sender", None)
    if current is None:
        current = load_sender(log_key=log_key)
        state.sender = current
    return current


async def deliver(sender: Sender, to: str, subject: str, body: str, *, log_key: str = "") -> bool:
    """Send, and never let a mail problem undo what the person already did.

    Failures are logged with the redacted address and the error type only.
    """
    try:
        await sender.send(to, subject, body)
    except Exception as exc:
        log.warning("e-mail to %s failed: %s", redact(to, log_key), type(exc).__name__)
        return False
    return True


# -- messages --------------------------------------------------------------------------

# Plain-text e-mail: paragraphs are one message each (whole sentences for translators),
# wrapped here; long words and addresses are never split.
_WIDTH = 74


def paragraph(text: str) -> list[str]:
    """A paragraph of plain text wrapped for an e-mail or a text file."""
    return textwrap.wrap(text, _WIDTH, break_long_words=False, break_on_hyphens=False) or [""]


def _quoted(text: str) -> list[str]:
    """Someone's own words (a group's message), as they wrote them: never translated."""
    return ["  " + x for x in text.splitlines()]


def _help(help_line: str) -> list[str]:
    return (
        [*paragraph(_("If you need help now: %(help)s", help=help_line)), ""] if help_line else []
    )


def _signature() -> str:
    return _("— PeerHub")


def language_of(recipient_language: str | None) -> i18n.Language:
    """The language to write to someone in: theirs if they chose one, else the request's."""
    return i18n.by_tag(recipient_language) or i18n.current()


def join_answer_message(
    *,
    pseudonym: str,
    group_name: str,
    accepted: bool,
    message: str,
    account_url: str,
    help_line: str = "",
    language: str | None = None,
) -> tuple[str, str]:
    """Subject and body for "your request to join was answered" (in ``language``, the
    recipient's, when given; else the request's)."""
    with i18n.using(language_of(language)):
        subject = _("PeerHub: a group has answered your request")
        if accepted:
            opening = _(
                "Good news: %(group)s has said yes to your request to join.", group=group_name
            )
        else:
            opening = _("%(group)s is not able to offer you a place right now.", group=group_name)
        lines = [_("Hello %(name)s,", name=pseudonym), "", *paragraph(opening)]
        if message:
            lines += ["", _("Their message to you:"), "", *_quoted(message)]
        if not accepted:
            lines += [
                "",
                *paragraph(
                    _(
                        "This is not a judgement of you. Other groups may suit you, and you "
                        "can look for them on PeerHub at any time."
                    )
                ),
            ]
        lines += [
            "",
            *paragraph(_("You can see all your groups here: %(url)s", url=account_url)),
            "",
            *_help(help_line),
            _signature(),
            "",
            *paragraph(
                _(
                    "You get this e-mail because you gave PeerHub your address. You can "
                    "remove it on your account page; everything in this e-mail is also "
                    "shown there."
                )
            ),
        ]
        return subject, "\n".join(lines)


def referral_answer_message(
    *,
    greeting_name: str,
    group_name: str,
    accepted: bool,
    reason: str,
    for_professional: bool,
    page_url: str,
    help_line: str = "",
    language: str | None = None,
) -> tuple[str, str]:
    """Subject and body for "a referral was accepted or declined" (person or referrer),
    in ``language`` (the recipient's) when given, else the request's."""
    with i18n.using(language_of(language)):
        subject = _("PeerHub: an update on a referral")
        if for_professional:
            opening = (
                _("%(group)s has accepted your referral.", group=group_name)
                if accepted
                else _("%(group)s is not able to accept your referral.", group=group_name)
            )
        elif accepted:
            opening = _(
                "Good news: %(group)s is looking forward to welcoming you.", group=group_name
            )
        else:
            opening = _("%(group)s is not able to offer you a place right now.", group=group_name)
        lines = [_("Hello %(name)s,", name=greeting_name), "", *paragraph(opening)]
        if reason and not accepted:
            lines += ["", _("Their reason:"), "", *_quoted(reason)]
        if not accepted and not for_professional:
            lines += [
                "",
                *paragraph(
                    _(
                        "This is not a judgement of you. Other groups may suit you, and you "
                        "can look for them on PeerHub at any time, without a referral."
                    )
                ),
            ]
        lines += [
            "",
            *paragraph(_("See the referral here: %(url)s", url=page_url)),
            "",
            *_help(help_line),
            _signature(),
        ]
        return subject, "\n".join(lines)


def reset_link_message(
    *,
    pseudonym: str,
    link: str,
    minutes: int,
    help_line: str = "",
    language: str | None = None,
) -> tuple[str, str]:
    """Subject and body of the e-mail with a link to choose a new password, in
    ``language`` (the account's) when given, else the request's."""
    with i18n.using(language_of(language)):
        # The subject is logged by the development sender: nothing personal in it.
        subject = _("PeerHub: choose a new password")
        lines = [
            _("Hello %(name)s,", name=pseudonym),
            "",
            *paragraph(_("Someone asked to choose a new password for your PeerHub account.")),
            *paragraph(
                i18n.ngettext(
                    "If it was you, open this link within %(num)s minute. It works once:",
                    "If it was you, open this link within %(num)s minutes. It works once:",
                    minutes,
                )
            ),
            "",
            f"    {link}",
            "",
            *paragraph(
                _(
                    "If it was not you, you do not need to do anything: your password has "
                    "not changed, and the link stops working by itself."
                )
            ),
            "",
            *_help(help_line),
            _signature(),
        ]
        return subject, "\n".join(lines)
