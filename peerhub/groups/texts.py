"""A group's or an organisation's own text in several languages, and which one a page shows.

An organisation writes its name and description, a group its name, description,
ground rules and joining text, in one language: ``text_language`` (a canonical BCP 47
tag, "en" unless the organisers say otherwise). They may add versions in other
languages (:class:`~peerhub.models.GroupText`, :class:`~peerhub.models.OrganisationText`),
each field optional. A page shows, field by field:

1. the version in the page's language, if there is one and that field is filled in;
   a version "in the page's language" is one whose tag is the page's, or as close as
   CLDR's language-matching data counts the same language (distance up to
   :data:`peerhub.languages.SAME_DISTANCE`: "pa-Guru" and "pa", "en" and "en-GB";
   not Welsh and English, which CLDR puts 24 apart because Welsh speakers can
   follow English);
2. otherwise the own text, and when that is not in the page's language a line saying
   which language it is in, named in the page's language (CLDR through langcodes).

:func:`text_for` makes that choice; it is pure. The actions below add, change and
remove versions (only the organisers of the organisation; the caller commits), and
set the language of the own text. Organisers' own names for languages, as they
typed them, are kept beside the tags (``language_label``, ``text_language_label``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Final, Literal, TypeVar

import langcodes
from babel import Locale, UnknownLocaleError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from peerhub import audit, i18n, languages
from peerhub.errors import FieldError, NotFound
from peerhub.groups.actions import group_for, organisation_for_organiser
from peerhub.groups.languages import check_language_tag
from peerhub.groups.validation import FormErrors
from peerhub.i18n import _, ngettext
from peerhub.models import Group, GroupRole, GroupText, Organisation, OrganisationText, User

Field = Literal["name", "description", "ground_rules", "joining"]
GROUP_FIELDS: Final[tuple[Field, ...]] = ("name", "description", "ground_rules", "joining")
ORGANISATION_FIELDS: Final[tuple[Field, ...]] = ("name", "description")
#: At most this many versions per group or organisation (besides the own text).
MAX_VERSIONS: Final = 20
LABEL_LIMIT: Final = 64
NAME_LIMIT: Final = 160  # as the own name (peerhub/groups/validation.py)
TEXT_LIMIT: Final = 4000


# -- choosing --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Piece:
    """One field as a page shows it: the text, its language, and whether that is the
    page's language (if not, the page says which language it is in)."""

    text: str
    language: str  # BCP 47 tag of the text
    foreign: bool  # not the page's language
    language_name: str  # the text's language, named in the page's language

    @property
    def lang_tag(self) -> str | None:
        """The tag for ``lang_attrs``: only for text not in the page's language."""
        return self.language if self.foreign else None

    def paragraphs(self) -> list[str]:
        blocks = [b.strip() for b in self.text.replace("\r\n", "\n").split("\n\n")]
        return [b for b in blocks if b]

    def __bool__(self) -> bool:
        return bool(self.text.strip())

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Shown:
    """What a page shows of a group or organisation; ``version`` is the tag of the
    version used (None: the own text throughout)."""

    name: Piece
    description: Piece
    ground_rules: Piece
    joining: Piece
    version: str | None


def _canonical(tag: str) -> str:
    return languages.canonical_tag(tag) or tag


@lru_cache(maxsize=4096)
def distance(page_lang: str, text_lang: str) -> int:
    """CLDR's distance from a reader of ``page_lang`` to text in ``text_lang``."""
    page, text = _canonical(page_lang), _canonical(text_lang)
    if page.casefold() == text.casefold():
        return 0
    try:
        return int(langcodes.tag_distance(page, text))
    except (ValueError, LookupError):
        return 1000


def same_language(page_lang: str, text_lang: str) -> bool:
    return distance(page_lang, text_lang) <= languages.SAME_DISTANCE


