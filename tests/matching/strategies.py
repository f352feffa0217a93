"""Hypothesis strategies: small vocabularies so that groups and needs overlap."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import strategies as st

from peerhub.matching import AccessNeed, GroupFormat, GroupProfile, NeedFormat, Needs, Stage, Window

# Moments to search from, including both UK clock changes of 2025 (30 March,
# 26 October) so that London dates and hours are tested across them.
BASES = (
    datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
    datetime(2025, 3, 29, 22, 45, tzinfo=UTC),
    datetime(2025, 10, 25, 23, 50, tzinfo=UTC),
    datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
)
LANGS = ("en", "ur", "pa", "pa-Guru", "pa-Arab", "bfi", "cy")
COMMUNITIES = ("south_asian", "somali", "women", "men", "lgbtq", "faith_muslim", "faith_sikh")
GENDERS = ("woman", "man", "non_binary", "prefer_not_to_say")
# Words of groups' descriptions and of people's "something else".
WORDS = ("kurdish", "mothers", "farsi", "allotment", "football", "poetry")
STAGES: tuple[Stage, ...] = ("approaching_crisis", "recovery", "staying_well")
GROUP_FORMATS: tuple[GroupFormat, ...] = ("online", "in_person", "hybrid")
NEED_FORMATS: tuple[NeedFormat, ...] = ("online", "in_person", "either")
TOPICS = ("anxiety", "depression", "psychosis", "trauma", "carers")
ACCESS = ("step_free", "captions", "quiet_room", "bsl_interpreter")
USERS = ("u1", "u2", "u3", "u4")
ZONES = ("Europe/London", "UTC", "Europe/Paris", "America/New_York")


def _subset(
    items: tuple[str, ...], max_size: int | None = None
) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(items), unique=True, max_size=max_size or len(items)).map(tuple)


# Points around Leeds, up to ~40 km apart, crossing many grid cells.
locations = st.tuples(
    st.floats(min_value=53.6, max_value=54.0, allow_nan=False),
    st.floats(min_value=-1.9, max_value=-1.2, allow_nan=False),
)


@st.composite
def meetings(draw: st.DrawFn, base: datetime) -> tuple[datetime, ...]:
    offsets = draw(
        st.lists(st.integers(min_value=-3 * 24 * 60, max_value=40 * 24 * 60), max_size=4)
    )
    return tuple(base + timedelta(minutes=m) for m in offsets)


@st.composite
def groups(draw: st.DrawFn, base: datetime, group_id: str) -> GroupProfile:
    fmt = draw(st.sampled_from(GROUP_FORMATS))
    age_min = draw(st.none() | st.integers(min_value=10, max_value=60))
    age_max = draw(st.none() | st.integers(min_value=age_min or 10, max_value=90))
    communities = draw(_subset(COMMUNITIES, 3))
    return GroupProfile(
        id=group_id,
        name=f"Group {group_id}",
        languages=draw(_subset(LANGS, 2)),
        interpretation=draw(_subset(("bfi", "ur"), 1)),
        communities=frozenset(communities),
        only_communities=frozenset(draw(_subset(communities))) if communities else frozenset(),
        description=" ".join(draw(_subset(WORDS, 3))),
        stages=frozenset(draw(_subset(STAGES))),
        topics=frozenset(draw(_subset(TOPICS, 3))),
        format=fmt,
        location=draw(st.none() | locations) if fmt != "online" else None,
        next_meetings=draw(meetings(base)),
        time_zone=draw(st.sampled_from(ZONES)),
        age_min=age_min,
        age_max=age_max,
        access_features=frozenset(draw(_subset(ACCESS))),
        places_left=draw(st.none() | st.integers(min_value=0, max_value=3)),
        member_ids=frozenset(draw(_subset(USERS, 2))),
        moderator_on_duty=draw(st.booleans()),
    )


@st.composite
def windows(draw: st.DrawFn) -> Window:
    start = draw(st.integers(min_value=0, max_value=23 * 60))
    end = draw(st.integers(min_value=start + 1, max_value=24 * 60))
    end_time = time(0) if end == 24 * 60 else time(end // 60, end % 60)
    return Window(draw(st.integers(0, 6)), time(start // 60, start % 60), end_time)


@st.composite
def needs(draw: st.DrawFn, base: datetime) -> Needs:
    return Needs(
        now=base,
        languages=draw(_subset(LANGS, 3)),
        communities=draw(_subset(COMMUNITIES, 2)),
        gender=draw(st.none() | st.sampled_from(GENDERS)),
        other=draw(_subset(WORDS, 2)),
        stage=draw(st.none() | st.sampled_from(STAGES)),
        topics=draw(_subset(TOPICS, 3)),
        format=draw(st.sampled_from(NEED_FORMATS)),
        location=draw(st.none() | locations),
        max_distance_km=draw(st.none() | st.floats(min_value=0.5, max_value=40)),
        availability=tuple(draw(st.lists(windows(), max_size=3))),
        age=draw(st.none() | st.integers(min_value=8, max_value=95)),
        access_needs=tuple(AccessNeed(c, draw(st.booleans())) for c in draw(_subset(ACCESS, 2))),
        blocked_user_ids=frozenset(draw(_subset(USERS, 1))),
    )


@st.composite
def scenarios(draw: st.DrawFn, max_groups: int = 12) -> tuple[list[GroupProfile], Needs]:
    base = draw(st.sampled_from(BASES)) + timedelta(minutes=draw(st.integers(0, 24 * 60)))
    n = draw(st.integers(min_value=0, max_value=max_groups))
    gs = [draw(groups(base, f"g{i:02d}")) for i in range(n)]
    return gs, draw(needs(base))
