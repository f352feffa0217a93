"""PeerHub groups and organisations as Open Referral HSDS 3.0 objects. Pure.

A group is a ``service``; where it meets is a ``location`` (``physical`` with an
address and coordinates, or ``virtual`` at the group's PeerHub page) joined to it
by a ``service_at_location``; a hybrid group has both. Its recurrence is a
``schedule``, its languages ``language`` objects, and its communities, stages,
topics, access features and the organisation's "peer-led" declaration are
``attributes`` linked to the terms of PeerHub's own taxonomy (:mod:`peerhub.taxonomy`).

Ids never change: services and organisations use their database UUIDs, every other
object a UUIDv5 of what it describes, except service_at_location ids, which are the
group's UUID XOR a fixed mask per kind, so that ``/service_at_locations/{id}`` can
find the group without a lookup table (see :func:`sal_id`).

Nothing about people is published: no members, moderators, organisers, pseudonyms,
referrals, or counts of any of them; contact details are only the ones an
organisation published for itself. See docs/hsds.md.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from peerhub import taxonomy
from peerhub.directory.present import GroupView, day_words, town_of, zone_words
from peerhub.matching.langtag import primary_subtag
from peerhub.models import Organisation
from peerhub.schedule import ScheduleError, validate_rrule

HSDS_VERSION: Final = "3.0"
PROFILE_URL: Final = "https://github.com/openreferral/specification/tree/3.0/schema"
# Fixed for ever: the ids of every derived object depend on it.
NAMESPACE: Final = uuid.UUID("0b8f3f8e-5c1a-4f55-9d7e-2a61c4b0e9d3")

LocationKind = Literal["physical", "virtual"]
# XOR masks leave the version nibble and the variant bits alone, so a
# service_at_location id is as well-formed a UUID as the group id it comes from.
_SAL_MASKS: Final[dict[LocationKind, int]] = {
    "physical": 0x5A3C_96E1_0F2D_0B47_2E19_C8D7_36A5_F04B,
    "virtual": 0x1D7B_E248_93C6_0A5F_3B82_64F0_D19E_7C23,
}
_VERSION_AND_VARIANT: Final = 0x0000_0000_0000_F000_C000_0000_0000_0000
STATUS: Final = {"active": "active", "paused": "temporarily closed", "closed": "inactive"}
# Access features that describe a venue (also published as location accessibility).
VENUE_ACCESS: Final = frozenset(
    {
        "step_free",
        "accessible_toilet",
        "hearing_loop",
        "quiet_room",
        "sensory_friendly",
        "childcare",
        "travel_support",
    }
)
_DAYS: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_WALES: Final = frozenset({"CF", "LD", "LL", "NP", "SA"})
_SCOTLAND: Final = frozenset(
    {"AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "TD", "ZE"}
)

assert all(m & _VERSION_AND_VARIANT == 0 for m in _SAL_MASKS.values())  # noqa: S101


@dataclass(frozen=True, slots=True)
class Site:
    """Where PeerHub is served, and when "now" is."""

    base_url: str
    now: datetime

    def group_url(self, slug: str) -> str:
        return f"{self.base_url}/groups/{slug}"

    def organisation_url(self, slug: str) -> str:
        return f"{self.base_url}/organisations/{slug}"


def derived_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def sal_id(group_id: str, kind: LocationKind) -> str:
    return str(uuid.UUID(int=uuid.UUID(group_id).int ^ _SAL_MASKS[kind]))


def sal_candidates(value: str) -> dict[str, LocationKind]:
    """Group ids a service_at_location id could come from, with the kind each implies."""
    try:
        number = uuid.UUID(value).int
    except ValueError:
        return {}
    return {str(uuid.UUID(int=number ^ mask)): kind for kind, mask in _SAL_MASKS.items()}


def location_id(group_id: str, kind: LocationKind) -> str:
    return derived_id("location", kind, group_id)


def sal_kinds(group_format: str) -> list[LocationKind]:
    if group_format == "online":
        return ["virtual"]
    if group_format == "hybrid":
        return ["physical", "virtual"]
    return ["physical"]


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as HSDS asks for ``last_modified``."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _http_url(value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return value.strip()


def _email(value: str | None) -> str | None:
    if not value or "@" not in value or any(ch.isspace() for ch in value):
        return None
    return value.strip()


def nation_of(postcode: str | None) -> str:
    """England, Wales, Scotland or Northern Ireland, from the postcode area.

    Border districts that cross into Wales (CH5–CH8, SY15–SY25) and England
    (TD12, TD15) are placed by their district.
    """
    if not postcode:
        return ""
    outward = postcode.split()[0].upper()
    area = "".join(ch for ch in outward if ch.isalpha())[:2]
    area = area if len(area) == 2 and not outward[1].isdigit() else outward[:1]
    digits = "".join(ch for ch in outward[len(area) :] if ch.isdigit())
    number = int(digits) if digits else 0
    if area == "BT":
        return "Northern Ireland"
    if area in _WALES or (area == "CH" and 5 <= number <= 8) or (area == "SY" and number >= 15):
        return "Wales"
    if area in _SCOTLAND and not (area == "TD" and number in (12, 15)):
        return "Scotland"
    if area in ("GY", "JE", "IM"):
        return ""
    return "England"


# --- Taxonomies -------------------------------------------------------------------------


def taxonomy_obj(tax: taxonomy.Taxonomy) -> dict[str, Any]:
    return {
        "id": tax.id,
        "name": tax.name,
        "description": tax.description,
        "version": "1",
    }


def term_obj(term: taxonomy.Term) -> dict[str, Any]:
    tax = next(t for t in taxonomy.ALL_TAXONOMIES if t.code == term.taxonomy)
    return {
        "id": term.id,
        "code": term.code,
        "name": term.label,
        "description": term.description,
        "taxonomy": f"PeerHub {tax.name.lower()}",
        "taxonomy_id": tax.id,
        "taxonomy_detail": taxonomy_obj(tax),
        "language": "en",
    }


_TERMS_BY_CODE: Final[dict[tuple[str, str], taxonomy.Term]] = {
    (t.taxonomy, t.code): t for tax in taxonomy.ALL_TAXONOMIES for t in tax.terms
}
PEER_LED_TERM: Final = taxonomy.PEER_LED.terms[0]


def _attribute(link_id: str, entity: str, term: taxonomy.Term) -> dict[str, Any]:
    return {
        "id": derived_id("attribute", entity, link_id, term.id),
        "link_id": link_id,
        "link_type": term.taxonomy,
        "link_entity": entity,
        "taxonomy_term_id": term.id,
        "taxonomy_term": term_obj(term),
    }


def service_attributes(view: GroupView) -> list[dict[str, Any]]:
    out = []
    for kind, labels in (
        ("community", view.communities),
        ("stage", view.stages),
        ("topic", view.topics),
        ("access", view.access),
    ):
        for label in labels:
            term = _TERMS_BY_CODE.get((kind, label.code))
            if term is not None:  # a code the taxonomy no longer has is left out
                out.append(_attribute(view.id, "service", term))
    if view.organisation.lived_experience_led:
        out.append(_attribute(view.id, "service", PEER_LED_TERM))
    return out


# --- Organisations --------------------------------------------------------------------


def organization_brief(org: Organisation) -> dict[str, Any]:
    obj: dict[str, Any] = {"id": org.id, "name": org.name, "description": org.description or ""}
    email = _email(org.email)
    if email:
        obj["email"] = email
    website = _http_url(org.website)
    if website:
        obj["website"] = website
    return obj


def organization_full(
    org: Organisation, services: list[dict[str, Any]], site: Site
) -> dict[str, Any]:
    obj = organization_brief(org)
    obj["uri"] = site.organisation_url(org.slug)
    if org.phone:
        obj["phones"] = [
            {
                "id": derived_id("phone", "organization", org.id),
                "organization_id": org.id,
                "number": org.phone,
                "type": "voice",
            }
        ]
    if org.lived_experience_led:
        obj["attributes"] = [_attribute(org.id, "organization", PEER_LED_TERM)]
    obj["services"] = services
    return obj


# --- Schedules ------------------------------------------------------------------------


def _rule_parts(rrule: str) -> dict[str, str]:
    try:
        text = validate_rrule(rrule)
    except ScheduleError:
        return {}
    return dict(p.split("=", 1) for p in text.split(";"))


def _offset_hours(moment: datetime) -> float:
    offset = moment.utcoffset()
    hours = (offset.total_seconds() if offset else 0.0) / 3600
    return int(hours) if hours == int(hours) else hours


def _clock(moment: datetime) -> str:
    text = moment.strftime("%H:%M%z")  # 18:00+0100
    return f"{text[:-2]}:{text[-2:]}"


def _date_of(value: str) -> str | None:
    digits = value[:8]
    if len(digits) == 8 and digits.isdigit():
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    return None


def schedule(
    view: GroupView,
    site: Site,
    *,
    sal: str | None = None,
    location: str | None = None,
) -> dict[str, Any]:
    g = view.group
    obj: dict[str, Any] = {
        "id": derived_id("schedule", g.id, sal or "service"),
        "service_id": g.id,
        "schedule_link": site.group_url(g.slug),
        "attending_type": view.format_words,
    }
    if sal:
        obj["service_at_location_id"] = sal
    if location:
        obj["location_id"] = location
    parts = _rule_parts(g.rrule)
    start_date = g.dtstart_local[:10]
    obj["dtstart"] = start_date
    obj["valid_from"] = start_date
    freq, byday = parts.get("FREQ"), parts.get("BYDAY")
    interval = int(parts.get("INTERVAL", "1")) if parts.get("INTERVAL", "1").isdigit() else 1
    if freq == "DAILY" and interval == 1 and not byday:
        freq, byday = "WEEKLY", ",".join(_DAYS)  # every day, said the HSDS way
    if freq in ("WEEKLY", "MONTHLY"):
        obj["freq"] = freq
        obj["interval"] = interval
        if freq == "WEEKLY" and not byday:
            weekday = datetime.fromisoformat(start_date).weekday()
            byday = _DAYS[weekday]
        if byday:
            obj["byday"] = byday
        for key, name in (("BYMONTHDAY", "bymonthday"), ("BYWEEKNO", "byweekno")):
            if key in parts:
                obj[name] = parts[key]
    if parts.get("WKST") in _DAYS:
        obj["wkst"] = parts["WKST"]
    if "COUNT" in parts and parts["COUNT"].isdigit():
        obj["count"] = int(parts["COUNT"])
    until = _date_of(parts.get("UNTIL", ""))
    if until:
        obj["until"] = until
        obj["valid_to"] = until
    words = view.recurrence or "Sessions at irregular times: see the group's page."
    obj["description"] = f"{words} ({zone_words(g.time_zone)}), for {g.duration_minutes} minutes."
    notes = [
        f"Times are local to the {g.time_zone} time zone and follow its daylight-saving "
        "changes; opens_at, closes_at and timezone give the UTC offset of the next session."
    ]
    nxt = view.next_meeting
    if nxt is not None:
        obj["opens_at"] = _clock(nxt.start)
        obj["closes_at"] = _clock(nxt.end)
        obj["timezone"] = _offset_hours(nxt.start)
    cancelled = [s for s in view.cancelled]
    if cancelled:
        notes.append("No session on " + "; ".join(day_words(s.start) for s in cancelled[:10]) + ".")
    obj["notes"] = " ".join(notes)
    return obj


# --- Locations ------------------------------------------------------------------------


def location_obj(view: GroupView, kind: LocationKind, site: Site, *, full: bool) -> dict[str, Any]:
    g = view.group
    lid = location_id(g.id, kind)
    if kind == "virtual":
        return {
            "id": lid,
            "location_type": "virtual",
            "url": site.group_url(g.slug),
            "organization_id": g.organisation_id,
            "name": f"Online: {g.name}",
            "description": (
                "Online sessions in PeerHub's moderated group room. Join the group on "
                "PeerHub to take part."
            ),
        }
    address = g.address or ""
    parts = [p.strip() for p in address.split(",") if p.strip()]
    town = town_of(address)
    obj: dict[str, Any] = {
        "id": lid,
        "location_type": "physical",
        "organization_id": g.organisation_id,
        "name": parts[0] if parts else (g.postcode or g.name),
    }
    if _finite(g.latitude) and _finite(g.longitude):
        obj["latitude"] = g.latitude
        obj["longitude"] = g.longitude
    if not full:
        return obj
    obj["addresses"] = [
        {
            "id": derived_id("address", g.id),
            "location_id": lid,
            "address_1": ", ".join(parts[:-1]) if town else address,
            "city": town or "",
            "state_province": nation_of(g.postcode),
            "postal_code": g.postcode or "",
            "country": "GB",
            "address_type": "physical",
        }
    ]
    venue = [label for label in view.access if label.code in VENUE_ACCESS]
    if venue:
        obj["accessibility"] = [
            {
                "id": derived_id("accessibility", g.id, label.code),
                "location_id": lid,
                "description": label.name,
            }
            for label in venue
        ]
    return obj


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


# --- Services -------------------------------------------------------------------------


def _application_process(view: GroupView, site: Site) -> str:
    url = site.group_url(view.slug)
    if view.group.join_policy == "request":
        how = (
            f"Ask to join at {url}/join (sign up on PeerHub with any name you like); one of "
            "the group's peer moderators answers."
        )
    else:
        how = f"Anyone can join at {url}/join (sign up on PeerHub with any name you like)."
    return (
        f"{how} No referral or assessment is needed. A professional can refer someone, "
        f"with their consent, at {url}/refer."
    )


def _eligibility(view: GroupView) -> str:
    bits = []
    if view.communities:
        bits.append("Run by and for: " + "; ".join(label.name for label in view.communities) + ".")
    if view.stages:
        bits.append("For people: " + "; ".join(label.name.lower() for label in view.stages) + ".")
    if view.ages_words:
        bits.append(view.ages_words + ".")
    return " ".join(bits) or "Open to adults who want peer support."


def service_brief(view: GroupView, site: Site) -> dict[str, Any]:
    g, org = view.group, view.organisation
    obj: dict[str, Any] = {
        "id": g.id,
        "organization_id": g.organisation_id,
        "name": g.name,
        "description": g.description or "",
        "url": site.group_url(g.slug),
        "status": STATUS.get(g.status, "inactive"),
        "application_process": _application_process(view, site),
        "eligibility_description": _eligibility(view),
        "last_modified": timestamp(max(g.updated_at, org.updated_at)),
    }
    email = _email(org.email)
    if email:
        obj["email"] = email
    if view.interpretation:
        names = ", ".join(label.name for label in view.interpretation)
        obj["interpretation_services"] = f"Interpretation on request: {names}."
    if g.age_min is not None:
        obj["minimum_age"] = g.age_min
    if g.age_max is not None:
        obj["maximum_age"] = g.age_max
    if g.status == "paused":
        obj["alert"] = "This group is paused for now and is not meeting."
    elif g.status == "closed":
        obj["alert"] = "This group has closed."
    obj["organization"] = organization_brief(org)
    return obj


def languages(view: GroupView) -> list[dict[str, Any]]:
    out = []
    for label in view.languages:
        code = primary_subtag(label.code)
        obj: dict[str, Any] = {
            "id": derived_id("language", view.id, label.code),
            "service_id": view.id,
            "name": label.name,
            "code": code,
        }
        if code != label.code:
            obj["note"] = f"BCP 47 language tag: {label.code}."
        out.append(obj)
    return out


def sal_brief(view: GroupView, kind: LocationKind, site: Site) -> dict[str, Any]:
    sid = sal_id(view.id, kind)
    obj: dict[str, Any] = {
        "id": sid,
        "service_id": view.id,
        "location_id": location_id(view.id, kind),
        "description": _sal_description(view, kind),
        "location": location_obj(view, kind, site, full=False),
        "service": service_brief(view, site),
    }
    return obj


def _sal_description(view: GroupView, kind: LocationKind) -> str:
    if kind == "virtual":
        return f"{view.name}, online."
    where = view.town or view.group.postcode or "its venue"
    return f"{view.name}, in person in {where}."


def sal_full(view: GroupView, kind: LocationKind, site: Site) -> dict[str, Any]:
    sid = sal_id(view.id, kind)
    lid = location_id(view.id, kind)
    obj = sal_brief(view, kind, site)
    obj["location"] = location_obj(view, kind, site, full=True)
    obj["schedules"] = [schedule(view, site, sal=sid, location=lid)]
    obj["attributes"] = service_attributes(view)
    return obj


def service_full(view: GroupView, site: Site) -> dict[str, Any]:
    obj = service_brief(view, site)
    obj["languages"] = languages(view)
    obj["schedules"] = [schedule(view, site)]
    obj["service_at_locations"] = [
        {
            "id": sal_id(view.id, kind),
            "service_id": view.id,
            "location_id": location_id(view.id, kind),
            "description": _sal_description(view, kind),
            "location": location_obj(view, kind, site, full=True),
        }
        for kind in sal_kinds(view.group.format)
    ]
    obj["attributes"] = service_attributes(view)
    return obj


def page(contents: list[dict[str, Any]], *, total: int, page: int, per_page: int) -> dict[str, Any]:
    """The HSDS paged list wrapper."""
    pages = max(1, math.ceil(total / per_page)) if total else 1
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= pages,
        "empty": len(contents) == 0,
        "contents": contents,
    }
