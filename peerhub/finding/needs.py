"""A person's needs, from the JSON API or the Find-a-group form, into matching.Needs.

Every problem becomes a :class:`~peerhub.errors.FieldError` naming the field, which
the API answers with 422 and the page shows beside the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, cast, get_args

from peerhub import inputs, languages, places
from peerhub.communities import Vocabulary
from peerhub.errors import FieldError
from peerhub.finding import wording
from peerhub.i18n import _
from peerhub.matching import GENDERS, AccessNeed, Gender, InvalidNeeds, NeedFormat, Needs, Window
from peerhub.matching.model import MAX_OTHER_CHARS
from peerhub.taxonomy import DAY_NAMES

DAYS = tuple(day.lower() for day in DAY_NAMES)
# Parts of the day offered on the form, as Europe/London local times.
PARTS_OF_DAY = {
    "morning": (time(8, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time(22, 0)),
}
JSON_FIELDS = frozenset(
    {
        "languages",
        "communities",
        "stage",
        "topics",
        "format",
        "place",
        "postcode",
        "max_distance_km",
        "availability",
        "age",
        "access_needs",
        "limit",
        "gender",
        "other",
    }
)
BUILT_IN_VOCABULARY = Vocabulary()
MAX_LIMIT = 50


class LanguageQuestionError(FieldError):
    """Words in a language field name several languages: the page asks which (with
    ``question.choices``), and the API answers 422 with the choices."""

    def __init__(self, field: str, question: languages.LanguageQuestion) -> None:
        super().__init__(field, wording.language_error(question))
        self.question = question

    def as_dict(self) -> dict[str, Any]:
        q = self.question
        return {
            "asked": q.asked,
            "text": wording.language_question(q),
            "choices": [languages.choice(t).as_dict() for t in q.choices],
            "any": q.any_tag,
        }


def language_tags(entries: Sequence[str], field: str, limit: int = 10) -> list[str]:
    """Canonical tags for languages given by name or code, in order, without repeats.

    Each entry may hold several, separated by commas. An unknown name is a
    FieldError for ``field``, with close spellings suggested; a name for several
    languages ("sign language", "Chinese") a LanguageQuestionError."""
    out: list[str] = []
    for entry in entries:
        for piece in entry.split(","):
            if not piece.strip():
                continue
            try:
                tag = languages.parse(piece)
            except languages.LanguageQuestion as q:
                raise LanguageQuestionError(field, q) from q
            except languages.LanguageError as exc:
                raise FieldError(field, wording.language_error(exc)) from exc
            if tag not in out:
                out.append(tag)
    if len(out) > limit:
        raise FieldError(field, _("Give at most %(limit)s languages.", limit=limit))
    return out


@dataclass(frozen=True, slots=True)
class Search:
    """Validated needs plus what the web layer needs besides them.

    ``place`` is where the search is centred and how it was understood (a typo
    corrected, a town of several of the same name), or None when no place was given;
    ``postcode`` is its postcode district, the coarse area kept for unmet demand."""

    needs: Needs
    postcode: str | None
    limit: int
    place: places.Resolution | None = None

    @property
    def place_unknown(self) -> bool:
        """No place was given though the person can meet in person: ask for a town."""
        return self.place is None and self.needs.format != "online"


def _str_list(value: object, field: str, limit: int = 30) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FieldError(field, _("must be a list of strings"))
    if len(value) > limit:
        raise FieldError(field, _("at most %(limit)s items", limit=limit))
    return [v.strip() for v in value if v.strip()]


def _time(value: object, field: str) -> time:
    if not isinstance(value, str):
        raise FieldError(field, _("times look like 18:00"))
    try:
        hours, minutes = value.split(":")
        if value == "24:00":
            return time(0, 0)
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise FieldError(field, _("%(value)s is not a time like 18:00", value=repr(value))) from exc


def _day(value: object, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str) and value.strip().lower() in DAYS:
        return DAYS.index(value.strip().lower())
    raise FieldError(field, "day is a weekday name (monday…sunday) or 0 (Monday) to 6")


def _windows(value: object) -> list[Window]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 70:
        raise FieldError("availability", "must be a list of at most 70 weekly times")
    windows = []
    for item in value:
        if not isinstance(item, dict) or set(item) - {"day", "from", "to"}:
            raise FieldError(
                "availability",
                'each time looks like {"day": "tuesday", "from": "18:00", "to": "21:00"}',
            )
        windows.append(
            Window(
                _day(item.get("day"), "availability"),
                _time(item.get("from", "00:00"), "availability"),
                _time(item.get("to", "24:00"), "availability"),
            )
        )
    return windows


def _access(value: object) -> list[AccessNeed]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 30:
        raise FieldError("access_needs", "must be a list of at most 30 access needs")
    out = []
    for item in value:
        if isinstance(item, str):
            out.append(AccessNeed(item, False))
        elif (
            isinstance(item, dict)
            and isinstance(item.get("code"), str)
            and isinstance(item.get("essential", False), bool)
            and not set(item) - {"code", "essential"}
        ):
            out.append(AccessNeed(item["code"], bool(item.get("essential", False))))
        else:
            raise FieldError(
                "access_needs", 'each need is a code, or {"code": "step_free", "essential": true}'
            )
    return out


def _locate(text: str | None, field: str = "place") -> places.Resolution | None:
    """A postcode or a town, typos corrected out loud (peerhub/places.py)."""
    if not text:
        return None
    try:
        return places.resolve(text)
    except places.PlaceError as exc:
        raise FieldError(field, str(exc)) from exc


def _number(value: object, field: str, *, integer: bool = False) -> float | None:
    # peerhub/inputs.py: never NaN or infinite, whatever the spelling ("nan", 1e400).
    return inputs.number(value, field, whole=integer)


def _communities(raw: Sequence[str], vocab: Vocabulary) -> list[str]:
    """Codes from codes, names or other names ("Pakistani", "ex-forces")."""
    out: list[str] = []
    for item in raw:
        code = vocab.code_of(item)
        if code is None:
            raise FieldError(
                "communities",
                _(
                    "we do not know the community %(name)s: choose from the list, "
                    "or describe it in your own words under something else",
                    name=repr(item[:40]),
                ),
            )
        if code not in out:
            out.append(code)
    return out


def _gender(value: object) -> Gender | None:
    if value is None or value == "":
        return None
    if value not in GENDERS:
        raise FieldError(
            "gender",
            _(
                "Choose woman, man, non-binary or I would rather not say "
                "(woman, man, non_binary or prefer_not_to_say)"
            ),
        )
    return value


def _other(value: object, vocab: Vocabulary) -> tuple[list[str], tuple[str, ...]]:
    """A person's "something else": the communities it names, and its other words."""
    if value is None:
        return [], ()
    if not isinstance(value, str):
        raise FieldError("other", _("Something else must be text"))
    if len(value) > MAX_OTHER_CHARS:
        raise FieldError(
            "other", _("Something else can be at most %(limit)s characters", limit=MAX_OTHER_CHARS)
        )
    found = vocab.resolve(value)
    return list(found.codes), found.other


