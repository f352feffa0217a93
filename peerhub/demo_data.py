"""The demo data set: fictional UK user-led organisations, their groups and accounts.

Pure data: no I/O, no database, no framework. :mod:`peerhub.demo` writes it.

Everything here is invented. Towns, postcodes and coordinates are those of real town
and city centres (so distances and maps look right), but every venue sits on an
"Example Street" or "Example Road", websites are on ``example.org`` and telephone
numbers are from Ofcom's ranges reserved for drama, so nobody real is sent anywhere
or phoned.

Capacity counts the places taken by active members (role ``member``, status
``active``); moderators run the group and do not take a place, and a pending request
holds none. Some groups below are full, or one place short of full, by that count.

:func:`problems` checks the set against the taxonomy and itself; it runs at import,
so a mistake here stops the program before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Final, Literal

from peerhub.languages import canonical_tag
from peerhub.taxonomy import (
    ACCESS_CODES,
    COMMUNITY_CODES,
    LANGUAGE_NAMES,
    STAGE_CODES,
    TOPIC_CODES,
)

# Every demo account uses it. Public on purpose: the README tells people to log in with it.
DEMO_PASSWORD: Final = "peerhub-demo-2026"  # noqa: S105 - a published demo password
# The two-step sign-in key of every demo account whose role needs it (admin,
# professional, organisers, moderators). Public on purpose, like the password: add it
# to an authenticator app once, or run `peerhub demo-code`. Base32 of
# "peerhub demo 2fa key".
DEMO_TOTP_SECRET: Final = "OBSWK4TIOVRCAZDFNVXSAMTGMEQGWZLZ"  # noqa: S105 - published, demo only

Role = Literal["admin", "professional", "organiser", "moderator", "member"]
Format = Literal["online", "in_person", "hybrid"]
JoinPolicy = Literal["open", "request"]
Status = Literal["active", "paused", "closed"]


@dataclass(frozen=True, slots=True)
class Place:
    town: str
    address: str
    postcode: str
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class DemoAccount:
    pseudonym: str
    role: Role
    note: str
    is_admin: bool = False
    professional_role: str | None = None
    professional_organisation: str | None = None


@dataclass(frozen=True, slots=True)
class DemoOrganisation:
    slug: str
    name: str
    description: str
    website: str
    email: str
    phone: str | None
    lived_experience_led: bool
    organisers: tuple[str, ...]
    # Its safeguarding leads (peerhub/duty/): told when a crisis alert goes unopened.
    leads: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DemoText:
    """A group's name and description in another language (peerhub/groups/texts.py)."""

    language: str  # BCP 47
    name: str = ""
    description: str = ""
    ground_rules: str = ""
    joining: str = ""


@dataclass(frozen=True, slots=True)
class DemoGroup:
    slug: str
    organisation: str  # an organisation's slug
    name: str
    description: str
    format: Format
    place: Place | None  # None exactly when online
    languages: tuple[str, ...]  # BCP 47; the first is the main one
    communities: tuple[str, ...]
    stages: tuple[str, ...]
    topics: tuple[str, ...]
    access: tuple[str, ...]
    dtstart_local: str  # first meeting, local time in time_zone
    rrule: str  # RFC 5545
    moderators: tuple[str, ...]
    members: tuple[str, ...] = ()  # active members
    requests: tuple[str, ...] = ()  # asked to join, not yet accepted
    interpretation: tuple[str, ...] = ()  # languages interpreted on request
    duration_minutes: int = 90
    capacity: int | None = None
    age_min: int | None = None
    age_max: int | None = None
    # Of ``communities``, those the group is for only (the rest it focuses on).
    only: tuple[str, ...] = ()
    join_policy: JoinPolicy = "open"
    status: Status = "active"
    ground_rules: str = ""
    exdates: tuple[str, ...] = ()  # cancelled meetings, local start times
    time_zone: str = "Europe/London"
    # Versions of the name, description... in other languages than the own text's (English).
    texts: tuple[DemoText, ...] = ()


# --- Ground rules -------------------------------------------------------------------

GROUND_RULES: Final = (
    "What is shared here stays here. Listen without judging and speak from your own "
    "experience. Give everyone room to talk; you never have to share more than you want "
    "to. Respect each other's culture, faith, identity and beliefs. We are peers, not "
    "clinicians, so we don't give advice about medication or diagnoses. If you are "
    "worried about your own safety or someone else's, tell a moderator and we will help "
    "you find support."
)


def _crisis_note(emergency: str) -> str:
    # Every group that welcomes people approaching crisis says it is not an emergency
    # service and where to go instead (checked by problems() below).
    return (
        " This group welcomes people who are finding things very hard right now: you "
        "don't need to be feeling better to come. It is not an emergency service. If you "
        f"are in danger now, {emergency}. The \u201cNeed help now?\u201d link on every "
        "page lists people you can talk to straight away, day or night."
    )


CRISIS_GROUND_RULES: Final = GROUND_RULES + _crisis_note("call 999")

TEXT_CHAT_GROUND_RULES: Final = (
    GROUND_RULES + " This group meets in text chat only: no video and no voice. Take your "
    "time to type; nobody has to reply straight away. Please don't share screenshots."
)
TEXT_CHAT_CRISIS_GROUND_RULES: Final = TEXT_CHAT_GROUND_RULES + _crisis_note("call 999")

BSL_GROUND_RULES: Final = (
    "The group meets in British Sign Language. What is signed here stays here. Take "
    "turns, keep your signing in view and let people finish. You never have to share "
    "more than you want to. We are peers, not clinicians, so we don't give advice about "
    "medication. If you are worried about your safety, tell a moderator and we will help "
    "you find support."
)
BSL_CRISIS_GROUND_RULES: Final = BSL_GROUND_RULES + _crisis_note(
    "contact 999 through the 999 BSL video relay service, or text 999 if you have "
    "registered with emergencySMS"
)

WELSH_GROUND_RULES: Final = (
    "Siaradwch Gymraeg neu Saesneg, fel y mynnwch. (Speak Welsh or English, whichever "
    "you like.) " + GROUND_RULES
)

EASY_READ_GROUND_RULES: Final = (
    "Be kind. Take turns to talk. Listen to each other. What we say in the group stays "
    "in the group. You do not have to talk if you do not want to. If you feel unsafe, "
    "tell a helper. We will help you."
)


# --- Places (real centres, fictional venues) ----------------------------------------

LEEDS: Final = Place(
    "Leeds", "Hollybank Community Centre, 12 Example Street, Leeds", "LS1 3AD", 53.7997, -1.5492
)
BRADFORD: Final = Place(
    "Bradford", "Rose Room, Kestrel House, 4 Example Road, Bradford", "BD1 1HY", 53.7925, -1.7521
)
BIRMINGHAM: Final = Place(
    "Birmingham", "Second floor, 30 Example Street, Birmingham", "B1 2ND", 52.4796, -1.9087
)
SMALL_HEATH: Final = Place(
    "Birmingham (Small Heath)",
    "Community hall, 88 Example Road, Small Heath, Birmingham",
    "B10 0HJ",
    52.4712,
    -1.8598,
)
MANCHESTER: Final = Place(
    "Manchester", "The Loft, 7 Example Street, Manchester", "M1 4BT", 53.4810, -2.2365
)
CARDIFF: Final = Place(
    "Cardiff", "Ystafell Derw, 21 Example Street, Cardiff", "CF10 3ND", 51.4861, -3.1788
)
BUTETOWN: Final = Place(
    "Cardiff (Butetown)",
    "Family room, Harbourside Centre, 5 Example Road, Cardiff",
    "CF10 5FL",
    51.4683,
    -3.1690,
)
SWANSEA: Final = Place(
    "Swansea", "Seaview Room, 16 Example Street, Swansea", "SA1 3SN", 51.6157, -3.9583
)
CAERNARFON: Final = Place(
    "Caernarfon", "Neuadd y Dref, 2 Example Street, Caernarfon", "LL55 1SH", 53.1398, -4.2757
)
ABERYSTWYTH: Final = Place(
    "Aberystwyth", "Upstairs at 9 Example Road, Aberystwyth", "SY23 2AZ", 52.4140, -4.0830
)
WHITECHAPEL: Final = Place(
    "London (Tower Hamlets)",
    "Community room, 40 Example Street, Whitechapel, London",
    "E1 1BB",
    51.5187,
    -0.0594,
)
ISLINGTON: Final = Place(
    "London (Islington)", "Meeting room 3, 11 Example Street, London", "N1 2UD", 51.5416, -0.1027
)
SOUTHWARK: Final = Place(
    "London (Southwark)", "The Garden Room, 25 Example Road, London", "SE1 8SW", 51.5031, -0.1132
)
CAMDEN: Final = Place(
    "London (Camden)", "First floor, 3 Example Street, London", "NW1 2DB", 51.5299, -0.1273
)
SOUTHALL: Final = Place(
    "Southall", "Langar hall annexe, 60 Example Road, Southall", "UB1 1JY", 51.5113, -0.3781
)
BRISTOL: Final = Place(
    "Bristol", "Harbour Room, 14 Example Street, Bristol", "BS1 5TR", 51.4524, -2.6005
)
LEICESTER: Final = Place(
    "Leicester", "Clock Room, 8 Example Street, Leicester", "LE1 9BG", 52.6338, -1.1325
)
GLASGOW: Final = Place(
    "Glasgow", "Studio 2, 19 Example Street, Glasgow", "G1 1XQ", 55.8577, -4.2459
)
EDINBURGH: Final = Place(
    "Edinburgh", "Thistle Room, 6 Example Close, Edinburgh", "EH1 1YJ", 55.9501, -3.1899
)
NEWCASTLE: Final = Place(
    "Newcastle upon Tyne",
    "Tyne Room, 33 Example Street, Newcastle upon Tyne",
    "NE1 8QH",
    54.9784,
    -1.6107,
)
SHEFFIELD: Final = Place(
    "Sheffield", "Steel Room, 10 Example Street, Sheffield", "S1 2HH", 53.3807, -1.4701
)
NOTTINGHAM: Final = Place(
    "Nottingham", "Meadow Room, 5 Example Road, Nottingham", "NG1 2DT", 52.9530, -1.1497
)
LUTON: Final = Place(
    "Luton", "Community room, 18 Example Street, Luton", "LU1 2BQ", 51.8795, -0.4170
)


