"""SMS through a provider interface (issue 14).

A provider is anything with ``async send(to, text)``. :class:`LogSmsProvider` (the
default, for development and tests) writes one log line with a keyed hash of the
number and the notice's topic: never the number, never the text. A deployment puts
its provider in ``app.state.sms`` (an adapter for its SMS gateway, a few lines around
the gateway's HTTP API), or names one with ``PEERHUB_SMS_PROVIDER`` (only ``log`` is
built in). The text is the topic's generic words and a link, nothing else (the
lock-screen rule, docs/notifications.md).

Phone numbers are checked strictly and simply (:func:`normalise_phone`): the
international form, ``+`` then a country code and number, 8 to 15 digits in all
(E.164), spaces, dots, dashes and brackets between digits dropped. PeerHub does not
use a numbering-plan library; a number that passes the check but is not in service
fails at the provider, and the delivery record says so.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, Protocol

from peerhub.config import ConfigError

log = logging.getLogger("peerhub.notify")

_SEPARATORS = re.compile(r"[ .\-()]")
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")


#: The topic of the notice being sent (set by the channel's handler), for the log line.
sending_topic: ContextVar[str] = ContextVar("peerhub_sms_topic", default="")


class SmsProvider(Protocol):
    async def send(self, to: str, text: str) -> None: ...


def redact_number(number: str, key: str = "") -> str:
    """A stable, non-reversible label for a number, for logs: ``tel:3f9c1a2b7d04``."""
    mac = hmac.new(key.encode(), number.encode(), hashlib.sha256)
    return "tel:" + mac.hexdigest()[:12]


def normalise_phone(raw: str) -> str | None:
    """``raw`` as ``+`` and digits (E.164), or None when it is not such a number."""
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    return text if _E164.fullmatch(text) and text.isascii() else None


class LogSmsProvider:
    """Logs that a text would be sent: the redacted number and the topic, nothing else.

    ``sent`` keeps (number, text) pairs in memory for tests; it is never logged."""

    def __init__(self, key: str = "") -> None:
        self._key = key
        self.sent: list[tuple[str, str]] = []

    async def send(self, to: str, text: str) -> None:
        self.sent.append((to, text))
        log.info(
            "sms (not sent: log provider) to=%s topic=%s",
            redact_number(to, self._key),
            sending_topic.get() or "-",
        )


def load_sms_provider(env: Mapping[str, str] | None = None, *, log_key: str = "") -> SmsProvider:
    """The provider ``PEERHUB_SMS_PROVIDER`` names: ``log`` (the default) is the only
    one built in; a real gateway is set on ``app.state.sms`` by the deployment."""
    env = os.environ if env is None else env
    name = env.get("PEERHUB_SMS_PROVIDER", "log").strip().lower() or "log"
    if name != "log":
        raise ConfigError(
            "PEERHUB_SMS_PROVIDER: only 'log' is built in; set app.state.sms to a provider "
            "for your SMS gateway (docs/notifications.md)"
        )
    return LogSmsProvider(log_key)


def sms_of(state: Any, log_key: str = "") -> SmsProvider:
    """The application's SMS provider: ``state.sms`` if set, else one from the environment."""
    current: SmsProvider | None = getattr(state, "sms", None)
    if current is None:
        current = load_sms_provider(log_key=log_key)
        state.sms = current
    return current
