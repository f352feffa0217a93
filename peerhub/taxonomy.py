"""PeerHub's own controlled vocabulary.

One place names every stage, culture or community, topic and access feature that
groups, matching, the directory and the HSDS ``/taxonomies`` endpoint talk about.
Codes are stable identifiers (they appear in URLs, the API and the database);
labels are what people read. Term ids are UUIDv5 of ``taxonomy:code`` so that they
never change between deployments.

This module is pure: no I/O, no framework imports.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final

from peerhub.languages import english_name


def N_(message: str) -> str:
    """Marks a label for translation without translating it (``make messages`` finds
    it): the label stays English here, as the HSDS API and the matching engine use it,
    and pages translate it where they show it (peerhub/finding/wording.py)."""
    return message


_NAMESPACE: Final = uuid.UUID("6f3b7a52-3c1e-4c8e-9a57-1e2f0c7d9b10")


@dataclass(frozen=True, slots=True)
class Term:
    taxonomy: str
    code: str
    label: str
    description: str

    @property
    def id(self) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"{self.taxonomy}:{self.code}"))


@dataclass(frozen=True, slots=True)
class Taxonomy:
    code: str
    name: str
    description: str
    terms: tuple[Term, ...]

    @property
    def id(self) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"taxonomy:{self.code}"))

    def codes(self) -> frozenset[str]:
        return frozenset(t.code for t in self.terms)

    def label(self, code: str) -> str:
        for term in self.terms:
            if term.code == code:
                return term.label
        raise KeyError(code)


def _terms(taxonomy: str, rows: list[tuple[str, str, str]]) -> tuple[Term, ...]:
    return tuple(Term(taxonomy, code, label, desc) for code, label, desc in rows)


STAGES: Final = Taxonomy(
    "stage",
    N_("Stage"),
    "Where a person is in their own mental health journey.",
    _terms(
        "stage",
        [
            (
                "approaching_crisis",
                N_("Approaching crisis"),
                N_("Things are getting harder and a crisis may be coming."),
            ),
            ("recovery", N_("Recovery"), N_("Getting better after a hard time.")),
            ("staying_well", N_("Staying well"), N_("Keeping well and managing ups and downs.")),
        ],
    ),
)

COMMUNITIES: Final = Taxonomy(
    "community",
    N_("Culture or community"),
    "Cultures and communities that a group is run by and for.",
    _terms(
        "community",
        [
            (
                "black_african_caribbean",
                N_("Black African and Caribbean"),
                "People of Black African and Caribbean heritage.",
            ),
            (
                "south_asian",
                N_("South Asian"),
                "People with roots in Pakistan, India, Bangladesh and Sri Lanka.",
            ),
            (
                "east_asian",
                N_("East and South East Asian"),
                "People with roots in China, Hong Kong, Vietnam and nearby.",
            ),
            (
                "middle_eastern_north_african",
                N_("Middle Eastern and North African"),
                "People with roots in the Middle East and North Africa.",
            ),
            ("somali", N_("Somali"), "The Somali community."),
            (
                "eastern_european",
                N_("Eastern European"),
                "People from Poland, Romania, the Baltic states and nearby.",
            ),
            (
                "gypsy_roma_traveller",
                N_("Gypsy, Roma and Traveller"),
                "Gypsy, Roma, Irish Traveller and other Traveller communities.",
            ),
            ("lgbtq", N_("LGBTQ+"), "Lesbian, gay, bisexual, trans, queer and questioning people."),
            ("deaf", N_("Deaf"), "Deaf people and the signing community."),
            ("autistic", N_("Autistic"), "Autistic people, led by autistic people."),
            (
                "learning_disability",
                N_("People with a learning disability"),
                "Run by and for people with a learning disability.",
            ),
            ("faith_muslim", N_("Muslim faith"), "Peer support grounded in the Muslim faith."),
            (
                "faith_christian",
                N_("Christian faith"),
                "Peer support grounded in the Christian faith.",
            ),
            ("faith_sikh", N_("Sikh faith"), "Peer support grounded in the Sikh faith."),
            ("young_adults", N_("Young adults"), "People aged roughly 18 to 25."),
            ("older_people", N_("Older people"), "People aged roughly 60 and over."),
            ("women", N_("Women"), "A group for women."),
            ("men", N_("Men"), "A group for men."),
            (
                "refugees_asylum",
                N_("Refugees and people seeking asylum"),
                "People who have come to the UK seeking safety.",
            ),
            ("carers", N_("Carers"), "People who care for someone else."),
            ("veterans", N_("Veterans"), "People who have served in the armed forces."),
            ("welsh_speaking", N_("Welsh-speaking"), "Welsh-speaking communities."),
        ],
    ),
)

TOPICS: Final = Taxonomy(
    "topic",
    N_("Topic"),
    "What a group talks about.",
    _terms(
        "topic",
        [
            ("anxiety", N_("Anxiety"), "Worry, panic and fear."),
            ("depression", N_("Depression"), "Low mood and depression."),
            ("psychosis", N_("Psychosis"), "Psychosis and unusual experiences."),
            (
                "hearing_voices",
                N_("Hearing voices"),
                "Hearing voices and other sensory experiences.",
            ),
            ("bipolar", N_("Bipolar"), "Bipolar and mood swings."),
            ("autism", N_("Autism"), "Life as an autistic person."),
            ("adhd", N_("ADHD"), "ADHD and neurodivergence."),
            ("bereavement", N_("Bereavement"), "Grief and loss, including loss by suicide."),
            ("self_harm", N_("Self-harm"), "Self-harm, in a safe and supportive space."),
            ("suicidal_feelings", N_("Suicidal feelings"), "Living with suicidal thoughts."),
            ("eating_difficulties", N_("Eating difficulties"), "Eating problems and body image."),
            ("trauma", N_("Trauma"), "Living after trauma, including PTSD."),
            (
                "personality_disorder",
                N_("Personality disorder"),
                "Emotionally unstable personality disorder and complex emotional needs.",
            ),
            ("perinatal", N_("Perinatal"), "Mental health in pregnancy and early parenthood."),
            ("carers", N_("Caring for someone"), "Supporting a family member or friend."),
            ("substance_use", N_("Alcohol and drugs"), "Recovery from alcohol and drug use."),
            ("loneliness", N_("Loneliness"), "Isolation and making connections."),
            ("ocd", N_("OCD"), "Obsessive-compulsive disorder."),
            ("wellbeing", N_("Wellbeing"), "Staying well day to day."),
            ("employment", N_("Work and money"), "Work, benefits and money worries."),
        ],
    ),
)

ACCESS: Final = Taxonomy(
    "access",
    N_("Access feature"),
    "What a group offers so that everyone can take part.",
    _terms(
        "access",
        [
            ("step_free", N_("Step-free access"), "The venue can be reached without steps."),
            ("accessible_toilet", N_("Accessible toilet"), "An accessible toilet at the venue."),
            ("hearing_loop", N_("Hearing loop"), "An induction loop in the meeting room."),
            ("bsl_interpreter", N_("BSL interpreter"), "A British Sign Language interpreter."),
            ("captions", N_("Captions"), "Live captions in online sessions."),
            ("quiet_room", N_("Quiet room"), "A quiet space to take a break."),
            ("easy_read", N_("Easy Read materials"), "Information in Easy Read."),
            ("large_print", N_("Large print"), "Information in large print."),
            ("camera_optional", N_("Camera optional"), "Online: no need to switch a camera on."),
            ("text_chat", N_("Text chat"), "Take part by typing instead of speaking."),
            ("sensory_friendly", N_("Sensory-friendly"), "Low light and low noise."),
            (
                "childcare",
                N_("Childcare or children welcome"),
                "Children welcome, or childcare offered.",
            ),
            ("travel_support", N_("Travel support"), "Help with bus fares or finding the venue."),
        ],
    ),
)

PEER_LED: Final = Taxonomy(
    "peer_led",
    N_("Peer-led"),
    "Whether a group is run by people with lived experience.",
    _terms("peer_led", [("peer_led", N_("Peer-led"), "Run by people with lived experience.")]),
)

ALL_TAXONOMIES: Final[tuple[Taxonomy, ...]] = (STAGES, COMMUNITIES, TOPICS, ACCESS, PEER_LED)

STAGE_CODES: Final = STAGES.codes()
COMMUNITY_CODES: Final = COMMUNITIES.codes()
TOPIC_CODES: Final = TOPICS.codes()
ACCESS_CODES: Final = ACCESS.codes()

# Languages offered first (on the find form's check boxes and in the demo data):
# common in the UK's peer-support groups. Every other language is accepted too, by
# name or code, and every one has a name (peerhub/languages.py, from CLDR).
# Sign languages are first-class languages here.
COMMON_LANGUAGES: Final[tuple[str, ...]] = (
    "en",
    "cy",
    "gd",
    "ga",
    "bfi",
    "isg",
    "ase",
    "ur",
    "pa",
    "pa-Arab",
    "hi",
    "bn",
    "syl",
    "gu",
    "ta",
    "pl",
    "ro",
    "lt",
    "so",
    "ar",
    "ku",
    "ckb",
    "fa",
    "ps",
    "ti",
    "am",
    "yue",
    "zh",
    "cmn",
    "vi",
    "tr",
    "pt",
    "es",
    "fr",
    "uk",
    "ru",
    "rom",
    "yo",
    "tw",
)
# Their names in English, from CLDR.
LANGUAGE_NAMES: Final[dict[str, str]] = {tag: english_name(tag) for tag in COMMON_LANGUAGES}

SIGN_LANGUAGES: Final = frozenset({"bfi", "isg", "ase"})

# Names for dates in plain words (English; locale-independent, unlike strftime).
DAY_NAMES: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def language_name(tag: str) -> str:
    """A person-readable name in English for a BCP 47 tag, from CLDR: every language
    PeerHub accepts has one (the tag itself only for a tag that names no language)."""
    return english_name(tag)