# --- Accounts ----------------------------------------------------------------------

DEMO_ACCOUNTS: Final[tuple[DemoAccount, ...]] = (
    # The admin comes first: it verifies the GP below.
    DemoAccount(
        "demo-admin",
        "admin",
        "Site administrator: verifies professionals and organisations.",
        is_admin=True,
    ),
    DemoAccount(
        "demo-gp",
        "professional",
        "A verified GP who can refer patients to groups.",
        professional_role="GP",
        professional_organisation="Fictional Street Surgery",
    ),
    DemoAccount(
        "demo-organiser",
        "organiser",
        "Organiser of Northern Lights, Spectrum Voices and Roshni Peer Circle.",
    ),
    DemoAccount("demo-moderator", "moderator", "Moderates ten groups run by eight organisations."),
    DemoAccount("demo-member", "member", "Member of three groups; has asked to join a fourth."),
    # Moderators, so that every group has one.
    DemoAccount("mod-aisha", "moderator", "Moderates Roshni and Sukoon groups."),
    DemoAccount("mod-abena", "moderator", "Moderates Sunrise Collective groups."),
    DemoAccount("mod-kwame", "moderator", "Moderates Sunrise Collective groups."),
    DemoAccount("mod-dylan", "moderator", "Moderates Hands Together (BSL) groups."),
    DemoAccount("mod-gwen", "moderator", "Moderates Welsh-language groups."),
    DemoAccount("mod-siobhan", "moderator", "Moderates Rainbow Lantern and Open Road groups."),
    DemoAccount("mod-hamza", "moderator", "Moderates Safe Harbour and Sukoon groups."),
    DemoAccount("mod-ifrah", "moderator", "Moderates Safe Harbour groups."),
    DemoAccount("mod-tomasz", "moderator", "Moderates Razem Together groups."),
    DemoAccount("mod-ana", "moderator", "Moderates Razem Together and Open Road groups."),
    DemoAccount("mod-mei", "moderator", "Moderates Jade Tea House groups."),
    DemoAccount("mod-jas", "moderator", "Moderates Roshni and Northern Lights groups."),
    DemoAccount("mod-ellis", "moderator", "Moderates Spectrum Voices groups."),
    # Organisers of the other organisations.
    DemoAccount("org-nia", "organiser", "Organiser of four organisations."),
    DemoAccount("org-rhys", "organiser", "Organiser of three organisations."),
    DemoAccount("org-halima", "organiser", "Organiser of three organisations."),
    # Members, so that groups have people in them and some are full.
    DemoAccount("river", "member", "A member of several groups."),
    DemoAccount("amani", "member", "A member of several groups."),
    DemoAccount("kasia", "member", "A member of several groups."),
    DemoAccount("tariq", "member", "A member of several groups."),
    DemoAccount("priya", "member", "A member of several groups."),
    DemoAccount("jordan", "member", "A member of several groups."),
    DemoAccount("leila", "member", "A member of several groups."),
    DemoAccount("osian", "member", "A member of several groups."),
    DemoAccount("ade", "member", "A member of several groups."),
    DemoAccount("farah", "member", "A member of several groups."),
    DemoAccount("noor", "member", "A member of several groups."),
    DemoAccount("sam", "member", "A member of several groups."),
    DemoAccount("yusuf", "member", "A member of several groups."),
    DemoAccount("hana", "member", "A member of several groups."),
    DemoAccount("zainab", "member", "A member of several groups."),
    DemoAccount("bogdan", "member", "A member of several groups."),
    DemoAccount("chen", "member", "A member of several groups."),
)

# The one account to log in as for each role (the README lists these).
ROLE_ACCOUNTS: Final[dict[Role, str]] = {
    "admin": "demo-admin",
    "professional": "demo-gp",
    "organiser": "demo-organiser",
    "moderator": "demo-moderator",
    "member": "demo-member",
}


# --- Organisations -----------------------------------------------------------------

ORGANISATIONS: Final[tuple[DemoOrganisation, ...]] = (
    DemoOrganisation(
        slug="roshni-peer-circle",
        name="Roshni Peer Circle",
        description=(
            "Roshni means \u201clight\u201d. We are South Asian women and men in West "
            "Yorkshire and West London who have lived through hard times with our own "
            "mental health. We run friendly groups in Urdu, Punjabi, Hindi and English, "
            "where you can talk openly without worrying about what the family or the "
            "community will say."
        ),
        website="https://roshni-peer-circle.example.org",
        email="hello@roshni-peer-circle.example.org",
        phone="0113 496 0412",
        lived_experience_led=True,
        organisers=("demo-organiser", "org-halima"),
        leads=("demo-organiser",),
    ),
    DemoOrganisation(
        slug="sunrise-collective",
        name="Sunrise Collective",
        description=(
            "A peer support network run by and for people of Black African and Caribbean "
            "heritage. We know that services have not always understood us. Our groups "
            "are places to be yourself, be heard and support each other, in London, "
            "Birmingham, Manchester and Bristol."
        ),
        website="https://sunrise-collective.example.org",
        email="connect@sunrise-collective.example.org",
        phone="020 7946 0381",
        lived_experience_led=True,
        organisers=("org-nia",),
    ),
    DemoOrganisation(
        slug="hands-together",
        name="Hands Together Deaf Peer Support",
        description=(
            "Deaf-led peer support in British Sign Language. Every group is run by Deaf "
            "people who sign, so there is no need for an interpreter and nothing is lost "
            "in translation. Hard of hearing and deafened people are welcome too."
        ),
        website="https://hands-together.example.org",
        email="sign@hands-together.example.org",
        phone=None,
        lived_experience_led=True,
        organisers=("org-rhys",),
    ),
    DemoOrganisation(
        slug="cylch-cymorth-cymru",
        name="Cylch Cymorth Cymru",
        description=(
            "Cylch Cymorth means \u201csupport circle\u201d. We run peer support groups "
            "in Welsh, and in Welsh and English together, across Wales, from Cardiff and "
            "Swansea to Aberystwyth and Caernarfon. Learners are very welcome."
        ),
        website="https://cylch-cymorth.example.org",
        email="helo@cylch-cymorth.example.org",
        phone="029 2018 0674",
        lived_experience_led=True,
        organisers=("org-rhys",),
    ),
    DemoOrganisation(
        slug="rainbow-lantern",
        name="Rainbow Lantern",
        description=(
            "Peer support for lesbian, gay, bisexual, trans, queer and questioning "
            "people, run by LGBTQ+ people with lived experience of mental health "
            "difficulties. Come as you are: you don't have to be out to join us."
        ),
        website="https://rainbow-lantern.example.org",
        email="hello@rainbow-lantern.example.org",
        phone="0161 496 0527",
        lived_experience_led=True,
        organisers=("org-nia",),
    ),
    DemoOrganisation(
        slug="safe-harbour",
        name="Safe Harbour Refugee Peer Network",
        description=(
            "A community charity for people who came to the UK seeking safety. Trained "
            "peer volunteers who have been through the asylum system themselves run "
            "groups in Arabic, Somali, Tigrinya, Amharic, Kurdish, Farsi and English. "
            "We can help with bus fares to our groups."
        ),
        website="https://safe-harbour.example.org",
        email="welcome@safe-harbour.example.org",
        phone="0114 496 0133",
        lived_experience_led=False,
        organisers=("org-halima",),
    ),
    DemoOrganisation(
        slug="razem-together",
        name="Razem Together",
        description=(
            "Razem means \u201ctogether\u201d in Polish. We are Eastern Europeans living "
            "in the UK who support each other with stress, low mood, loneliness and the "
            "pressures of work and money, in Polish, Romanian, Lithuanian, Ukrainian "
            "and English."
        ),
        website="https://razem-together.example.org",
        email="czesc@razem-together.example.org",
        phone="01632 960 215",
        lived_experience_led=True,
        organisers=("org-rhys",),
    ),
    DemoOrganisation(
        slug="open-road-wellbeing",
        name="Open Road Wellbeing",
        description=(
            "Peer support by and for Gypsy, Roma and Traveller people. We know how hard "
            "it can be to talk about mental health in our communities, and how much loss "
            "many families carry. Our groups are private, respectful and free."
        ),
        website="https://open-road-wellbeing.example.org",
        email="talk@open-road-wellbeing.example.org",
        phone="01632 960 877",
        lived_experience_led=True,
        organisers=("org-nia",),
    ),
    DemoOrganisation(
        slug="jade-tea-house",
        name="Jade Tea House Peer Support",
        description=(
            "A warm place for East and South East Asian people to talk about mental "
            "health over a cup of tea, in Cantonese, Mandarin, Vietnamese and English. "
            "Run by people from our communities who have been there themselves."
        ),
        website="https://jade-tea-house.example.org",
        email="hello@jade-tea-house.example.org",
        phone="020 7946 0915",
        lived_experience_led=True,
        organisers=("org-nia",),
    ),
    DemoOrganisation(
        slug="spectrum-voices",
        name="Spectrum Voices",
        description=(
            "Run by autistic people and people with a learning disability, for each "
            "other. Our groups are calm and predictable: we send the plan beforehand, "
            "keep to time, and you can join in by talking, typing or just listening."
        ),
        website="https://spectrum-voices.example.org",
        email="hello@spectrum-voices.example.org",
        phone=None,
        lived_experience_led=True,
        organisers=("demo-organiser",),
    ),
    DemoOrganisation(
        slug="sukoon-wellbeing",
        name="Sukoon Wellbeing Circle",
        description=(
            "Sukoon means \u201cpeace of mind\u201d. Peer support grounded in the Muslim "
            "faith, where faith and mental health are talked about together. Groups in "
            "Bengali, Sylheti, Urdu, Punjabi, Arabic and English, for sisters and "
            "brothers."
        ),
        website="https://sukoon-wellbeing.example.org",
        email="salaam@sukoon-wellbeing.example.org",
        phone="0121 496 0748",
        lived_experience_led=True,
        organisers=("org-halima",),
    ),
    DemoOrganisation(
        slug="northern-lights",
        name="Northern Lights Peer Network",
        description=(
            "A peer network across the North of England and Scotland, run by people who "
            "have used mental health services. We run hearing voices, bipolar, veterans' "
            "and carers' groups, and groups for anyone going through a rough patch."
        ),
        website="https://northern-lights.example.org",
        email="hello@northern-lights.example.org",
        phone="0191 498 0264",
        lived_experience_led=True,
        organisers=("demo-organiser",),
    ),
)