@lru_cache(maxsize=4096)
def language_name(tag: str, page_lang: str) -> str:
    """``tag``'s language named in ``page_lang`` (CLDR through langcodes): "Urdu" on an
    English page, "Wrdw" on a Welsh one, "الأردية" on an Arabic one."""
    canon = _canonical(tag)
    try:
        lang = langcodes.Language.get(canon)
        name = str(lang.display_name(_canonical(page_lang)))
    except (ValueError, LookupError):
        return languages.english_name(canon)
    if not name or name.startswith("Unknown language"):
        return languages.english_name(canon)
    return name


def choose_version(
    page_lang: str, own_language: str, version_languages: Sequence[str]
) -> str | None:
    """The language of the version to show on a page in ``page_lang``, or None for the
    own text: an exact tag first, then the closest within the same language (the own
    text wins a tie)."""
    page = _canonical(page_lang)
    if _canonical(own_language) == page:
        return None
    for tag in version_languages:
        if _canonical(tag) == page:
            return tag
    best: tuple[int, int, str | None] = (distance(page, own_language), 0, None)
    for index, tag in enumerate(version_languages, start=1):
        candidate = (distance(page, tag), index, tag)
        if candidate < best:
            best = candidate
    if best[2] is None or best[0] > languages.SAME_DISTANCE:
        return None
    return best[2]


def text_for(
    owner: Group | Organisation,
    versions: Sequence[GroupText | OrganisationText],
    page_lang: str,
) -> Shown:
    """The text a page in ``page_lang`` shows of ``owner``, field by field (see above)."""
    own_language = owner.text_language or "en"
    chosen_tag = choose_version(page_lang, own_language, [v.language for v in versions])
    chosen = next((v for v in versions if v.language == chosen_tag), None)
    own_foreign = not same_language(page_lang, own_language)

    def piece(field: Field) -> Piece:
        translated = getattr(chosen, field, "") if chosen is not None else ""
        if translated and translated.strip() and chosen is not None:
            return Piece(
                translated, chosen.language, False, language_name(chosen.language, page_lang)
            )
        own = getattr(owner, field, "") or ""
        return Piece(own, own_language, own_foreign, language_name(own_language, page_lang))

    return Shown(
        name=piece("name"),
        description=piece("description"),
        ground_rules=piece("ground_rules"),
        joining=piece("joining"),
        version=chosen.language if chosen is not None else None,
    )


def shown_text(owner: Group | Organisation, page_lang: str | None = None) -> Shown:
    """What a page in ``page_lang`` (the request's language by default) shows of a group
    or organisation: its versions are used when they were loaded with it."""
    page = page_lang or i18n.current().tag
    # A loaded relationship sits in the instance's __dict__ (lazy="raise" otherwise).
    loaded = "texts" in vars(owner)
    return text_for(owner, owner.texts if loaded else (), page)


def direction(tag: str) -> str:
    """ "rtl" or "ltr" for text in a language (CLDR through Babel)."""
    try:
        return str(Locale.parse(_canonical(tag).replace("-", "_")).text_direction)
    except (ValueError, TypeError, UnknownLocaleError):
        return "ltr"


def rules_frame(
    own_rules: str, own_language: str, versions: Mapping[str, str], page_lang: str
) -> dict[str, str | None]:
    """The room's ground rules as a person reading in ``page_lang`` is shown them (the
    ``shown`` of the room's ``subscribed`` frame): the version in their language where
    there is one, else the own text with a note of its language, worded in ``page_lang``
    (the caller makes it the active language). Accepting is always of the own text."""
    given = [tag for tag, text in versions.items() if text.strip()]
    chosen = choose_version(page_lang, own_language, given)
    if chosen is not None:
        return {"text": versions[chosen], "lang": None, "dir": None, "note": None}
    if same_language(page_lang, own_language):
        return {"text": own_rules, "lang": None, "dir": None, "note": None}
    return {
        "text": own_rules,
        "lang": own_language,
        "dir": direction(own_language),
        "note": _("This text is in %(language)s.", language=language_name(own_language, page_lang)),
    }


