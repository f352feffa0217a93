"""SQLAlchemy 2 declarative models.

Conventions:
- Public entities (people, organisations, groups) have UUID string ids, so ids in
  URLs and the HSDS API reveal nothing about counts or order.
- Every timestamp is timezone-aware UTC in Python (see :class:`UTCDateTime`).
- Lists that are searched (a group's languages, communities, stages, topics, access
  features) live in :class:`GroupTag` rows with an index on ``(kind, value)``, so the
  directory can filter in SQL on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class ProfessionalStatus(enum.StrEnum):
    NONE = "none"
    PENDING = "pending"
    VERIFIED = "verified"


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    pseudonym: Mapped[str] = mapped_column(String(40))
    # Case-folded pseudonym: "Sam" and "sam" are the same person to log in as.
    pseudonym_key: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    professional_status: Mapped[str] = mapped_column(
        String(16), default=ProfessionalStatus.NONE.value
    )
    professional_role: Mapped[str | None] = mapped_column(String(80), default=None)
    professional_organisation: Mapped[str | None] = mapped_column(String(120), default=None)
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)
    # The interface language chosen (a shipped BCP 47 tag; None: as the browser asks)
    # and Easy Read (peerhub/i18n.py, peerhub/web/language.py).
    language: Mapped[str | None] = mapped_column(String(35), default=None)
    easy_read: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint(
            "professional_status in ('none', 'pending', 'verified')", name="professional_status"
        ),
    )

    @property
    def is_professional(self) -> bool:
        return self.professional_status == ProfessionalStatus.VERIFIED.value


class SignIn(Base):
    """A person's sign-in, held on the server (peerhub/security/signins.py). Only a
    SHA-256 of the cookie token is stored."""

    __tablename__ = "sign_ins"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship(lazy="raise")


class LoginThrottle(Base):
    """Decaying failure counters (peerhub/security/throttle.py): per account, per
    account and address, per known device, per address, per two-step sign-in."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    # Failures, decayed to ``updated_at`` (they halve every half-life of the key's rules).
    score: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(default=None)


class AuditEvent(Base):
    """Security events (logins, lock-outs, role changes). Never holds secrets or bodies."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(36), default=None)
    action: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[str | None] = mapped_column(String(36), default=None)
    client_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str | None] = mapped_column(String(300), default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    phone: Mapped[str | None] = mapped_column(String(40), default=None)
    lived_experience_led: Mapped[bool] = mapped_column(Boolean, default=False)
    # The language the name and description are written in (a canonical BCP 47 tag,
    # peerhub/languages.py) and the organiser's own name for it as they typed it
    # ("" when they chose it from a list). Versions in other languages:
    # OrganisationText (peerhub/groups/texts.py).
    text_language: Mapped[str] = mapped_column(String(35), default="en", server_default="en")
    text_language_label: Mapped[str] = mapped_column(String(64), default="", server_default="")
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # Its groups, less the hidden groups of private check-ins (peerhub/checkins/).
    groups: Mapped[list[Group]] = relationship(
        back_populates="organisation",
        lazy="raise",
        primaryjoin="and_(Organisation.id == Group.organisation_id, Group.kind == 'group')",
    )
    texts: Mapped[list[OrganisationText]] = relationship(
        cascade="all, delete-orphan", lazy="raise", order_by="OrganisationText.language"
    )


class OrganisationText(Base):
    """An organisation's name and description in another language than its own text's.

    An empty field means "not given in this language": the own text is shown instead."""

    __tablename__ = "organisation_texts"

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    # A canonical BCP 47 tag; the organiser's own name for the language as typed.
    language: Mapped[str] = mapped_column(String(35), primary_key=True)
    language_label: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(160), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrganisationOrganiser(Base):
    __tablename__ = "organisation_organisers"

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class SafeguardingLead(Base):
    """A safeguarding lead of an organisation: the last step of a crisis alert's ladder,
    the reader of its safeguarding log and the reviewer of serious incidents
    (peerhub/duty/). Given only by accepting an invitation (peerhub/groups/models.py)."""

    __tablename__ = "safeguarding_leads"

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Group(Base):
    """A user-led peer support group; it has meetings (its schedule) and a room."""

    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(12))  # online | in_person | hybrid
    address: Mapped[str | None] = mapped_column(String(300), default=None)
    postcode: Mapped[str | None] = mapped_column(String(10), default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    age_min: Mapped[int | None] = mapped_column(Integer, default=None)
    age_max: Mapped[int | None] = mapped_column(Integer, default=None)
    capacity: Mapped[int | None] = mapped_column(Integer, default=None)
    join_policy: Mapped[str] = mapped_column(String(12), default="open")  # open | request
    status: Mapped[str] = mapped_column(String(12), default="active")  # active|paused|closed
    # group: a peer support group. check_in: the hidden two-person room of a private
    # check-in (peerhub/checkins/): never listed, searched, matched or published.
    kind: Mapped[str] = mapped_column(String(12), default="group", server_default="group")
    ground_rules: Mapped[str] = mapped_column(Text, default="")
    # What to know before joining (how the first meeting goes, what to bring).
    joining: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The language of the group's own name, description, ground rules and joining
    # text, and the organiser's name for it as typed (see Organisation).
    text_language: Mapped[str] = mapped_column(String(35), default="en", server_default="en")
    text_language_label: Mapped[str] = mapped_column(String(64), default="", server_default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    # RFC 5545: the first meeting's local start ("YYYY-MM-DDTHH:MM:SS", in time_zone),
    # the RRULE, and cancelled occurrences (local start times, same format).
    dtstart_local: Mapped[str] = mapped_column(String(19))
    rrule: Mapped[str] = mapped_column(String(300))
    exdates: Mapped[list[str]] = mapped_column(JSON, default=list)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=90)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)

    organisation: Mapped[Organisation] = relationship(back_populates="groups", lazy="raise")
    tags: Mapped[list[GroupTag]] = relationship(
        cascade="all, delete-orphan", lazy="raise", order_by="GroupTag.position"
    )
    texts: Mapped[list[GroupText]] = relationship(
        cascade="all, delete-orphan", lazy="raise", order_by="GroupText.language"
    )

    __table_args__ = (
        CheckConstraint("format in ('online', 'in_person', 'hybrid')", name="format"),
        CheckConstraint("join_policy in ('open', 'request')", name="join_policy"),
        CheckConstraint("status in ('active', 'paused', 'closed')", name="status"),
        CheckConstraint("kind in ('group', 'check_in')", name="kind"),
        CheckConstraint("capacity is null or capacity >= 0", name="capacity"),
        CheckConstraint("duration_minutes > 0", name="duration"),
    )

    def tag_values(self, kind: str) -> list[str]:
        return [t.value for t in self.tags if t.kind == kind]


class GroupText(Base):
    """A group's name, description, ground rules and joining text in another language.

    One row per group and language (the primary key). An empty field means "not given
    in this language": pages show the group's own text there, saying its language
    (peerhub/groups/texts.py). Consent to ground rules is to the group's own text; a
    version is a translation of it."""

    __tablename__ = "group_texts"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(35), primary_key=True)
    language_label: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(160), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    ground_rules: Mapped[str] = mapped_column(Text, default="")
    joining: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TagKind(enum.StrEnum):
    LANGUAGE = "language"
    INTERPRETATION = "interpretation"
    COMMUNITY = "community"
    STAGE = "stage"
    TOPIC = "topic"
    ACCESS = "access"


class GroupTag(Base):
    __tablename__ = "group_tags"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Order matters for languages (the first is the main one).
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Languages only: the organiser's own name for the language as they typed it
    # ("Panjabi (Gurmukhi)", "Cymraeg"); "" when it was given as a code or from a list.
    label: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Communities only: the group is for this community *only* (True), or focuses on
    # it and is open to anyone (False). See peerhub/matching/eligibility.py.
    only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (Index("ix_group_tags_kind_value", "kind", "value", "group_id"),)


class GroupRole(enum.IntEnum):
    """Rank within a group. Nobody may act on someone of equal or higher rank."""

    NONE = 0
    MEMBER = 10
    MODERATOR = 20
    ORGANISER = 30


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(12), default="member")  # member | moderator
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | requested
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("role in ('member', 'moderator')", name="role"),
        CheckConstraint("status in ('active', 'requested')", name="status"),
    )


class Block(Base):
    """A person has blocked another. Matching never puts them in a group together."""

    __tablename__ = "blocks"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WaitlistEntry(Base):
    """A place on a full group's waiting list; offers are made by the allocator."""

    __tablename__ = "waitlist_entries"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # How well the group fitted the person when they joined the list (matching score).
    fit: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(12), default="waiting")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    offered_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        CheckConstraint(
            "status in ('waiting', 'offered', 'accepted', 'declined', 'expired')", name="status"
        ),
    )


