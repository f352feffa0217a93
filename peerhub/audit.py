"""The security audit trail. Holds who, what, when and from where — never secrets."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.models import AuditEvent

log = logging.getLogger("peerhub.audit")


def record(
    db: AsyncSession,
    now: datetime,
    action: str,
    *,
    actor_id: str | None = None,
    subject_id: str | None = None,
    client_ip: str | None = None,
    **detail: Any,
) -> None:
    db.add(
        AuditEvent(
            at=now,
            action=action,
            actor_id=actor_id,
            subject_id=subject_id,
            client_ip=client_ip,
            detail=detail,
        )
    )
    log.info("audit %s actor=%s subject=%s ip=%s", action, actor_id, subject_id, client_ip)