async def shown_names(
    db: AsyncSession, group_ids: Sequence[str], page_lang: str | None = None
) -> dict[str, Piece]:
    """The names pages show for these groups (results of /find, built from the matcher's
    cached profiles, which hold the own text only)."""
    if not group_ids:
        return {}
    rows = await db.scalars(
        select(Group).where(Group.id.in_(list(group_ids))).options(selectinload(Group.texts))
    )
    return {g.id: shown_text(g, page_lang).name for g in rows}


def own_text(owner: Group | Organisation, page_lang: str) -> Shown:
    """:func:`text_for` with no versions (where versions are not loaded)."""
    return text_for(owner, (), page_lang)


# -- checking what organisers typed --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LanguageGiven:
    tag: str  # canonical BCP 47
    label: str  # what the organiser typed, "" when it was the tag itself


def parse_language(raw: str, field: str) -> LanguageGiven:
    """A language typed by name or code: its canonical tag and the organiser's wording."""
    typed = " ".join((raw or "").split())
    if len(typed) > LABEL_LIMIT:
        raise FieldError(
            field, _("A language name can be at most %(limit)s characters.", limit=LABEL_LIMIT)
        )
    if not typed:
        raise FieldError(field, _("Give the language, such as Welsh or Cymraeg."))
    tag = check_language_tag(typed, field)
    if languages.is_sign_language(tag):
        raise FieldError(
            field,
            _(
                "Written text cannot be in a sign language. Give the written language, "
                "and link to a signed video in the description."
            ),
        )
    keep = "" if typed.casefold() == tag.casefold() else typed
    return LanguageGiven(tag, keep)


@dataclass(frozen=True, slots=True)
class VersionInput:
    language: LanguageGiven
    name: str
    description: str
    ground_rules: str
    joining: str


def _one_line(values: Mapping[str, str], name: str) -> str:
    value = " ".join(unicodedata.normalize("NFC", values.get(name) or "").split())
    if len(value) > NAME_LIMIT:
        raise FieldError(name, _("The name can be at most %(limit)s characters.", limit=NAME_LIMIT))
    return value


def _text(values: Mapping[str, str], name: str) -> str:
    raw = unicodedata.normalize("NFC", values.get(name) or "").replace("\r\n", "\n")
    value = "\n".join(part.rstrip() for part in raw.strip().split("\n"))
    if len(value) > TEXT_LIMIT:
        messages = {
            "description": _("The description can be at most %(limit)s characters."),
            "ground_rules": _("The ground rules can be at most %(limit)s characters."),
            "joining": _("What to know before joining can be at most %(limit)s characters."),
        }
        raise FieldError(name, messages[name] % {"limit": TEXT_LIMIT})
    return value


def parse_version(values: Mapping[str, str], *, group: bool = True) -> VersionInput:
    """A version from a form: ``language``, ``name``, ``description`` and, for a group,
    ``ground_rules`` and ``joining``; the same limits as the own text. At least one
    field must be given. Raises :class:`FormErrors` naming every wrong field."""
    errors: dict[str, str] = {}
    language: LanguageGiven | None = None
    try:
        language = parse_language(values.get("language", ""), "language")
    except FieldError as exc:
        errors["language"] = exc.message
    found: dict[str, str] = {}
    for key in GROUP_FIELDS if group else ORGANISATION_FIELDS:
        try:
            found[key] = _one_line(values, key) if key == "name" else _text(values, key)
        except FieldError as exc:
            errors[key] = exc.message
    if not errors and not any(found.values()):
        errors["name"] = _("Give at least the name or the description in this language.")
    if errors or language is None:
        raise FormErrors(errors)
    return VersionInput(
        language=language,
        name=found.get("name", ""),
        description=found.get("description", ""),
        ground_rules=found.get("ground_rules", ""),
        joining=found.get("joining", ""),
    )


# -- actions (the caller commits) ------------------------------------------------------------


