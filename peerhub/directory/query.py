"""The directory's query layer: which public groups match a search, in a stable order.

One :class:`Search` describes what was asked (by the web pages, the iCalendar feeds
and the HSDS API alike); :func:`find` answers with one page of group ids and the
total, and :func:`load` fetches those groups with their tags and organisation.

Semantics, the same on SQLite and PostgreSQL:

- Only groups of *verified* organisations are public. ``statuses`` says which group
  statuses count (the web pages list active groups; the HSDS API publishes paused
  and closed ones too, with their status, so that copies elsewhere learn of it).
- Within one kind of filter, any value matches (Urdu *or* Punjabi); across kinds,
  all must match (Urdu *and* women *and* Tuesdays).
- A language matches a group that meets in it or offers interpretation into it,
  with BCP 47 prefix matching both ways (``pa`` finds ``pa-Guru`` and vice versa).
- Format: "online" includes hybrid groups, and so does "in person".
- Day of the week: from the RRULE's BYDAY when it has one, every day for a DAILY
  rule, otherwise the weekday of the first meeting (``dtstart_local``).
- Text: every word (its runs of letters and digits) must begin a word of the name or
  the description, case-insensitively: "anx" finds "anxiety", "xiety" finds nothing.
  PostgreSQL matches a tsvector (GIN-indexable, see docs/directory.md), SQLite a
  regular expression with the same meaning.
- Distance: a bounding box in SQL, then the exact great-circle distance in Python,
  on groups that have a venue (online-only groups have no place to be near).
- Order: by name in byte order (the same on both databases whatever the locale;
  capitals before small letters), by distance first when a place is given, or by
  id (for the API: stable, and served by the primary key index).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import (
    Date,
    Select,
    and_,
    cast,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, contains_eager, selectinload
from sqlalchemy.sql.elements import ColumnElement

from peerhub import geo
from peerhub.matching.distances import distance_km
from peerhub.models import Group, GroupMember, GroupTag, Organisation, TagKind

DAY_CODES: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
FORMATS: Final = ("online", "in_person", "hybrid")
STATUSES: Final = ("active", "paused", "closed")
MAX_WORDS: Final = 8
MAX_RADIUS_KM: Final = 200.0

Order = Literal["name", "id"]

# What each asked-for format admits: a hybrid group can be attended either way.
_FORMAT_MATCHES: Final[dict[str, tuple[str, ...]]] = {
    "online": ("online", "hybrid"),
    "in_person": ("in_person", "hybrid"),
    "hybrid": ("hybrid",),
}


@dataclass(frozen=True, slots=True)
class Near:
    """Within ``radius_km`` of a point (a postcode's centre)."""

    latitude: float
    longitude: float
    radius_km: float


@dataclass(frozen=True, slots=True)
class Search:
    words: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()  # normalised BCP 47 tags
    communities: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    access: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    days: tuple[int, ...] = ()  # 0 = Monday
    organisation_ids: tuple[str, ...] = ()
    modified_after: datetime | None = None
    near: Near | None = None
    peer_led: bool = False
    # Tag kinds of which a group must have at least one tag (HSDS taxonomy_id).
    any_of_kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ("active",)


@dataclass(frozen=True, slots=True)
class Found:
    """One page of matching group ids, in order, and how many match in all."""

    ids: list[str]
    total: int
    distances_km: dict[str, float] = field(default_factory=dict)
    at_least: bool = False  # the count stopped at ``count_limit``: there may be more


def escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def language_values(tag: str) -> tuple[list[str], str]:
    """Stored tags equal to ``tag`` or one of its prefixes, and a LIKE for longer ones."""
    parts = tag.split("-")
    exact = ["-".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return exact, escape_like(tag) + "-%"


def _tag_exists(kinds: Sequence[str], values: Sequence[str]) -> ColumnElement[bool]:
    return (
        select(GroupTag.group_id)
        .where(GroupTag.group_id == Group.id, GroupTag.kind.in_(kinds), GroupTag.value.in_(values))
        .exists()
    )


def _next_prefix(prefix: str) -> str | None:
    """The smallest string above every string that starts with ``prefix`` (a-z only)."""
    stripped = prefix.rstrip("z")
    if not stripped:
        return None
    return stripped[:-1] + chr(ord(stripped[-1]) + 1)


def _language_condition(tags: Sequence[str]) -> ColumnElement[bool]:
    kinds = (TagKind.LANGUAGE.value, TagKind.INTERPRETATION.value)
    options: list[ColumnElement[bool]] = []
    exact: list[str] = []
    for tag in tags:
        tag_exact, longer = language_values(tag)
        exact += tag_exact
        # A longer tag ("pa-Guru" for "pa") starts with the primary subtag (lower-case
        # ASCII letters), so it lies in [primary, next prefix) under any collation: an
        # index range, where the LIKE alone would read every language tag. Kept apart
        # from the equality, which the planner can then estimate from its statistics.
        primary = tag.split("-")[0]
        prefixed = [GroupTag.value >= primary, GroupTag.value.like(longer, escape="\\")]
        upper = _next_prefix(primary)
        if upper is not None and primary.isascii() and primary.isalpha():
            prefixed.append(GroupTag.value < upper)
        options.append(and_(*prefixed))
    options.insert(0, GroupTag.value.in_(sorted(set(exact))))
    return (
        select(GroupTag.group_id)
        .where(GroupTag.group_id == Group.id, GroupTag.kind.in_(kinds), or_(*options))
        .exists()
    )


def day_condition(days: Sequence[int], dialect: str) -> ColumnElement[bool]:
    """Groups meeting on any of ``days`` (0 = Monday), from BYDAY or the first meeting.

    The rule text is read once per *distinct* RRULE (a few dozen strings however many
    groups there are) and each group is then a hash lookup. A regular expression on
    every group instead costs PostgreSQL ~80 ms per 50,000 groups, and the planner,
    which cannot estimate it, takes it for very selective and scans for it first.
    """
    codes = "|".join(DAY_CODES[d] for d in sorted(set(days)))
    other = aliased(Group)
    rules = select(other.rrule.label("rule")).distinct().cte("directory_rules")
    rule = func.upper(rules.c.rule).concat(";")
    has_byday = rule.like("%BYDAY=%")
    # A BYDAY item is a day code after "BYDAY=", a comma or an ordinal ("-1FR"), and
    # before a comma or the end of the part. WKST=TU is deliberately not matched.
    in_byday = rule.regexp_match(f"(BYDAY=|,|[0-9])({codes})[,;]")
    daily = rule.like("%FREQ=DAILY;%")
    always = select(rules.c.rule).where(or_(and_(has_byday, in_byday), and_(~has_byday, daily)))
    by_first_meeting = select(rules.c.rule).where(~has_byday, ~daily)
    first_day = func.substr(Group.dtstart_local, 1, 10)
    # Sunday is 0 in both SQL dialects' day-of-week.
    sunday_first = sorted({(d + 1) % 7 for d in days})
    if dialect == "postgresql":
        starts_on = func.extract("dow", cast(first_day, Date)).in_(sunday_first)
    else:
        starts_on = func.strftime("%w", first_day).in_([str(d) for d in sunday_first])
    return or_(Group.rrule.in_(always), and_(Group.rrule.in_(by_first_meeting), starts_on))


_TOKEN: Final = re.compile(r"[^\W_]+")


def search_tokens(words: Sequence[str]) -> list[str]:
    """Letters-and-digits runs of the words, lower-cased: "Carers'" -> ["carers"]."""
    tokens = [t for w in words for t in _TOKEN.findall(w.lower())]
    return list(dict.fromkeys(tokens))[:MAX_WORDS]


def search_document(dialect: str) -> ColumnElement[Any]:
    """PostgreSQL: the group's words as a tsvector, the expression the GIN index holds.

    Everything but letters and digits becomes a space first, so that the text parser
    sees plain words (no e-mail, URL or signed-number tokens) and matches exactly
    what the SQLite regular expression matches.
    """
    assert dialect == "postgresql"  # noqa: S101 - only PostgreSQL has tsvector
    joined = Group.name.concat(literal_column("' '")).concat(Group.description)
    plain = func.regexp_replace(
        joined, literal_column("'[^[:alnum:]]+'"), literal_column("' '"), literal_column("'g'")
    )
    return func.to_tsvector(literal_column("'simple'::regconfig"), plain)


def word_start_pattern(token: str, dialect: str) -> str:
    """A regular expression for ``token`` at the start of a word, in the dialect's syntax."""
    if dialect == "postgresql":
        return f"(^|[^[:alnum:]]){re.escape(token)}"  # ARE: case folded by the ~* operator
    return f"(?i)(?<![^\\W_]){re.escape(token)}"


def _words_condition(words: Sequence[str], dialect: str) -> ColumnElement[bool] | None:
    if not words:
        return None
    tokens = search_tokens(words)
    if not tokens:
        return false()  # only punctuation was asked for: nothing has that as a word
    if dialect == "postgresql":
        query_text = " & ".join(f"{t}:*" for t in tokens)
        tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), query_text)
        return search_document(dialect).op("@@")(tsquery)
    parts = []
    for token in tokens:
        pattern = word_start_pattern(token, dialect)
        parts.append(or_(Group.name.regexp_match(pattern), Group.description.regexp_match(pattern)))
    return and_(*parts)


