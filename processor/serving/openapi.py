"""The HTTP API described as OpenAPI 3.1, served at `/openapi.json`.

The document describes the running worker: the routes that need a token say so only when the
worker has tokens for them, so a client (or a fuzzer) reading it knows what to send. Query
parameters carry the same bounds the handlers enforce (`processor.serving.queries`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from processor.core.ports import Handler, Reply
from processor.domain.policy import AGING_BUCKETS, DELINQUENCY_TYPES, RISK_BUCKETS
from processor.serving.queries import MAX_WORKLIST
from schemas.currencies import ISO_4217_CODES

PATH = "/openapi.json"
_DATA_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"basic": []}]
_OPS_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _query(
    name: str, schema: dict[str, Any], description: str, *, empty_is_unset: bool = False
) -> dict[str, Any]:
    """A query parameter.

    `empty_is_unset`: `name=` means the same as leaving it out (as a form's 'any' choice sends it).
    """
    if empty_is_unset:
        schema = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_CUSTOMER_ID = {
    "name": "customer_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1},
    "description": "the customer's id, as in the events",
}
_AS_OF = _query(
    "as_of",
    # The calendar the reports keep to (`http.EARLIEST_DAY`, `http.LATEST_DAY`).
    {"type": "string", "format": "date", "pattern": r"^(19\d\d|[2-8]\d\d\d|9000)-"},
    "the report's day (YYYY-MM-DD, 1900-01-01 to 9000-12-31); unset or empty: the latest day",
    empty_is_unset=True,
)
_FRAGMENT = _query(
    "fragment", {"type": "string"}, "1: only the page's main part; any other value: the page"
)


def _filter(name: str, values: Iterable[str], what: str) -> dict[str, Any]:
    """A filter that is one of `values`, or empty for any (as the page's form sends it)."""
    schema = {"type": "string", "enum": list(values)}
    return _query(name, schema, f"only this {what} (empty: any)", empty_is_unset=True)


_BUCKETS = [
    _filter("risk_bucket", RISK_BUCKETS, "risk bucket"),
    _filter("aging_bucket", AGING_BUCKETS, "aging bucket"),
]
_LIMIT_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_WORKLIST}
_LIMIT = _query("limit", _LIMIT_SCHEMA, "most rows returned (default 50)")
_PAGE_LIMIT = _query("limit", _LIMIT_SCHEMA, "most rows shown (empty: 50)", empty_is_unset=True)
_OBJECT = {"type": "object"}


def _operations(*, data_guarded: bool, ops_guarded: bool) -> dict[str, Any]:
    unauthorized = {"401": _error("no token, or not a valid one")}
    data = {"security": _DATA_SECURITY} if data_guarded else {}
    ops = {"security": _OPS_SECURITY} if ops_guarded else {}
    data_refused = unauthorized if data_guarded else {}
    ops_refused = unauthorized if ops_guarded else {}
    unavailable = {"503": _error("the read model (Redis) cannot be read")}
    bad = {"400": _error("a query parameter is invalid; the message names it")}
    return {
        "/healthz": {
            "get": {
                "summary": "Whether the worker is ready",
                **ops,
                "responses": {
                    "200": _json("ready", _OBJECT),
                    "503": _json("starting, or not ready", _OBJECT),
                    **ops_refused,
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                **ops,
                "responses": {
                    "200": {
                        "description": "the text exposition format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **ops_refused,
                },
            }
        },
        "/customers/{customer_id}": {
            "get": {
                "summary": "A customer's snapshot: open invoices, aging, segments, last actions",
                **data,
                "parameters": [_CUSTOMER_ID],
                "responses": {
                    "200": _json("the snapshot", _OBJECT),
                    "404": _error("no such customer in the read model"),
                    **unavailable,
                    **data_refused,
                },
            }
        },
        "/customers/{customer_id}/timeline": {
            "get": {
                "summary": "A customer's timeline, newest first",
                **data,
                "parameters": [
                    _CUSTOMER_ID,
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "items"),
                ],
                "responses": {
                    "200": _json("the timeline", {"$ref": "#/components/schemas/Timeline"}),
                    **bad,
                    **unavailable,
                    **data_refused,
                },
            }
        },
        "/worklist": {
            "get": {
                "summary": "Customers to chase, highest priority first",
                **data,
                "parameters": [_LIMIT, *_BUCKETS],
                "responses": {
                    "200": _json("the worklist", {"$ref": "#/components/schemas/Worklist"}),
                    **bad,
                    **unavailable,
                    **data_refused,
                },
            }
        },
        "/reports/aging": {
            "get": {
                "summary": "The aging report per currency (JSON or CSV)",
                **data,
                "parameters": [
                    _AS_OF,
                    _query("format", {"type": "string", "enum": ["json", "csv"]}, "the form"),
                ],
                "responses": {
                    "200": {
                        "description": "the report",
                        "content": {
                            "application/json": {"schema": _OBJECT},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    **bad,
                    **unavailable,
                    **data_refused,
                },
            }
        },
        "/reports/kpis": {
            "get": {
                "summary": "DSO, CEI, ADD and the share over 90 days",
                **data,
                "parameters": [_AS_OF],
                "responses": {
                    "200": _json("the figures", _OBJECT),
                    **bad,
                    **unavailable,
                    **data_refused,
                },
            }
        },
        "/ui": {
            "get": {
                "summary": "The collector's page: the worklist",
                **data,
                "parameters": [
                    _PAGE_LIMIT,
                    *_BUCKETS,
                    _filter("delinquency_type", DELINQUENCY_TYPES, "delinquency type"),
                    _filter("currency", sorted(ISO_4217_CODES), "ISO 4217 currency"),
                    _FRAGMENT,
                ],
                "responses": {
                    "200": _html("the page"),
                    "400": _html("a filter is invalid"),
                    "503": _html("the read model cannot be read"),
                    **data_refused,
                },
            }
        },
        "/ui/customers/{customer_id}": {
            "get": {
                "summary": "The collector's page: one customer",
                **data,
                "parameters": [_CUSTOMER_ID, _FRAGMENT],
                "responses": {
                    "200": _html("the page"),
                    "404": _html("no such customer"),
                    "503": _html("the read model cannot be read"),
                    **data_refused,
                },
            }
        },
        "/ui/aging": {
            "get": {
                "summary": "The collector's page: the aging report",
                **data,
                "parameters": [_FRAGMENT],
                "responses": {
                    "200": _html("the page"),
                    "503": _html("the read model cannot be read"),
                    **data_refused,
                },
            }
        },
        PATH: {
            "get": {
                "summary": "This document",
                "responses": {"200": _json("the OpenAPI document", _OBJECT)},
            }
        },
    }


def openapi_document(*, data_guarded: bool, ops_guarded: bool) -> dict[str, Any]:
    """The API's description; `*_guarded`: whether those routes need a token on this worker."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "arpulse",
            "version": "1.1",
            "description": "A customer's receivables state, the worklist and the reports, read"
            " from the read model; health and metrics of the worker.",
        },
        "paths": _operations(data_guarded=data_guarded, ops_guarded=ops_guarded),
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "any user name; the token as the password",
                },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
                "Timeline": {
                    "type": "object",
                    "required": ["customer_id", "items"],
                    "properties": {
                        "customer_id": {"type": "string"},
                        "items": {"type": "array", "items": _OBJECT},
                    },
                },
                "Worklist": {
                    "type": "object",
                    "required": ["items", "count", "limit"],
                    "properties": {
                        "items": {"type": "array", "items": _OBJECT},
                        "count": {"type": "integer", "minimum": 0},
                        "limit": {"type": "integer"},
                        "risk_bucket": {"type": ["string", "null"]},
                        "aging_bucket": {"type": ["string", "null"]},
                    },
                },
            },
        },
    }


def openapi_route(*, data_guarded: bool, ops_guarded: bool) -> dict[str, Handler]:
    """`/openapi.json`, for the web server (it holds nothing of any customer)."""
    document = openapi_document(data_guarded=data_guarded, ops_guarded=ops_guarded)

    async def serve(query: object, params: object) -> Reply:
        return Reply(document)

    return {PATH: serve}
