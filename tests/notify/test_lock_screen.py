"""The lock-screen rule (H25): what leaves PeerHub for a notice — a push notification,
an SMS, an e-mail's subject — holds only the topic's generic words and the link, in
every language, for every topic the code declares."""

from __future__ import annotations

import json

import pytest

import peerhub.app  # noqa: F401 - imports every module, so every topic is declared
from peerhub import i18n, notify
from peerhub.notify import channels
from tests.notify.helpers import ALERT

LINK = "https://peerhub.example/duty/alerts/0b7c"
TAGS = [lang.tag for lang in i18n.languages()]


def _topics() -> list[notify.Topic]:
    return [ALERT, *notify.TOPICS.values(), channels.UNKNOWN]


@pytest.mark.parametrize("tag", TAGS)
def test_push_sms_and_subject_hold_only_the_topic_words_and_the_link(tag: str) -> None:
    for topic in _topics():
        with i18n.using(tag):
            subject, text = str(topic.subject), str(topic.text)
        push = json.loads(channels.push_payload(topic, LINK, tag))
        assert push == {"title": subject, "body": text, "url": LINK}
        assert channels.sms_text(topic, LINK, tag) == f"{text} {LINK}"
        mail_subject, _body = channels.email_message(topic, LINK, LINK, tag)
        assert mail_subject == subject


def test_a_topics_words_have_no_placeholders() -> None:
    # A placeholder would be the way a name or a member's words got in.
    for topic in _topics():
        for words in (topic.subject, topic.text):
            assert "%(" not in words._args[0], topic.name
            assert not words._kwargs, topic.name
