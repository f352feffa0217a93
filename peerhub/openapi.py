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
        "postcode": {
            "type": ["string", "null"],
            "maxLength": 10,
            "description": "A UK postcode or its first part, e.g. LS6 3HN or LS6.",
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
        "crisis_contacts": {"type": "array", "items": CONTACT},
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
                "operationId": "crisisContacts",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["crisis_contacts"],
                            "properties": {"crisis_contacts": {"type": "array", "items": CONTACT}},
                        },
                        "Crisis contacts",
                    )
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