# --- Groups ------------------------------------------------------------------------

WEEKLY_MO: Final = "FREQ=WEEKLY;BYDAY=MO"
WEEKLY_TU: Final = "FREQ=WEEKLY;BYDAY=TU"
WEEKLY_WE: Final = "FREQ=WEEKLY;BYDAY=WE"
WEEKLY_TH: Final = "FREQ=WEEKLY;BYDAY=TH"
WEEKLY_FR: Final = "FREQ=WEEKLY;BYDAY=FR"
WEEKLY_SA: Final = "FREQ=WEEKLY;BYDAY=SA"
WEEKLY_SU: Final = "FREQ=WEEKLY;BYDAY=SU"
FORTNIGHTLY_MO: Final = "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"
FORTNIGHTLY_TU: Final = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"
FORTNIGHTLY_WE: Final = "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"
FORTNIGHTLY_TH: Final = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"
FORTNIGHTLY_FR: Final = "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"
FORTNIGHTLY_SA: Final = "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA"
FORTNIGHTLY_SU: Final = "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU"

ONLINE_ACCESS: Final = ("camera_optional", "text_chat", "captions")
VENUE_ACCESS: Final = ("step_free", "accessible_toilet")

_AS_WRITTEN: Final[tuple[DemoGroup, ...]] = (
    # --- Roshni Peer Circle ---
    DemoGroup(
        slug="roshni-bradford-womens-circle",
        organisation="roshni-peer-circle",
        name="Bradford Women's Wellbeing Circle",
        description=(
            "A relaxed morning group for South Asian women in Bradford. We share chai, "
            "talk about how the week has gone and support each other with worry, low "
            "mood and feeling alone. Speak Urdu, Punjabi or English. Bring your little "
            "ones if you need to."
        ),
        format="in_person",
        place=BRADFORD,
        languages=("ur", "pa", "en"),
        communities=("south_asian", "women"),
        stages=("recovery", "staying_well"),
        topics=("anxiety", "depression", "loneliness"),
        access=(*VENUE_ACCESS, "childcare"),
        dtstart_local="2026-09-08T10:30:00",
        rrule=WEEKLY_TU,
        capacity=12,
        moderators=("mod-aisha",),
        members=("priya", "farah", "zainab", "noor"),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="roshni-leeds-talking-space",
        organisation="roshni-peer-circle",
        name="Leeds Talking Space (Urdu and English)",
        description=(
            "For anyone from a South Asian background who is struggling right now, "
            "including if you are having thoughts of ending your life. You can come in "
            "person or join online. You will be listened to, not judged, and you can "
            "talk in Urdu or English."
        ),
        format="hybrid",
        place=LEEDS,
        languages=("ur", "en"),
        communities=("south_asian",),
        stages=("approaching_crisis", "recovery"),
        topics=("depression", "suicidal_feelings", "anxiety"),
        access=("step_free", "camera_optional", "text_chat"),
        dtstart_local="2026-09-10T18:00:00",
        rrule=WEEKLY_TH,
        capacity=10,
        join_policy="request",
        moderators=("mod-aisha", "demo-moderator"),
        members=("demo-member", "tariq", "farah"),
        requests=("yusuf",),
        ground_rules=CRISIS_GROUND_RULES,
    ),
    DemoGroup(
        slug="roshni-punjabi-carers-online",
        organisation="roshni-peer-circle",
        name="Punjabi Carers' Chai and Chat (online)",
        description=(
            "Looking after a family member can be lonely and tiring. This online group "
            "is for Punjabi-speaking carers to take an hour for themselves, share tips "
            "and feel less alone. Camera on or off, as you like."
        ),
        format="online",
        place=None,
        languages=("pa", "en"),
        communities=("south_asian", "carers"),
        stages=("staying_well",),
        topics=("carers", "wellbeing"),
        access=("camera_optional", "text_chat"),
        dtstart_local="2026-09-16T19:30:00",
        rrule=FORTNIGHTLY_WE,
        duration_minutes=60,
        capacity=15,
        moderators=("mod-jas",),
        members=("priya",),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="roshni-southall-sangat-mens-circle",
        organisation="roshni-peer-circle",
        name="Southall Men's Sangat Circle",
        description=(
            "A Sunday afternoon circle for Sikh and Punjabi men in Southall. We talk "
            "about the things men often keep to themselves: stress, low mood, money "
            "worries and drinking. Tea and langar afterwards."
        ),
        format="in_person",
        place=SOUTHALL,
        languages=("pa", "en", "hi"),
        communities=("south_asian", "faith_sikh", "men"),
        stages=("recovery", "staying_well"),
        topics=("depression", "substance_use", "employment"),
        access=VENUE_ACCESS,
        dtstart_local="2026-09-13T16:00:00",
        rrule=WEEKLY_SU,
        capacity=12,
        moderators=("mod-jas",),
        members=("tariq",),
        ground_rules=GROUND_RULES,
    ),
    # --- Sunrise Collective ---
    DemoGroup(
        slug="sunrise-southwark-sisters",
        organisation="sunrise-collective",
        name="Sunrise Sisters, Southwark",
        description=(
            "A fortnightly Saturday group for Black women, to talk, laugh and lift each "
            "other up. Whether you are getting back on your feet or keeping yourself "
            "well, there is a seat for you."
        ),
        format="in_person",
        place=SOUTHWARK,
        languages=("en",),
        communities=("black_african_caribbean", "women"),
        stages=("recovery", "staying_well"),
        topics=("depression", "trauma", "wellbeing"),
        access=VENUE_ACCESS,
        dtstart_local="2026-09-12T11:00:00",
        rrule=FORTNIGHTLY_SA,
        duration_minutes=120,
        capacity=14,
        moderators=("mod-abena",),
        members=("amani", "zainab"),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="sunrise-birmingham-young-adults",
        organisation="sunrise-collective",
        name="Young, Gifted and Well (18\u201325), Birmingham",
        description=(
            "For young Black adults aged 18 to 25 in Birmingham. A space to talk about "
            "pressure, anxiety, feeling low or on your own, with people who get it. "
            "Popular: when it is full you can ask to go on the waiting list."
        ),
        format="in_person",
        place=BIRMINGHAM,
        languages=("en",),
        communities=("black_african_caribbean", "young_adults"),
        stages=("recovery", "staying_well"),
        topics=("anxiety", "depression", "loneliness"),
        access=VENUE_ACCESS,
        dtstart_local="2026-09-09T18:30:00",
        rrule=WEEKLY_WE,
        capacity=8,
        age_min=18,
        age_max=25,
        moderators=("mod-kwame",),
        members=("amani", "ade", "jordan", "river", "sam", "zainab", "leila", "noor"),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="sunrise-manchester-mens-reasoning",
        organisation="sunrise-collective",
        name="Men's Reasoning Circle, Manchester",
        description=(
            "Black men talking honestly about life, pressure and mental health. If "
            "things are getting on top of you, or you have had thoughts of not wanting "
            "to be here, you are welcome, as you are."
        ),
        format="in_person",
        place=MANCHESTER,
        languages=("en",),
        communities=("black_african_caribbean", "men"),
        stages=("approaching_crisis", "recovery"),
        topics=("depression", "suicidal_feelings", "trauma"),
        access=VENUE_ACCESS,
        dtstart_local="2026-09-07T19:00:00",
        rrule=WEEKLY_MO,
        capacity=12,
        moderators=("mod-kwame", "demo-moderator"),
        members=("ade", "jordan"),
        ground_rules=CRISIS_GROUND_RULES,
    ),
    DemoGroup(
        slug="sunrise-voices-and-visions",
        organisation="sunrise-collective",
        name="Voices and Visions, Islington and online",
        description=(
            "Peer support for Black people who hear voices, see things others don't, or "
            "have had psychosis. Share what helps and what doesn't, with people who "
            "understand how culture, faith and racism shape these experiences."
        ),
        format="hybrid",
        place=ISLINGTON,
        languages=("en",),
        communities=("black_african_caribbean",),
        stages=("recovery",),
        topics=("psychosis", "hearing_voices"),
        access=(*VENUE_ACCESS, *ONLINE_ACCESS),
        dtstart_local="2026-09-17T19:00:00",
        rrule=FORTNIGHTLY_TH,
        capacity=12,
        moderators=("mod-kwame",),
        members=("ade",),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="sunrise-bristol-elders-circle",
        organisation="sunrise-collective",
        name="Elders' Circle, Bristol",
        description=(
            "A monthly afternoon for Caribbean and African elders aged 60 and over. "
            "Company, conversation and support with loneliness, loss and keeping well. "
            "Large-print information and a hearing loop."
        ),
        format="in_person",
        place=BRISTOL,
        languages=("en",),
        communities=("black_african_caribbean", "older_people"),
        stages=("staying_well",),
        topics=("loneliness", "bereavement", "wellbeing"),
        access=(*VENUE_ACCESS, "hearing_loop", "large_print"),
        dtstart_local="2026-10-07T14:00:00",
        rrule="FREQ=MONTHLY;BYDAY=1WE",
        duration_minutes=120,
        capacity=20,
        age_min=60,
        moderators=("mod-abena",),
        ground_rules=GROUND_RULES,
    ),
    # --- Hands Together (BSL) ---
    DemoGroup(
        slug="hands-together-manchester-bsl-social",
        organisation="hands-together",
        name="Deaf Wellbeing Social (BSL), Manchester",
        description=(
            "A weekly evening in British Sign Language for Deaf people to catch up, "
            "share how things are going and look after their wellbeing together. No "
            "interpreters, just Deaf people signing."
        ),
        format="in_person",
        place=MANCHESTER,
        languages=("bfi",),
        communities=("deaf",),
        stages=("recovery", "staying_well"),
        topics=("wellbeing", "loneliness"),
        access=VENUE_ACCESS,
        dtstart_local="2026-09-10T18:30:00",
        rrule=WEEKLY_TH,
        exdates=("2026-12-24T18:30:00", "2026-12-31T18:30:00"),
        capacity=16,
        moderators=("mod-dylan",),
        members=("sam", "river"),
        ground_rules=BSL_GROUND_RULES,
    ),
    DemoGroup(
        slug="hands-together-hard-times-bsl",
        organisation="hands-together",
        name="Hard Times Drop-in (BSL, online)",
        description=(
            "An online drop-in in BSL for Deaf people who are going through a really "
            "difficult time, including thoughts of suicide. Come when you need to; you "
            "don't have to sign up in advance."
        ),
        format="online",
        place=None,
        languages=("bfi",),
        communities=("deaf",),
        stages=("approaching_crisis", "recovery"),
        topics=("anxiety", "depression", "suicidal_feelings"),
        access=("text_chat", "captions"),
        dtstart_local="2026-09-08T19:00:00",
        rrule=WEEKLY_TU,
        duration_minutes=60,
        capacity=10,
        moderators=("mod-dylan", "demo-moderator"),
        members=("sam",),
        ground_rules=BSL_CRISIS_GROUND_RULES,
    ),
    DemoGroup(
        slug="hands-together-birmingham-deaf-rainbow",
        organisation="hands-together",
        name="Deaf Rainbow Group, Birmingham",
        description=(
            "For Deaf LGBTQ+ people, in BSL. Meet others who share both sides of who you "
            "are, talk about what is on your mind and build friendships."
        ),
        format="in_person",
        place=BIRMINGHAM,
        languages=("bfi",),
        communities=("deaf", "lgbtq"),
        stages=("recovery", "staying_well"),
        topics=("wellbeing", "loneliness", "anxiety"),
        access=VENUE_ACCESS,
        dtstart_local="2026-09-11T18:00:00",
        rrule=FORTNIGHTLY_FR,
        capacity=12,
        moderators=("mod-dylan",),
        ground_rules=BSL_GROUND_RULES,
    ),
    DemoGroup(
        slug="hands-together-glasgow-bsl",
        organisation="hands-together",
        name="Glasgow Deaf Peer Support (BSL)",
        description=(
            "A lunchtime group in Glasgow for Deaf people recovering from depression, "
            "trauma or a hard patch. Signed in BSL; English speakers with a hearing loss "
            "are welcome and the room has a hearing loop."
        ),
        format="in_person",
        place=GLASGOW,
        languages=("bfi", "en"),
        communities=("deaf",),
        stages=("recovery",),
        topics=("depression", "trauma"),
        access=(*VENUE_ACCESS, "hearing_loop"),
        dtstart_local="2026-09-16T13:00:00",
        rrule=WEEKLY_WE,
        capacity=12,
        moderators=("mod-dylan",),
        ground_rules=BSL_GROUND_RULES,
    ),
    DemoGroup(
        slug="hands-together-hard-of-hearing-chat",
        organisation="hands-together",
        name="Hard of Hearing Peer Chat (online)",
        description=(
            "For people who have lost some or all of their hearing later in life. Live "
            "captions in every session, and a BSL interpreter if you ask a week before. "
            "Talk about adjusting, feeling cut off, and what has helped."
        ),
        format="online",
        place=None,
        languages=("en",),
        interpretation=("bfi",),
        communities=("deaf", "older_people"),
        stages=("staying_well",),
        topics=("loneliness", "wellbeing"),
        access=(*ONLINE_ACCESS, "bsl_interpreter"),
        dtstart_local="2026-09-14T14:00:00",
        rrule=FORTNIGHTLY_MO,
        duration_minutes=60,
        capacity=15,
        moderators=("mod-dylan",),
        members=("hana",),
        ground_rules=GROUND_RULES,
    ),
    # --- Cylch Cymorth Cymru (Welsh) ---
    DemoGroup(
        slug="cylch-sgwrs-caerdydd",
        organisation="cylch-cymorth-cymru",
        name="Sgwrs Caerdydd: Welsh-language peer support, Cardiff",
        description=(
            "Grŵp cefnogi cyfoedion yn Gymraeg. A weekly group in Welsh for people in "
            "Cardiff who want to talk about their mental health in their own language. "
            "English is fine if you need it."
        ),
        format="in_person",
        place=CARDIFF,
        languages=("cy", "en"),
        communities=("welsh_speaking",),
        stages=("recovery", "staying_well"),
        topics=("depression", "anxiety", "wellbeing"),
        access=(*VENUE_ACCESS, "hearing_loop"),
        dtstart_local="2026-09-07T18:30:00",
        rrule=WEEKLY_MO,
        capacity=12,
        moderators=("mod-gwen",),
        members=("osian",),
        ground_rules=WELSH_GROUND_RULES,
    ),
    DemoGroup(
        slug="cylch-abertawe-dwyieithog",
        organisation="cylch-cymorth-cymru",
        name="Grŵp Lles Dwyieithog Abertawe / Swansea Bilingual Wellbeing Group",
        description=(
            "A bilingual group in Swansea, in the room or online. Talk in Welsh or "
            "English about worry, loneliness and staying well. A BSL interpreter can "
            "come if you let us know in advance."
        ),
        format="hybrid",
        place=SWANSEA,
        languages=("cy", "en"),
        interpretation=("bfi",),
        communities=("welsh_speaking",),
        stages=("recovery", "staying_well"),
        topics=("anxiety", "loneliness"),
        access=(*VENUE_ACCESS, "bsl_interpreter", "camera_optional"),
        dtstart_local="2026-09-15T11:00:00",
        rrule=FORTNIGHTLY_TU,
        capacity=14,
        moderators=("mod-gwen",),
        members=("osian", "hana"),
        ground_rules=WELSH_GROUND_RULES,
    ),
    DemoGroup(
        slug="cylch-caernarfon-teuluoedd-fferm",
        organisation="cylch-cymorth-cymru",
        name="Teuluoedd Fferm: Farming Families Peer Group, Caernarfon",
        description=(
            "For farmers and farming families in Gwynedd, in Welsh. Long hours, money "
            "worries and isolation can weigh heavily. If you are at the end of your "
            "tether, or have had thoughts of suicide, you are welcome here."
        ),
        format="in_person",
        place=CAERNARFON,
        languages=("cy",),
        communities=("welsh_speaking",),
        stages=("approaching_crisis", "recovery"),
        topics=("depression", "suicidal_feelings", "employment"),
        access=VENUE_ACCESS,
        dtstart_local="2026-09-09T19:30:00",
        rrule=WEEKLY_WE,
        capacity=10,
        moderators=("mod-gwen", "demo-moderator"),
        members=("osian",),
        ground_rules=CRISIS_GROUND_RULES,
    ),
    DemoGroup(
        slug="cylch-aberystwyth-oedolion-ifanc",
        organisation="cylch-cymorth-cymru",
        name="Aberystwyth Young Adults Circle (Welsh and English)",
        description=(
            "For 18 to 25 year olds in and around Aberystwyth, students or not. Talk "
            "about stress, eating, feeling far from home or just not yourself, in Welsh "
            "or English."
        ),
        format="in_person",
        place=ABERYSTWYTH,
        languages=("cy", "en"),
        communities=("welsh_speaking", "young_adults"),
        stages=("recovery", "staying_well"),
        topics=("anxiety", "eating_difficulties", "loneliness"),
        access=("quiet_room",),
        dtstart_local="2026-09-17T17:00:00",
        rrule=WEEKLY_TH,
        capacity=10,
        age_min=18,
        age_max=25,
        moderators=("mod-gwen",),
        members=("river",),
        ground_rules=WELSH_GROUND_RULES,
    ),
    DemoGroup(
        slug="cylch-galar-a-cholled-ar-lein",
        organisation="cylch-cymorth-cymru",
        name="Galar a Cholled: bereavement support online (Welsh)",
        description=(
            "Cefnogaeth mewn profedigaeth. An online group in Welsh for anyone grieving, "
            "including people bereaved by suicide. We ask to meet you for a short chat "
            "before your first session."
        ),
        format="online",
        place=None,
        languages=("cy",),
        communities=("welsh_speaking",),
        stages=("recovery",),
        topics=("bereavement",),
        access=("camera_optional", "text_chat"),
        dtstart_local="2026-09-20T19:00:00",
        rrule=FORTNIGHTLY_SU,
        capacity=12,
        join_policy="request",
        moderators=("mod-gwen",),
        requests=("osian",),
        ground_rules=WELSH_GROUND_RULES,
        # DRAFT, not yet reviewed by a fluent Welsh speaker: check before relying on it.
        texts=(
            DemoText(
                "cy",
                name="Galar a Cholled: cefnogaeth mewn profedigaeth ar-lein",
                description=(
                    "Grŵp ar-lein yn Gymraeg i unrhyw un sy'n galaru, gan gynnwys pobl "
                    "sydd wedi colli rhywun drwy hunanladdiad. Rydyn ni'n gofyn am sgwrs "
                    "fer gyda chi cyn eich sesiwn gyntaf."
                ),
            ),
        ),
    ),
    # --- Rainbow Lantern (LGBTQ+) ---
    DemoGroup(
        slug="rainbow-lantern-manchester-trans-peer",
        organisation="rainbow-lantern",
        name="Trans and Non-binary Peer Support, Manchester",
        description=(
            "Run by trans and non-binary people, for trans and non-binary people. A safe "
            "place to talk about anxiety, low mood, self-harm and the stress of waiting "
            "for care. Welcome whether things are calm or you are really struggling."
        ),
        format="in_person",
        place=MANCHESTER,
        languages=("en",),
        communities=("lgbtq",),
        stages=("approaching_crisis", "recovery"),
        topics=("anxiety", "depression", "self_harm"),
        access=(*VENUE_ACCESS, "quiet_room"),
        dtstart_local="2026-09-09T19:00:00",
        rrule=WEEKLY_WE,
        capacity=14,
        join_policy="request",
        moderators=("mod-siobhan", "demo-moderator"),
        members=("jordan", "river"),
        requests=("demo-member",),
        ground_rules=CRISIS_GROUND_RULES,
    ),
    DemoGroup(
        slug="rainbow-lantern-queer-and-here-online",
        organisation="rainbow-lantern",
        name="Queer and Here (18\u201325, online)",
        description=(
            "An online group for LGBTQ+ young adults aged 18 to 25. Come when you are "
            "doing fine, and come when you are not. Chat by voice or text; no need to "
            "turn your camera on."
        ),
        format="online",
        place=None,
        languages=("en",),
        communities=("lgbtq", "young_adults"),
        stages=("approaching_crisis", "recovery", "staying_well"),
        topics=("anxiety", "self_harm", "loneliness"),
        access=ONLINE_ACCESS,
        dtstart_local="2026-09-13T18:00:00",
        rrule=WEEKLY_SU,
        capacity=10,
        age_min=18,
        age_max=25,
        moderators=("mod-siobhan",),
        members=("river", "jordan", "sam", "leila", "noor", "ade", "chen", "kasia", "amani"),
        ground_rules=CRISIS_GROUND_RULES,
    ),
    DemoGroup(
        slug="rainbow-lantern-bristol-elders",
        organisation="rainbow-lantern",
        name="Rainbow Elders, Bristol (50+)",
        description=(
            "A monthly Saturday afternoon for LGBTQ+ people aged 50 and over. Good "
            "company, a chance to talk about what matters to you, and support with "
            "loneliness."
        ),
        format="in_person",
        place=BRISTOL,
        languages=("en",),
        communities=("lgbtq", "older_people"),
        stages=("staying_well",),
        topics=("loneliness", "wellbeing"),
        access=(*VENUE_ACCESS, "hearing_loop", "large_print"),
        dtstart_local="2026-09-12T14:00:00",
        rrule="FREQ=MONTHLY;BYDAY=2SA",
        duration_minutes=120,
        capacity=20,
        age_min=50,
        moderators=("mod-siobhan",),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="rainbow-lantern-newcastle",
        organisation="rainbow-lantern",
        name="Newcastle LGBTQ+ Peer Support",
        description=(
            "Taking a short break while we move to a new venue. This group will be back "
            "soon, in person and online; you can still join now and we will let you "
            "know when it restarts."
        ),
        format="hybrid",
        place=NEWCASTLE,
        languages=("en",),
        communities=("lgbtq",),
        stages=("recovery", "staying_well"),
        topics=("depression", "substance_use"),
        access=(*VENUE_ACCESS, "camera_optional"),
        dtstart_local="2026-09-08T18:30:00",
        rrule=FORTNIGHTLY_TU,
        capacity=16,
        status="paused",
        moderators=("mod-siobhan",),
        ground_rules=GROUND_RULES,
    ),
    # --- Safe Harbour (refugees and people seeking asylum) ---
    DemoGroup(
        slug="safe-harbour-cardiff-somali-women",
        organisation="safe-harbour",
        name="Somali Women's Wellbeing Group, Cardiff",
        description=(
            "A morning group in Butetown for Somali women. Talk in Somali or English "
            "about stress, sleep, family life and memories that are hard to carry. "
            "Children are welcome and there is a play corner."
        ),
        format="in_person",
        place=BUTETOWN,
        languages=("so", "en"),
        communities=("somali", "women", "refugees_asylum"),
        stages=("recovery", "staying_well"),
        topics=("trauma", "anxiety", "wellbeing"),
        access=(*VENUE_ACCESS, "childcare"),
        dtstart_local="2026-09-10T10:30:00",
        rrule=WEEKLY_TH,
        capacity=15,
        moderators=("mod-ifrah",),
        members=("zainab", "leila", "noor"),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="safe-harbour-sheffield-arabic",
        organisation="safe-harbour",
        name="Arabic-speaking Peer Support, Sheffield",
        description=(
            "For Arabic speakers in Sheffield who are finding life in a new country "
            "hard. If you feel you can't go on, you are welcome. We can pay your bus "
            "fare."
        ),
        format="in_person",
        place=SHEFFIELD,
        languages=("ar", "en"),
        communities=("middle_eastern_north_african", "refugees_asylum"),
        stages=("approaching_crisis", "recovery"),
        topics=("trauma", "anxiety", "depression"),
        access=(*VENUE_ACCESS, "travel_support"),
        dtstart_local="2026-09-08T13:00:00",
        rrule=WEEKLY_TU,
        capacity=12,
        moderators=("mod-hamza",),
        members=("yusuf", "leila"),
        ground_rules=CRISIS_GROUND_RULES,
    ),
    DemoGroup(
        slug="safe-harbour-leicester-eritrean-ethiopian",
        organisation="safe-harbour",
        name="Eritrean and Ethiopian Community Circle, Leicester",
        description=(
            "A fortnightly Saturday group in Tigrinya and Amharic, with English too. A "
            "place to rest, share coffee, and talk about the journey and what comes next."
        ),
        format="in_person",
        place=LEICESTER,
        languages=("ti", "am", "en"),
        communities=("black_african_caribbean", "refugees_asylum"),
        stages=("recovery",),
        topics=("trauma", "loneliness"),
        access=("step_free", "travel_support"),
        dtstart_local="2026-09-19T14:00:00",
        rrule=FORTNIGHTLY_SA,
        capacity=12,
        moderators=("mod-ifrah",),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="safe-harbour-glasgow-new-scots",
        organisation="safe-harbour",
        name="New Scots Welcome Circle, Glasgow",
        description=(
            "For people who have arrived in Glasgow seeking safety. Sessions in English, "
            "Arabic, Farsi and Kurdish, with Tigrinya and Somali interpreters on request. "
            "Help with travel and a creche."
        ),
        format="in_person",
        place=GLASGOW,
        languages=("en", "ar", "fa", "ku"),
        interpretation=("ti", "so"),
        communities=("refugees_asylum", "middle_eastern_north_african"),
        stages=("approaching_crisis", "recovery"),
        topics=("trauma", "loneliness", "employment"),
        access=(*VENUE_ACCESS, "travel_support", "childcare"),
        dtstart_local="2026-09-09T11:00:00",
        rrule=WEEKLY_WE,
        capacity=20,
        moderators=("mod-hamza",),
        members=("yusuf",),
        ground_rules=CRISIS_GROUND_RULES,
    ),
    DemoGroup(
        slug="safe-harbour-somali-mens-circle-online",
        organisation="safe-harbour",
        name="Somali Men's Talking Circle (online)",
        description=(
            "An evening group online for Somali men to talk about stress, sadness, work "
            "and family, in Somali or English. What is said stays in the circle."
        ),
        format="online",
        place=None,
        languages=("so", "en"),
        communities=("somali", "men", "faith_muslim"),
        stages=("recovery", "staying_well"),
        topics=("depression", "trauma", "employment"),
        access=("camera_optional", "text_chat"),
        dtstart_local="2026-09-18T20:00:00",
        rrule=FORTNIGHTLY_FR,
        capacity=12,
        moderators=("mod-hamza",),
        ground_rules=GROUND_RULES,
    ),
    # --- Razem Together (Eastern European) ---
    DemoGroup(
        slug="razem-luton-polish",
        organisation="razem-together",
        name="Razem Luton: Polish-speaking peer support",
        description=(
            "Grupa wsparcia po polsku. A weekly evening group in Luton for Polish "
            "speakers. Talk about low mood, long shifts, drinking or being far from "
            "family, with people who understand."
        ),
        format="in_person",
        place=LUTON,
        languages=("pl", "en"),
        communities=("eastern_european",),
        stages=("recovery", "staying_well"),
        topics=("depression", "substance_use", "employment"),
        access=("step_free",),
        dtstart_local="2026-09-16T19:00:00",
        rrule=WEEKLY_WE,
        capacity=12,
        moderators=("mod-tomasz",),
        members=("kasia", "bogdan"),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="razem-mamy-razem-online",
        organisation="razem-together",
        name="Mamy Razem: Polish mums online",
        description=(
            "An online hour in Polish for mums who are pregnant or have young children "
            "and are finding it hard: anxiety, low mood or feeling alone. Children on "
            "your lap are fine."
        ),
        format="online",
        place=None,
        languages=("pl",),
        communities=("eastern_european", "women"),
        stages=("recovery", "staying_well"),
        topics=("perinatal", "anxiety", "loneliness"),
        access=("camera_optional", "text_chat", "childcare"),
        dtstart_local="2026-09-08T20:30:00",
        rrule=WEEKLY_TU,
        duration_minutes=60,
        capacity=6,
        moderators=("mod-tomasz",),
        members=("kasia", "hana", "leila", "farah", "priya"),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="razem-leeds-romanian",
        organisation="razem-together",
        name="Leeds Romanian Community Wellbeing Group",
        description=(
            "Grup de sprijin în limba română. A fortnightly Sunday group in Leeds for "
            "Romanian speakers to share worries, make friends and look after their "
            "wellbeing."
        ),
        format="in_person",
        place=LEEDS,
        languages=("ro", "en"),
        communities=("eastern_european",),
        stages=("recovery", "staying_well"),
        topics=("anxiety", "loneliness", "employment"),
        access=VENUE_ACCESS,
        dtstart_local="2026-09-13T15:00:00",
        rrule=FORTNIGHTLY_SU,
        capacity=14,
        moderators=("mod-ana",),
        members=("bogdan",),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="razem-glasgow-eastern-european",
        organisation="razem-together",
        name="Glasgow Eastern European Peer Group",
        description=(
            "In Polish, Lithuanian, Romanian and English, in person or online. For "
            "people having a very hard time: low mood, drinking, or thoughts of "
            "suicide. You don't have to be in a good place to come."
        ),
        format="hybrid",
        place=GLASGOW,
        languages=("pl", "lt", "ro", "en"),
        communities=("eastern_european",),
        stages=("approaching_crisis", "recovery"),
        topics=("depression", "suicidal_feelings", "substance_use"),
        access=(*VENUE_ACCESS, "camera_optional"),
        dtstart_local="2026-09-14T18:30:00",
        rrule=WEEKLY_MO,
        capacity=14,
        moderators=("mod-tomasz", "mod-ana"),
        members=("bogdan",),
        ground_rules=CRISIS_GROUND_RULES,
    ),
    DemoGroup(
        slug="razem-ukrainian-circle-online",
        organisation="razem-together",
        name="Ukrainian Peer Support Circle (online)",
        description=(
            "For Ukrainians who have made a home in the UK since the war. Talk in "
            "Ukrainian, Russian or English about worry for loved ones, sleep and "
            "starting again."
        ),
        format="online",
        place=None,
        languages=("uk", "ru", "en"),
        communities=("eastern_european", "refugees_asylum"),
        stages=("recovery",),
        topics=("trauma", "anxiety"),
        access=("camera_optional", "text_chat"),
        dtstart_local="2026-09-10T19:00:00",
        rrule=WEEKLY_TH,
        capacity=14,
        moderators=("mod-ana",),
        ground_rules=GROUND_RULES,
    ),
    # --- Open Road Wellbeing (Gypsy, Roma and Traveller) ---
    DemoGroup(
        slug="open-road-traveller-womens-chat",
        organisation="open-road-wellbeing",
        name="Traveller Women's Wellbeing Chat (online)",
        description=(
            "A private online hour for Gypsy and Traveller women. Join from your phone, "
            "by voice or text. Whether you are coping or close to breaking point, you "
            "will be met with kindness. We check in with each new member first."
        ),
        format="online",
        place=None,
        languages=("en",),
        communities=("gypsy_roma_traveller", "women"),
        stages=("approaching_crisis", "recovery", "staying_well"),
        topics=("depression", "bereavement", "suicidal_feelings"),
        access=("camera_optional", "text_chat", "easy_read"),
        dtstart_local="2026-09-07T20:00:00",
        rrule=WEEKLY_MO,
        duration_minutes=60,
        capacity=12,
        join_policy="request",
        moderators=("mod-siobhan",),
        ground_rules=CRISIS_GROUND_RULES,
    ),
    DemoGroup(
        slug="open-road-leicester-roma",
        organisation="open-road-wellbeing",
        name="Roma Community Peer Group, Leicester",
        description=(
            "For Roma families in Leicester, in Romani, Romanian and English. Talk about "
            "stress, work, school and keeping well. Children are welcome and we can help "
            "with bus fares."
        ),
        format="in_person",
        place=LEICESTER,
        languages=("rom", "ro", "en"),
        communities=("gypsy_roma_traveller", "eastern_european"),
        stages=("recovery", "staying_well"),
        topics=("anxiety", "employment", "wellbeing"),
        access=("step_free", "travel_support", "childcare"),
        dtstart_local="2026-09-09T17:00:00",
        rrule=FORTNIGHTLY_WE,
        capacity=15,
        moderators=("mod-ana",),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="open-road-mens-loss-and-grief",
        organisation="open-road-wellbeing",
        name="Men's Loss and Grief Group (Gypsy and Traveller), Bristol and online",
        description=(
            "Once a month, for Gypsy and Traveller men living with loss, including the "
            "loss of someone to suicide. You don't have to talk; you can just sit with "
            "people who know."
        ),
        format="hybrid",
        place=BRISTOL,
        languages=("en",),
        communities=("gypsy_roma_traveller", "men"),
        stages=("approaching_crisis", "recovery"),
        topics=("bereavement", "suicidal_feelings", "substance_use"),
        access=(*VENUE_ACCESS, "camera_optional"),
        dtstart_local="2026-09-24T19:00:00",
        rrule="FREQ=MONTHLY;BYDAY=-1TH",
        capacity=10,
        moderators=("demo-moderator",),
        ground_rules=CRISIS_GROUND_RULES,
    ),
    # --- Jade Tea House (East and South East Asian) ---
    DemoGroup(
        slug="jade-london-cantonese-tea-and-talk",
        organisation="jade-tea-house",
        name="Cantonese Tea and Talk, London",
        description=(
            "廣東話互助小組. A Saturday afternoon group in Cantonese near King's Cross. "
            "Tea, conversation, and support with stress, low mood and loneliness."
        ),
        format="in_person",
        place=CAMDEN,
        languages=("yue", "en"),
        communities=("east_asian",),
        stages=("recovery", "staying_well"),
        topics=("anxiety", "depression", "loneliness"),
        access=VENUE_ACCESS,
        dtstart_local="2026-09-12T14:00:00",
        rrule=WEEKLY_SA,
        capacity=14,
        moderators=("mod-mei",),
        members=("chen",),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="jade-manchester-mandarin-young-adults",
        organisation="jade-tea-house",
        name="Mandarin-speaking Young Adults, Manchester",
        description=(
            "For Mandarin speakers aged 18 to 25, many of them students far from home. "
            "If the pressure is building up and you don't know who to tell, start here."
        ),
        format="in_person",
        place=MANCHESTER,
        languages=("cmn", "en"),
        communities=("east_asian", "young_adults"),
        stages=("approaching_crisis", "recovery"),
        topics=("anxiety", "loneliness", "depression"),
        access=(*VENUE_ACCESS, "quiet_room"),
        dtstart_local="2026-09-11T18:00:00",
        rrule=WEEKLY_FR,
        capacity=10,
        age_min=18,
        age_max=25,
        moderators=("mod-mei",),
        members=("chen",),
        ground_rules=CRISIS_GROUND_RULES,
    ),
    DemoGroup(
        slug="jade-vietnamese-wellbeing-online",
        organisation="jade-tea-house",
        name="Vietnamese Wellbeing Circle (online)",
        description=(
            "Vòng tròn chăm sóc sức khỏe tinh thần. A fortnightly Sunday morning group "
            "online, in Vietnamese and English, about looking after yourself and each "
            "other."
        ),
        format="online",
        place=None,
        languages=("vi", "en"),
        communities=("east_asian",),
        stages=("recovery", "staying_well"),
        topics=("wellbeing", "anxiety"),
        access=("camera_optional", "text_chat"),
        dtstart_local="2026-09-20T11:00:00",
        rrule=FORTNIGHTLY_SU,
        duration_minutes=60,
        capacity=12,
        moderators=("mod-mei",),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="jade-glasgow-cantonese-carers",
        organisation="jade-tea-house",
        name="Cantonese Carers' Group, Glasgow",
        description=(
            "A monthly morning in Cantonese for people looking after a relative, often "
            "an older parent. Share the load, swap tips and take time for yourself."
        ),
        format="in_person",
        place=GLASGOW,
        languages=("yue",),
        communities=("east_asian", "carers"),
        stages=("staying_well",),
        topics=("carers", "wellbeing"),
        access=VENUE_ACCESS,
        dtstart_local="2026-10-07T11:00:00",
        rrule="FREQ=MONTHLY;BYDAY=1WE",
        duration_minutes=120,
        capacity=12,
        moderators=("mod-mei",),
        ground_rules=GROUND_RULES,
    ),
    # --- Spectrum Voices (autistic; learning disability) ---
    DemoGroup(
        slug="spectrum-sheffield-autistic-adults",
        organisation="spectrum-voices",
        name="Autistic Adults Peer Group, Sheffield",
        description=(
            "Run by autistic adults. Low lights, no music, a clear plan sent beforehand "
            "and a quiet room to step out to. Talk, type on the shared screen or just "
            "listen. We meet new members before their first session."
        ),
        format="in_person",
        place=SHEFFIELD,
        languages=("en",),
        communities=("autistic",),
        stages=("recovery", "staying_well"),
        topics=("autism", "anxiety", "loneliness"),
        access=("sensory_friendly", "quiet_room", "step_free"),
        dtstart_local="2026-09-17T18:00:00",
        rrule=FORTNIGHTLY_TH,
        capacity=10,
        join_policy="request",
        moderators=("mod-ellis", "demo-moderator"),
        members=("river",),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="spectrum-autistic-peer-chat-text",
        organisation="spectrum-voices",
        name="Autistic Peer Chat (text only)",
        description=(
            "A weekly online chat for autistic people, in text only: no video, no "
            "voice. Join when things are good, or when you are overwhelmed and need "
            "people who understand."
        ),
        format="online",
        place=None,
        languages=("en",),
        communities=("autistic",),
        stages=("approaching_crisis", "recovery", "staying_well"),
        topics=("autism", "anxiety", "depression"),
        access=("text_chat", "camera_optional"),
        dtstart_local="2026-09-13T19:00:00",
        rrule=WEEKLY_SU,
        capacity=20,
        moderators=("mod-ellis",),
        members=("demo-member", "river", "chen"),
        ground_rules=TEXT_CHAT_CRISIS_GROUND_RULES,
    ),
    DemoGroup(
        slug="spectrum-newcastle-feeling-good-together",
        organisation="spectrum-voices",
        name="Feeling Good Together, Newcastle",
        description=(
            "A group for adults with a learning disability. We talk about feelings, "
            "friends and keeping well. Easy Read information. Bring a supporter if you "
            "like. Help to get there."
        ),
        format="in_person",
        place=NEWCASTLE,
        languages=("en",),
        communities=("learning_disability",),
        stages=("staying_well",),
        topics=("wellbeing", "loneliness"),
        access=(*VENUE_ACCESS, "easy_read", "large_print", "travel_support"),
        dtstart_local="2026-09-08T13:30:00",
        rrule=WEEKLY_TU,
        duration_minutes=120,
        capacity=12,
        moderators=("mod-ellis",),
        ground_rules=EASY_READ_GROUND_RULES,
    ),
    DemoGroup(
        slug="spectrum-nottingham-neurodivergent-young-adults",
        organisation="spectrum-voices",
        name="Neurodivergent Young Adults, Nottingham (18\u201325)",
        description=(
            "For autistic and ADHD young adults aged 18 to 25. A small, calm group: "
            "fidget toys on the table, breaks whenever you need them."
        ),
        format="in_person",
        place=NOTTINGHAM,
        languages=("en",),
        communities=("autistic", "young_adults"),
        stages=("recovery", "staying_well"),
        topics=("adhd", "autism", "anxiety"),
        access=("sensory_friendly", "quiet_room", "step_free"),
        dtstart_local="2026-09-16T17:30:00",
        rrule=WEEKLY_WE,
        capacity=6,
        age_min=18,
        age_max=25,
        moderators=("mod-ellis",),
        members=("river", "jordan", "sam", "chen", "noor", "ade"),
        ground_rules=GROUND_RULES,
    ),
    # --- Sukoon Wellbeing Circle (Muslim faith) ---
    DemoGroup(
        slug="sukoon-tower-hamlets-sisters",
        organisation="sukoon-wellbeing",
        name="Sukoon Sisters, Tower Hamlets",
        description=(
            "A Monday morning group for Muslim women in Whitechapel, in Bengali, Sylheti "
            "and English. Talk about low mood, worry, and life with a new baby, in a "
            "space where your faith is understood. Children welcome."
        ),
        format="in_person",
        place=WHITECHAPEL,
        languages=("bn", "syl", "en"),
        communities=("faith_muslim", "south_asian", "women"),
        stages=("recovery", "staying_well"),
        topics=("depression", "anxiety", "perinatal"),
        access=(*VENUE_ACCESS, "childcare"),
        dtstart_local="2026-09-14T11:00:00",
        rrule=WEEKLY_MO,
        capacity=15,
        moderators=("mod-aisha",),
        members=("farah", "noor"),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="sukoon-luton-brothers",
        organisation="sukoon-wellbeing",
        name="Brothers' Wellbeing Circle, Luton",
        description=(
            "For Muslim men who are struggling and don't know where to turn, including "
            "if you have thoughts of ending your life. After Isha, in Urdu or English. "
            "No one will judge you."
        ),
        format="in_person",
        place=LUTON,
        languages=("ur", "en"),
        communities=("faith_muslim", "south_asian", "men"),
        stages=("approaching_crisis", "recovery"),
        topics=("depression", "anxiety", "suicidal_feelings"),
        access=VENUE_ACCESS,
        dtstart_local="2026-09-11T20:30:00",
        rrule=WEEKLY_FR,
        capacity=12,
        moderators=("mod-hamza",),
        members=("tariq", "yusuf"),
        ground_rules=CRISIS_GROUND_RULES,
    ),
    DemoGroup(
        slug="sukoon-small-heath-community",
        organisation="sukoon-wellbeing",
        name="Small Heath Community Wellbeing Group, Birmingham",
        description=(
            "A fortnightly Saturday group for the whole community: carers, elders and "
            "anyone wanting to keep well. In Urdu, Punjabi and English, with tea."
        ),
        format="in_person",
        place=SMALL_HEATH,
        languages=("ur", "pa", "en"),
        communities=("faith_muslim", "south_asian"),
        stages=("staying_well",),
        topics=("wellbeing", "carers", "loneliness"),
        access=(*VENUE_ACCESS, "large_print"),
        dtstart_local="2026-09-19T11:00:00",
        rrule=FORTNIGHTLY_SA,
        capacity=20,
        moderators=("mod-hamza", "mod-aisha"),
        members=("tariq",),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="sukoon-arabic-wellbeing-online",
        organisation="sukoon-wellbeing",
        name="Online Arabic Wellbeing Circle",
        description=(
            "An evening circle online, in Arabic and English, for Muslims anywhere in "
            "the UK living with worry or grief."
        ),
        format="online",
        place=None,
        languages=("ar", "en"),
        communities=("faith_muslim", "middle_eastern_north_african"),
        stages=("recovery", "staying_well"),
        topics=("anxiety", "bereavement"),
        access=("camera_optional", "text_chat"),
        dtstart_local="2026-09-09T20:00:00",
        rrule=WEEKLY_WE,
        duration_minutes=60,
        capacity=15,
        moderators=("mod-hamza",),
        members=("leila", "yusuf"),
        ground_rules=GROUND_RULES,
        # DRAFT, not yet reviewed by a fluent Arabic speaker: check before relying on it.
        # The ground rules stay in English here, so the page shows them saying so.
        texts=(
            DemoText(
                "ar",
                name="حلقة العافية العربية عبر الإنترنت",
                description=(
                    "حلقة مسائية عبر الإنترنت، بالعربية والإنجليزية، للمسلمين في أي مكان "
                    "في المملكة المتحدة الذين يعيشون مع القلق أو الحزن."
                ),
            ),
        ),
    ),
    # --- Northern Lights (general) ---
    DemoGroup(
        slug="northern-lights-newcastle-hearing-voices",
        organisation="northern-lights",
        name="Newcastle Hearing Voices Group",
        description=(
            "For people who hear voices, see visions or have other unusual experiences. "
            "We accept each person's way of understanding their experiences and share "
            "ways of living with them."
        ),
        format="in_person",
        place=NEWCASTLE,
        languages=("en",),
        communities=(),
        stages=("recovery", "staying_well"),
        topics=("hearing_voices", "psychosis"),
        access=(*VENUE_ACCESS, "quiet_room"),
        dtstart_local="2026-09-10T14:00:00",
        rrule=WEEKLY_TH,
        capacity=12,
        moderators=("demo-moderator",),
        members=("sam",),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="northern-lights-sheffield-rough-patch",
        organisation="northern-lights",
        name="Rough Patch Group, Sheffield",
        description=(
            "For anyone whose mental health is getting worse and who wants company with "
            "it: self-harm, suicidal thoughts, or a feeling that things are slipping. "
            "Moderators can help you plan for a hard night."
        ),
        format="in_person",
        place=SHEFFIELD,
        languages=("en",),
        communities=(),
        stages=("approaching_crisis",),
        topics=("suicidal_feelings", "self_harm", "depression"),
        access=(*VENUE_ACCESS, "quiet_room"),
        dtstart_local="2026-09-07T18:00:00",
        rrule=WEEKLY_MO,
        capacity=10,
        moderators=("demo-moderator", "mod-jas"),
        members=("jordan",),
        ground_rules=CRISIS_GROUND_RULES,
    ),
    DemoGroup(
        slug="northern-lights-leeds-bipolar",
        organisation="northern-lights",
        name="Leeds Bipolar Peer Support",
        description=(
            "A fortnightly group, in person and online, for people living with bipolar "
            "and big mood swings. Share what keeps you steady and what to watch for."
        ),
        format="hybrid",
        place=LEEDS,
        languages=("en",),
        communities=(),
        stages=("recovery", "staying_well"),
        topics=("bipolar",),
        access=(*VENUE_ACCESS, "camera_optional"),
        dtstart_local="2026-09-16T18:30:00",
        rrule=FORTNIGHTLY_WE,
        capacity=16,
        moderators=("mod-jas",),
        members=("kasia", "osian"),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="northern-lights-evening-drop-in",
        organisation="northern-lights",
        name="Evening Drop-in for Hard Days (online)",
        description=(
            "An online drop-in three evenings a week for anyone having a hard day. No "
            "need to book. Live captions, text chat, and a BSL interpreter on request."
        ),
        format="online",
        place=None,
        languages=("en",),
        interpretation=("bfi",),
        communities=(),
        stages=("approaching_crisis", "recovery"),
        topics=("anxiety", "depression", "suicidal_feelings"),
        access=(*ONLINE_ACCESS, "bsl_interpreter"),
        dtstart_local="2026-09-07T20:00:00",
        rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
        duration_minutes=60,
        capacity=20,
        moderators=("demo-moderator", "mod-jas"),
        members=("demo-member", "amani"),
        ground_rules=CRISIS_GROUND_RULES,
    ),
    DemoGroup(
        slug="northern-lights-edinburgh-veterans",
        organisation="northern-lights",
        name="Edinburgh Veterans' Peer Group",
        description=(
            "Run by veterans for veterans of the armed forces. Talk about life after "
            "service, memories that stay with you, and cutting down on drink."
        ),
        format="in_person",
        place=EDINBURGH,
        languages=("en",),
        communities=("veterans",),
        stages=("recovery",),
        topics=("trauma", "substance_use"),
        access=VENUE_ACCESS,
        dtstart_local="2026-09-08T19:00:00",
        rrule=WEEKLY_TU,
        capacity=12,
        moderators=("mod-jas",),
        ground_rules=GROUND_RULES,
    ),
    DemoGroup(
        slug="northern-lights-carers-cuppa-online",
        organisation="northern-lights",
        name="Carers' Cuppa (online)",
        description=(
            "A lunchtime break online for people caring for someone with a mental health "
            "condition. Bring a cuppa and have a chat."
        ),
        format="online",
        place=None,
        languages=("en",),
        communities=("carers",),
        stages=("staying_well",),
        topics=("carers", "wellbeing"),
        access=ONLINE_ACCESS,
        dtstart_local="2026-09-10T12:30:00",
        rrule=FORTNIGHTLY_TH,
        duration_minutes=60,
        capacity=20,
        moderators=("mod-jas",),
        members=("priya",),
        ground_rules=GROUND_RULES,
    ),
)