async def _group(db: AsyncSession, actor: User, group_id: str) -> Group:
    # Only organisers: NotFound for outsiders, Forbidden for members and moderators.
    group, _rank = await group_for(db, actor, group_id, GroupRole.ORGANISER)
    return group


async def _organisation(db: AsyncSession, actor: User, organisation_id: str) -> Organisation:
    return await organisation_for_organiser(db, actor, organisation_id)


async def group_versions(db: AsyncSession, group_id: str) -> list[GroupText]:
    rows = await db.scalars(
        select(GroupText).where(GroupText.group_id == group_id).order_by(GroupText.language)
    )
    return list(rows)


async def organisation_versions(db: AsyncSession, organisation_id: str) -> list[OrganisationText]:
    rows = await db.scalars(
        select(OrganisationText)
        .where(OrganisationText.organisation_id == organisation_id)
        .order_by(OrganisationText.language)
    )
    return list(rows)


def _not_own(owner: Group | Organisation, tag: str) -> None:
    if _canonical(owner.text_language) == tag:
        raise FieldError(
            "language",
            _(
                "The own text is already in %(language)s. Change the own text instead, "
                "or give another language.",
                language=language_name(tag, _page()),
            ),
        )


def _page() -> str:
    return i18n.current().tag


Kind = Literal["group", "organisation"]
_Version = TypeVar("_Version", GroupText, OrganisationText)


def _too_many(kind: Kind) -> str:
    if kind == "group":
        return ngettext(
            "A group can have at most %(num)s version.",
            "A group can have at most %(num)s versions.",
            MAX_VERSIONS,
        )
    return ngettext(
        "An organisation can have at most %(num)s version.",
        "An organisation can have at most %(num)s versions.",
        MAX_VERSIONS,
    )


async def _save_version(
    db: AsyncSession,
    actor: User,
    kind: Kind,
    owner: Group | Organisation,
    existing: Sequence[_Version],
    new_row: Callable[[str], _Version],
    data: VersionInput,
    now: datetime,
    replacing: str | None,
) -> _Version:
    """Add a version of ``owner``'s text in a language, or change one (``replacing``: its
    language now, which may differ from ``data.language`` when the organiser corrects
    it). ``existing`` are the owner's versions; ``new_row`` makes one in a language."""
    tag = data.language.tag
    _not_own(owner, tag)
    by_language = {v.language: v for v in existing}
    row = by_language.get(replacing) if replacing else None
    if replacing and row is None:
        raise NotFound(replacing)
    if tag in by_language and by_language[tag] is not row:
        raise FieldError(
            "language",
            _(
                "There is already a version in %(language)s. Change that one instead.",
                language=language_name(tag, _page()),
            ),
        )
    if row is None:
        if len(by_language) >= MAX_VERSIONS:
            raise FieldError("language", _too_many(kind))
        row = new_row(tag)
        db.add(row)
    elif row.language != tag:
        # The language is in the primary key: a corrected language is a new row.
        await db.delete(row)
        await db.flush()
        row = new_row(tag)
        db.add(row)
    row.language_label = data.language.label
    row.name = data.name
    row.description = data.description
    if isinstance(row, GroupText):
        row.ground_rules = data.ground_rules
        row.joining = data.joining
    row.updated_at = now
    owner.updated_at = now
    await db.flush()
    audit.record(
        db, now, f"{kind}.text_saved", actor_id=actor.id, subject_id=owner.id, language=tag
    )
    return row


async def _remove_version(
    db: AsyncSession,
    actor: User,
    kind: Kind,
    owner: Group | Organisation,
    row: GroupText | OrganisationText | None,
    language: str,
    now: datetime,
) -> None:
    if row is None:
        raise NotFound(language)
    await db.delete(row)
    owner.updated_at = now
    audit.record(
        db,
        now,
        f"{kind}.text_removed",
        actor_id=actor.id,
        subject_id=owner.id,
        language=language,
    )