class DemandRecord(Base):
    """An anonymous record of needs that found no good fit. No account; of the person's
    own words only the folded words that named no community (``other``, space
    separated: peerhub/matching/words.py), shown only when enough people used them."""

    __tablename__ = "demand_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(12), default="no_fit")  # no_fit | interest
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    communities: Mapped[list[str]] = mapped_column(JSON, default=list)
    stage: Mapped[str | None] = mapped_column(String(24), default=None)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    format: Mapped[str] = mapped_column(String(12), default="either")
    area: Mapped[str] = mapped_column(String(12), default="unknown")
    other: Mapped[str] = mapped_column(String(300), default="", server_default="")


class SavedNeeds(Base):
    """What a signed-in person is looking for, saved so they need not say it again."""

    __tablename__ = "saved_needs"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    needs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notify_new_groups: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JoinAnswer(Base):
    """A moderator's answer to a request to join, with the message the person sees."""

    __tablename__ = "join_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    answered_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    accepted: Mapped[bool] = mapped_column(Boolean)
    message: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_join_answers_user_at", "user_id", "answered_at"),)


class Referral(Base):
    """A professional's consented request that a person be offered a place in a group.

    The code that lets the person claim it is shown once; only its SHA-256 is kept.
    """

    __tablename__ = "referrals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    professional_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    person_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True, default=None
    )
    person_name: Mapped[str] = mapped_column(String(60))
    contact_method: Mapped[str] = mapped_column(String(12))  # email | phone | code
    contact_value: Mapped[str | None] = mapped_column(String(254), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    consent_confirmed_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(12), default="sent")
    outcome: Mapped[str | None] = mapped_column(Text, default=None)
    # The person's choice: may the referring professional see whether they joined,
    # and any outcome? Nobody else can set it; it starts False.
    share_progress: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint(
            "state in ('sent', 'accepted', 'declined', 'redirected', 'joined', 'closed', "
            "'withdrawn')",
            name="state",
        ),
        CheckConstraint("contact_method in ('email', 'phone', 'code')", name="contact_method"),
    )


class ReferralEvent(Base):
    """Each change of a referral's state, with when, who and why."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[str | None] = mapped_column(String(36), default=None)
    group_id: Mapped[str | None] = mapped_column(String(36), default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)


class Consent(Base):
    """A consent a person gave or withdrew: what, about what, which version, when."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # e.g. referral.share_progress
    subject_id: Mapped[str | None] = mapped_column(String(36), default=None)
    granted: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[str] = mapped_column(String(20), default="1")
    at: Mapped[datetime] = mapped_column(default=utcnow)