def conditions(search: Search, dialect: str) -> list[ColumnElement[bool]]:
    """WHERE clauses over ``groups`` joined to ``organisations``."""
    where: list[ColumnElement[bool]] = [
        Organisation.verified_at.is_not(None),
        Group.kind == "group",  # never a private check-in's hidden group
    ]
    if set(search.statuses) != set(STATUSES):
        where.append(Group.status.in_(search.statuses))
    if search.languages:
        where.append(_language_condition(search.languages))
    for kind, values in (
        (TagKind.COMMUNITY, search.communities),
        (TagKind.STAGE, search.stages),
        (TagKind.TOPIC, search.topics),
        (TagKind.ACCESS, search.access),
    ):
        if values:
            where.append(_tag_exists([kind.value], values))
    if search.any_of_kinds:
        where.append(
            select(GroupTag.group_id)
            .where(GroupTag.group_id == Group.id, GroupTag.kind.in_(search.any_of_kinds))
            .exists()
        )
    if search.formats:
        admitted = sorted({f for asked in search.formats for f in _FORMAT_MATCHES[asked]})
        where.append(Group.format.in_(admitted))
    if search.days:
        where.append(day_condition(search.days, dialect))
    words = _words_condition(search.words, dialect)
    if words is not None:
        where.append(words)
    if search.organisation_ids:
        where.append(Group.organisation_id.in_(search.organisation_ids))
    if search.modified_after is not None:
        where.append(
            or_(
                Group.updated_at >= search.modified_after,
                Organisation.updated_at >= search.modified_after,
            )
        )
    if search.peer_led:
        where.append(Organisation.lived_experience_led.is_(True))
    if search.near is not None:
        box = geo.bounding_box((search.near.latitude, search.near.longitude), search.near.radius_km)
        where.extend(
            [
                Group.format.in_(("in_person", "hybrid")),
                Group.latitude.between(box.south, box.north),
                Group.longitude.between(box.west, box.east),
            ]
        )
    return where


