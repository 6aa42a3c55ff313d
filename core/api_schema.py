"""The OpenAPI schema's error responses: every operation documents the errors it can answer,
all in the one shape of `core.api_errors` (drf-spectacular postprocessing hook)."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error the API returns.",
    "properties": {
        "code": {
            "type": "string",
            "description": "Stable machine-readable code: invalid, not_found, "
            "permission_denied, not_authenticated, authentication_failed, throttled, "
            "precondition_failed, precondition_required, parse_error, …",
        },
        "message": {
            "type": "string",
            "description": "A sentence for a person, in the language of Accept-Language "
            "(Simplified Chinese by default, or English).",
        },
        "fields": {
            "type": "object",
            "description": "For invalid input: the messages of each field by name "
            "(non_field_errors for the input as a whole).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["code", "message"],
}

# What any operation may answer besides its success, and why.
COMMON = {
    "400": "The input or a query parameter is not valid (see fields).",
    "401": "Not signed in and no valid token.",
    "403": "Signed in, but without the permission or the level this needs.",
    "404": "No such record, or not one the caller may see.",
    "406": "The Accept header asks for a format other than JSON.",
    "429": "Too many requests from this user or address.",
}
WRITES = {
    "409": "The record changed since it was read (version conflict).",
    "412": "If-Match does not match the record's current ETag.",
    "415": "The body is not JSON.",
    "428": "An update must send If-Match with the ETag of the record read.",
}


def add_error_responses(result: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            errors = dict(COMMON)
            if method in {"post", "put", "patch", "delete"}:
                # A step on a record (reopen, review…) checks If-Match as an update does.
                errors.update(WRITES)
            responses = operation["responses"]
            for code, description in errors.items():
                existing = responses.get(code)
                if existing is None:
                    responses[code] = {"description": description, "content": content}
                else:
                    existing["content"] = content
    return result
