"""The one edge validator: bytes in, a contract model or an error naming the field out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, TypeAdapter, ValidationError

from schemas.events import INPUT_MODELS, InputEvent

DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024


class ContractError(ValueError):
    """An input does not satisfy the wire contract; `field` names what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why a payload was refused, plus what could still be read from it (for the dead letter)."""

    error: ContractError
    customer_id: str | None


_INPUT_ADAPTER: TypeAdapter[InputEvent] = TypeAdapter(
    Annotated[InputEvent, Field(discriminator="event_type")]
)


def _describe(exc: ValidationError) -> ContractError:
    first, *rest = exc.errors(include_url=False)
    kind = first["type"]
    if kind == "json_invalid":
        return ContractError("payload", f"is not JSON ({first['ctx'].get('error', first['msg'])})")
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        known = ", ".join(sorted(INPUT_MODELS))
        found = first.get("ctx", {}).get("tag", "missing")
        return ContractError("event_type", f"unknown event type {found!r} (expected {known})")
    field = _field_name(first["loc"])
    if kind in {"model_attributes_type", "model_type", "dict_type"}:
        # The payload itself, or an object field inside it (a credit limit, a credit score).
        problem = "must be a JSON object"
        return ContractError("payload" if field == "event" else field, problem)
    problem = first["msg"].removeprefix("Value error, ")
    if rest:
        others = ", ".join(_field_name(e["loc"]) for e in rest)
        problem = f"{problem} (also invalid: {others})"
    return ContractError(field, problem)


def _field_name(loc: tuple[int | str, ...]) -> str:
    """Dotted field path without the union tag pydantic puts first."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in INPUT_MODELS:
        parts = parts[1:]
    return ".".join(parts) or "event"


def _readable_customer_id(payload: bytes) -> str | None:
    """Best effort, for dead letters only: the payload's customer_id if it can be read at all."""
    try:
        document = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    if isinstance(document, dict):
        value = document.get("customer_id")
        if isinstance(value, str) and 0 < len(value) <= 128 and _encodable(value):
            return value
    return None


def _encodable(text: str) -> bool:
    """False for text a Kafka key or JSON output cannot carry (a lone surrogate escape)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_input(
    payload: bytes | None,
    *,
    expected_types: frozenset[str] | None = None,
    max_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
) -> InputEvent | Rejected:
    """Validate one input payload; never raises for bad input.

    `expected_types` restricts which `event_type` values belong on the topic it came from.
    """
    if payload is None:
        return Rejected(ContractError("payload", "is empty (a tombstone has no event)"), None)
    if len(payload) > max_bytes:
        problem = f"{len(payload)} bytes exceeds the {max_bytes}-byte limit"
        return Rejected(ContractError("payload", problem), None)
    try:
        event = _INPUT_ADAPTER.validate_json(payload, strict=True)
    except ValidationError as exc:
        return Rejected(_describe(exc), _readable_customer_id(payload))
    if expected_types is not None and event.event_type not in expected_types:
        allowed = ", ".join(sorted(expected_types))
        problem = f"{event.event_type!r} does not belong on this topic (expected {allowed})"
        return Rejected(ContractError("event_type", problem), event.customer_id)
    return event