def _build(
    now: datetime,
    fields: Mapping[str, Any],
    blocked: frozenset[str],
    vocab: Vocabulary = BUILT_IN_VOCABULARY,
) -> Search:
    where = _locate(fields.get("place"), fields.get("place_field", "place"))
    location = where.place.point if where is not None else None
    distance = _number(fields.get("max_distance_km"), "max_distance_km")
    age = _number(fields.get("age"), "age", integer=True)
    limit_raw = _number(fields.get("limit"), "limit", integer=True)
    limit = 20 if limit_raw is None else int(limit_raw)
    if not 1 <= limit <= MAX_LIMIT:
        raise FieldError("limit", _("must be from 1 to %(limit)s", limit=MAX_LIMIT))
    stage = fields.get("stage") or None
    fmt: str = fields.get("format") or "either"
    if fmt not in get_args(NeedFormat):
        raise FieldError("format", _("must be online, in_person or either"))
    gender = _gender(fields.get("gender"))
    communities = _communities(fields.get("communities") or (), vocab)
    named, other = _other(fields.get("other"), vocab)
    communities += [code for code in named if code not in communities]
    try:
        needs = Needs(
            now=now,
            languages=tuple(fields.get("languages") or ()),
            communities=tuple(communities),
            gender=gender,
            other=other,
            stage=stage,
            topics=tuple(fields.get("topics") or ()),
            format=cast(NeedFormat, fmt),
            location=location,
            max_distance_km=distance,
            availability=tuple(fields.get("availability") or ()),
            age=None if age is None else int(age),
            access_needs=tuple(fields.get("access_needs") or ()),
            blocked_user_ids=blocked,
        )
    except InvalidNeeds as exc:
        raise FieldError(exc.field, exc.message) from exc
    return Search(needs, where.place.district if where else None, limit, where)


def from_json(
    body: object,
    now: datetime,
    blocked: frozenset[str] = frozenset(),
    vocab: Vocabulary = BUILT_IN_VOCABULARY,
) -> Search:
    """Needs from the JSON API's body; FieldError names the first bad field."""
    try:
        return _from_json(body, now, blocked, vocab)
    except InvalidNeeds as exc:
        raise FieldError(exc.field, exc.message) from exc