async def _set_language(
    db: AsyncSession,
    actor: User,
    kind: Kind,
    owner: Group | Organisation,
    version_in: Callable[[str], Awaitable[GroupText | OrganisationText | None]],
    raw: str,
    now: datetime,
) -> None:
    """Set the language ``owner``'s own text is written in; ``version_in`` finds the
    owner's version in a language, which must not be that one."""
    given = parse_language(raw, "text_language")
    if await version_in(given.tag) is not None:
        raise FieldError(
            "text_language",
            _(
                "There is a version in %(language)s. Remove it first, or choose another language.",
                language=language_name(given.tag, _page()),
            ),
        )
    owner.text_language = given.tag
    owner.text_language_label = given.label
    owner.updated_at = now
    audit.record(
        db,
        now,
        f"{kind}.text_language_set",
        actor_id=actor.id,
        subject_id=owner.id,
        language=given.tag,
    )


async def save_group_version(
    db: AsyncSession,
    actor: User,
    group_id: str,
    data: VersionInput,
    now: datetime,
    *,
    replacing: str | None = None,
) -> GroupText:
    """Add a version in a language, or change one (``replacing``: its language now,
    which may differ from ``data.language`` when the organiser corrects it)."""
    group = await _group(db, actor, group_id)
    return await _save_version(
        db,
        actor,
        "group",
        group,
        await group_versions(db, group_id),
        lambda tag: GroupText(group_id=group_id, language=tag),
        data,
        now,
        replacing,
    )


async def remove_group_version(
    db: AsyncSession, actor: User, group_id: str, language: str, now: datetime
) -> None:
    group = await _group(db, actor, group_id)
    row = await db.get(GroupText, (group_id, language))
    await _remove_version(db, actor, "group", group, row, language, now)


async def set_group_language(
    db: AsyncSession, actor: User, group_id: str, raw: str, now: datetime
) -> Group:
    """The language the group's own text is written in."""
    group = await _group(db, actor, group_id)

    async def version_in(tag: str) -> GroupText | None:
        return await db.get(GroupText, (group_id, tag))

    await _set_language(db, actor, "group", group, version_in, raw, now)
    return group


async def save_organisation_version(
    db: AsyncSession,
    actor: User,
    organisation_id: str,
    data: VersionInput,
    now: datetime,
    *,
    replacing: str | None = None,
) -> OrganisationText:
    org = await _organisation(db, actor, organisation_id)
    return await _save_version(
        db,
        actor,
        "organisation",
        org,
        await organisation_versions(db, organisation_id),
        lambda tag: OrganisationText(organisation_id=organisation_id, language=tag),
        data,
        now,
        replacing,
    )


async def remove_organisation_version(
    db: AsyncSession, actor: User, organisation_id: str, language: str, now: datetime
) -> None:
    org = await _organisation(db, actor, organisation_id)
    row = await db.get(OrganisationText, (organisation_id, language))
    await _remove_version(db, actor, "organisation", org, row, language, now)


async def set_organisation_language(
    db: AsyncSession, actor: User, organisation_id: str, raw: str, now: datetime
) -> Organisation:
    org = await _organisation(db, actor, organisation_id)

    async def version_in(tag: str) -> OrganisationText | None:
        return await db.get(OrganisationText, (organisation_id, tag))

    await _set_language(db, actor, "organisation", org, version_in, raw, now)
    return org


def form_prefix(tag: str | None) -> str:
    """The prefix of a version form's field names and ids: "new-", or "v-cy-" for the
    form changing the Welsh version (peerhub/groups/text_routes.py)."""
    return "new-" if not tag else f"v-{tag}-"


def language_words(tag: str, label: str) -> str:
    """How the organiser's pages name a language: the organiser's own wording, with the
    page language's name when that differs ("Cymraeg (Welsh)")."""
    name = language_name(tag, _page())
    if label and label.casefold() != name.casefold():
        return f"{label} ({name})"
    return name
