"""schema.org JSON-LD for a group's upcoming meetings, safe to put in a page.

A ``<script type="application/ld+json">`` block is data, not script (the CSP does
not run it), but the HTML parser still ends it at the first ``</script``. So the
JSON is serialised with ``<``, ``>`` and ``&`` (and the JavaScript line separators)
written as ``\\uXXXX`` escapes: no text a group's organiser types can close the
element or open a comment, and JSON parsers read the escapes back as the same text.
"""

from __future__ import annotations

import json
from typing import Any, Final

from markupsafe import Markup

from peerhub.directory.present import GroupView

_ESCAPES: Final = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}

_MODES: Final = {
    "online": "https://schema.org/OnlineEventAttendanceMode",
    "in_person": "https://schema.org/OfflineEventAttendanceMode",
    "hybrid": "https://schema.org/MixedEventAttendanceMode",
}


def script_json(data: Any) -> Markup:
    """JSON for inside a ``<script type="application/ld+json">`` element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return Markup(text.translate(_ESCAPES))  # noqa: S704 - every HTML-special char escaped above


def _place(view: GroupView) -> dict[str, Any]:
    g = view.group
    address: dict[str, Any] = {"@type": "PostalAddress", "addressCountry": "GB"}
    if g.address:
        address["streetAddress"] = g.address
    if view.town:
        address["addressLocality"] = view.town
    if g.postcode:
        address["postalCode"] = g.postcode
    place: dict[str, Any] = {
        "@type": "Place",
        "name": (g.address or g.postcode or g.name).split(",")[0].strip(),
        "address": address,
    }
    if g.latitude is not None and g.longitude is not None:
        place["geo"] = {"@type": "GeoCoordinates", "latitude": g.latitude, "longitude": g.longitude}
    return place


def group_events(view: GroupView, page_url: str, organisation_url: str) -> list[dict[str, Any]]:
    """One schema.org ``Event`` per upcoming meeting of the group."""
    g, org = view.group, view.organisation
    virtual = {"@type": "VirtualLocation", "url": page_url}
    if g.format == "online":
        location: Any = virtual
    elif g.format == "hybrid":
        location = [_place(view), virtual]
    else:
        location = _place(view)
    organizer = {"@type": "Organization", "name": org.name, "url": organisation_url}
    languages = [label.code for label in view.languages]
    events: list[dict[str, Any]] = []
    for meeting in view.meetings:
        event: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "Event",
            "name": g.name,
            "description": g.description,
            "url": page_url,
            "startDate": meeting.start.isoformat(),
            "endDate": meeting.end.isoformat(),
            "eventStatus": "https://schema.org/EventScheduled",
            "eventAttendanceMode": _MODES.get(g.format, _MODES["in_person"]),
            "location": location,
            "organizer": organizer,
        }
        if languages:
            event["inLanguage"] = languages[0] if len(languages) == 1 else languages
        if view.capacity is not None:
            event["maximumAttendeeCapacity"] = view.capacity
            event["remainingAttendeeCapacity"] = view.places_left
        events.append(event)
    return events