# --- Checks ------------------------------------------------------------------------

SLUG_RE: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
POSTCODE_RE: Final = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")
LOCAL_TIME_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
# Great Britain and Northern Ireland, generously.
UK_LATITUDE: Final = (49.8, 60.9)
UK_LONGITUDE: Final = (-8.7, 1.8)


def _group_problems(group: DemoGroup, accounts: set[str], orgs: set[str]) -> list[str]:
    where = f"group {group.slug}"
    out: list[str] = []
    if not SLUG_RE.fullmatch(group.slug) or len(group.slug) > 100:
        out.append(f"{where}: slug is not URL-safe")
    if group.organisation not in orgs:
        out.append(f"{where}: unknown organisation {group.organisation}")
    checks = (
        ("language", group.languages, LANGUAGE_NAMES.keys()),
        ("interpretation", group.interpretation, LANGUAGE_NAMES.keys()),
        ("community", group.communities, COMMUNITY_CODES),
        ("stage", group.stages, STAGE_CODES),
        ("topic", group.topics, TOPIC_CODES),
        ("access", group.access, ACCESS_CODES),
    )
    for kind, values, allowed in checks:
        out.extend(f"{where}: unknown {kind} {v!r}" for v in values if v not in allowed)
        if len(set(values)) != len(values):
            out.append(f"{where}: repeated {kind}")
    if not group.languages or not group.stages or not group.topics:
        out.append(f"{where}: needs a language, a stage and a topic")
    if (group.place is None) != (group.format == "online"):
        out.append(f"{where}: a place is needed exactly when the group meets in person")
    if group.place is not None:
        p = group.place
        if not POSTCODE_RE.fullmatch(p.postcode):
            out.append(f"{where}: bad postcode {p.postcode!r}")
        lat_ok = UK_LATITUDE[0] <= p.latitude <= UK_LATITUDE[1]
        lon_ok = UK_LONGITUDE[0] <= p.longitude <= UK_LONGITUDE[1]
        if not (lat_ok and lon_ok):
            out.append(f"{where}: coordinates outside the UK")
    for stamp in (group.dtstart_local, *group.exdates):
        if not LOCAL_TIME_RE.fullmatch(stamp):
            out.append(f"{where}: bad local time {stamp!r}")
    if not group.ground_rules:
        out.append(f"{where}: needs ground rules")
    languages = [t.language for t in group.texts]
    if len(set(languages)) != len(languages) or "en" in languages:
        out.append(f"{where}: one version per language, none in English (the own text's)")
    for text in group.texts:
        if canonical_tag(text.language) != text.language:
            out.append(f"{where}: version language {text.language!r} is not a canonical tag")
        if not (text.name or text.description):
            out.append(f"{where}: the {text.language} version needs a name or a description")
    if "approaching_crisis" in group.stages and "999" not in group.ground_rules:
        out.append(f"{where}: welcomes people approaching crisis but does not signpost 999")
    people = [*group.moderators, *group.members, *group.requests]
    if not group.moderators:
        out.append(f"{where}: needs a moderator")
    out.extend(f"{where}: unknown account {p}" for p in people if p not in accounts)
    if len(set(people)) != len(people):
        out.append(f"{where}: someone is listed twice")
    if group.capacity is not None and len(group.members) > group.capacity:
        out.append(f"{where}: more members than places")
    if group.age_min is not None and group.age_max is not None and group.age_min > group.age_max:
        out.append(f"{where}: age range is upside down")
    return out