def dialect_of(db: AsyncSession) -> str:
    return db.get_bind().dialect.name


async def _plan_per_query(db: AsyncSession, dialect: str) -> None:
    """Tune PostgreSQL's planner for this transaction's directory queries.

    - Plan each search for its own values. asyncpg runs statements prepared, and after
      five runs PostgreSQL may keep one generic plan for every value; but the best plan
      for Urdu (2% of groups) and English (70%) differ completely: drive from the tag
      index, or walk the groups in name order until the page is full.
    - No parallel workers: these queries take milliseconds, and starting workers can
      take longer than that (40 ms measured on the benchmark machine).
    """
    if dialect == "postgresql":
        await db.execute(
            text(
                "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
                "set_config('max_parallel_workers_per_gather', '0', true)"
            )
        )


def _base(dialect: str, search: Search) -> Select[str]:
    return (
        select(Group.id)
        .join(Organisation, Organisation.id == Group.organisation_id)
        .where(*conditions(search, dialect))
    )


async def find(
    db: AsyncSession,
    search: Search,
    *,
    page: int = 1,
    per_page: int = 20,
    order: Order = "name",
    count_limit: int | None = None,
) -> Found:
    """One page (1-based) of matching group ids and how many match in all.

    ``count_limit`` caps the counting (the web pages say "200 or more"): counting
    every match of a broad filter means reading every matching row, while a page and
    a capped count can stop early. Without it the count is exact (the HSDS API).
    """
    dialect = dialect_of(db)
    offset = (page - 1) * per_page
    await _plan_per_query(db, dialect)
    if search.near is not None:
        return await _find_near(db, dialect, search, offset, per_page)
    if search.words:
        return await _find_text(db, dialect, search, offset, per_page, order)
    base = _base(dialect, search)
    keys = _keys(dialect, order, Group.id, Group.name)
    if count_limit is not None and offset + per_page <= count_limit + 1:
        # The first count_limit + 1 ids in order: the page is a slice of them, and their
        # number is the (capped) count. One walk instead of a page query and a count.
        head = [str(i) for i in await db.scalars(base.order_by(*keys).limit(count_limit + 1))]
        window = head[offset : offset + per_page]
        if len(head) > count_limit:
            return Found(window, count_limit, at_least=True)
        return Found(window, len(head))
    ids = [str(i) for i in await db.scalars(base.order_by(*keys).offset(offset).limit(per_page))]
    if offset == 0 and len(ids) < per_page:
        return Found(ids, len(ids))  # all of it fits on the first page
    counted = base.limit(count_limit + 1) if count_limit is not None else base
    total = int(await db.scalar(select(func.count()).select_from(counted.subquery())) or 0)
    if count_limit is not None and total > count_limit:
        return Found(ids, count_limit, at_least=True)
    return Found(ids, total)


