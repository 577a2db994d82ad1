"""Export the JSON Schema of every contract event to `schemas/json/` (committed contract files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemas.events import ALL_MODELS, INPUT_MODELS

SCHEMA_DIR = Path(__file__).resolve().parent / "json"


def schema_documents() -> dict[str, dict[str, Any]]:
    """Return file name -> JSON Schema for each event type, generated from the models."""
    documents: dict[str, dict[str, Any]] = {}
    for event_type, model in ALL_MODELS.items():
        if event_type in INPUT_MODELS:
            schema = model.model_json_schema(mode="validation")
        else:
            schema = model.model_json_schema(mode="serialization")
        schema["$id"] = f"arpulse:{event_type}:v1"
        documents[f"{event_type}.schema.json"] = schema
    return documents


def render(document: dict[str, Any]) -> str:
    """Render a schema the way it is committed (stable key order, trailing newline)."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema file, returning the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in schema_documents().items():
        path = directory / name
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    return written