# The demo's women's and men's groups are for women or men only (their names say so);
# every other community is one a group focuses on, open to anyone.
GROUPS: Final[tuple[DemoGroup, ...]] = tuple(
    replace(g, only=tuple(c for c in g.communities if c in ("women", "men"))) for g in _AS_WRITTEN
)


# Rotas (peerhub/rotas, docs/rotas.md): each demo group's moderators take its next
# ROTA_SESSIONS sessions in turn, from the day the demo is loaded; in these groups
# nobody is rostered for the very next session, so the demo shows a gap.
ROTA_SESSIONS: Final = 4
ROTA_GAPS: Final = frozenset({"hands-together-hard-times-bsl"})


def problems() -> list[str]:
    """Every inconsistency in the data set (an empty list when all is well)."""
    out: list[str] = []
    accounts = [a.pseudonym for a in DEMO_ACCOUNTS]
    if len(set(accounts)) != len(accounts):
        out.append("an account is listed twice")
    account_set = set(accounts)
    if DEMO_ACCOUNTS[0].role != "admin":
        out.append("the admin must come first: it verifies the professional")
    out.extend(
        f"role account {p} is missing" for p in ROLE_ACCOUNTS.values() if p not in account_set
    )
    org_slugs = [o.slug for o in ORGANISATIONS]
    if len(set(org_slugs)) != len(org_slugs):
        out.append("an organisation slug is used twice")
    for org in ORGANISATIONS:
        if not SLUG_RE.fullmatch(org.slug) or len(org.slug) > 80:
            out.append(f"organisation {org.slug}: slug is not URL-safe")
        out.extend(
            f"organisation {org.slug}: unknown organiser {p}"
            for p in org.organisers
            if p not in account_set
        )
    group_slugs = [g.slug for g in GROUPS]
    if len(set(group_slugs)) != len(group_slugs):
        out.append("a group slug is used twice")
    for group in GROUPS:
        out.extend(_group_problems(group, account_set, set(org_slugs)))
    out.extend(f"rota gap in unknown group {s}" for s in sorted(ROTA_GAPS - set(group_slugs)))
    return out


_PROBLEMS: Final = problems()
if _PROBLEMS:  # a mistake in the data above: stop before anything is written
    raise ValueError("demo data: " + "; ".join(_PROBLEMS))