def _keys(dialect: str, order: Order, id_column: Any, name_column: Any) -> list[Any]:
    """ORDER BY keys: byte order on both databases (SQLite's BINARY, PostgreSQL's "C"),
    so that the same data gives the same pages whatever the server's locale."""
    if order == "id":
        # UUID text sorts the same under every collation (fixed hyphen positions), and
        # without a COLLATE the primary key index can give this order.
        return [id_column]
    name = name_column.collate("C") if dialect == "postgresql" else name_column
    return [name, id_column]


async def _find_text(
    db: AsyncSession, dialect: str, search: Search, offset: int, per_page: int, order: Order
) -> Found:
    # A text search reads its matches from the word index, so counting them is cheap;
    # OFFSET 0 fences that off from the ORDER BY ... LIMIT outside. Without the fence
    # PostgreSQL may walk an index in sort order testing each row's text on the way
    # (about 80 µs a row) in the hope of stopping early, which the count forbids.
    base = _base(dialect, search)
    if order == "name":
        base = base.add_columns(Group.name.label("name"))
    matched = base.offset(0).subquery("matched")
    if order == "name":
        keys = _keys(dialect, order, matched.c.id, matched.c.name)
    else:
        # Everything is sorted here anyway: "C" compares bytes, faster than a locale.
        keys = [matched.c.id.collate("C") if dialect == "postgresql" else matched.c.id]
    rows = (
        await db.execute(
            select(matched.c.id, func.count().over()).order_by(*keys).offset(offset).limit(per_page)
        )
    ).all()
    if rows:
        return Found([str(row[0]) for row in rows], int(rows[0][1]))
    if offset == 0:
        return Found([], 0)
    counted = await db.scalar(select(func.count()).select_from(matched))
    return Found([], int(counted or 0))


