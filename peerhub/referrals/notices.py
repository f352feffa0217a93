"""The professional's "accepted" e-mail when a person joins before the group answers.

Until the person shares their progress, the professional must not be able to tell a
join from an acceptance (docs/referrals.md, "A hidden state looks exactly like
accepted"). A real acceptance e-mails them ("… has accepted your referral."); so does a
join that came first, with the very same letter, or the missing e-mail would give the
join away. Built after the commit, sent in the background like every other letter.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.background import BackgroundTasks
from starlette.requests import Request

from peerhub import i18n, mail
from peerhub.models import Group, Referral, User
from peerhub.security.tokens import keyed
from peerhub.web.render import ctx


async def acceptance_letters(request: Request, referral_ids: Sequence[str]) -> BackgroundTasks:
    """Tasks sending each referral's professional the letter of an acceptance (if they
    gave PeerHub an e-mail address). Empty when there is nothing to send."""
    tasks = BackgroundTasks()
    if not referral_ids:
        return tasks
    app = ctx(request)
    settings = app.settings
    letters: list[tuple[str, str, str]] = []
    async with app.sessions() as db:
        for referral_id in referral_ids:
            referral = await db.get(Referral, referral_id)
            if referral is None or referral.professional_id is None:
                continue
            professional = await db.get(User, referral.professional_id)
            group = await db.get(Group, referral.group_id)
            if professional is None or not professional.email or group is None:
                continue
            with i18n.using(professional.language):  # the professional's own language
                subject, body = mail.referral_answer_message(
                    greeting_name=professional.pseudonym,
                    group_name=group.name,
                    accepted=True,
                    reason="",
                    for_professional=True,
                    page_url=f"{settings.base_url}/referrals",
                )
            letters.append((professional.email, subject, body))
    if letters:
        log_key = keyed(settings.secret_key, "notify-log", "")
        sender = mail.sender_of(request.app.state, log_key)
        for to, subject, body in letters:
            tasks.add_task(mail.deliver, sender, to, subject, body, log_key=log_key)
    return tasks
