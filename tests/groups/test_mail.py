"""The pluggable e-mail sender: what is logged, what goes over SMTP, and configuration."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Any, ClassVar

import pytest

from peerhub import mail
from peerhub.config import ConfigError


async def test_the_log_sender_logs_only_a_redacted_address_and_the_subject(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sender = mail.LogSender("key")
    with caplog.at_level(logging.INFO, logger="peerhub.mail"):
        await sender.send("Sam@Example.org", "PeerHub: hello", "a private body text")
    text = caplog.text
    assert "PeerHub: hello" in text
    assert mail.redact("sam@example.org", "key") in text
    assert "example.org" not in text.lower() and "sam@" not in text.lower()
    assert "private body" not in text


def test_redaction_is_stable_keyed_and_short() -> None:
    a = mail.redact("sam@example.org", "k1")
    assert a == mail.redact(" SAM@example.org ", "k1")
    assert a != mail.redact("sam@example.org", "k2")
    assert a.startswith("addr:") and len(a) == 17


class FakeSMTP:
    instances: ClassVar[list[FakeSMTP]] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.calls: list[str] = []
        self.messages: list[EmailMessage] = []
        FakeSMTP.instances.append(self)

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.calls.append("quit")

    def starttls(self, context: Any = None) -> None:
        assert context is not None
        self.calls.append("starttls")

    def login(self, user: str, password: str) -> None:
        self.calls.append(f"login {user}")

    def send_message(self, msg: EmailMessage) -> None:
        self.calls.append("send")
        self.messages.append(msg)


async def test_smtp_sender_uses_starttls_logs_in_and_sends_one_message() -> None:
    FakeSMTP.instances.clear()
    config = mail.SmtpConfig(
        "smtp.example.org", 587, "peerhub", "secret", "PeerHub <no-reply@example.org>"
    )
    sender = mail.SmtpSender(config, smtp_class=FakeSMTP)  # type: ignore[arg-type]
    await sender.send("sam@example.org", "PeerHub: a group has answered", "Hello Sam")
    (smtp,) = FakeSMTP.instances
    assert (smtp.host, smtp.port) == ("smtp.example.org", 587)
    assert smtp.calls == ["starttls", "login peerhub", "send", "quit"]
    (msg,) = smtp.messages
    assert msg["To"] == "sam@example.org"
    assert msg["From"] == "PeerHub <no-reply@example.org>"
    assert msg["Subject"] == "PeerHub: a group has answered"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content().strip() == "Hello Sam"


def test_a_subject_cannot_smuggle_headers() -> None:
    sender = mail.SmtpSender(mail.SmtpConfig("h", sender="a@example.org"))
    with pytest.raises(ValueError, match=r"linefeed|newline|carriage"):
        sender.message("sam@example.org", "hi\r\nBcc: everyone@example.org", "body")


def test_load_sender_from_the_environment() -> None:
    assert isinstance(mail.load_sender({}), mail.LogSender)
    smtp = mail.load_sender(
        {
            "PEERHUB_SMTP_HOST": "smtp.example.org",
            "PEERHUB_SMTP_PORT": "2525",
            "PEERHUB_SMTP_USER": "u",
            "PEERHUB_SMTP_PASSWORD": "p",
            "PEERHUB_SMTP_FROM": "no-reply@example.org",
        }
    )
    assert isinstance(smtp, mail.SmtpSender)
    assert (smtp.config.port, smtp.config.starttls, smtp.config.user) == (2525, True, "u")
    local = mail.load_sender(
        {
            "PEERHUB_SMTP_HOST": "localhost",
            "PEERHUB_SMTP_FROM": "no-reply@example.org",
            "PEERHUB_SMTP_STARTTLS": "false",
        }
    )
    assert isinstance(local, mail.SmtpSender) and local.config.starttls is False


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PEERHUB_SMTP_PORT": "lots"}, "PEERHUB_SMTP_PORT"),
        ({"PEERHUB_SMTP_FROM": ""}, "PEERHUB_SMTP_FROM"),
        ({"PEERHUB_SMTP_USER": "u", "PEERHUB_SMTP_PASSWORD": ""}, "PEERHUB_SMTP_PASSWORD"),
        ({"PEERHUB_SMTP_STARTTLS": "maybe"}, "PEERHUB_SMTP_STARTTLS"),
        (
            {"PEERHUB_SMTP_STARTTLS": "no", "PEERHUB_SMTP_USER": "u", "PEERHUB_SMTP_PASSWORD": "p"},
            "PEERHUB_SMTP_STARTTLS",
        ),
    ],
)
def test_bad_smtp_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    base = {"PEERHUB_SMTP_HOST": "smtp.example.org", "PEERHUB_SMTP_FROM": "a@example.org"}
    with pytest.raises(ConfigError, match=variable):
        mail.load_sender({**base, **env})


async def test_deliver_never_raises_and_logs_no_address(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        async def send(self, to: str, subject: str, body: str) -> None:
            raise smtplib.SMTPServerDisconnected(f"lost while sending to {to}")

    with caplog.at_level(logging.WARNING, logger="peerhub.mail"):
        ok = await mail.deliver(Broken(), "sam@example.org", "s", "b")
    assert ok is False
    assert "SMTPServerDisconnected" in caplog.text
    assert "sam@example.org" not in caplog.text


def test_sender_of_prefers_the_injected_sender_and_builds_one_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class State:
        pass

    injected = mail.LogSender()
    state = State()
    state.sender = injected  # type: ignore[attr-defined]
    assert mail.sender_of(state) is injected
    monkeypatch.delenv("PEERHUB_SMTP_HOST", raising=False)
    empty = State()
    built = mail.sender_of(empty)
    assert isinstance(built, mail.LogSender)
    assert mail.sender_of(empty) is built


def test_the_answer_message_is_kind_and_complete() -> None:
    subject, body = mail.join_answer_message(
        pseudonym="Sam",
        group_name="Tuesday Talk",
        accepted=False,
        message="We are full of people\nfrom one area.",
        account_url="https://peerhub.example/account",
        help_line="Samaritans, Call 116 123",
    )
    assert "Tuesday Talk" not in subject
    assert "Hello Sam" in body and "Tuesday Talk" in body
    assert "  We are full of people\n  from one area." in body
    assert "not a judgement" in body
    assert "https://peerhub.example/account" in body
    assert "Samaritans, Call 116 123" in body
    _, yes = mail.join_answer_message(
        pseudonym="Sam", group_name="G", accepted=True, message="", account_url="u"
    )
    assert "said yes" in yes and "Their message" not in yes and "judgement" not in yes