async def _find_near(
    db: AsyncSession, dialect: str, search: Search, offset: int, per_page: int
) -> Found:
    assert search.near is not None  # noqa: S101 - checked by the caller
    near = search.near
    query = (
        select(Group.id, Group.name, Group.latitude, Group.longitude)
        .join(Organisation, Organisation.id == Group.organisation_id)
        .where(*conditions(search, dialect))
    )
    centre = (near.latitude, near.longitude)
    scored: list[tuple[float, str, str]] = []
    for gid, name, lat, lon in await db.execute(query):
        if lat is None or lon is None:
            continue
        km = distance_km(centre, (lat, lon))
        if km <= near.radius_km:
            scored.append((round(km, 3), name, gid))
    scored.sort()
    window = scored[offset : offset + per_page]
    return Found([gid for _, _, gid in window], len(scored), {gid: km for km, _, gid in window})


@dataclass(frozen=True, slots=True)
class FoundSites:
    """One page of (group id, "physical" | "virtual") pairs and how many in all."""

    sites: list[tuple[str, str]]
    total: int


async def find_sites(db: AsyncSession, search: Search, *, page: int, per_page: int) -> FoundSites:
    """Where matching groups meet: a venue, online, or both for a hybrid group.

    Ordered by group id, physical before virtual; by distance when a place is given
    (then only venues count).
    """
    dialect = dialect_of(db)
    offset = (page - 1) * per_page
    await _plan_per_query(db, dialect)
    if search.near is not None:
        found = await _find_near(db, dialect, search, offset, per_page)
        return FoundSites([(gid, "physical") for gid in found.ids], found.total)
    matched = (
        select(Group.id.label("gid"), Group.format.label("format"))
        .join(Organisation, Organisation.id == Group.organisation_id)
        .where(*conditions(search, dialect))
    )
    if search.words:
        matched = matched.offset(0)  # the fence of _find_text, for the same reason
    groups = matched.subquery("matched")

    def part(kind: str, formats: tuple[str, ...]) -> Select[str, str]:
        return select(groups.c.gid, literal(kind).label("kind")).where(groups.c.format.in_(formats))

    both = union_all(
        part("physical", ("in_person", "hybrid")), part("virtual", ("online", "hybrid"))
    ).subquery()
    rows = await db.execute(
        select(both.c.gid, both.c.kind)
        .order_by(both.c.gid, both.c.kind)
        .offset(offset)
        .limit(per_page)
    )
    sites = [(str(gid), str(kind)) for gid, kind in rows]
    if offset == 0 and len(sites) < per_page:
        return FoundSites(sites, len(sites))
    total = await db.scalar(select(func.count()).select_from(both))
    return FoundSites(sites, int(total or 0))


async def load(db: AsyncSession, ids: Sequence[str]) -> list[Group]:
    """The groups with these ids, in this order, with tags and organisation loaded."""
    if not ids:
        return []
    rows = await db.scalars(
        select(Group)
        .join(Organisation, Organisation.id == Group.organisation_id)
        .where(Group.id.in_(ids))
        .options(
            contains_eager(Group.organisation).selectinload(Organisation.texts),
            selectinload(Group.tags),
            selectinload(Group.texts),
        )
    )
    by_id = {g.id: g for g in rows}
    return [by_id[i] for i in ids if i in by_id]


async def places_taken(db: AsyncSession, ids: Sequence[str]) -> dict[str, int]:
    """Active members (moderators run the group and take no place) per group."""
    if not ids:
        return {}
    rows = await db.execute(
        select(GroupMember.group_id, func.count())
        .where(
            GroupMember.group_id.in_(ids),
            GroupMember.role == "member",
            GroupMember.status == "active",
        )
        .group_by(GroupMember.group_id)
    )
    return {gid: int(n) for gid, n in rows}


