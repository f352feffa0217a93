"""A group's and an organisation's text in several languages (issue 12, part 4):
choosing what a page shows (pure), and the actions that add, change and remove versions
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.errors import FieldError, Forbidden, NotFound
from peerhub.groups import texts
from peerhub.groups.validation import FormErrors
from peerhub.models import AuditEvent, Group, GroupText, Organisation, OrganisationText
from tests.groups.test_actions import _world

NOW = datetime(2026, 10, 19, 9, 0, tzinfo=UTC)
Maker = async_sessionmaker[AsyncSession]


def _group(language: str = "en", **fields: str) -> Group:
    values = {
        "name": "Tuesday Talk",
        "description": "A calm space to talk.",
        "ground_rules": "Be kind.",
        "joining": "Come ten minutes early.",
        **fields,
    }
    return Group(text_language=language, **values)


def _version(language: str, **fields: str) -> GroupText:
    return GroupText(
        language=language,
        language_label=fields.pop("label", ""),
        name=fields.get("name", ""),
        description=fields.get("description", ""),
        ground_rules=fields.get("ground_rules", ""),
        joining=fields.get("joining", ""),
    )


# -- choosing ------------------------------------------------------------------------------


def test_the_version_in_the_page_language_is_shown() -> None:
    group = _group()
    welsh = _version("cy", name="Sgwrs Dydd Mawrth", description="Lle tawel i siarad.")
    shown = texts.text_for(group, [_version("ur", name="منگل کی بات چیت"), welsh], "cy")
    assert shown.version == "cy"
    assert shown.name.text == "Sgwrs Dydd Mawrth" and not shown.name.foreign
    assert shown.name.lang_tag is None
    assert shown.description.text == "Lle tawel i siarad."


def test_a_field_missing_from_the_version_falls_back_to_the_own_text_saying_its_language() -> None:
    shown = texts.text_for(_group(), [_version("cy", name="Sgwrs Dydd Mawrth")], "cy")
    assert shown.name.text == "Sgwrs Dydd Mawrth"
    assert shown.ground_rules.text == "Be kind."
    assert shown.ground_rules.foreign and shown.ground_rules.lang_tag == "en"
    # Named in the page's language, from CLDR.
    assert shown.ground_rules.language_name == "Saesneg"


def test_a_close_cldr_match_counts_as_the_same_language() -> None:
    """Punjabi in Gurmukhi is stored as "pa"; a page asked for as pa-Guru finds it, and
    an en-GB page reads text written in "en" without a note."""
    group = _group()
    punjabi = _version("pa", name="ਮੰਗਲਵਾਰ ਦੀ ਗੱਲਬਾਤ")
    assert texts.text_for(group, [punjabi], "pa-Guru").name.text == "ਮੰਗਲਵਾਰ ਦੀ ਗੱਲਬਾਤ"
    assert texts.text_for(group, [_version("pa-Guru", name="x")], "pa").version == "pa-Guru"
    english = texts.text_for(group, [punjabi], "en-GB")
    assert english.version is None and not english.name.foreign
    # Shahmukhi is another script: a Gurmukhi reader gets the own text, with its language.
    shahmukhi = texts.text_for(group, [_version("pa-Arab", name="منگل")], "pa")
    assert shahmukhi.version is None and shahmukhi.name.foreign
    assert shahmukhi.name.language_name == "ਅੰਗਰੇਜ਼ੀ"


def test_without_a_version_the_own_text_says_which_language_it_is_in() -> None:
    group = _group("ur", name="منگل کی بات چیت", description="بات کرنے کی پرسکون جگہ۔")
    shown = texts.text_for(group, [_version("cy", name="Sgwrs")], "en-GB")
    assert shown.version is None
    assert shown.description.text == "بات کرنے کی پرسکون جگہ۔"
    assert shown.description.foreign and shown.description.lang_tag == "ur"
    assert shown.description.language_name == "Urdu"
    # Welsh readers are not shown English as if it were Welsh (CLDR puts them 24 apart).
    assert texts.text_for(_group(), [], "cy").name.foreign


def test_the_own_text_wins_when_it_is_in_the_page_language() -> None:
    shown = texts.text_for(_group("cy", name="Sgwrs"), [_version("en", name="Talk")], "cy")
    assert shown.version is None and shown.name.text == "Sgwrs" and not shown.name.foreign
    assert (
        texts.text_for(_group("cy", name="Sgwrs"), [_version("en", name="Talk")], "en-GB").name.text
        == "Talk"
    )


def test_organisations_have_a_name_and_description_only() -> None:
    org = Organisation(name="Calder", description="Peer groups.", text_language="en")
    version = OrganisationText(language="pl", name="Calder", description="Grupy wsparcia.")
    shown = texts.text_for(org, [version], "pl")
    assert shown.description.text == "Grupy wsparcia."
    assert not shown.ground_rules and not shown.joining


def test_paragraphs_of_a_piece() -> None:
    piece = texts.text_for(_group(description="One.\n\n\nTwo\nlines."), [], "en").description
    assert piece.paragraphs() == ["One.", "Two\nlines."]


def test_language_names_in_the_page_language() -> None:
    assert texts.language_name("ur", "en-GB") == "Urdu"
    assert texts.language_name("ur", "cy") == "Wrdw"
    assert texts.language_name("en", "ar") == "الإنجليزية"
    assert texts.language_name("pa-Arab", "en") == "Punjabi (Arabic)"


# -- what organisers type ------------------------------------------------------------------


def test_a_language_is_kept_as_the_organiser_typed_it() -> None:
    assert texts.parse_language("Cymraeg", "language") == texts.LanguageGiven("cy", "Cymraeg")
    assert texts.parse_language(" Punjabi  (Gurmukhi) ", "l") == texts.LanguageGiven(
        "pa", "Punjabi (Gurmukhi)"
    )
    assert texts.parse_language("ur", "language") == texts.LanguageGiven("ur", "")
    assert texts.parse_language("pa-Guru", "language").tag == "pa"


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", "Give the language"),
        ("Qwzxv bloop", "We do not know a language"),
        ("Chinese", "could mean several languages"),
        ("BSL", "sign language"),
        ("x" * 70, "at most 64"),
    ],
)
def test_a_language_that_is_not_one_is_refused(typed: str, words: str) -> None:
    with pytest.raises(FieldError) as caught:
        texts.parse_language(typed, "language")
    assert words in caught.value.message and caught.value.field == "language"


def test_a_language_question_names_the_choices_in_the_page_language() -> None:
    """The choices are named in the organiser's language (CLDR) and joined by CLDR's
    "or" list, never English names glued with commas."""
    from peerhub import i18n

    with i18n.using("cy"), pytest.raises(FieldError) as caught:
        texts.parse_language("Chinese", "language")
    message = caught.value.message
    assert "Cantoneeg" in message and " neu " in message and "Cantonese" not in message


def test_a_version_needs_a_language_and_some_text_within_the_limits() -> None:
    data = texts.parse_version(
        {"language": "Welsh", "name": " Sgwrs  Dydd Mawrth ", "joining": "Dewch.\r\n"}
    )
    assert (
        data.language.tag == "cy" and data.name == "Sgwrs Dydd Mawrth" and data.joining == "Dewch."
    )
    with pytest.raises(FormErrors) as caught:
        texts.parse_version({"language": "cy"})
    assert set(caught.value.errors) == {"name"}
    with pytest.raises(FormErrors) as caught:
        texts.parse_version(
            {"language": "nope-nope", "name": "x" * 161, "ground_rules": "y" * 4001}
        )
    assert set(caught.value.errors) == {"language", "name", "ground_rules"}
    org = texts.parse_version(
        {"language": "pl", "name": "N", "ground_rules": "ignored"}, group=False
    )
    assert org.ground_rules == ""


# -- actions (both databases) ---------------------------------------------------------------


def _data(language: str = "Cymraeg", **fields: str) -> texts.VersionInput:
    return texts.parse_version({"language": language, "name": "Sgwrs", **fields})


async def test_organisers_add_change_and_remove_a_group_version(sessions: Maker) -> None:
    people, _org_id, group_id = await _world(sessions)
    async with sessions() as db, db.begin():
        await texts.save_group_version(db, people["Olu"], group_id, _data(), NOW)
    async with sessions() as db:
        [row] = await texts.group_versions(db, group_id)
        assert (row.language, row.language_label, row.name) == ("cy", "Cymraeg", "Sgwrs")
    # Changed, and its language corrected (the primary key moves with it).
    async with sessions() as db, db.begin():
        await texts.save_group_version(
            db, people["Olu"], group_id, _data("pl", name="Rozmowa"), NOW, replacing="cy"
        )
    async with sessions() as db:
        rows = await texts.group_versions(db, group_id)
        assert [(r.language, r.name) for r in rows] == [("pl", "Rozmowa")]
    # A second one in a language already given is refused, naming the language.
    async with sessions() as db, db.begin():
        with pytest.raises(FieldError, match="already a version in Polish"):
            await texts.save_group_version(db, people["Olu"], group_id, _data("Polski"), NOW)
        # So is one in the own text's language.
        with pytest.raises(FieldError, match="own text is already in English"):
            await texts.save_group_version(db, people["Olu"], group_id, _data("en"), NOW)
    async with sessions() as db, db.begin():
        await texts.remove_group_version(db, people["Olu"], group_id, "pl", NOW)
        with pytest.raises(NotFound):
            await texts.remove_group_version(db, people["Olu"], group_id, "pl", NOW)
    async with sessions() as db:
        assert await texts.group_versions(db, group_id) == []
        actions = list(
            await db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("group.text%")))
        )
        assert sorted(actions) == ["group.text_removed", "group.text_saved", "group.text_saved"]


async def test_only_the_groups_organisers_change_its_versions(sessions: Maker) -> None:
    people, _org_id, group_id = await _world(sessions)
    async with sessions() as db, db.begin():
        for who in ("Mo", "Mia"):  # the moderator and a member
            with pytest.raises(Forbidden):
                await texts.save_group_version(db, people[who], group_id, _data(), NOW)
        for who in ("Oth", "Out", "Ann"):  # another organisation, no place, an admin
            with pytest.raises(NotFound):
                await texts.save_group_version(db, people[who], group_id, _data(), NOW)
            with pytest.raises(NotFound):
                await texts.set_group_language(db, people[who], group_id, "cy", NOW)
    async with sessions() as db:
        assert await texts.group_versions(db, group_id) == []


async def test_the_language_of_the_own_text(sessions: Maker) -> None:
    people, _org_id, group_id = await _world(sessions)
    async with sessions() as db, db.begin():
        group = await texts.set_group_language(db, people["Olu"], group_id, "Urdu (Pakistan)", NOW)
        assert (group.text_language, group.text_language_label) == ("ur", "Urdu (Pakistan)")
        await texts.save_group_version(db, people["Olu"], group_id, _data("en"), NOW)
    async with sessions() as db, db.begin():
        with pytest.raises(FieldError, match="There is a version in English"):
            await texts.set_group_language(db, people["Olu"], group_id, "English", NOW)


async def test_organisation_versions(sessions: Maker) -> None:
    people, org_id, _group_id = await _world(sessions)
    async with sessions() as db, db.begin():
        await texts.save_organisation_version(
            db,
            people["Olu"],
            org_id,
            texts.parse_version({"language": "ar", "description": "مجموعات دعم"}, group=False),
            NOW,
        )
        with pytest.raises(NotFound):
            await texts.save_organisation_version(db, people["Oth"], org_id, _data(), NOW)
        await texts.set_organisation_language(db, people["Olu"], org_id, "Cymraeg", NOW)
    async with sessions() as db:
        [row] = await texts.organisation_versions(db, org_id)
        assert (row.language, row.description) == ("ar", "مجموعات دعم")
        org = await db.get(Organisation, org_id)
        assert org is not None and org.text_language == "cy"
    async with sessions() as db, db.begin():
        await texts.remove_organisation_version(db, people["Olu"], org_id, "ar", NOW)
    async with sessions() as db:
        assert await texts.organisation_versions(db, org_id) == []


async def test_versions_go_with_their_group(sessions: Maker) -> None:
    people, org_id, group_id = await _world(sessions)
    async with sessions() as db, db.begin():
        await texts.save_group_version(db, people["Olu"], group_id, _data(), NOW)
        await texts.save_organisation_version(
            db,
            people["Olu"],
            org_id,
            texts.parse_version({"language": "cy", "name": "C"}, group=False),
            NOW,
        )
    async with sessions() as db, db.begin():
        # As the database deletes it (ON DELETE CASCADE), like the data-rights deletion.
        await db.execute(delete(Organisation).where(Organisation.id == org_id))
    async with sessions() as db:
        assert (await db.scalars(select(GroupText))).all() == []
        assert (await db.scalars(select(OrganisationText))).all() == []
