"""A group's name as the sharing and referral pages show it: the version in the page's
language where its organisers gave one (when the group was loaded with its versions),
else its own name, marked with its own ``lang`` and ``dir`` when that is not the page's
language (peerhub/groups/texts.py)."""

from __future__ import annotations

from markupsafe import Markup, escape

from peerhub import i18n
from peerhub.groups.texts import shown_text
from peerhub.models import Group


def group_name(group: Group) -> Markup:
    """For page text: ``<span lang="ur" dir="rtl">…</span>`` around a name in another
    language, the name alone otherwise (escaped either way)."""
    piece = shown_text(group).name
    if piece.lang_tag:
        return Markup("<span{}>{}</span>").format(i18n.lang_attrs(piece.lang_tag), piece.text)
    return escape(piece.text)


def group_title(group: Group) -> str:
    """For ``<title>`` and attributes, where no markup can go: the name's text."""
    return shown_text(group).name.text


# Given to the templates of both areas.
NAMES = {"group_name": group_name, "group_title": group_title}