async def public_group(
    db: AsyncSession, *, slug: str | None = None, group_id: str | None = None
) -> Group | None:
    """A group of a verified organisation, whatever its status, with tags and organisation."""
    if (slug is None) == (group_id is None):
        raise ValueError("give exactly one of slug and group_id")
    key = Group.slug == slug if slug is not None else Group.id == group_id
    group: Group | None = await db.scalar(
        select(Group)
        .join(Organisation, Organisation.id == Group.organisation_id)
        .where(key, Organisation.verified_at.is_not(None), Group.kind == "group")
        .options(
            contains_eager(Group.organisation).selectinload(Organisation.texts),
            selectinload(Group.tags),
            selectinload(Group.texts),
        )
    )
    return group


async def public_organisation(
    db: AsyncSession, *, slug: str | None = None, organisation_id: str | None = None
) -> Organisation | None:
    if (slug is None) == (organisation_id is None):
        raise ValueError("give exactly one of slug and organisation_id")
    key = Organisation.slug == slug if slug is not None else Organisation.id == organisation_id
    org: Organisation | None = await db.scalar(
        select(Organisation)
        .where(key, Organisation.verified_at.is_not(None))
        .options(selectinload(Organisation.texts))
    )
    return org


async def organisations_page(
    db: AsyncSession, *, words: Sequence[str] = (), page: int = 1, per_page: int = 20
) -> tuple[list[Organisation], int]:
    """Verified organisations (for the HSDS API), by id, optionally matching words."""
    where: list[ColumnElement[bool]] = [Organisation.verified_at.is_not(None)]
    dialect = dialect_of(db)
    # Few rows: a regular expression per row is cheap here (same meaning as for groups).
    tokens = search_tokens(words)
    if words and not tokens:
        where.append(false())
    for token in tokens:
        pattern = word_start_pattern(token, dialect)
        flags = "i" if dialect == "postgresql" else None
        where.append(
            or_(
                Organisation.name.regexp_match(pattern, flags=flags),
                Organisation.description.regexp_match(pattern, flags=flags),
            )
        )
    rows = list(
        await db.scalars(
            select(Organisation)
            .where(*where)
            .order_by(Organisation.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    total = await db.scalar(select(func.count()).select_from(Organisation).where(*where))
    return rows, int(total or 0)


async def group_ids_of_organisations(
    db: AsyncSession, organisation_ids: Sequence[str], statuses: Sequence[str]
) -> dict[str, list[tuple[str, str, str]]]:
    """(id, name, status) of each organisation's groups, by organisation, ordered by id."""
    found: dict[str, list[tuple[str, str, str]]] = {oid: [] for oid in organisation_ids}
    if not organisation_ids:
        return found
    rows = await db.execute(
        select(Group.organisation_id, Group.id, Group.name, Group.status)
        .where(
            Group.organisation_id.in_(organisation_ids),
            Group.status.in_(statuses),
            Group.kind == "group",
        )
        .order_by(Group.id)
    )
    for oid, gid, name, status in rows:
        found[oid].append((gid, name, status))
    return found


async def languages_in_use(db: AsyncSession) -> list[str]:
    """Every language tag that an active, public group meets in or interprets into:
    the directory's language filter lists each of them by name."""
    rows = await db.scalars(
        select(GroupTag.value)
        .join(Group, Group.id == GroupTag.group_id)
        .join(Organisation, Organisation.id == Group.organisation_id)
        .where(
            GroupTag.kind.in_((TagKind.LANGUAGE.value, TagKind.INTERPRETATION.value)),
            Group.status == "active",
            Group.kind == "group",
            Organisation.verified_at.is_not(None),
        )
        .distinct()
    )
    return sorted(set(rows))
