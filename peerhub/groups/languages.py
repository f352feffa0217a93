"""Which BCP 47 language tags a group may give.

:func:`peerhub.matching.langtag.normalise_language_tag` checks that a tag is
well-formed, but "english" or "zz" are well-formed and name no language. Without
the IANA registry we refuse a tag whose language subtag is:

- two letters but not an ISO 639-1 code (the list below is the whole standard);
- four to eight letters: 4 are reserved by RFC 5646 and none of 5 to 8 are
  registered, so in practice these are words typed by mistake ("english").

Three-letter ISO 639-2/3 codes (``bfi`` British Sign Language, ``syl`` Sylheti)
are too many to list here and are accepted when well-formed.
"""

from __future__ import annotations

from typing import Final

from peerhub.errors import FieldError
from peerhub.matching.langtag import LanguageTagError, normalise_language_tag, primary_subtag

ISO_639_1: Final = frozenset(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs
    cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha
    he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn
    ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb
    nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd
    se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw
    ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
    """.split()  # noqa: SIM905 - reads as the standard's own table
)

EXAMPLES: Final = "en for English, cy for Welsh, bfi for British Sign Language, pa-Guru for Punjabi"


def check_language_tag(raw: str, field: str) -> str:
    """The tag in canonical case, or a FieldError for ``field`` saying what is wrong."""
    try:
        tag = normalise_language_tag(raw)
    except LanguageTagError as exc:
        raise FieldError(
            field, f"“{raw[:40]}” is not a language code: {exc.problem}. Try {EXAMPLES}."
        ) from exc
    primary = primary_subtag(tag)
    if (len(primary) == 2 and primary not in ISO_639_1) or len(primary) > 3:
        raise FieldError(field, f"“{raw[:40]}” is not a language code we know. Try {EXAMPLES}.")
    return tag


def language_list(raw: list[str], field: str, limit: int = 12) -> list[str]:
    """Tags from one or more comma- or space-separated entries, checked, without repeats."""
    out: list[str] = []
    for entry in raw:
        for piece in entry.replace(",", " ").split():
            tag = check_language_tag(piece, field)
            if tag not in out:
                out.append(tag)
    if len(out) > limit:
        raise FieldError(field, f"Give at most {limit} languages.")
    return out
