"""The OpenAPI 3.1 description of PeerHub's public JSON APIs, served at /openapi.json."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peerhub.directory.hsds import OPENAPI_PATHS as HSDS_PATHS
from peerhub.finding.needs import DAYS, MAX_LIMIT
from peerhub.taxonomy import ACCESS_CODES, COMMUNITY_CODES, STAGE_CODES, TOPIC_CODES

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
}
TIME = {"type": "string", "pattern": "^([01][0-9]|2[0-4]):[0-5][0-9]$", "examples": ["18:00"]}
CONTACT = {
    "type": "object",
    "required": ["name", "how"],
    "properties": {
        "name": {"type": "string"},
        "how": {"type": "string"},
        "description": {"type": "string"},
        "href": {"type": ["string", "null"]},
        "modes": {"type": "array", "items": {"type": "string", "enum": ["voice", "text", "video"]}},
        "nations": {"type": "array", "items": {"type": "string"}},
        "sign_language": {"type": "boolean"},
        "languages": {"type": "array", "items": {"type": "string"}},
        "hours": {"type": ["string", "null"]},
    },
}
PLACE = {
    "type": ["object", "null"],
    "description": "Where the search was centred. When what was typed was not found as "
    "it stands, `corrected` is true, `note` says what was searched instead and "
    "`did_you_mean` lists other guesses; never a silent guess.",
    "properties": {
        "kind": {"type": "string", "enum": ["postcode", "town"]},
        "query": {"type": "string"},
        "label": {"type": "string"},
        "district": {"type": "string"},
        "town": {"type": "string"},
        "nation": {"type": ["string", "null"]},
        "precision": {"type": "string"},
        "corrected": {"type": "boolean"},
        "note": {"type": ["string", "null"]},
        "did_you_mean": {"type": "array", "items": {"type": "object"}},
    },
}

MATCH_REQUEST: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "What a person is looking for. Every field is optional.",
    "properties": {
        "languages": {
            "type": "array",
            "maxItems": 10,
            "items": {"type": "string", "maxLength": 64, "examples": ["ur", "bfi", "pa-Guru"]},
            "description": "BCP 47 tags in order of preference (bfi: British Sign Language).",
        },
        "communities": {
            "type": "array",
            "maxItems": 30,
            "items": {"type": "string", "enum": sorted(COMMUNITY_CODES)},
        },
        "stage": {"type": ["string", "null"], "enum": [*sorted(STAGE_CODES), None]},
        "topics": {
            "type": "array",
            "maxItems": 30,
            "items": {"type": "string", "enum": sorted(TOPIC_CODES)},
        },
        "format": {"type": "string", "enum": ["online", "in_person", "either"]},
        "place": {
            "type": ["string", "null"],
            "maxLength": 100,
            "description": "A UK postcode (LS6 3HN, LS6) or a town or city (Leeds, "
            "Caerdydd). Typos are corrected out loud (see `place` in the answer).",
        },
        "postcode": {
            "type": ["string", "null"],
            "maxLength": 10,
            "description": "The older name of `place` (give one of the two).",
        },
        "max_distance_km": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 1000},
        "availability": {
            "type": "array",
            "maxItems": 70,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["day"],
                "properties": {
                    "day": {
                        "oneOf": [
                            {"type": "string", "enum": list(DAYS)},
                            {"type": "integer", "minimum": 0, "maximum": 6},
                        ]
                    },
                    "from": TIME,
                    "to": TIME,
                },
            },
            "description": "Weekly times the person can attend, Europe/London local time.",
        },
        "age": {"type": ["integer", "null"], "minimum": 0, "maximum": 130},
        "access_needs": {
            "type": "array",
            "maxItems": 30,
            "items": {
                "oneOf": [
                    {"type": "string", "enum": sorted(ACCESS_CODES)},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["code"],
                        "properties": {
                            "code": {"type": "string", "enum": sorted(ACCESS_CODES)},
                            "essential": {"type": "boolean"},
                        },
                    },
                ]
            },
        },
        "limit": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_LIMIT},
    },
}

MATCH_RESULT = {
    "type": "object",
    "required": [
        "group_id",
        "name",
        "score",
        "reasons",
        "mismatches",
        "action",
        "next_session",
        "url",
    ],
    "properties": {
        "group_id": {"type": "string"},
        "name": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
        "score": {"type": "number"},
        "action": {"type": "string", "enum": ["join", "waiting_list"]},
        "next_session": {"type": ["string", "null"], "format": "date-time"},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "mismatches": {"type": "array", "items": {"type": "string"}},
        "relaxed": {
            "type": "array",
            "items": {
                "type": "string",
                "enum": ["distance", "format", "access", "age", "language"],
            },
            "description": "The needs this group breaks, which widening relaxed to show it.",
        },
        "widened": {
            "type": "array",
            "items": {"type": "string"},
            "description": "One plain sentence for each need in relaxed.",
        },
        "other_mismatches": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The mismatches that widened does not already say.",
        },
        "distance_km": {"type": ["number", "null"]},
        "places_left": {"type": ["integer", "null"]},
        "crisis_priority": {"type": "boolean"},
    },
}

MATCH_RESPONSE = {
    "type": "object",
    "required": ["results", "relaxed", "next_steps", "crisis_contacts", "crisis_first", "good_fit"],
    "properties": {
        "results": {"type": "array", "items": MATCH_RESULT},
        "relaxed": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Plain-English statements of what was relaxed.",
        },
        "relaxed_codes": {"type": "array", "items": {"type": "string"}},
        "next_steps": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["code", "text"],
                "properties": {
                    "code": {
                        "type": "string",
                        "enum": [
                            "young_people",
                            "crisis_contacts",
                            "waiting_list",
                            "register_interest",
                        ],
                    },
                    "text": {"type": "string"},
                    "group_ids": {"type": "array", "items": {"type": "string"}},
                    "url": {"type": "string"},
                    "urls": {"type": "array", "items": {"type": "string"}},
                    "contacts": {"type": "array", "items": CONTACT},
                },
            },
        },
        "crisis_first": {"type": "boolean"},
        "good_fit": {"type": "boolean"},
        "crisis_contacts": {
            "type": "array",
            "items": CONTACT,
            "description": "Fitted to the person: BSL and text routes first for someone "
            "who signs, their nation's own lines, lines in their language.",
        },
        "interpreter": {
            "type": ["string", "null"],
            "description": "How to ask for an interpreter, for someone who did not pick English.",
        },
        "place": PLACE,
        "place_prompt": {
            "type": ["string", "null"],
            "description": "Asks for a town or postcode when none was given and the "
            "person could meet in person; online groups come first meanwhile.",
        },
        "young_people_services": {
            "type": "array",
            "items": CONTACT,
            "description": "The deployment's services for young people: listed (and "
            "the young_people step comes first) when the person is under 18, else empty.",
        },
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document(base_url: str) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/api/match": {
            "post": {
                "summary": "Rank peer groups for a person's needs, with reasons",
                "description": "No sign-in and no CSRF token needed: it changes nothing a person "
                "owns. Rate-limited per client address. Searches without a good "
                "fit are recorded anonymously as unmet demand.",
                "operationId": "match",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": MATCH_REQUEST}},
                },
                "responses": {
                    "200": _json(MATCH_RESPONSE, "Ranked groups, next steps and crisis contacts"),
                    "413": _json(ERROR, "The body is too large"),
                    "415": _json(ERROR, "The body is not JSON"),
                    "422": _json(ERROR, "A field is invalid; `field` names it"),
                    "429": _json(ERROR, "Too many requests; see Retry-After"),
                },
            }
        },
        "/api/crisis-contacts": {
            "get": {
                "summary": "The crisis contacts (served even when the database is down)",
                "description": "Optional `place` (a postcode or town) and `language` (BCP 47, "
                "repeatable) fit the contacts to the person. A bad value is a 422 naming "
                "the field, and still carries the contacts for everyone.",
                "operationId": "crisisContacts",
                "parameters": [
                    {
                        "name": "place",
                        "in": "query",
                        "schema": {"type": "string", "maxLength": 100},
                    },
                    {
                        "name": "language",
                        "in": "query",
                        "schema": {"type": "array", "items": {"type": "string", "maxLength": 40}},
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["crisis_contacts"],
                            "properties": {"crisis_contacts": {"type": "array", "items": CONTACT}},
                        },
                        "Crisis contacts",
                    ),
                    "400": _json(ERROR, "A value no database can store (a NUL character)"),
                    "422": _json(
                        {
                            "type": "object",
                            "required": ["error", "field", "crisis_contacts"],
                            "properties": {
                                "error": {"type": "string"},
                                "field": {"type": "string"},
                                "crisis_contacts": {"type": "array", "items": CONTACT},
                            },
                        },
                        "A bad place or language; `field` names it. The contacts for everyone "
                        "are still given.",
                    ),
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "Liveness",
                "operationId": "healthz",
                "responses": {"200": _json({"type": "object"}, "Up")},
            }
        },
        "/readyz": {
            "get": {
                "summary": "Readiness (database and Redis reachable)",
                "operationId": "readyz",
                "responses": {
                    "200": _json({"type": "object"}, "Ready"),
                    "503": _json({"type": "object"}, "Not ready"),
                },
            }
        },
    }
    paths.update(HSDS_PATHS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "PeerHub",
            "version": "0.1.0",
            "description": "Peer support groups for mental health: matching and the "
            "Open Referral HSDS 3.0 directory.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": base_url}],
        "paths": paths,
    }


async def openapi_json(request: Request) -> Response:
    base_url: str = request.app.state.settings.base_url
    return JSONResponse(document(base_url))