def from_form(
    values: Mapping[str, str],
    lists: Mapping[str, Sequence[str]],
    now: datetime,
    blocked: frozenset[str] = frozenset(),
    vocab: Vocabulary = BUILT_IN_VOCABULARY,
) -> Search:
    """Needs from the Find-a-group form (check boxes for days and parts of the day)."""
    try:
        return _from_form(values, lists, now, blocked, vocab)
    except InvalidNeeds as exc:
        raise FieldError(exc.field, exc.message) from exc


def _from_json(body: object, now: datetime, blocked: frozenset[str], vocab: Vocabulary) -> Search:
    if not isinstance(body, dict):
        raise FieldError("body", _("send a JSON object"))
    unknown = sorted(set(body) - JSON_FIELDS)
    if unknown:
        raise FieldError(unknown[0], _("is not a field of a match request"))
    for key in ("stage", "format", "place", "postcode", "gender", "other"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise FieldError(key, _("must be a string: a postcode or a town"))
    if body.get("place") and body.get("postcode"):
        raise FieldError("place", _("give place (a postcode or a town) or postcode, not both"))
    fields: dict[str, Any] = {
        "languages": language_tags(_str_list(body.get("languages"), "languages", 10), "languages"),
        "communities": _str_list(body.get("communities"), "communities"),
        "topics": _str_list(body.get("topics"), "topics"),
        "stage": body.get("stage"),
        "format": body.get("format"),
        # "postcode" is the older name of the field, still accepted.
        "place": body.get("place") or body.get("postcode"),
        "place_field": "postcode" if body.get("postcode") else "place",
        "max_distance_km": body.get("max_distance_km"),
        "age": body.get("age"),
        "limit": body.get("limit"),
        "availability": _windows(body.get("availability")),
        "access_needs": _access(body.get("access_needs")),
        "gender": body.get("gender"),
        "other": body.get("other"),
    }
    return _build(now, fields, blocked, vocab)


def _from_form(
    values: Mapping[str, str],
    lists: Mapping[str, Sequence[str]],
    now: datetime,
    blocked: frozenset[str],
    vocab: Vocabulary,
) -> Search:
    # Check boxes carry tags; the box carries names (or codes) typed by the person.
    chosen = language_tags(list(lists.get("languages", ())), "languages", 40)
    typed = language_tags([values.get("other_languages") or ""], "other_languages", 10)
    languages = list(dict.fromkeys(chosen + typed))
    if len(languages) > 10:
        raise FieldError("other_languages", _("Give at most %(limit)s languages.", limit=10))
    days = [DAYS.index(d) for d in lists.get("days", ()) if d in DAYS]
    parts = [p for p in lists.get("times", ()) if p in PARTS_OF_DAY]
    windows = []
    if days or parts:
        for day in days or range(7):
            for part in parts or list(PARTS_OF_DAY):
                start, end = PARTS_OF_DAY[part]
                windows.append(Window(day, start, end))
    essential = values.get("access_essential") == "yes"
    fields: dict[str, Any] = {
        "languages": languages,
        "communities": list(lists.get("communities", ())),
        "topics": list(lists.get("topics", ())),
        "stage": values.get("stage") or None,
        "format": values.get("format") or "either",
        # Searches saved, and links made, before the field was called "place".
        "place": (values.get("place") or values.get("postcode") or "").strip() or None,
        "max_distance_km": values.get("max_distance_km") or None,
        "age": (values.get("age") or "").strip() or None,
        "availability": windows,
        "access_needs": [AccessNeed(c, essential) for c in lists.get("access", ())],
        "gender": values.get("gender") or None,
        "other": (values.get("community_other") or "").strip() or None,
    }
    return _build(now, fields, blocked, vocab)


def to_saved(values: Mapping[str, str], lists: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The form's answers as plain JSON to save for a signed-in person (no free text:
    "something else" is not kept)."""
    keep_lists = ("languages", "communities", "topics", "days", "times", "access")
    keep_values = (
        "other_languages",
        "stage",
        "format",
        "place",
        "max_distance_km",
        "age",
        "access_essential",
        "gender",
    )
    saved: dict[str, Any] = {k: list(lists.get(k, ()))[:30] for k in keep_lists}
    saved.update({k: (values.get(k) or "")[:60] for k in keep_values})
    if not saved["place"] and values.get("postcode"):
        saved["place"] = (values.get("postcode") or "")[:60]
    return saved
